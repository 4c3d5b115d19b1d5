"""httpx's failures as ours, with nothing of a secret left on them.

httpx attaches the request it failed on to its exception, Authorization header and all,
and quotes a header it refuses in its message. The exception stays the cause of ours, so
both are scrubbed before it is raised.
"""

from __future__ import annotations

import httpx

from minimax_m3.credentials import MASK, is_credential_header, mask_secrets
from minimax_m3.errors import APIConnectionError, APITimeoutError

# Failures of the request itself, not of the network: trying again cannot help.
_REQUEST_FAULTS = (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL)


def connection_error(exc: httpx.HTTPError, secrets: tuple[str, ...]) -> APIConnectionError:
    """``exc`` as our error; timeouts are a kind of connection error."""
    scrub(exc, secrets)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out: {type(exc).__name__}", retryable=True)
    return APIConnectionError(
        f"connection failed: {type(exc).__name__}: {exc}",
        retryable=not isinstance(exc, _REQUEST_FAULTS),
    )


def scrub(exc: httpx.HTTPError, secrets: tuple[str, ...]) -> None:
    """Take the credentials off the request httpx attached, and ``secrets`` out of the
    message."""
    try:
        request = exc.request
    except RuntimeError:  # httpx raises this when no request is attached
        request = None
    if request is not None:
        headers = {
            name: MASK if is_credential_header(name) else value
            for name, value in request.headers.items()
        }
        exc.request = httpx.Request(request.method, request.url, headers=headers)
    exc.args = tuple(
        mask_secrets(arg, *secrets) if isinstance(arg, str) else arg for arg in exc.args
    )


def interruption(exc: httpx.HTTPError) -> str:
    """Why a stream broke off, in words."""
    if isinstance(exc, httpx.TimeoutException):
        return "the stream stalled: no data within the read timeout"
    return f"the connection broke mid-stream: {type(exc).__name__}"
