"""Headers that carry credentials, kept out of everything an adapter serializes."""

from __future__ import annotations

from collections.abc import Mapping

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
