"""Typed errors for every provider, and the one table that classifies them.

An error is classified by the provider's own code when it has one, else by the HTTP
status. Each error keeps its evidence: status, provider code, message, request id,
the parsed body and the Retry-After header as received.
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

# Masking lives with the other secret handling; it is reached from here too.
from minimax_m3.credentials import redact_secret

__all__ = [
    "ERROR_TABLE",
    "HTTP",
    "REQUEST_ID_HEADERS",
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CacheMarkersIgnoredWarning",
    "ContentFilteredError",
    "ContextWindowExceededError",
    "InsufficientBalanceError",
    "MiniMaxM3Error",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
    "StreamInterruptedError",
    "classify",
    "error_from_payload",
    "error_from_response",
    "redact_secret",
]


class CacheMarkersIgnoredWarning(UserWarning):
    """Explicit cache markers went to an endpoint reported to ignore them: MiniMax's
    Anthropic-compatible endpoint serving M3 (earendil-works/pi#5605,
    NousResearch/hermes-agent#83678). Given once per model instance."""


class MiniMaxM3Error(Exception):
    """Base of every error raised by this package."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        provider_code: int | str | None = None,
        request_id: str | None = None,
        retryable: bool = False,
        body: object | None = None,
        retry_after: str | None = None,
        reset_at: datetime | None = None,
        partial: object | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.provider_code = provider_code
        self.request_id = request_id
        self.retryable = retryable
        self.body = body
        self.retry_after = retry_after
        self.reset_at = reset_at
        self.partial = partial
        """What had arrived when a stream failed midway (a ``ChatResult``), else None."""

    def __str__(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.provider_code is not None:
            parts.append(f"code {self.provider_code}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        message = self.message or type(self).__name__
        return f"{message} ({', '.join(parts)})" if parts else message


class AuthenticationError(MiniMaxM3Error):
    """The API key is missing, wrong, or belongs to another region."""


class PermissionDeniedError(MiniMaxM3Error):
    """The key is valid but may not use this model or resource."""


class BadRequestError(MiniMaxM3Error):
    """The provider rejected the request as invalid."""


class NotFoundError(MiniMaxM3Error):
    """Unknown model, account or path."""


class ContextWindowExceededError(BadRequestError):
    """The prompt does not fit in the model's context window."""


class RateLimitError(MiniMaxM3Error):
    """Too many requests, tokens or connections for now."""


class InsufficientBalanceError(MiniMaxM3Error):
    """The account has no balance or its plan quota is used up (see `reset_at`)."""


class ContentFilteredError(MiniMaxM3Error):
    """The provider's safety filter blocked the input or the output."""


class ServerError(MiniMaxM3Error):
    """The provider failed on its side."""


class APIConnectionError(MiniMaxM3Error):
    """No usable response: the connection failed or was refused."""


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request timed out before a response arrived."""


class StreamInterruptedError(MiniMaxM3Error):
    """A stream broke off before it finished; `partial` holds what had arrived."""


class ProtocolError(MiniMaxM3Error):
    """The response was malformed: bad JSON, a broken SSE frame, a wrong shape."""


class ResponseTooLargeError(ProtocolError):
    """A whole response, or one event of a stream, was larger than ``max_response_bytes``
    once decompressed: no answer of the model's is that large."""


ErrorClass = type[MiniMaxM3Error]

HTTP = "http"
"""Namespace of the table rows keyed by HTTP status, used when no provider code is known."""

ERROR_TABLE: dict[tuple[str, int | str], tuple[ErrorClass, bool]] = {
    # (namespace, code) -> (exception class, retryable). Provider codes win over the status.
    ("minimax", 1000): (ServerError, True),  # unknown error
    ("minimax", 1001): (ServerError, True),  # request timeout
    ("minimax", 1002): (RateLimitError, True),  # RPM limit
    ("minimax", 1004): (AuthenticationError, False),  # not authorized
    # Arrives as HTTP 500 on the Anthropic endpoint; retrying on 5xx would loop on billing.
    ("minimax", 1008): (InsufficientBalanceError, False),
    ("minimax", 1013): (ServerError, True),  # internal service error
    ("minimax", 1024): (ServerError, True),  # internal error
    ("minimax", 1026): (ContentFilteredError, False),  # input sensitive
    ("minimax", 1027): (ContentFilteredError, False),  # output sensitive
    ("minimax", 1033): (ServerError, True),  # system error
    ("minimax", 1039): (RateLimitError, True),  # TPM limit
    ("minimax", 1041): (RateLimitError, True),  # connection limit
    ("minimax", 1042): (BadRequestError, False),  # invisible character ratio
    ("minimax", 2013): (BadRequestError, False),  # invalid params (see classify)
    ("minimax", 2045): (RateLimitError, True),  # rate growth limit
    ("minimax", 2049): (AuthenticationError, False),  # invalid API key
    # Plan window used up; retry.py waits for `reset_at` when it is close enough.
    ("minimax", 2056): (InsufficientBalanceError, False),
    ("minimax", 2061): (PermissionDeniedError, False),  # model not in plan
    ("cloudflare", 10000): (AuthenticationError, False),
    ("cloudflare", 2009): (AuthenticationError, False),  # wrong token type
    ("cloudflare", 7003): (NotFoundError, False),  # could not route: bad account id or path
    ("cloudflare", 5006): (BadRequestError, False),  # bad input (schema validation)
    ("cloudflare", 5007): (NotFoundError, False),  # no such model
    ("cloudflare", 3042): (NotFoundError, False),  # invalid model id
    ("cloudflare", 3006): (BadRequestError, False),  # request too large
    ("cloudflare", 3007): (ServerError, True),  # timeout
    # Partner models such as minimax/m3 bill AI Gateway credits: 402 until money is added.
    ("cloudflare", 2021): (InsufficientBalanceError, False),
    # Daily free neuron allocation used up: waiting seconds will not help.
    ("cloudflare", 3036): (InsufficientBalanceError, False),
    ("cloudflare", 3040): (RateLimitError, True),  # out of capacity
    ("runware", "invalidApiKey"): (AuthenticationError, False),
    ("runware", "insufficientCredits"): (InsufficientBalanceError, False),
    ("runware", "rateLimitExceeded"): (RateLimitError, True),
    ("runware", "timeoutProvider"): (ServerError, True),
    ("runware", "providerInternalError"): (ServerError, True),
    ("runware", "inferenceError"): (ServerError, True),
    ("runware", "invalidParameter"): (BadRequestError, False),
    ("runware", "missingParameter"): (BadRequestError, False),
    ("runware", "unsupportedParameter"): (BadRequestError, False),
    ("runware", "invalidMessageRole"): (BadRequestError, False),
    ("runware", "providerBadRequest"): (BadRequestError, False),
    ("runware", "modelNotFound"): (NotFoundError, False),
    ("runware", "taskFailedOrNotFound"): (NotFoundError, False),
    ("runware", "contentPolicyViolation"): (ContentFilteredError, False),
    (HTTP, 400): (BadRequestError, False),
    (HTTP, 401): (AuthenticationError, False),
    (HTTP, 402): (InsufficientBalanceError, False),
    (HTTP, 403): (PermissionDeniedError, False),
    (HTTP, 404): (NotFoundError, False),
    (HTTP, 408): (ServerError, True),
    (HTTP, 409): (ServerError, True),
    (HTTP, 413): (BadRequestError, False),
    (HTTP, 422): (BadRequestError, False),
    (HTTP, 429): (RateLimitError, True),
    (HTTP, 500): (ServerError, True),
    (HTTP, 502): (ServerError, True),
    (HTTP, 503): (ServerError, True),
    (HTTP, 504): (ServerError, True),
    (HTTP, 529): (ServerError, True),
}

# Anthropic-style `error.type`, used as the status of an in-band error (HTTP 200 or a stream
# event) that has no provider code.
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "bad_request_error": 400,
    "authentication_error": 401,
    "authorized_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}

REQUEST_ID_HEADERS = ("trace-id", "x-mm-request-id", "request-id", "x-request-id", "cf-ray")
"""Response headers that carry the request id, most specific first (Cloudflare's last)."""
# MiniMax puts its numeric code only at the end of the message: "invalid params ... (2013)".
_CODE_SUFFIX = re.compile(r"\((\d{4,5})\)\s*$", re.ASCII)
_INT_TEXT = re.compile(r"\s*-?\d{1,18}\s*", re.ASCII)
_RESET_AT = re.compile(
    r"resets?\s+at\s+(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?",
    re.ASCII | re.IGNORECASE,
)
_SNIPPET_CHARS = 200


def classify(
    status_code: int | None,
    provider_code: int | str | None,
    message: str = "",
    *,
    provider: str = "minimax",
) -> tuple[type[MiniMaxM3Error], bool]:
    """Return the exception class and whether the call may be retried."""
    if provider_code is not None:
        row = ERROR_TABLE.get((provider, provider_code))
        if row is not None:
            # 2013 is MiniMax's catch-all for invalid requests; an overlong prompt has no code
            # of its own, so this is the one place where the message text is matched.
            if (provider, provider_code) == ("minimax", 2013) and (
                "context window exceed" in message.lower()
            ):
                return ContextWindowExceededError, False
            return row
    if status_code is not None:
        row = ERROR_TABLE.get((HTTP, status_code))
        if row is not None:
            return row
        if 500 <= status_code <= 599:
            return ServerError, True
        if 400 <= status_code <= 499:
            return BadRequestError, False
    return MiniMaxM3Error, False


def error_from_response(
    status_code: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    provider: str = "minimax",
) -> MiniMaxM3Error:
    """Build the error for a failed HTTP response from its status, body and headers."""
    request_id = _header(headers, REQUEST_ID_HEADERS)
    retry_after = _header(headers, ("retry-after",))
    text = body.decode("utf-8", errors="replace") if body else ""
    parsed = _parse_json(text)
    payload = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if isinstance(payload, Mapping):
        return _error_from_mapping(payload, parsed, status_code, request_id, retry_after, provider)

    message = _status_phrase(status_code)
    snippet = text.strip().split("\n", 1)[0][:_SNIPPET_CHARS] if text.strip() else ""
    if snippet:
        message = f"{message}: {snippet}"
    cls, retryable = classify(status_code, None, message, provider=provider)
    return cls(
        message,
        status_code=status_code,
        request_id=request_id,
        retryable=retryable,
        body=parsed if parsed is not None else (text or None),
        retry_after=retry_after,
    )


def error_from_payload(
    payload: Mapping[str, object],
    *,
    status_code: int = 200,
    request_id: str | None = None,
    provider: str = "minimax",
) -> MiniMaxM3Error | None:
    """Return the error an HTTP-200 body or a stream chunk carries, or None if it has none."""
    if type(payload) is not dict and not isinstance(payload, Mapping):
        return None
    if not _carries_error(payload):
        return None
    return _error_from_mapping(payload, payload, status_code, request_id, None, provider)


def _carries_error(payload: Mapping[str, object]) -> bool:
    base = payload.get("base_resp")
    if base is not None and isinstance(base, Mapping) and _as_int(base.get("status_code")):
        return True
    if payload.get("error"):
        return True
    if payload.get("success") is False:
        return True
    errors = payload.get("errors")
    return isinstance(errors, list) and bool(errors)


def _error_from_mapping(
    payload: Mapping[str, object],
    body: object,
    status_code: int,
    request_id: str | None,
    retry_after: str | None,
    provider: str,
) -> MiniMaxM3Error:
    messages: list[object] = []
    codes: list[tuple[str, int | str]] = []
    status_hint: int | None = None

    base = payload.get("base_resp")
    if isinstance(base, Mapping):
        status = _as_int(base.get("status_code"))
        if status:
            codes.append(("minimax", status))
            messages.append(base.get("status_msg"))
    error = payload.get("error")
    if isinstance(error, Mapping):
        messages.append(error.get("message"))
        code = _as_code(error.get("code"))
        if code:
            codes.append((provider, code))
        error_type = error.get("type")
        status_hint = _as_int(error.get("http_code")) or (
            _ERROR_TYPE_STATUS.get(error_type) if isinstance(error_type, str) else None
        )
    elif isinstance(error, str):
        messages.append(error)
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        messages.append(errors[0].get("message"))
        code = _as_code(errors[0].get("code"))
        if code:
            codes.append((provider, code))
    messages.extend((payload.get("message"), payload.get("detail")))

    message = next((m.strip() for m in messages if isinstance(m, str) and m.strip()), "")
    suffix = _CODE_SUFFIX.search(message)
    if suffix:
        codes.append(("minimax", int(suffix[1])))
        message = message[: suffix.start()].rstrip()

    namespace, code = next(((ns, c) for ns, c in codes if (ns, c) in ERROR_TABLE), (provider, None))
    if code is None and codes:
        namespace, code = codes[0]
    effective_status = status_code if status_code >= 400 else status_hint
    cls, retryable = classify(effective_status, code, message, provider=namespace)
    if not message:
        message = (
            _status_phrase(status_code) if status_code >= 400 else "error reported in the response"
        )
    return cls(
        message,
        status_code=status_code,
        provider_code=code,
        request_id=request_id or _as_str(payload.get("request_id")) or _as_str(payload.get("id")),
        retryable=retryable,
        body=body,
        retry_after=retry_after,
        reset_at=_parse_reset_at(message),
    )


def _parse_json(text: str) -> object | None:
    if not text.strip():
        return None
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except (ValueError, RecursionError):
        return None


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The request id a response's headers carry, under any of the names providers use."""
    return _header(headers, REQUEST_ID_HEADERS)


def _header(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if isinstance(value, str) and value:
            return value
    # A plain dict keeps the server's casing ("Trace-Id"); httpx.Headers never gets here.
    lowered = {k.lower(): v for k, v in headers.items() if isinstance(k, str)}
    for name in names:
        value = lowered.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _as_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    return None


def _as_code(value: object) -> int | str | None:
    """A provider code: MiniMax and Cloudflare use numbers, Runware words like "invalidApiKey"."""
    number = _as_int(value)
    if number is not None:
        return number or None
    text = _as_str(value)
    return text.strip() if text and text.strip() else None


def _as_str(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    return None


def _status_phrase(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return f"HTTP error {status_code}"


def _parse_reset_at(message: str) -> datetime | None:
    match = _RESET_AT.search(message)
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    second = int(match[6] or 0)
    offset = match[7]
    try:
        tz = timezone.utc
        if offset and offset.upper() != "Z":
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
