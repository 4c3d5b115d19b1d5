"""Secrets in one place: the key as held, the headers that carry credentials, masking.

The key lives in a ``Key`` that never shows in a repr; headers that carry credentials
are kept out of everything an adapter serializes; and whatever a provider echoes of the
key into an error is masked before the error leaves the transport.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minimax_m3.errors import MiniMaxM3Error

CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
        # Cloudflare AI Gateway's own auth, sent beside the Workers AI token.
        "cf-aig-authorization",
    }
)
# A header whose name says it carries a secret is treated as one, listed or not.
# Dropping a harmless header from a pickle costs little; keeping a secret in one costs
# the secret. So "key" counts (Ocp-Apim-Subscription-Key, X-Functions-Key, x_api_key).
_CREDENTIAL_MARKERS = ("auth", "token", "secret", "key", "subscription", "password", "cookie")


def is_credential_header(name: str) -> bool:
    lowered = name.lower().replace("_", "-")
    return lowered in CREDENTIAL_HEADERS or any(mark in lowered for mark in _CREDENTIAL_MARKERS)


def without_credentials(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """``headers`` less any that carry a credential (names compared case-insensitively)."""
    if headers is None:
        return None
    return {name: value for name, value in headers.items() if not is_credential_header(name)}


def credential_values(headers: Mapping[str, str]) -> list[str]:
    """The secrets in ``headers``: each credential header's value, and its token alone
    ("Bearer sk-..." is echoed as "sk-..." as often as whole)."""
    secrets: list[str] = []
    for name, value in headers.items():
        if is_credential_header(name):
            secrets.extend(part for part in (value, *value.split()) if len(part) >= 8)
    return secrets


class Key:
    """An API key that never shows in a repr, so never in a log or a traceback's locals."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Key('**********')"


MASK = "**********"
_MASK_DEPTH = 64


def redact_secret(error: MiniMaxM3Error, *secrets: str) -> MiniMaxM3Error:
    """Mask each of ``secrets`` wherever it reached ``error`` (providers answer a bad key
    with "Incorrect API key provided: sk-...", httpx quotes a header it refuses), so no
    secret reaches a log, a traceback or a pickle through an error. Returns the same error.

    A secret is masked whole, escaped as Python or JSON would write it, and cut short:
    a body is shortened for the message, so the start of a long key may stand alone.
    """
    pattern = _secret_pattern(secrets)
    if pattern is None:
        return error
    error.args = tuple(_masked(arg, pattern, 0) for arg in error.args)
    for name in ("message", "body", "request_id", "provider_code", "retry_after"):
        setattr(error, name, _masked(getattr(error, name), pattern, 0))
    return error


def mask_secrets(text: str, *secrets: str) -> str:
    """``text`` with each of ``secrets`` masked as :func:`redact_secret` masks them."""
    pattern = _secret_pattern(secrets)
    return text if pattern is None else pattern.sub(MASK, text)


# The start of a secret long enough to be its own; what follows it up to a quote, a space
# or a backslash is taken to be the rest of it.
_PREFIX_CHARS = 12


def _secret_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for secret in secrets:
        for form in (secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1]):
            if len(form) >= 4:
                forms.add(re.escape(form))
            if len(form) > _PREFIX_CHARS:
                forms.add(re.escape(form[:_PREFIX_CHARS]) + r"[^\s\"'\\]*")
    if not forms:
        return None
    # Longest first, so a whole secret is masked before a shorter form of it is tried.
    return re.compile("|".join(sorted(forms, key=len, reverse=True)))


def _masked(value: Any, pattern: re.Pattern[str], depth: int) -> Any:
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, bytes):
        return pattern.sub(MASK, value.decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )
    if not isinstance(value, (dict, list, tuple)):
        return value
    if depth >= _MASK_DEPTH:
        # A body nested this deep is no provider's error; it is not kept unchecked.
        return "[nested too deeply to check for secrets]"
    if isinstance(value, dict):
        return {
            _masked(k, pattern, depth + 1): _masked(v, pattern, depth + 1) for k, v in value.items()
        }
    return type(value)(_masked(v, pattern, depth + 1) for v in value)
