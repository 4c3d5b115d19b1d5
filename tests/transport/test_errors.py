"""The error table, the envelope parsers, and the evidence each error carries."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timezone

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minimax_m3.errors import (
    ERROR_TABLE,
    HTTP,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    ContextWindowExceededError,
    InsufficientBalanceError,
    MiniMaxM3Error,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    classify,
    error_from_payload,
    error_from_response,
)

CODE_ROWS = [
    ("minimax", 1000, ServerError, True),
    ("minimax", 1001, ServerError, True),
    ("minimax", 1002, RateLimitError, True),
    ("minimax", 1004, AuthenticationError, False),
    ("minimax", 1008, InsufficientBalanceError, False),
    ("minimax", 1013, ServerError, True),
    ("minimax", 1024, ServerError, True),
    ("minimax", 1026, ContentFilteredError, False),
    ("minimax", 1027, ContentFilteredError, False),
    ("minimax", 1033, ServerError, True),
    ("minimax", 1039, RateLimitError, True),
    ("minimax", 1041, RateLimitError, True),
    ("minimax", 1042, BadRequestError, False),
    ("minimax", 2013, BadRequestError, False),
    ("minimax", 2045, RateLimitError, True),
    ("minimax", 2049, AuthenticationError, False),
    ("minimax", 2056, InsufficientBalanceError, False),
    ("minimax", 2061, PermissionDeniedError, False),
    ("cloudflare", 10000, AuthenticationError, False),
    ("cloudflare", 2009, AuthenticationError, False),
    ("cloudflare", 7003, NotFoundError, False),
    ("cloudflare", 5006, BadRequestError, False),
    ("cloudflare", 5007, NotFoundError, False),
    ("cloudflare", 3042, NotFoundError, False),
    ("cloudflare", 3006, BadRequestError, False),
    ("cloudflare", 3007, ServerError, True),
    ("cloudflare", 2021, InsufficientBalanceError, False),
    ("cloudflare", 3036, InsufficientBalanceError, False),
    ("cloudflare", 3040, RateLimitError, True),
    ("runware", "invalidApiKey", AuthenticationError, False),
    ("runware", "insufficientCredits", InsufficientBalanceError, False),
    ("runware", "rateLimitExceeded", RateLimitError, True),
    ("runware", "timeoutProvider", ServerError, True),
    ("runware", "providerInternalError", ServerError, True),
    ("runware", "inferenceError", ServerError, True),
    ("runware", "invalidParameter", BadRequestError, False),
    ("runware", "missingParameter", BadRequestError, False),
    ("runware", "unsupportedParameter", BadRequestError, False),
    ("runware", "invalidMessageRole", BadRequestError, False),
    ("runware", "providerBadRequest", BadRequestError, False),
    ("runware", "modelNotFound", NotFoundError, False),
    ("runware", "taskFailedOrNotFound", NotFoundError, False),
    ("runware", "contentPolicyViolation", ContentFilteredError, False),
]

STATUS_ROWS = [
    (400, BadRequestError, False),
    (401, AuthenticationError, False),
    (402, InsufficientBalanceError, False),
    (403, PermissionDeniedError, False),
    (404, NotFoundError, False),
    (405, BadRequestError, False),
    (408, ServerError, True),
    (409, ServerError, True),
    (413, BadRequestError, False),
    (418, BadRequestError, False),
    (422, BadRequestError, False),
    (429, RateLimitError, True),
    (500, ServerError, True),
    (501, ServerError, True),
    (502, ServerError, True),
    (503, ServerError, True),
    (504, ServerError, True),
    (520, ServerError, True),
    (529, ServerError, True),
]


@pytest.mark.parametrize(
    ("provider", "code", "cls", "retryable"),
    CODE_ROWS,
    ids=[f"{p}-{c}" for p, c, _, _ in CODE_ROWS],
)
def test_provider_code_decides_class_and_retry_even_over_http_200(
    provider: str, code: int, cls: type[MiniMaxM3Error], retryable: bool
) -> None:
    assert classify(200, code, provider=provider) == (cls, retryable)
    assert classify(None, code, provider=provider) == (cls, retryable)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"), STATUS_ROWS, ids=[str(s) for s, _, _ in STATUS_ROWS]
)
def test_http_status_alone(status: int, cls: type[MiniMaxM3Error], retryable: bool) -> None:
    assert classify(status, None) == (cls, retryable)


def test_every_table_row_is_covered_by_a_test() -> None:
    tested = {(p, c) for p, c, _, _ in CODE_ROWS} | {(HTTP, s) for s, _, _ in STATUS_ROWS}
    assert set(ERROR_TABLE) <= tested


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        pytest.param(
            500, 1008, "insufficient balance", (InsufficientBalanceError, False), id="1008-on-500"
        ),
        pytest.param(
            429, 1008, "insufficient balance", (InsufficientBalanceError, False), id="1008-on-429"
        ),
        pytest.param(500, 2013, "invalid params", (BadRequestError, False), id="2013-on-500"),
        pytest.param(401, 1002, "rate limit", (RateLimitError, True), id="1002-on-401"),
        pytest.param(503, 9999, "unknown code", (ServerError, True), id="unknown-code-uses-status"),
        pytest.param(200, 9999, "unknown code", (MiniMaxM3Error, False), id="unknown-code-on-200"),
        pytest.param(None, None, "", (MiniMaxM3Error, False), id="nothing-known"),
        pytest.param(302, None, "", (MiniMaxM3Error, False), id="redirect"),
    ],
)
def test_code_wins_over_status(
    status: int | None, code: int | None, message: str, expected: tuple[type, bool]
) -> None:
    assert classify(status, code, message) == expected


def test_cloudflare_2021_is_not_read_as_a_minimax_code() -> None:
    assert classify(402, 2021, provider="cloudflare") == (InsufficientBalanceError, False)
    # MiniMax has no 2021: the HTTP status decides.
    assert classify(503, 2021, provider="minimax") == (ServerError, True)
    assert classify(500, 1008, provider="cloudflare") == (ServerError, True)


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("invalid params, context window exceeds limit", ContextWindowExceededError),
        ("Invalid params, Context Window Exceeds Limit (2013)", ContextWindowExceededError),
        ("invalid params, unknown model 'x'", BadRequestError),
        ("invalid params, max_tokens exceeds limit", BadRequestError),
    ],
)
def test_2013_context_window_is_its_own_class(message: str, cls: type[MiniMaxM3Error]) -> None:
    assert classify(400, 2013, message) == (cls, False)


def test_context_window_text_counts_only_with_code_2013() -> None:
    assert classify(400, None, "context window exceeds limit") == (BadRequestError, False)
    assert classify(400, 1042, "context window exceeds limit") == (BadRequestError, False)


def test_class_hierarchy_lets_users_catch_broadly() -> None:
    timeout = APITimeoutError("read timed out", retryable=True)
    assert isinstance(timeout, APIConnectionError)
    assert isinstance(timeout, TimeoutError)
    assert isinstance(timeout, MiniMaxM3Error)
    assert issubclass(ContextWindowExceededError, BadRequestError)
    for cls in (StreamInterruptedError, ProtocolError, ServerError, NotFoundError):
        assert issubclass(cls, MiniMaxM3Error)


def _body(obj: object) -> bytes:
    return json.dumps(obj).encode()


ENVELOPES = [
    pytest.param(
        400,
        _body(
            {
                "type": "error",
                "error": {
                    "type": "bad_request_error",
                    "message": "invalid params, unknown model 'nope' (2013)",
                    "http_code": "400",
                },
                "request_id": "0640ba83",
            }
        ),
        {"trace-id": "0640ba83"},
        BadRequestError,
        2013,
        "invalid params, unknown model 'nope'",
        "0640ba83",
        id="minimax-openai-400",
    ),
    pytest.param(
        400,
        _body(
            {
                "type": "error",
                "error": {
                    "type": "bad_request_error",
                    "message": "invalid params, context window exceeds limit (2013)",
                    "http_code": 400,
                },
                "request_id": "body-id",
            }
        ),
        {},
        ContextWindowExceededError,
        2013,
        "invalid params, context window exceeds limit",
        "body-id",
        id="minimax-context-window-id-from-body",
    ),
    pytest.param(
        401,
        _body(
            {
                "type": "error",
                "error": {
                    "type": "authorized_error",
                    "message": "login fail: Please carry the API secret key (1004)",
                    "http_code": "401",
                },
                "request_id": "r1",
            }
        ),
        {"Trace-Id": "header-id"},
        AuthenticationError,
        1004,
        "login fail: Please carry the API secret key",
        "header-id",
        id="minimax-bad-key-header-casing",
    ),
    pytest.param(
        500,
        _body(
            {
                "type": "error",
                "error": {"type": "api_error", "message": "insufficient balance (1008)"},
                "request_id": "req_abc",
            }
        ),
        {},
        InsufficientBalanceError,
        1008,
        "insufficient balance",
        "req_abc",
        id="anthropic-1008-on-500",
    ),
    pytest.param(
        529,
        _body({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        {"request-id": "req_x"},
        ServerError,
        None,
        "Overloaded",
        "req_x",
        id="anthropic-overloaded",
    ),
    pytest.param(
        429,
        _body({"error": {"message": "slow down", "code": "1002"}}),
        {"x-request-id": "xr"},
        RateLimitError,
        1002,
        "slow down",
        "xr",
        id="plain-error-string-code",
    ),
    pytest.param(
        503,
        _body({"error": {"message": "token limit", "code": 1039}}),
        {},
        RateLimitError,
        1039,
        "token limit",
        None,
        id="plain-error-int-code",
    ),
    pytest.param(
        200,
        _body({"base_resp": {"status_code": 1004, "status_msg": "login fail"}}),
        {"x-mm-request-id": "mm"},
        AuthenticationError,
        1004,
        "login fail",
        "mm",
        id="native-base-resp",
    ),
    pytest.param(
        404,
        _body(
            {
                "result": None,
                "success": False,
                "errors": [{"code": 7003, "message": "Could not route to /client/v4/accounts"}],
                "messages": [],
            }
        ),
        {"cf-ray": "8f00-LHR"},
        NotFoundError,
        7003,
        "Could not route to /client/v4/accounts",
        "8f00-LHR",
        id="cloudflare-7003",
    ),
    pytest.param(
        402,
        _body(
            {
                "success": False,
                "errors": [{"code": 2021, "message": "Insufficient balance; add money"}],
            }
        ),
        {},
        InsufficientBalanceError,
        2021,
        "Insufficient balance; add money",
        None,
        id="cloudflare-2021",
    ),
    pytest.param(
        502,
        b"<html><body>Bad gateway</body></html>",
        {},
        ServerError,
        None,
        "Bad Gateway: <html><body>Bad gateway</body></html>",
        None,
        id="html-body",
    ),
    pytest.param(503, b"", {}, ServerError, None, "Service Unavailable", None, id="empty-body"),
    pytest.param(
        400,
        b'{"error": {"message": "trunc',
        {},
        BadRequestError,
        None,
        'Bad Request: {"error": {"message": "trunc',
        None,
        id="broken-json",
    ),
    pytest.param(
        404,
        _body({"detail": "Not Found"}),
        {},
        NotFoundError,
        None,
        "Not Found",
        None,
        id="fastapi-detail",
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code", "message", "request_id"), ENVELOPES
)
def test_error_from_response_parses_each_envelope(
    status: int,
    body: bytes,
    headers: dict[str, str],
    cls: type[MiniMaxM3Error],
    code: int | None,
    message: str,
    request_id: str | None,
) -> None:
    provider = "cloudflare" if b'"success"' in body else "minimax"
    err = error_from_response(status, body, headers, provider=provider)
    assert type(err) is cls
    assert err.status_code == status
    assert err.provider_code == code
    assert err.message == message
    assert err.request_id == request_id


def test_body_keeps_parsed_json_or_text_as_evidence() -> None:
    payload = {"error": {"message": "boom (1000)"}}
    assert error_from_response(500, _body(payload), {}).body == payload
    assert error_from_response(502, b"upstream reset", {}).body == "upstream reset"
    assert error_from_response(502, b"", {}).body is None


def test_1008_on_http_500_is_not_retryable() -> None:
    body = _body(
        {"type": "error", "error": {"type": "api_error", "message": "insufficient balance (1008)"}}
    )
    err = error_from_response(500, body, {})
    assert isinstance(err, InsufficientBalanceError)
    assert err.retryable is False


def test_http_code_in_body_classifies_an_in_band_error() -> None:
    body = _body({"error": {"message": "oops", "http_code": "429"}})
    err = error_from_response(200, body, {})
    assert isinstance(err, RateLimitError)
    assert err.retryable is True
    assert err.status_code == 200


def test_retry_after_header_is_kept_raw_from_any_mapping() -> None:
    body = _body({"error": {"message": "rate limit (1002)"}})
    assert error_from_response(429, body, {"Retry-After": "7"}).retry_after == "7"
    assert error_from_response(429, body, httpx.Headers({"RETRY-AFTER": "3"})).retry_after == "3"
    assert error_from_response(429, body, {}).retry_after is None


def test_request_id_header_order_prefers_trace_id() -> None:
    headers = httpx.Headers({"x-request-id": "second", "Trace-ID": "first"})
    assert error_from_response(500, b"", headers).request_id == "first"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            "usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), "
            "resets at 2026-05-15T15:00:00Z (2056)",
            datetime(2026, 5, 15, 15, 0, tzinfo=timezone.utc),
            id="zulu",
        ),
        pytest.param(
            "usage limit exceeded, resets at 2026-05-15T23:00:00+08:00 (2056)",
            datetime(2026, 5, 15, 15, 0, tzinfo=timezone.utc),
            id="offset",
        ),
        pytest.param(
            "usage limit exceeded, resets at 2026-05-15T15:00:00.123Z (2056)",
            datetime(2026, 5, 15, 15, 0, tzinfo=timezone.utc),
            id="fraction",
        ),
        pytest.param("usage limit exceeded (2056)", None, id="no-reset-time"),
        pytest.param(
            "usage limit exceeded, resets at 2026-13-45T99:00:00Z (2056)", None, id="bad-date"
        ),
    ],
)
def test_2056_reset_time_is_parsed(message: str, expected: datetime | None) -> None:
    body = _body({"type": "error", "error": {"type": "rate_limit_error", "message": message}})
    err = error_from_response(429, body, {})
    assert isinstance(err, InsufficientBalanceError)
    assert err.provider_code == 2056
    assert err.retryable is False
    assert err.reset_at == expected


@pytest.mark.parametrize(
    ("err", "text"),
    [
        pytest.param(
            RateLimitError("rate limit", status_code=429, provider_code=1002, request_id="abc"),
            "rate limit (HTTP 429, code 1002, request id abc)",
            id="all-known",
        ),
        pytest.param(ServerError("boom", status_code=502), "boom (HTTP 502)", id="status-only"),
        pytest.param(
            APIConnectionError("connection refused"), "connection refused", id="nothing-known"
        ),
        pytest.param(
            MiniMaxM3Error("", provider_code=1000), "MiniMaxM3Error (code 1000)", id="empty"
        ),
    ],
)
def test_str_reads_well(err: MiniMaxM3Error, text: str) -> None:
    assert str(err) == text


def test_response_headers_never_leak_into_the_error() -> None:
    secret = "sk-secret-value"
    headers = {"set-cookie": secret, "authorization": f"Bearer {secret}", "trace-id": "t"}
    err = error_from_response(401, _body({"error": {"message": "bad key (2049)"}}), headers)
    assert secret not in str(err)
    assert secret not in repr(err)
    assert secret not in repr(vars(err))


def test_stream_interrupted_keeps_partial() -> None:
    err = StreamInterruptedError("connection dropped", partial={"text": "Hel"}, status_code=200)
    assert err.partial == {"text": "Hel"}
    assert err.status_code == 200
    assert str(err) == "connection dropped (HTTP 200)"


def test_errors_survive_pickling_with_their_evidence() -> None:
    err = error_from_response(429, _body({"error": {"message": "rate (1002)"}}), {"trace-id": "t"})
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is RateLimitError
    assert (copy.status_code, copy.provider_code, copy.request_id, copy.retryable) == (
        429,
        1002,
        "t",
        True,
    )
    partial = pickle.loads(pickle.dumps(StreamInterruptedError("cut", partial=[1, 2])))
    assert partial.partial == [1, 2]
    timeout = pickle.loads(pickle.dumps(APITimeoutError("slow", retryable=True)))
    assert timeout.retryable is True


# error_from_payload: the check run on every HTTP-200 body and stream chunk.


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"choices": [{"delta": {"content": "hi"}}]}, id="chunk"),
        pytest.param({"base_resp": {"status_code": 0, "status_msg": ""}}, id="base-resp-ok"),
        pytest.param({"base_resp": {"status_code": "0"}}, id="base-resp-ok-string"),
        pytest.param({"base_resp": {"status_code": None}}, id="base-resp-null"),
        pytest.param({"base_resp": None, "choices": []}, id="base-resp-absent"),
        pytest.param({"success": True, "errors": [], "result": {}}, id="cloudflare-ok"),
        pytest.param({"error": None, "id": "x"}, id="error-null"),
        pytest.param(
            {"type": "message_delta", "usage": {"output_tokens": 3}}, id="anthropic-event"
        ),
    ],
)
def test_payload_without_error_gives_none(payload: dict[str, object]) -> None:
    assert error_from_payload(payload) is None


@pytest.mark.parametrize(
    ("payload", "provider", "cls", "code", "retryable"),
    [
        pytest.param(
            {"choices": [], "base_resp": {"status_code": 1002, "status_msg": "rate limit"}},
            "minimax",
            RateLimitError,
            1002,
            True,
            id="base-resp-1002",
        ),
        pytest.param(
            {"base_resp": {"status_code": "1027", "status_msg": "output new_sensitive"}},
            "minimax",
            ContentFilteredError,
            1027,
            False,
            id="base-resp-string-code",
        ),
        pytest.param(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "minimax",
            ServerError,
            None,
            True,
            id="anthropic-stream-error-event",
        ),
        pytest.param(
            {"success": False, "errors": [{"code": 3040, "message": "Capacity exceeded"}]},
            "cloudflare",
            RateLimitError,
            3040,
            True,
            id="cloudflare-success-false",
        ),
        pytest.param(
            {"errors": [{"code": "timeoutProvider", "message": "The provider timed out."}]},
            "runware",
            ServerError,
            "timeoutProvider",
            True,
            id="errors-list-with-string-code",
        ),
        pytest.param(
            {"error": "something broke"}, "minimax", MiniMaxM3Error, None, False, id="error-str"
        ),
    ],
)
def test_payload_with_error(
    payload: dict[str, object],
    provider: str,
    cls: type[MiniMaxM3Error],
    code: int | None,
    retryable: bool,
) -> None:
    err = error_from_payload(payload, request_id="hdr", provider=provider)
    assert type(err) is cls
    assert err.provider_code == code
    assert err.retryable is retryable
    assert err.status_code == 200
    assert err.request_id == "hdr"
    assert err.body is payload


def test_payload_request_id_falls_back_to_body() -> None:
    err = error_from_payload(
        {"id": "chunk-1", "base_resp": {"status_code": 1000, "status_msg": "x"}}
    )
    assert err is not None
    assert err.request_id == "chunk-1"
    assert err.message == "x"


# Fuzz: odd shapes must produce an error (or None), never a KeyError or TypeError.

_KEYS = st.sampled_from(
    [
        "error",
        "errors",
        "base_resp",
        "status_code",
        "status_msg",
        "code",
        "message",
        "type",
        "http_code",
        "success",
        "request_id",
        "id",
        "detail",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["1008", "0", " 2013 ", "resets at 2026-05-15T15:00:00Z (2056)", "(1002)"])
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)


@given(
    value=JSON_VALUES,
    status=st.integers(min_value=-5, max_value=1000),
    provider=st.sampled_from(["minimax", "cloudflare", "runware", "x"]),
)
def test_fuzz_error_from_response_always_returns_an_error(
    value: object, status: int, provider: str
) -> None:
    body = json.dumps(value).encode()
    err = error_from_response(status, body, {"Retry-After": "1"}, provider=provider)
    assert isinstance(err, MiniMaxM3Error)
    assert isinstance(str(err), str)


@given(
    body=st.binary(max_size=200),
    headers=st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=4),
)
def test_fuzz_error_from_response_on_raw_bytes(body: bytes, headers: dict[str, str]) -> None:
    assert isinstance(error_from_response(500, body, headers), MiniMaxM3Error)


@given(
    value=st.dictionaries(_KEYS, JSON_VALUES, max_size=5) | JSON_VALUES,
    provider=st.sampled_from(["minimax", "cloudflare"]),
)
def test_fuzz_error_from_payload_returns_error_or_none(value: object, provider: str) -> None:
    result = error_from_payload(value, provider=provider)  # type: ignore[arg-type]
    assert result is None or isinstance(result, MiniMaxM3Error)


def test_deeply_nested_json_does_not_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert isinstance(error_from_response(500, body, {}), ServerError)
