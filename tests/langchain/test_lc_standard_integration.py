"""langchain-tests' standard integration suite for ChatMiniMaxM3.

``TestChatMiniMaxM3Emulated`` runs in CI against the loopback emulator, answering the
suite's prompts with the scripted replies of ``lc_suite_replies`` (scripted for
this repository, not recorded from MiniMax). The emulator also insists that every
assistant turn with tool calls sends its reasoning back verbatim.

``TestChatMiniMaxM3Live`` runs the same suite against the real API; it is skipped unless
``MINIMAX_API_KEY`` is set (``pytest -m live``).
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from lc_helpers import M3Declarations
from lc_suite_replies import reply_to

from minimax_m3.testing import MiniMaxEmulator, Reply

# The suite downloads a sample image from GitHub; tests may not leave loopback, so the
# emulated run is handed this small generated PNG instead.
SUITE_IMAGE_HOST = "raw.githubusercontent.com"


def _png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class _MiniMaxSuite(M3Declarations, ChatModelIntegrationTests):
    """Declarations shared by the emulated and the live runs."""

    @property
    def model_override_value(self) -> str:
        return "MiniMax-M2.7"

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        return self._ask("Think step by step: what is 17 * 23?", stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._ask("Summarise the rules of chess in one sentence.", stream=stream)

    def _ask(self, prompt: str, *, stream: bool) -> AIMessage:
        model = self.chat_model_class(**self.chat_model_params)
        if not stream:
            return model.invoke(prompt)
        full: Any = None
        for chunk in model.stream(prompt):
            full = chunk if full is None else full + chunk
        assert isinstance(full, AIMessage)
        return full


class TestChatMiniMaxM3Emulated(_MiniMaxSuite):
    emulator: MiniMaxEmulator

    @pytest.fixture(autouse=True)
    def _scripted_emulator(
        self, emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        emulator.respond_with(reply_to)
        emulator.require_reasoning_replay = True
        self.emulator = emulator
        real_get = httpx.get

        def get(url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
            if httpx.URL(str(url)).host == SUITE_IMAGE_HOST:
                return httpx.Response(200, content=_png(), request=httpx.Request("GET", url))
            return real_get(url, *args, **kwargs)

        monkeypatch.setattr(httpx, "get", get)

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "MiniMax-M3", "api_key": "test-key", "base_url": self.emulator.base_url}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        # Scripted: a reply whose prompt was partly served from MiniMax's cache.
        self.emulator.queue(
            Reply(
                text="Checkmate the king.",
                reasoning="One sentence.",
                usage={"prompt_tokens": 1200, "cached_tokens": 1024, "completion_tokens": 9},
            )
        )
        message = super().invoke_with_cache_read_input(stream=stream)
        assert message.usage_metadata is not None
        assert message.usage_metadata.get("input_token_details", {}).get("cache_read") == 1024
        return message


@pytest.mark.live
@pytest.mark.enable_socket
@pytest.mark.skipif(not os.environ.get("MINIMAX_API_KEY"), reason="MINIMAX_API_KEY is not set")
class TestChatMiniMaxM3Live(_MiniMaxSuite):
    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "MiniMax-M3", "max_retries": 3}
