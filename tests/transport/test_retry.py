"""Retry decisions, with a frozen clock and a fixed jitter source."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minimax_m3.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InsufficientBalanceError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    error_from_response,
)
from minimax_m3.retry import RetryPolicy, backoff_delay, parse_retry_after

NOW = datetime(2026, 5, 15, 14, 0, tzinfo=timezone.utc)
NOW_TS = NOW.timestamp()


def no_jitter() -> float:
    return 0.0


def full_jitter() -> float:
    return 0.999999


def http_date(offset_seconds: float) -> str:
    return format_datetime(NOW + timedelta(seconds=offset_seconds), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("5", 5.0, id="seconds"),
        pytest.param(" 12 ", 12.0, id="padded"),
        pytest.param("1.5", 1.5, id="float-seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-3", 0.0, id="negative-is-zero"),
        pytest.param(http_date(30), 30.0, id="http-date-future"),
        pytest.param(http_date(-30), 0.0, id="http-date-past"),
        pytest.param("Fri, 15 May 2026 14:00:10", 10.0, id="http-date-no-zone-is-utc"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("nan", None, id="nan"),
        pytest.param("inf", None, id="infinite"),
        pytest.param("Fri, 99 Foo 2026 99:99:99 GMT", None, id="broken-date"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW_TS) == expected


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, NOW_TS)
    assert result is None or result >= 0


@pytest.mark.parametrize(
    ("retries_done", "expected"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (1000, 8.0)],
)
def test_backoff_grows_then_caps(retries_done: int, expected: float) -> None:
    assert backoff_delay(retries_done, 0.5, 8.0, no_jitter) == expected


@pytest.mark.parametrize("retries_done", [0, 1, 2, 3, 6])
def test_backoff_jitter_takes_off_at_most_a_quarter(retries_done: int) -> None:
    nominal = backoff_delay(retries_done, 0.5, 8.0, no_jitter)
    shortest = backoff_delay(retries_done, 0.5, 8.0, full_jitter)
    assert nominal * 0.75 <= shortest < nominal
    assert backoff_delay(retries_done, 0.5, 8.0, lambda: 0.5) == pytest.approx(nominal * 0.875)


def rate_limited(retry_after: str | None = None) -> RateLimitError:
    return RateLimitError("rate limit", status_code=429, retryable=True, retry_after=retry_after)


POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("error", "retries_done", "expected"),
    [
        pytest.param(rate_limited(), 0, 0.5, id="backoff-first"),
        pytest.param(rate_limited(), 1, 1.0, id="backoff-second"),
        pytest.param(rate_limited("7"), 0, 7.0, id="retry-after-seconds"),
        pytest.param(rate_limited("0"), 0, 0.0, id="retry-after-zero"),
        pytest.param(rate_limited("-4"), 0, 0.0, id="retry-after-negative"),
        pytest.param(rate_limited(http_date(20)), 0, 20.0, id="retry-after-date"),
        pytest.param(rate_limited("60"), 0, 60.0, id="retry-after-at-cap"),
        pytest.param(rate_limited("61"), 0, None, id="retry-after-over-cap"),
        pytest.param(rate_limited(http_date(3600)), 0, None, id="retry-after-date-over-cap"),
        pytest.param(rate_limited("later"), 1, 1.0, id="retry-after-garbage-uses-backoff"),
        pytest.param(rate_limited(), 2, None, id="retries-exhausted"),
        pytest.param(rate_limited("1"), 2, None, id="exhausted-even-with-retry-after"),
        pytest.param(ServerError("boom", status_code=503, retryable=True), 0, 0.5, id="5xx"),
        pytest.param(APIConnectionError("refused", retryable=True), 1, 1.0, id="connect"),
        pytest.param(APITimeoutError("timed out", retryable=True), 0, 0.5, id="timeout"),
        pytest.param(BadRequestError("bad", status_code=400), 0, None, id="not-retryable"),
        pytest.param(
            AuthenticationError("key", retry_after="1"), 0, None, id="auth-ignores-header"
        ),
        pytest.param(StreamInterruptedError("cut", partial="Hel"), 0, None, id="stream-cut"),
        pytest.param(ProtocolError("bad json"), 0, None, id="protocol"),
        pytest.param(ValueError("not ours"), 0, None, id="foreign-exception"),
        pytest.param(TimeoutError("bare"), 0, None, id="bare-timeout"),
    ],
)
def test_delay_before_retry(
    error: BaseException, retries_done: int, expected: float | None
) -> None:
    delay = POLICY.delay_before_retry(error, retries_done, now=NOW_TS, random=no_jitter)
    assert delay == expected


def quota(reset_in: float | None) -> InsufficientBalanceError:
    reset_at = None if reset_in is None else NOW + timedelta(seconds=reset_in)
    return InsufficientBalanceError("usage limit exceeded", provider_code=2056, reset_at=reset_at)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(quota(45), 45.0, id="2056-resets-soon"),
        pytest.param(quota(60), 60.0, id="2056-resets-at-cap"),
        pytest.param(quota(-5), 0.0, id="2056-reset-already-passed"),
        pytest.param(quota(3 * 3600), None, id="2056-resets-in-hours"),
        pytest.param(quota(None), None, id="2056-no-reset-time"),
        pytest.param(
            InsufficientBalanceError("insufficient balance", provider_code=1008), None, id="1008"
        ),
    ],
)
def test_quota_errors_wait_for_a_close_reset_only(
    error: InsufficientBalanceError, expected: float | None
) -> None:
    assert POLICY.delay_before_retry(error, 0, now=NOW_TS, random=no_jitter) == expected


def test_2056_from_a_real_body_end_to_end() -> None:
    message = (
        "usage limit exceeded, 5-hour usage limit reached, resets at 2026-05-15T14:00:30Z (2056)"
    )
    body = json.dumps({"type": "error", "error": {"type": "rate_limit_error", "message": message}})
    err = error_from_response(429, body.encode(), {})
    assert POLICY.delay_before_retry(err, 0, now=NOW_TS, random=no_jitter) == 30.0
    assert POLICY.delay_before_retry(err, 0, now=NOW_TS - 3600, random=no_jitter) is None


def test_1008_on_http_500_end_to_end_is_never_retried() -> None:
    body = b'{"type":"error","error":{"type":"api_error","message":"insufficient balance (1008)"}}'
    err = error_from_response(500, body, {"retry-after": "1"})
    assert POLICY.delay_before_retry(err, 0, now=NOW_TS, random=no_jitter) is None


def test_custom_policy_limits() -> None:
    policy = RetryPolicy(max_retries=5, initial_delay=1.0, max_delay=3.0, max_retry_after=10.0)
    delays = [
        policy.delay_before_retry(rate_limited(), n, now=0.0, random=no_jitter) for n in range(6)
    ]
    assert delays == [1.0, 2.0, 3.0, 3.0, 3.0, None]
    assert policy.delay_before_retry(rate_limited("11"), 0, now=0.0, random=no_jitter) is None


def test_zero_retries_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    assert policy.delay_before_retry(rate_limited(), 0, now=0.0, random=no_jitter) is None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"initial_delay": -0.1}, "initial_delay"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"max_retry_after": float("nan")}, "max_retry_after"),
    ],
)
def test_policy_rejects_bad_settings_by_name(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_immutable() -> None:
    with pytest.raises(AttributeError):
        POLICY.max_retries = 10  # type: ignore[misc]


@given(
    retries_done=st.integers(min_value=0, max_value=10_000),
    jitter=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_backoff_stays_within_bounds(retries_done: int, jitter: float) -> None:
    nominal = min(8.0, 0.5 * 2.0 ** min(retries_done, 10))
    delay = backoff_delay(retries_done, 0.5, 8.0, lambda: jitter)
    assert nominal * 0.75 <= delay <= nominal
