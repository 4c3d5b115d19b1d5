"""Secrets in one place: the key as held, the headers that carry credentials, masking.

The key lives in a ``Key`` that never shows in a repr; headers that carry credentials
are kept out of everything an adapter serializes; and whatever a provider echoes of the
key into an error is masked before the error leaves the transport.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minimax_m3.errors import MiniMaxM3Error

CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)


def without_credentials(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """``headers`` less any that carry a credential (names compared case-insensitively)."""
    if headers is None:
        return None
    return {
        name: value for name, value in headers.items() if name.lower() not in CREDENTIAL_HEADERS
    }


class Key:
    """An API key that never shows in a repr, so never in a log or a traceback's locals."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Key('**********')"


_MASK = "**********"
_MASK_DEPTH = 64


def redact_secret(error: MiniMaxM3Error, secret: str) -> MiniMaxM3Error:
    """Mask ``secret`` wherever a provider echoed it into ``error`` (some answer a bad key
    with "Incorrect API key provided: sk-..."), so the key never reaches a log, a
    traceback or a pickle through an error. Returns the same error."""
    if not secret:
        return error
    error.args = tuple(_masked(arg, secret, 0) for arg in error.args)
    error.message = _masked(error.message, secret, 0)
    error.body = _masked(error.body, secret, 0)
    error.request_id = _masked(error.request_id, secret, 0)
    error.retry_after = _masked(error.retry_after, secret, 0)
    return error


def _masked(value: Any, secret: str, depth: int) -> Any:
    if isinstance(value, str):
        return value.replace(secret, _MASK) if secret in value else value
    if isinstance(value, bytes):
        raw = secret.encode()
        return value.replace(raw, _MASK.encode()) if raw in value else value
    if not isinstance(value, (dict, list, tuple)):
        return value
    if depth >= _MASK_DEPTH:
        # A body nested this deep is no provider's error; it is not kept unchecked.
        return "[nested too deeply to check for secrets]"
    if isinstance(value, dict):
        return {
            _masked(k, secret, depth + 1): _masked(v, secret, depth + 1) for k, v in value.items()
        }
    return type(value)(_masked(v, secret, depth + 1) for v in value)
