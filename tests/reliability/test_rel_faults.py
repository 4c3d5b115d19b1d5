"""HTTP failures and provider error codes: exact attempts, typed errors, empty pools.

Each case runs through both adapters, sync and async, streaming and not (the ``driver``
fixture). The model is built on clients of the test's own, which count every attempt and
let the test prove, once the call is over, that no connection is still held and that the
server saw every connection closed.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import pytest
from langchain_core.exceptions import ModelError
from rel_helpers import (
    TINY_DELAYS,
    Clients,
    Driver,
    provider_settings,
    set_retry_delays,
    survived,
)

from minimax_m3.errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    InsufficientBalanceError,
    MiniMaxM3Error,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from minimax_m3.testing import Fault, MiniMaxEmulator, Reply

MAX_RETRIES = 2
ATTEMPTS = MAX_RETRIES + 1
# Retry-After cases wait this long between attempts unless the header is obeyed, so a
# transport that ignored "Retry-After: 0" would blow the time bound below.
SLOW_BACKOFF = {"initial_delay": 5.0, "max_delay": 5.0}


def http_date(offset: float) -> str:
    return formatdate(time.time() + offset, usegmt=True)


@dataclass(frozen=True)
class Case:
    """One scripted failure and what it must become."""

    fault: Fault
    error: type[MiniMaxM3Error]
    status: int
    code: int | str | None
    retried: bool
    provider: str = "minimax-chat"
    retryable: bool | None = None
    """The error's own flag; None: the same as ``retried``. A far-off Retry-After is a
    retryable kind of error that the transport still does not wait for."""
    request_id: bool = True
    retry_after: str | None = None
    delays: dict[str, float] = field(default_factory=lambda: dict(TINY_DELAYS))


PAST = http_date(-30)
AN_HOUR_AWAY = "@an-hour-away"  # made into a date when the case runs: see resolved()

RETRIED = {
    "429-retry-after-seconds": Case(
        Fault(status=429, headers={"Retry-After": "0"}),
        RateLimitError,
        429,
        None,
        True,
        retry_after="0",
        delays=SLOW_BACKOFF,
    ),
    "429-retry-after-http-date": Case(
        Fault(status=429, headers={"Retry-After": PAST}),
        RateLimitError,
        429,
        None,
        True,
        retry_after=PAST,
        delays=SLOW_BACKOFF,
    ),
    "429-no-retry-after": Case(Fault(status=429), RateLimitError, 429, None, True),
    "500": Case(Fault(status=500), ServerError, 500, None, True),
    "502": Case(Fault(status=502), ServerError, 502, None, True),
    "503": Case(Fault(status=503), ServerError, 503, None, True),
    "529": Case(Fault(status=529), ServerError, 529, None, True),
    "1002-on-200": Case(Fault(base_resp_code=1002), RateLimitError, 200, 1002, True),
    "1039-on-200": Case(Fault(base_resp_code=1039), RateLimitError, 200, 1039, True),
    "cloudflare-3040-on-429": Case(
        Fault(status=429), RateLimitError, 429, 3040, True, provider="cloudflare-chat"
    ),
    "cloudflare-anthropic-503": Case(
        Fault(status=503), ServerError, 503, 7009, True, provider="cloudflare-anthropic"
    ),
    "runware-rate-limit": Case(
        Fault(status=429),
        RateLimitError,
        429,
        "rateLimitExceeded",
        True,
        provider="runware-tasks",
        request_id=False,
    ),
    "runware-timeout-on-200": Case(
        Fault(status=200, provider_code="timeoutProvider"),
        ServerError,
        200,
        "timeoutProvider",
        True,
        provider="runware-tasks",
        request_id=False,
    ),
    "anthropic-overloaded-529": Case(
        Fault(status=529), ServerError, 529, None, True, provider="minimax-anthropic"
    ),
}

NOT_RETRIED = {
    "1004-on-200": Case(Fault(base_resp_code=1004), AuthenticationError, 200, 1004, False),
    "1008-on-200": Case(Fault(base_resp_code=1008), InsufficientBalanceError, 200, 1008, False),
    "1026-on-200": Case(Fault(base_resp_code=1026), ContentFilteredError, 200, 1026, False),
    "1027-on-200": Case(Fault(base_resp_code=1027), ContentFilteredError, 200, 1027, False),
    "2013-on-200": Case(Fault(base_resp_code=2013), BadRequestError, 200, 2013, False),
    "1008-on-500": Case(
        Fault(status=500, provider_code=1008), InsufficientBalanceError, 500, 1008, False
    ),
    "1008-on-anthropic-500": Case(
        Fault(status=500, provider_code=1008),
        InsufficientBalanceError,
        500,
        1008,
        False,
        provider="minimax-anthropic",
    ),
    "429-retry-after-an-hour": Case(
        Fault(status=429, headers={"Retry-After": "3600"}),
        RateLimitError,
        429,
        None,
        False,
        retry_after="3600",
        retryable=True,
        delays=SLOW_BACKOFF,
    ),
    "429-retry-after-date-an-hour-away": Case(
        Fault(status=429, headers={"Retry-After": AN_HOUR_AWAY}),
        RateLimitError,
        429,
        None,
        False,
        retry_after=AN_HOUR_AWAY,
        retryable=True,
        delays=SLOW_BACKOFF,
    ),
    "cloudflare-10000-on-401": Case(
        Fault(status=401), AuthenticationError, 401, 10000, False, provider="cloudflare-chat"
    ),
    "cloudflare-2021-on-402": Case(
        Fault(status=402),
        InsufficientBalanceError,
        402,
        2021,
        False,
        provider="cloudflare-anthropic",
    ),
    "cloudflare-7003-success-false-on-200": Case(
        Fault(status=200, provider_code=7003, message="Could not route to /accounts/x"),
        NotFoundError,
        200,
        7003,
        False,
        provider="cloudflare-chat",
    ),
    "runware-insufficient-credits": Case(
        Fault(status=402),
        InsufficientBalanceError,
        402,
        "insufficientCredits",
        False,
        provider="runware-tasks",
        request_id=False,
    ),
    "runware-invalid-parameter-on-200": Case(
        Fault(status=200, provider_code="invalidParameter"),
        BadRequestError,
        200,
        "invalidParameter",
        False,
        provider="runware-chat",
        request_id=False,
    ),
}


def resolved(case: Case) -> Case:
    """The case with a Retry-After date an hour from now, made when the case runs (one
    made at import would be in the past by the end of a slow run)."""
    if case.retry_after != AN_HOUR_AWAY:
        return case
    when = http_date(3600)
    fault = Fault(status=case.fault.status, headers={"Retry-After": when})
    return dataclasses.replace(case, fault=fault, retry_after=when)


def build(
    driver: Driver, emulator: MiniMaxEmulator, clients: Clients, case: Case, **extra: Any
) -> Any:
    settings = provider_settings(case.provider, emulator) | clients.settings()
    model = driver.make(**settings, max_retries=MAX_RETRIES, **extra)
    set_retry_delays(model, **case.delays)
    return model


def check_error(driver: Driver, error: MiniMaxM3Error, case: Case) -> None:
    assert type(error) is case.error or (
        driver.framework == "langchain" and type(error).__mro__[1] is case.error
    ), f"{type(error).__name__} is not {case.error.__name__}"
    if driver.framework == "langchain":
        assert isinstance(error, ModelError)
    assert error.status_code == case.status
    assert error.provider_code == case.code
    assert error.retryable is (case.retried if case.retryable is None else case.retryable)
    assert bool(error.request_id) is case.request_id
    assert error.retry_after == case.retry_after
    assert error.message
    assert error.body is not None


async def fail_with(
    case: Case, driver: Driver, emulator: MiniMaxEmulator, clients: Clients, attempts: int
) -> None:
    case = resolved(case)
    emulator.queue(*[case.fault] * attempts, Reply(text="never reached"))
    model = build(driver, emulator, clients, case)
    started = time.monotonic()
    with pytest.raises(MiniMaxM3Error) as caught:
        await driver.ask(model)
    assert time.monotonic() - started < 3.0
    check_error(driver, caught.value, case)
    assert clients.attempts == attempts
    assert len(emulator.requests) == attempts
    await clients.close_and_check(emulator)
    survived(attempts)


@pytest.mark.parametrize("name", list(RETRIED))
async def test_retryable_failure_is_tried_max_retries_plus_one_times_then_raised(
    name: str, driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    await fail_with(RETRIED[name], driver, emulator, clients, ATTEMPTS)


@pytest.mark.parametrize("name", list(NOT_RETRIED))
async def test_permanent_failure_is_raised_after_one_attempt(
    name: str, driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    await fail_with(NOT_RETRIED[name], driver, emulator, clients, 1)


@pytest.mark.parametrize(
    "name",
    [
        "429-retry-after-seconds",
        "429-retry-after-http-date",
        "503",
        "1039-on-200",
        "cloudflare-3040-on-429",
        "runware-rate-limit",
    ],
)
async def test_retryable_failures_then_success_give_the_whole_answer(
    name: str, driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    case = RETRIED[name]
    emulator.queue(
        case.fault,
        case.fault,
        Reply(text="Recovered after two failures.", reasoning="Try again."),
    )
    model = build(driver, emulator, clients, case)
    started = time.monotonic()
    answer = await driver.ask(model)
    assert time.monotonic() - started < 3.0
    assert answer.text == "Recovered after two failures."
    assert answer.reasoning == "Try again."
    assert clients.attempts == len(emulator.requests) == 3
    await clients.close_and_check(emulator)
    survived(2)


async def test_no_retries_means_one_attempt(
    driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(Fault(status=503), Reply(text="never reached"))
    settings = provider_settings("minimax-chat", emulator) | clients.settings()
    model = driver.make(**settings, max_retries=0)
    with pytest.raises(ServerError) as caught:
        await driver.ask(model)
    assert caught.value.retryable
    assert clients.attempts == len(emulator.requests) == 1
    await clients.close_and_check(emulator)
    survived()
