"""Live when a provider key is set, otherwise the loopback emulator with scripted replies.

Every example opens its connection with ``connection(SCRIPT, provider=...)``: with the
provider's key in the environment it yields no settings (the model reads the key
itself); without one it starts ``minimax_m3.testing.MiniMaxEmulator``, queues the
example's scripted replies and yields the settings that point the model at it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from minimax_m3.testing import Fault, MiniMaxEmulator, Reply

KEYS = {
    "minimax": "MINIMAX_API_KEY",
    "cloudflare": "CLOUDFLARE_API_TOKEN",
    "runware": "RUNWARE_API_KEY",
}


def provider_with_key() -> str:
    """The first provider whose key is set, else "minimax" (offline)."""
    return next((name for name, key in KEYS.items() if os.environ.get(key)), "minimax")


@contextmanager
def connection(
    script: Sequence[Reply | Fault] = (), *, provider: str = "minimax"
) -> Iterator[dict[str, Any]]:
    key = KEYS.get(provider)
    if key and os.environ.get(key):
        print(f"[live: {provider} API, key from {key}]")
        yield {"provider": provider}
        return
    with MiniMaxEmulator(require_reasoning_replay=True) as emulator:
        emulator.queue(*script)
        print(
            f"[offline: no {key or 'server'} set, so scripted replies from the loopback emulator]"
        )
        base_url = {
            "cloudflare": emulator.cloudflare_base_url,
            "runware": emulator.runware_base_url,
            # A vLLM or SGLang server started without M3's parsers: raw model output.
            "openai-compatible": emulator.self_hosted_base_url("raw"),
        }.get(provider, emulator.base_url)
        settings: dict[str, Any] = {"provider": provider, "base_url": base_url}
        if provider != "openai-compatible":
            settings["api_key"] = "offline"
        if provider == "cloudflare":
            settings["account_id"] = os.environ.get("CLOUDFLARE_ACCOUNT_ID", "offline-account")
        yield settings
