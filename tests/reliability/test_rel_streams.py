"""Broken connections and answers: nothing truncated passes for complete, nothing is lost.

Connection refused, a reset before the response, a reset mid-stream, a truncated JSON
event, malformed SSE, a body that ends before any finish reason, an error event
mid-stream, a server slower than the read timeout and a stream that stalls: each through
both adapters, sync and async, streaming and not. A stream that fails raises an error
whose ``partial`` holds everything that had arrived, and everything the caller was shown
is part of it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest
from rel_helpers import (
    KEY,
    PROVIDERS,
    STREAM_MODES,
    TINY_DELAYS,
    Clients,
    Driver,
    all_drivers,
    provider_settings,
    set_retry_delays,
    survived,
)

from minimax_m3.errors import (
    APIConnectionError,
    APITimeoutError,
    ContentFilteredError,
    MiniMaxM3Error,
    ProtocolError,
    StreamInterruptedError,
)
from minimax_m3.testing import Fault, MiniMaxEmulator, Reply, StreamShape, ToolCallReply
from minimax_m3.types import ChatResult

REASONING = "Plan: look it up."
TEXT = "Checking the weather now."
ARGUMENTS = '{"city": "Paris"}'
# Seven events on Chat Completions: reasoning, text, the call's head, four argument pieces.
RICH = Reply(
    reasoning=REASONING,
    text=TEXT,
    tool_calls=[ToolCallReply("get_weather", {"city": "Paris"}, id="call_rel")],
    stream=StreamShape(chunk_size=64, tool_args_chunk=5),
)
READ_TIMEOUT = 0.2


@dataclass(frozen=True)
class Expect:
    """What one mode must raise: the class, how many attempts, what ``partial`` holds."""

    error: type[MiniMaxM3Error]
    attempts: int
    # Text, reasoning and tool-call arguments the partial answer must hold (None: the
    # error carries no partial answer, because nothing was streamed).
    partial: tuple[str, str, str] | None = None
    match: str = ""


@dataclass(frozen=True)
class Broken:
    fault: Fault
    stream: Expect
    invoke: Expect | None  # None: the fault only exists in a stream
    max_retries: int = 2
    timeout: float | None = None


CASES = {
    "reset-before-the-response": Broken(
        Fault(reset_before_response=True),
        Expect(APIConnectionError, 3, match="connection failed"),
        Expect(APIConnectionError, 3, match="connection failed"),
    ),
    "reset-mid-stream-after-5-events": Broken(
        Fault(reply=RICH, drop_after_events=5),
        Expect(StreamInterruptedError, 1, (TEXT, REASONING, ARGUMENTS[:10]), "broke mid-stream"),
        Expect(APIConnectionError, 3, match="connection failed"),
    ),
    "truncated-json-event": Broken(
        Fault(reply=RICH, truncate_json_after_events=5),
        Expect(ProtocolError, 1, (TEXT, REASONING, ARGUMENTS[:10]), "not valid JSON"),
        Expect(ProtocolError, 1, match="not JSON"),
    ),
    "malformed-sse-after-the-first-event": Broken(
        Fault(reply=RICH, malformed_sse=True),
        Expect(ProtocolError, 1, ("", REASONING, ""), "not valid JSON"),
        None,
    ),
    "ends-before-any-finish-reason": Broken(
        Fault(reply=RICH, end_without_finish=True),
        Expect(StreamInterruptedError, 1, (TEXT, REASONING, ARGUMENTS), "ended before"),
        None,
    ),
    "error-event-mid-stream": Broken(
        Fault(reply=RICH, error_after_events=5, provider_code=1027),
        Expect(ContentFilteredError, 1, (TEXT, REASONING, ARGUMENTS[:10]), "sensitive"),
        Expect(ContentFilteredError, 1, match="sensitive"),
    ),
    "slower-than-the-read-timeout": Broken(
        Fault(reply=RICH, delay=1.0),
        Expect(APITimeoutError, 2, match="timed out"),
        Expect(APITimeoutError, 2, match="timed out"),
        max_retries=1,
        timeout=READ_TIMEOUT,
    ),
    "stalls-between-events": Broken(
        Fault(reply=RICH, stall_after_events=5, stall_seconds=1.5),
        Expect(StreamInterruptedError, 1, (TEXT, REASONING, ARGUMENTS[:10]), "stalled"),
        Expect(APITimeoutError, 2, match="timed out"),
        max_retries=1,
        timeout=READ_TIMEOUT,
    ),
}


@dataclass
class Seen:
    """What a stream showed the caller before it failed."""

    text: str = ""
    reasoning: str = ""
    arguments: str = ""


async def stream_until_error(driver: Driver, model: Any) -> tuple[Seen, MiniMaxM3Error]:
    """Stream, keeping what arrives, until the stream raises."""
    seen = Seen()
    if driver.framework == "langchain":

        def take(chunk: Any) -> None:
            seen.text += str(chunk.content)
            seen.reasoning += chunk.additional_kwargs.get("reasoning_content", "")
            seen.arguments += "".join(c.get("args") or "" for c in chunk.tool_call_chunks)

    else:

        def take(response: Any) -> None:
            seen.text += response.delta or ""
            seen.reasoning += response.additional_kwargs.get("thinking_delta", "")
            calls = response.message.additional_kwargs.get("tool_calls") or []
            seen.arguments = "".join(call["function"]["arguments"] for call in calls)

    try:
        if driver.mode == "stream":

            def run() -> None:
                if driver.framework == "langchain":
                    for chunk in model.stream("Weather?"):
                        take(chunk)
                else:
                    for response in model.stream_chat([driver.user("Weather?")]):
                        take(response)

            await asyncio.to_thread(run)
        elif driver.framework == "langchain":
            async for chunk in model.astream("Weather?"):
                take(chunk)
        else:
            async for response in await model.astream_chat([driver.user("Weather?")]):
                take(response)
    except MiniMaxM3Error as error:
        return seen, error
    raise AssertionError("the broken stream ended without an error")


def check_partial(error: MiniMaxM3Error, expected: tuple[str, str, str], seen: Seen) -> None:
    partial = error.partial
    assert isinstance(partial, ChatResult), "the error does not carry what had arrived"
    text, reasoning, arguments = expected
    assert partial.text == text
    assert partial.reasoning_text == reasoning
    got_arguments = "".join(call.arguments for call in partial.tool_calls)
    assert got_arguments == arguments
    if arguments:
        assert [(c.id, c.name) for c in partial.tool_calls] == [("call_rel", "get_weather")]
    assert partial.finish_reason is None, "a broken answer must not look finished"
    # Whatever the caller was shown is part of what the error carries: nothing lost.
    assert partial.text.startswith(seen.text)
    assert partial.reasoning_text.startswith(seen.reasoning)
    assert got_arguments.startswith(seen.arguments)


# A fault of streams only (no invoke expectation) has no events to break in a whole body.
BROKEN_RUNS = [
    pytest.param(driver, name, id=f"{driver}-{name}")
    for driver in all_drivers()
    for name, case in CASES.items()
    if driver.streams or case.invoke is not None
]


@pytest.mark.parametrize(("driver", "name"), BROKEN_RUNS)
async def test_broken_answer_raises_with_what_had_arrived(
    driver: Driver, name: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    case = CASES[name]
    expect = case.stream if driver.streams else case.invoke
    assert expect is not None
    emulator.queue(*[case.fault] * expect.attempts, Reply(text="never reached"))
    settings = provider_settings("minimax-chat", emulator) | clients.settings()
    if case.timeout is not None:
        settings["timeout"] = case.timeout
    model = driver.make(**settings, max_retries=case.max_retries)
    set_retry_delays(model, **TINY_DELAYS)

    started = time.monotonic()
    if driver.streams:
        seen, error = await stream_until_error(driver, model)
    else:
        seen = Seen()
        with pytest.raises(MiniMaxM3Error) as caught:
            await driver.ask(model, "Weather?")
        error = caught.value
    assert time.monotonic() - started < 3.0

    assert isinstance(error, expect.error), f"{type(error).__name__} is not {expect.error}"
    assert expect.match in str(error)
    assert clients.attempts == len(emulator.requests) == expect.attempts
    if expect.partial is not None:
        check_partial(error, expect.partial, seen)
        assert not error.retryable, "a stream that showed something must not be re-sent"
        assert error.request_id
    if expect.attempts > 1:
        assert error.retryable
    await clients.close_and_check(emulator)
    survived(expect.attempts)


async def test_connection_refused_is_retried_then_raised(driver: Driver, clients: Clients) -> None:
    with MiniMaxEmulator() as gone:
        settings = provider_settings("minimax-chat", gone)
    model = driver.make(**settings | clients.settings(), max_retries=2)
    set_retry_delays(model, **TINY_DELAYS)
    with pytest.raises(APIConnectionError) as caught:
        await driver.ask(model)
    error = caught.value
    assert type(error).__name__ in ("APIConnectionError", "MiniMaxConnectionError")
    assert "ConnectError" in str(error)
    assert error.retryable
    assert error.status_code is None
    assert error.partial is None
    assert clients.attempts == 3
    await clients.close_and_check(None)
    survived(3)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_every_wire_format_keeps_what_arrived_before_a_reset(
    framework: str, mode: str, provider: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    driver = Driver(framework, mode)
    reasoning = "Think first."
    text = "A long answer that is cut off somewhere in the middle of it."
    emulator.queue(
        Fault(
            reply=Reply(reasoning=reasoning, text=text, stream=StreamShape(chunk_size=4)),
            drop_after_events=12,
        )
    )
    settings = provider_settings(provider, emulator) | clients.settings()
    model = driver.make(**settings, max_retries=2)
    seen, error = await stream_until_error(driver, model)
    assert isinstance(error, StreamInterruptedError)
    partial = error.partial
    assert isinstance(partial, ChatResult)
    assert partial.reasoning_text == reasoning
    assert partial.text, "text had arrived before the reset"
    assert text.startswith(partial.text)
    assert len(partial.text) < len(text)
    assert partial.finish_reason is None
    assert (seen.text, seen.reasoning) == (partial.text, partial.reasoning_text)
    assert clients.attempts == len(emulator.requests) == 1
    assert KEY not in str(error)
    await clients.close_and_check(emulator)
    survived()


# Product fix: a ``timeout`` given to the model used to be ignored on a client of your own
# (httpx applied the client's, 5 s by default); it now goes with every request.


async def test_the_model_timeout_holds_on_a_client_of_your_own(
    driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(Fault(reply=Reply(text="late"), delay=1.0))
    settings = provider_settings("minimax-chat", emulator) | clients.settings()
    model = driver.make(**settings, timeout=READ_TIMEOUT, max_retries=0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await driver.ask(model)
    assert time.monotonic() - started < 0.9
    assert clients.attempts == 1
    await clients.close_and_check(emulator)
    survived()


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_without_a_model_timeout_the_client_timeout_stands(
    framework: str, emulator: MiniMaxEmulator
) -> None:
    driver = Driver(framework, "ainvoke")
    clients = Clients(timeout=READ_TIMEOUT)
    emulator.queue(Fault(reply=Reply(text="late"), delay=1.0))
    settings = provider_settings("minimax-chat", emulator) | clients.settings()
    model = driver.make(**settings, max_retries=0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await driver.ask(model)
    assert time.monotonic() - started < 0.9
    await clients.close_and_check(emulator)
    survived()
