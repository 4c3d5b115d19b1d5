"""The transport against the loopback emulator over real sockets, sync and async alike.

Every test takes the ``driver`` fixture and so runs twice: through ``complete``/``stream``
(in a worker thread) and through ``acomplete``/``astream``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from replaying import summarise

from minimax_m3.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContentFilteredError,
    InsufficientBalanceError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from minimax_m3.pools import aclose_shared_clients
from minimax_m3.retry import RetryPolicy
from minimax_m3.testing import Fault, Layout, MiniMaxEmulator, Reply, StreamShape, ToolCallReply
from minimax_m3.transport import Transport
from minimax_m3.types import (
    ChatRequest,
    ChatResult,
    Message,
    StreamEnd,
    StreamEvent,
    ToolSpec,
    Usage,
)

FAST_RETRIES = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.005)
WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def ask(text: str = "Hi", **kwargs: Any) -> ChatRequest:
    return ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content=text)], **kwargs)


@dataclass
class Driver:
    """Runs the sync or the async side of a transport; tests await either the same way."""

    mode: str

    async def complete(self, transport: Transport, request: ChatRequest) -> ChatResult:
        if self.mode == "sync":
            return await asyncio.to_thread(transport.complete, request)
        return await transport.acomplete(request)

    async def stream(self, transport: Transport, request: ChatRequest) -> list[StreamEvent]:
        if self.mode == "sync":
            return await asyncio.to_thread(lambda: list(transport.stream(request)))
        return [event async for event in transport.astream(request)]


@pytest.fixture(params=["sync", "async"])
async def driver(request: pytest.FixtureRequest) -> AsyncIterator[Driver]:
    yield Driver(request.param)
    await aclose_shared_clients()


@pytest.fixture
def make_transport(emulator: MiniMaxEmulator) -> Callable[..., Transport]:
    def make(**kwargs: Any) -> Transport:
        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", emulator.base_url)
        kwargs.setdefault("retry_policy", FAST_RETRIES)
        return Transport(**kwargs)

    return make


async def test_complete_returns_text_reasoning_usage_and_ids(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Reply(
            text="The capital of France is **Paris**.",
            reasoning="A simple factual question.",
            usage={"prompt_tokens": 183, "completion_tokens": 38, "cached_tokens": 114},
        )
    )
    result = await driver.complete(make_transport(), ask("Capital of France?"))
    assert result.text == "The capital of France is **Paris**."
    assert result.reasoning_text == "A simple factual question."
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (183, 38)
    assert result.usage.total_tokens == 221
    assert result.usage.cache_read_tokens == 114
    assert result.request_id is not None
    assert result.request_id == result.response_id
    assert result.provider_metadata["base_resp"]["status_code"] == 0


async def test_the_request_on_the_wire(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    await driver.complete(
        make_transport(default_headers={"x-team": "qa"}),
        ask(temperature=0.3, max_tokens=100, thinking="adaptive"),
    )
    [sent] = emulator.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer test-key"
    assert sent.headers["x-team"] == "qa"
    assert sent.json == {
        "model": "MiniMax-M3",
        "messages": [{"role": "user", "content": "Hi"}],
        "reasoning_split": True,
        "thinking": {"type": "adaptive"},
        "max_completion_tokens": 100,
        "temperature": 0.3,
    }


async def test_base_url_copied_with_v1_is_accepted(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    await driver.complete(make_transport(base_url=emulator.base_url + "/v1/"), ask())
    assert emulator.requests[0].path == "/v1/chat/completions"


async def test_stream_yields_reasoning_then_text_then_the_whole_answer(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Reply(
            text="Paris is the capital.", reasoning="Easy: Paris.", stream=StreamShape(chunk_size=3)
        )
    )
    events = await driver.stream(make_transport(), ask())
    seen = summarise(events)
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert seen["reasoning"] == end.result.reasoning_text == "Easy: Paris."
    assert seen["text"] == end.result.text == "Paris is the capital."
    assert end.result.usage is not None
    assert end.result.usage.total_tokens > 0
    assert emulator.requests[0].json["stream_options"] == {"include_usage": True}
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("TextDelta") > kinds.index("ReasoningDelta")


@pytest.mark.parametrize(
    ("stream", "layout"),
    [
        (StreamShape(chunk_size=5, reasoning_mode="cumulative"), Layout()),
        (
            StreamShape(chunk_size=5, reasoning_mode="cumulative"),
            Layout(reasoning_field="reasoning_content"),
        ),
        (StreamShape(chunk_size=5, empty_role=True), Layout(reasoning_field="reasoning")),
        (StreamShape(chunk_size=5), Layout(think_tags=True)),
        (StreamShape(chunk_size=5), Layout(think_tags=True, omit_think_open=True)),
        (StreamShape(chunk_size=5, send_done=False), Layout()),
    ],
    ids=[
        "cumulative",
        "cumulative-content",
        "reasoning-empty-role",
        "think",
        "no-opener",
        "no-done",
    ],
)
async def test_every_documented_stream_shape_gives_the_same_answer(
    stream: StreamShape,
    layout: Layout,
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_transport: Callable[..., Transport],
) -> None:
    reasoning = "The user asks about speed. Distance over time: 120 / 3 = 40."
    emulator.queue(Reply(text="**40 km/h**", reasoning=reasoning, stream=stream, layout=layout))
    if layout.omit_think_open:
        # A template-prefilled opener happens on self-hosted servers only, where an
        # answer's start is not known without thinking_mode.
        transport = make_transport(provider="openai-compatible", api_key=None)
    else:
        transport = make_transport()
    events = await driver.stream(transport, ask())
    seen = summarise(events)
    end = events[-1]
    assert isinstance(end, StreamEnd)
    if layout.think_tags:
        # Inline reasoning is kept byte for byte, the newlines inside the tags included
        # (the emulator writes "<think>\n...\n</think>", or without the opening tag).
        reasoning = f"{'' if layout.omit_think_open else chr(10)}{reasoning}\n"
    assert (end.result.reasoning_text, end.result.text) == (reasoning, "**40 km/h**")
    # What was streamed adds up to the answer, whatever the shape.
    assert (seen["reasoning"], seen["text"]) == (reasoning, "**40 km/h**")


async def test_parallel_tool_calls_interleaved_in_one_stream(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Reply(
            reasoning="Two cities, two calls.",
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}, id="call_a"),
                ToolCallReply("get_weather", {"city": "San Francisco"}, id="call_b"),
            ],
            stream=StreamShape(interleave_tool_calls=True, split_tool_name=True, tool_args_chunk=4),
        )
    )
    events = await driver.stream(make_transport(), ask(tools=[WEATHER]))
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert end.result.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.parsed_arguments()) for c in end.result.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_weather", {"city": "San Francisco"}),
    ]
    tools = summarise(events)["tools"]
    assert tools[1] == {
        "id": "call_b",
        "name": "get_weather",
        "arguments": '{"city": "San Francisco"}',
    }


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
async def test_tool_loop_replays_reasoning_the_emulator_checks(
    streaming: bool,
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_transport: Callable[..., Transport],
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="I need the weather first.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})],
        ),
        Reply(text="Sunny, 24°C.", reasoning="The tool said sunny."),
    )
    transport = make_transport()
    history = [Message(role="user", content="Weather in Paris?")]

    async def turn() -> ChatResult:
        request = ChatRequest(model="MiniMax-M3", messages=history, tools=[WEATHER])
        if not streaming:
            return await driver.complete(transport, request)
        end = (await driver.stream(transport, request))[-1]
        assert isinstance(end, StreamEnd)
        return end.result

    first = await turn()
    [call] = first.tool_calls
    history += [first.to_message(), Message(role="tool", tool_call_id=call.id, content="sunny")]
    second = await turn()
    assert second.text == "Sunny, 24°C."
    replayed = emulator.requests[1].json["messages"][1]
    assert replayed["reasoning_details"][0]["text"] == "I need the weather first."
    assert replayed["tool_calls"][0]["id"] == call.id


# Retries: each case checks how many attempts reached the server.


@pytest.mark.parametrize(
    ("faults", "attempts"),
    [
        ([Fault(status=429, headers={"Retry-After": "0"})], 2),
        ([Fault(status=503), Fault(status=502)], 3),
        ([Fault(base_resp_code=1002, message="rate limit")], 2),
        ([Fault(base_resp_code=1039, message="token limit")], 2),
        ([Fault(reset_before_response=True)], 2),
    ],
    ids=["429-retry-after", "503-then-502", "1002-on-200", "1039-on-200", "reset"],
)
async def test_retryable_failures_are_retried_then_succeed(
    faults: list[Fault],
    attempts: int,
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_transport: Callable[..., Transport],
) -> None:
    emulator.queue(*faults, Reply(text="finally"))
    result = await driver.complete(make_transport(), ask())
    assert result.text == "finally"
    assert len(emulator.requests) == attempts


@pytest.mark.parametrize(
    ("fault", "error_class", "code"),
    [
        (
            Fault(status=500, provider_code=1008, message="insufficient balance"),
            InsufficientBalanceError,
            1008,
        ),
        (Fault(status=400, provider_code=2013, message="invalid params"), BadRequestError, 2013),
        (Fault(status=401, provider_code=1004, message="login fail"), AuthenticationError, 1004),
        (Fault(base_resp_code=1026, message="input new_sensitive"), ContentFilteredError, 1026),
        (Fault(base_resp_code=1027, message="output new_sensitive"), ContentFilteredError, 1027),
        (Fault(base_resp_code=2013, message="invalid params"), BadRequestError, 2013),
    ],
    ids=["1008-on-500", "2013-on-400", "1004-on-401", "1026-on-200", "1027-on-200", "2013-on-200"],
)
async def test_permanent_failures_are_raised_after_one_attempt(
    fault: Fault,
    error_class: type[Exception],
    code: int,
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_transport: Callable[..., Transport],
) -> None:
    emulator.queue(fault)
    with pytest.raises(error_class) as caught:
        await driver.complete(make_transport(), ask())
    assert len(emulator.requests) == 1
    error = caught.value
    assert getattr(error, "provider_code", None) == code
    assert getattr(error, "request_id", None)
    assert not getattr(error, "retryable", True)


async def test_retries_give_up_with_the_last_error(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(*[Fault(status=503, message="overloaded")] * 3, Reply(text="too late"))
    with pytest.raises(ServerError) as caught:
        await driver.complete(make_transport(), ask())
    assert caught.value.status_code == 503
    assert len(emulator.requests) == 3


async def test_rate_limit_over_the_retry_after_cap_is_raised_at_once(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(Fault(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as caught:
        await driver.complete(make_transport(), ask())
    assert caught.value.retry_after == "3600"
    assert len(emulator.requests) == 1


async def test_read_timeout_is_a_timeout_error_after_every_retry(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(*[Fault(delay=1.0, reply=Reply(text="slow"))] * 3)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await driver.complete(make_transport(timeout=0.2), ask())
    assert len(emulator.requests) == 3
    assert time.monotonic() - started < 3.0


async def test_connection_refused_is_a_connection_error(driver: Driver) -> None:
    with MiniMaxEmulator() as gone:
        url = gone.base_url
    transport = Transport(api_key="k", base_url=url, retry_policy=FAST_RETRIES)
    with pytest.raises(APIConnectionError) as caught:
        await driver.complete(transport, ask())
    assert caught.value.retryable


# Streams that break


async def test_stream_dropped_after_events_raises_with_the_partial_answer_and_no_retry(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(
                text="abcdefghijklmnop", reasoning="plan", stream=StreamShape(chunk_size=4)
            ),
            drop_after_events=3,
        ),
        Reply(text="must not be fetched"),
    )
    with pytest.raises(StreamInterruptedError) as caught:
        await driver.stream(make_transport(), ask())
    partial = caught.value.partial
    assert isinstance(partial, ChatResult)
    assert partial.reasoning_text == "plan"
    assert partial.text
    assert "abcdefghijklmnop".startswith(partial.text)
    assert partial.finish_reason is None
    assert len(emulator.requests) == 1


async def test_stream_ending_before_a_finish_reason_raises(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(Fault(reply=Reply(text="half an answer"), end_without_finish=True))
    with pytest.raises(StreamInterruptedError, match="ended before the model finished"):
        await driver.stream(make_transport(), ask())


async def test_error_chunk_mid_stream_raises_the_mapped_error(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="some text first"),
            error_after_events=2,
            provider_code=1027,
            message="output new_sensitive",
        )
    )
    with pytest.raises(ContentFilteredError):
        await driver.stream(make_transport(), ask())
    assert len(emulator.requests) == 1


async def test_truncated_json_event_is_a_protocol_error(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(Fault(reply=Reply(text="abc"), truncate_json_after_events=1))
    with pytest.raises(ProtocolError):
        await driver.stream(make_transport(), ask())


async def test_stream_that_stalls_raises_after_the_read_timeout(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="abcdefgh", stream=StreamShape(chunk_size=2)),
            stall_after_events=2,
            stall_seconds=2.0,
        )
    )
    with pytest.raises(StreamInterruptedError, match="stalled"):
        await driver.stream(make_transport(timeout=0.3), ask())
    assert len(emulator.requests) == 1


async def test_stream_failure_before_any_event_is_retried(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(Fault(status=429, headers={"Retry-After": "0"}), Reply(text="ok"))
    events = await driver.stream(make_transport(), ask())
    assert summarise(events)["text"] == "ok"
    assert len(emulator.requests) == 2


async def test_stop_sequence_is_cut_on_the_client(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    emulator.queue(
        Reply(text="one two STOP three"),
        Reply(text="one two STOP three", stream=StreamShape(chunk_size=3)),
    )
    result = await driver.complete(make_transport(), ask(stop=["STOP"]))
    assert result.text == "one two "
    events = await driver.stream(make_transport(), ask(stop=["STOP"]))
    assert summarise(events)["text"] == "one two "


# Bad input and secrets


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"temperature": 3.0}, "temperature"), ({"n": 2}, "n"), ({"max_tokens": 10**6}, "max_tokens")],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    kwargs: dict[str, Any],
    argument: str,
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_transport: Callable[..., Transport],
) -> None:
    with pytest.raises(ValueError, match=f"^{argument} must"):
        await driver.complete(make_transport(), ask(**kwargs))
    with pytest.raises(ValueError, match=f"^{argument} must"):
        await driver.stream(make_transport(), ask(**kwargs))
    assert emulator.requests == []


def test_missing_key_names_the_argument_and_the_variable_at_the_first_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    transport = Transport()
    with pytest.raises(ValueError, match=r"api_key is required .* MINIMAX_API_KEY"):
        transport.complete(ChatRequest(model="MiniMax-M3", messages=[Message("user", "hi")]))


def test_key_from_the_environment_never_shows_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", "sk-very-secret")
    transport = Transport()
    assert "sk-very-secret" not in repr(transport)
    assert transport.url == "https://api.minimax.io/v1/chat/completions"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"provider": "openai"}, "provider must be one of 'minimax', 'cloudflare'"),
        (
            {"api": "runware_tasks"},
            "api must be one of 'chat_completions', 'anthropic_messages' for provider 'minimax'",
        ),
        ({"timeout": -1}, "timeout must be a positive, finite number"),
        ({"max_retries": -1}, "max_retries must be a whole number"),
        ({"base_url": "api.minimax.io"}, "base_url must start with http"),
        (
            {"provider": "openai-compatible"},
            "base_url is required for provider 'openai-compatible'",
        ),
        ({"provider": "cloudflare"}, "account_id is required for provider 'cloudflare'"),
    ],
)
def test_bad_settings_fail_at_construction(
    kwargs: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    with pytest.raises(ValueError, match=message):
        Transport(api_key="k", **kwargs)


# Connections


async def test_no_connection_leaks_after_retries(driver: Driver, emulator: MiniMaxEmulator) -> None:
    emulator.queue(
        Fault(status=503),
        Fault(status=429, headers={"Retry-After": "0"}),
        Reply(text="ok"),
        Fault(reset_before_response=True),
        Reply(text="ok again"),
        Fault(status=500, provider_code=1008, message="insufficient balance"),
    )
    sync_client, async_client = httpx.Client(), httpx.AsyncClient()
    transport = Transport(
        api_key="k",
        base_url=emulator.base_url,
        retry_policy=FAST_RETRIES,
        http_client=sync_client,
        http_async_client=async_client,
    )
    assert (await driver.complete(transport, ask())).text == "ok"
    assert (await driver.complete(transport, ask())).text == "ok again"
    with pytest.raises(InsufficientBalanceError):
        await driver.complete(transport, ask())
    assert len(emulator.requests) == 6
    # Failed responses were read and closed, so one kept-alive connection served all.
    assert emulator.open_connections <= 1
    await asyncio.to_thread(sync_client.close)
    await async_client.aclose()
    assert emulator.wait_for_idle()
    assert emulator.open_connections == 0


async def test_leaving_a_stream_early_closes_its_connection(
    driver: Driver, emulator: MiniMaxEmulator
) -> None:
    emulator.queue(Reply(text="x" * 400, stream=StreamShape(chunk_size=2, event_delay=0.01)))
    sync_client, async_client = httpx.Client(), httpx.AsyncClient()
    transport = Transport(
        api_key="k",
        base_url=emulator.base_url,
        http_client=sync_client,
        http_async_client=async_client,
    )
    if driver.mode == "sync":

        def first_events() -> None:
            stream = transport.stream(ask())
            next(stream)
            next(stream)
            stream.close()  # type: ignore[attr-defined]

        await asyncio.to_thread(first_events)
    else:
        stream = transport.astream(ask())
        await stream.__anext__()
        await stream.aclose()  # type: ignore[attr-defined]
    assert emulator.wait_for_idle()
    assert emulator.open_connections == 0
    await asyncio.to_thread(sync_client.close)
    await async_client.aclose()


async def test_cancelling_an_async_stream_closes_its_connection(emulator: MiniMaxEmulator) -> None:
    emulator.queue(Reply(text="x" * 400, stream=StreamShape(chunk_size=2, event_delay=0.02)))
    client = httpx.AsyncClient()
    transport = Transport(api_key="k", base_url=emulator.base_url, http_async_client=client)
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in transport.astream(ask()):
            started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert emulator.wait_for_idle()
    assert emulator.open_connections == 0
    await client.aclose()


async def test_transports_with_the_same_settings_share_one_pool(
    driver: Driver, emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    first, second = make_transport(), make_transport()
    await driver.complete(first, ask())
    await driver.complete(second, ask())
    if driver.mode == "sync":
        assert first._sync_client() is second._sync_client()
    else:
        assert first._async_client() is second._async_client()
    assert make_transport(timeout=5)._sync_client() is not first._sync_client()


async def test_user_supplied_clients_are_used(driver: Driver) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "m1",
                "model": "MiniMax-M3",
                "choices": [
                    {"index": 0, "message": {"content": "mocked"}, "finish_reason": "stop"}
                ],
            },
        )

    mock = httpx.MockTransport(handler)
    transport = Transport(
        api_key="k",
        http_client=httpx.Client(transport=mock),
        http_async_client=httpx.AsyncClient(transport=mock),
    )
    assert (await driver.complete(transport, ask())).text == "mocked"
    assert str(seen[0].url) == "https://api.minimax.io/v1/chat/completions"


async def test_server_that_ignores_stream_true_still_streams(driver: Driver) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "id": "m1",
                "model": "MiniMax-M3",
                "usage": {"prompt_tokens": 2, "completion_tokens": 1},
                "choices": [
                    {
                        "message": {"content": "whole", "reasoning_content": "why"},
                        "finish_reason": "stop",
                    }
                ],
            },
        )

    mock = httpx.MockTransport(handler)
    transport = Transport(
        api_key="k",
        http_client=httpx.Client(transport=mock),
        http_async_client=httpx.AsyncClient(transport=mock),
    )
    events = await driver.stream(transport, ask())
    assert summarise(events) == {"text": "whole", "reasoning": "why", "tools": {}}
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert end.result.usage == Usage(2, 1, 3)


async def test_sync_and_async_give_identical_results(
    emulator: MiniMaxEmulator, make_transport: Callable[..., Transport]
) -> None:
    """The parity test: the same scripted replies through both drivers."""

    def script() -> None:
        emulator.queue(
            Reply(
                text="Same answer.",
                reasoning="Same plan.",
                stream=StreamShape(reasoning_mode="cumulative"),
            ),
            Reply(
                text="",
                reasoning="Tools.",
                tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"}, id="call_1")],
            ),
        )

    transport = make_transport()
    outcomes: dict[str, Any] = {}
    for mode in ("sync", "async"):
        driver = Driver(mode)
        script()
        complete = await driver.complete(transport, ask())
        streamed = await driver.stream(transport, ask(tools=[WEATHER]))
        end = streamed[-1]
        assert isinstance(end, StreamEnd)
        for result in (complete, end.result):
            result.request_id = result.response_id = None
        outcomes[mode] = (complete, summarise(streamed), end.result)
    assert outcomes["sync"] == outcomes["async"]
    await aclose_shared_clients()
