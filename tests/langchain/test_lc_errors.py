"""Errors: each transport error re-raised as a class that is also LangChain's."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from lc_helpers import Driver

from langchain_minimax_m3 import ChatMiniMaxM3
from langchain_minimax_m3 import errors as lc_errors
from minimax_m3 import errors as transport_errors
from minimax_m3.testing import Fault, MiniMaxEmulator, Reply, StreamShape
from minimax_m3.types import ChatResult

MakeModel = Callable[..., ChatMiniMaxM3]

# (fault, transport class, LangChain class, dual class)
FAULTS = {
    "401": (
        Fault(status=401, provider_code=1004),
        transport_errors.AuthenticationError,
        ModelAuthenticationError,
        lc_errors.MiniMaxAuthenticationError,
    ),
    "403": (
        Fault(status=403),
        transport_errors.PermissionDeniedError,
        ModelPermissionDeniedError,
        lc_errors.MiniMaxPermissionDeniedError,
    ),
    "404": (
        Fault(status=404),
        transport_errors.NotFoundError,
        ModelNotFoundError,
        lc_errors.MiniMaxNotFoundError,
    ),
    "400": (
        Fault(status=400, provider_code=2013, message="invalid params, bad tool schema"),
        transport_errors.BadRequestError,
        ModelInvalidRequestError,
        lc_errors.MiniMaxBadRequestError,
    ),
    "context": (
        Fault(status=400, provider_code=2013, message="context window exceeds limit"),
        transport_errors.ContextWindowExceededError,
        ContextOverflowError,
        lc_errors.MiniMaxContextOverflowError,
    ),
    "429": (
        Fault(status=429, provider_code=1002, headers={"Retry-After": "0"}),
        transport_errors.RateLimitError,
        ModelRateLimitError,
        lc_errors.MiniMaxRateLimitError,
    ),
    "500": (
        Fault(status=500),
        transport_errors.ServerError,
        ModelAPIError,
        lc_errors.MiniMaxServerError,
    ),
    "balance-on-200": (
        Fault(base_resp_code=1008),
        transport_errors.InsufficientBalanceError,
        ModelPermissionDeniedError,
        lc_errors.MiniMaxInsufficientBalanceError,
    ),
    "sensitive-on-200": (
        Fault(base_resp_code=1026),
        transport_errors.ContentFilteredError,
        ModelInvalidRequestError,
        lc_errors.MiniMaxContentFilteredError,
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
@pytest.mark.parametrize("call", ["invoke", "stream"])
async def test_each_fault_raises_its_dual_class(
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_model: MakeModel,
    name: str,
    call: str,
) -> None:
    fault, transport_class, langchain_class, dual_class = FAULTS[name]
    emulator.queue(fault)
    model = make_model(max_retries=0)
    run = driver.invoke if call == "invoke" else driver.stream
    with pytest.raises(dual_class) as caught:
        await run(model, "hi")

    error = caught.value
    assert isinstance(error, transport_class)
    assert isinstance(error, langchain_class)
    assert isinstance(error, transport_errors.MiniMaxM3Error)
    assert isinstance(error, ModelError)
    assert error.request_id, "the request id survives the conversion"
    # An interrupted stream may be called again by LangChain's retry middleware.
    interrupted = isinstance(error, transport_errors.StreamInterruptedError)
    assert error.is_retryable == (error.retryable or interrupted)
    if fault.base_resp_code is not None:
        assert error.provider_code == fault.base_resp_code
        assert error.status_code == 200
    else:
        assert error.status_code == fault.status
    if fault.provider_code is not None:
        assert error.provider_code == fault.provider_code


async def test_a_wrong_key_is_an_authentication_error(driver: Driver) -> None:
    with MiniMaxEmulator(api_key="the-right-key") as emulator:
        model = ChatMiniMaxM3(api_key="a-wrong-key", base_url=emulator.base_url)
        with pytest.raises(ModelAuthenticationError) as caught:
            await driver.invoke(model, "hi")
    assert caught.value.provider_code == 1004  # type: ignore[attr-defined]
    assert "a-wrong-key" not in str(caught.value)


async def test_a_stream_that_breaks_off_raises_with_the_partial_answer(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="a long answer " * 10, stream=StreamShape(chunk_size=4)),
            drop_after_events=5,
        )
    )
    with pytest.raises(lc_errors.MiniMaxStreamInterruptedError) as caught:
        await driver.stream(make_model(max_retries=0), "hi")

    error = caught.value
    assert isinstance(error, ModelConnectionError)
    assert isinstance(error, transport_errors.StreamInterruptedError)
    assert isinstance(error.partial, ChatResult)
    assert error.partial.text.startswith("a lo")


async def test_an_error_event_mid_stream_raises(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="partial answer", stream=StreamShape(chunk_size=3)),
            error_after_events=3,
        )
    )
    with pytest.raises(ModelAPIError) as caught:
        await driver.stream(make_model(max_retries=0), "hi")
    assert caught.value.provider_code == 1000  # type: ignore[attr-defined]


async def test_a_slow_answer_is_a_timeout(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Fault(reply=Reply(text="late"), delay=1.0))
    with pytest.raises(ModelTimeoutError) as caught:
        await driver.invoke(make_model(timeout=0.2, max_retries=0), "hi")
    assert isinstance(caught.value, lc_errors.MiniMaxTimeoutError)
    assert isinstance(caught.value, transport_errors.APITimeoutError)
    assert caught.value.is_retryable


async def test_an_unreachable_server_is_a_connection_error(driver: Driver) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = ChatMiniMaxM3(api_key="k", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    with pytest.raises(ModelConnectionError) as caught:
        await driver.invoke(model, "hi")
    assert isinstance(caught.value, lc_errors.MiniMaxConnectionError)
    assert caught.value.__cause__ is not None, "the httpx error stays the cause"


async def test_retries_happen_once_in_the_transport(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Fault(status=503, headers={"Retry-After": "0"}), Reply(text="recovered"))
    answer = await driver.invoke(make_model(max_retries=1), "hi")
    assert answer.content == "recovered"
    assert len(emulator.requests) == 2


def _every_transport_error() -> list[transport_errors.MiniMaxM3Error]:
    cause = OSError("underlying")
    errors: list[transport_errors.MiniMaxM3Error] = []
    for cls in (
        transport_errors.MiniMaxM3Error,
        transport_errors.AuthenticationError,
        transport_errors.PermissionDeniedError,
        transport_errors.BadRequestError,
        transport_errors.ContextWindowExceededError,
        transport_errors.NotFoundError,
        transport_errors.RateLimitError,
        transport_errors.InsufficientBalanceError,
        transport_errors.ContentFilteredError,
        transport_errors.ServerError,
        transport_errors.ProtocolError,
        transport_errors.APIConnectionError,
        transport_errors.APITimeoutError,
    ):
        try:
            try:
                raise cause
            except OSError as exc:
                raise cls(
                    "boom",
                    status_code=418,
                    provider_code=1234,
                    request_id="req-1",
                    retryable=True,
                    body={"raw": 1},
                    retry_after="3",
                ) from exc
        except transport_errors.MiniMaxM3Error as error:
            errors.append(error)
    partial = ChatResult(text="half")
    errors.append(transport_errors.StreamInterruptedError("cut", partial=partial, request_id="r"))
    return errors


@pytest.mark.parametrize("error", _every_transport_error(), ids=lambda e: type(e).__name__)
def test_conversion_keeps_class_fields_message_cause_and_traceback(
    error: transport_errors.MiniMaxM3Error,
) -> None:
    converted = lc_errors.to_langchain_error(error)

    assert isinstance(converted, type(error))
    assert isinstance(converted, ModelError)
    assert type(converted).__module__ == "langchain_minimax_m3.errors"
    assert str(converted) == str(error)
    assert vars(converted) | {"is_retryable": None} == vars(error) | {"is_retryable": None}
    interrupted = isinstance(error, transport_errors.StreamInterruptedError)
    assert converted.is_retryable == (error.retryable or interrupted)
    assert converted.__cause__ is error.__cause__
    if error.__traceback__ is not None:
        frames = traceback.extract_tb(converted.__traceback__)
        assert frames[-1].name == "_every_transport_error"
    assert lc_errors.to_langchain_error(converted) is converted


def test_the_dual_classes_match_langchain_core() -> None:
    pairs = {
        lc_errors.MiniMaxAuthenticationError: ModelAuthenticationError,
        lc_errors.MiniMaxPermissionDeniedError: ModelPermissionDeniedError,
        lc_errors.MiniMaxInsufficientBalanceError: ModelPermissionDeniedError,
        lc_errors.MiniMaxBadRequestError: ModelInvalidRequestError,
        lc_errors.MiniMaxContextOverflowError: ContextOverflowError,
        lc_errors.MiniMaxContentFilteredError: ModelInvalidRequestError,
        lc_errors.MiniMaxNotFoundError: ModelNotFoundError,
        lc_errors.MiniMaxRateLimitError: ModelRateLimitError,
        lc_errors.MiniMaxServerError: ModelAPIError,
        lc_errors.MiniMaxProtocolError: ModelAPIError,
        lc_errors.MiniMaxConnectionError: ModelConnectionError,
        lc_errors.MiniMaxTimeoutError: ModelTimeoutError,
        lc_errors.MiniMaxStreamInterruptedError: ModelConnectionError,
        lc_errors.MiniMaxError: ModelError,
    }
    for dual, langchain_class in pairs.items():
        assert issubclass(dual, langchain_class), dual
        assert issubclass(dual, transport_errors.MiniMaxM3Error), dual
