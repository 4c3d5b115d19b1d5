"""Fuzzing (hypothesis): parsers fed random and mutated JSON raise only our typed errors.

Whole responses, stream events (and the stream state behind them), error bodies and raw
stream bytes of every wire format, random or taken from real bodies and then mutated:
whatever comes in, the only exception that may come out is a ``MiniMaxM3Error``, never a
KeyError, TypeError, IndexError, AttributeError or RecursionError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_helpers import FUZZ_EXAMPLES, Driver, provider_settings

from minimax_m3.errors import MiniMaxM3Error, error_from_payload, error_from_response
from minimax_m3.pools import aclose_shared_clients
from minimax_m3.sse import SSEEvent
from minimax_m3.stream import StreamReader, StreamState, result_from_deltas
from minimax_m3.testing import MiniMaxEmulator, Reply, ToolCallReply
from minimax_m3.transport import Transport
from minimax_m3.types import ChatRequest, ChatResult, Message, ToolSpec, WireDelta
from minimax_m3.wire import Poll

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
SEED = Path(__file__).parent.parent / "fixtures" / "seed"
SSE = Path(__file__).parent.parent / "fixtures" / "sse"

FORMATS = {
    "minimax-chat": ("minimax", "chat_completions"),
    "minimax-anthropic": ("minimax", "anthropic_messages"),
    "cloudflare-chat": ("cloudflare", "chat_completions"),
    "cloudflare-anthropic": ("cloudflare", "anthropic_messages"),
    "runware-tasks": ("runware", "runware_tasks"),
    "runware-chat": ("runware", "chat_completions"),
    "self-hosted": ("openai-compatible", "chat_completions"),
}
REQUEST = ChatRequest(
    model="MiniMax-M3",
    messages=[Message(role="user", content="Hi")],
    tools=(ToolSpec("get_weather"),),
    stop=("STOP",),
)


def transport_for(name: str) -> Transport:
    provider, api = FORMATS[name]
    return Transport(
        provider=provider, api=api, api_key="k", base_url="http://fuzz", account_id="acct"
    )


TRANSPORTS = {name: transport_for(name) for name in FORMATS}

# --- what goes in ----------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "0", "1002", "stop", "tool_use", "[DONE]", "text", "thinking", "error"]),
)
KEYS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(
        [
            "id",
            "model",
            "choices",
            "message",
            "delta",
            "content",
            "text",
            "type",
            "reasoning_content",
            "reasoning_details",
            "reasoning",
            "tool_calls",
            "function",
            "arguments",
            "name",
            "index",
            "finish_reason",
            "usage",
            "base_resp",
            "status_code",
            "status_msg",
            "error",
            "errors",
            "code",
            "success",
            "result",
            "data",
            "taskUUID",
            "status",
            "reasoningContent",
            "toolCalls",
            "finishReason",
            "content_block",
            "thinking",
            "signature",
            "input",
            "partial_json",
            "stop_reason",
            "prompt_tokens",
            "completion_tokens",
            "input_tokens",
            "output_tokens",
            "http_code",
            "request_id",
            "message_start",
            "content_block_delta",
        ]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)
    ),
    max_leaves=25,
)


def seeds() -> list[Any]:
    """Real bodies and events of every format: the starting points of mutation."""
    found: list[Any] = [json.loads(path.read_text()) for path in sorted(SEED.glob("*.json"))]
    for path in sorted(SSE.glob("*.sse")):
        for line in path.read_text().splitlines():
            if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
                try:
                    found.append(json.loads(line[5:]))
                except ValueError:
                    continue
    found += [
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "plan", "signature": "ab12"},
                {"type": "text", "text": "Answer"},
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"c": 1}},
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 3, "output_tokens": 4},
        },
        {
            "data": [
                {
                    "taskType": "textInference",
                    "taskUUID": "u",
                    "status": "success",
                    "text": "Hello",
                    "reasoningContent": ["why"],
                    "toolCalls": [{"id": "c", "name": "f", "arguments": "{}"}],
                    "finishReason": "stop",
                    "usage": {"promptTokens": 1, "completionTokens": 2},
                }
            ]
        },
        {"errors": [{"code": "invalidApiKey", "message": "bad", "taskUUID": "u"}]},
        {"result": None, "success": False, "errors": [{"code": 3040, "message": "busy"}]},
        {"type": "error", "error": {"type": "api_error", "message": "x (1008)"}},
        {"choices": [], "base_resp": {"status_code": 1002, "status_msg": "rate limit"}},
    ]
    return found


SEEDS = seeds()


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A real body with a few of its values replaced, removed, or wrapped."""
    value = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    for _ in range(draw(st.integers(1, 4))):
        containers = list(_containers(value))
        if not containers:
            break
        parent = draw(st.sampled_from(containers))
        if isinstance(parent, dict):
            if not parent:
                continue
            key = draw(st.sampled_from(sorted(parent, key=str)))
            action = draw(st.sampled_from(["replace", "delete", "wrap", "empty"]))
            if action == "delete":
                del parent[key]
            elif action == "wrap":
                parent[key] = [parent[key]]
            elif action == "empty":
                parent[key] = (
                    type(parent[key])() if isinstance(parent[key], (dict, list, str)) else None
                )
            else:
                parent[key] = draw(JSON)
        elif parent:
            position = draw(st.integers(0, len(parent) - 1))
            parent[position] = draw(JSON)
    return value


def _containers(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


PAYLOADS = st.one_of(JSON, mutated())


def only_typed_errors(action: Any) -> Any:
    """Run ``action``; an exception it raises must be one of ours."""
    try:
        return action()
    except MiniMaxM3Error:
        return None
    except Exception as error:  # pragma: no cover - this is the failure being looked for
        pytest.fail(f"{type(error).__name__} escaped: {error!r}")


# --- the properties ------------------------------------------------------------------------


@FUZZ
@given(st.sampled_from(sorted(FORMATS)), PAYLOADS)
def test_whole_responses(name: str, payload: Any) -> None:
    transport = TRANSPORTS[name]
    _, exchange = transport.build_http_request(REQUEST, stream=False)
    outcome = only_typed_errors(lambda: exchange.parse_response(payload, request_id=None))
    assert outcome is None or isinstance(outcome, (list, Poll))
    if isinstance(outcome, list):
        assert all(isinstance(delta, WireDelta) for delta in outcome)
        answer = only_typed_errors(lambda: result_from_deltas(outcome, tools=REQUEST.tools))
        assert answer is None or isinstance(answer, ChatResult)
    body = json.dumps(payload, allow_nan=True).encode()
    for status in (200, 201):
        only_typed_errors(
            lambda status=status: transport.result_from_response(
                REQUEST,
                exchange,
                httpx.Response(status, content=body, headers={"trace-id": "t"}),
            )
        )


@FUZZ
@given(
    st.sampled_from(sorted(FORMATS)),
    st.lists(
        st.tuples(st.sampled_from(["message", "error", "content_block_delta", ""]), PAYLOADS),
        min_size=1,
        max_size=6,
    ),
)
def test_stream_events_and_the_state_behind_them(name: str, events: list[tuple[str, Any]]) -> None:
    transport = TRANSPORTS[name]
    _, exchange = transport.build_http_request(REQUEST, stream=True)
    state = StreamState(stop=REQUEST.stop, tools=REQUEST.tools)

    def run() -> None:
        for kind, payload in events:
            event = SSEEvent(json.dumps(payload, allow_nan=True), kind or "message")
            state.handle(exchange.decode_stream_event(event))
        state.flush()

    only_typed_errors(run)
    assert isinstance(state.result(), ChatResult)


@FUZZ
@given(st.sampled_from(sorted(FORMATS)), st.binary(max_size=400), st.lists(PAYLOADS, max_size=4))
def test_raw_stream_bytes(name: str, noise: bytes, payloads: list[Any]) -> None:
    transport = TRANSPORTS[name]
    _, exchange = transport.build_http_request(REQUEST, stream=True)
    reader = StreamReader(exchange, StreamState(tools=REQUEST.tools))
    body = noise + b"".join(
        b"data: " + json.dumps(p, allow_nan=True).encode() + b"\n\n" for p in payloads
    )

    def run() -> None:
        for start in range(0, len(body), 37):
            reader.feed(body[start : start + 37])
        reader.close()

    only_typed_errors(run)


HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "trace-id", "cf-ray", "x-request-id", "Request-Id", "x"]),
    st.text(max_size=30),
    max_size=4,
)


@FUZZ
@given(
    st.integers(100, 599),
    st.one_of(st.binary(max_size=200), PAYLOADS.map(lambda p: json.dumps(p).encode())),
    HEADERS,
    st.sampled_from(["minimax", "cloudflare", "runware", "openai-compatible"]),
)
def test_error_bodies(status: int, body: bytes, headers: dict[str, str], provider: str) -> None:
    error = error_from_response(status, body, headers, provider=provider)
    assert isinstance(error, MiniMaxM3Error)
    assert error.status_code == status
    str(error)
    repr(error)


@FUZZ
@given(PAYLOADS, st.sampled_from(["minimax", "cloudflare", "runware"]))
def test_in_band_error_payloads(payload: Any, provider: str) -> None:
    if isinstance(payload, dict):
        error = error_from_payload(payload, provider=provider)
        assert error is None or isinstance(error, MiniMaxM3Error)


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a":' * 100_000, '{"choices": ' + "[" * 50_000],
    ids=["deep-array", "deep-object", "deep-choices"],
)
def test_json_nested_beyond_the_stack_is_malformed_not_a_crash(name: str, text: str) -> None:
    # Product fix: deeply nested JSON raised RecursionError out of every parser.
    transport = TRANSPORTS[name]
    _, exchange = transport.build_http_request(REQUEST, stream=True)
    with pytest.raises(MiniMaxM3Error, match="not valid JSON"):
        exchange.decode_stream_event(SSEEvent(text))
    with pytest.raises(MiniMaxM3Error, match="not JSON"):
        transport.result_from_response(REQUEST, exchange, httpx.Response(200, content=text))


def test_tool_arguments_nested_beyond_the_stack_are_invalid_not_a_crash() -> None:
    from minimax_m3.types import ToolCall

    call = ToolCall(id="c", name="f", arguments='{"a":' * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        call.parsed_arguments()


@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
async def test_tool_arguments_nested_beyond_the_stack_through_the_adapters(
    framework: str, emulator: MiniMaxEmulator
) -> None:
    # Product fix: LlamaIndex's get_tool_calls_from_response raised RecursionError.
    deep = '{"a":' * 5_000
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", deep, id="call_deep")]))
    driver = Driver(framework, "ainvoke")
    model = driver.make(**provider_settings("minimax-chat", emulator))
    if framework == "langchain":
        message = await model.ainvoke("Hi")
        assert message.tool_calls == []
        assert [call["id"] for call in message.invalid_tool_calls] == ["call_deep"]
    else:
        response = await model.achat([driver.user("Hi")])
        # Issue 14: a clear error naming the call, never a run with {} (nor a RecursionError).
        with pytest.raises(ValueError, match=r"tool call 'get_weather' \(call_deep\)"):
            model.get_tool_calls_from_response(response)
    await aclose_shared_clients()


def test_xml_tool_parameters_nested_beyond_the_stack_stay_text() -> None:
    from minimax_m3.tool_markup import split_tool_markup

    deep = "[" * 100_000
    text = (
        '<minimax:tool_call>\n<invoke name="f">\n'
        f'<parameter name="x">{deep}</parameter>\n</invoke>\n</minimax:tool_call>'
    )
    # A declared parameter without a type is read as JSON where it is JSON: this is not.
    tool = ToolSpec("f", parameters={"type": "object", "properties": {"x": {}}})
    _, [call] = split_tool_markup(text, [tool])
    assert call.parsed_arguments() == {"x": deep}


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": []}},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": [1], "signature": {"a": 1}},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": [1]}},
    ],
    ids=["text-block-as-a-list", "thinking-as-a-list", "text-delta-as-a-list"],
)
def test_anthropic_stream_values_of_the_wrong_type_are_ignored(payload: dict[str, Any]) -> None:
    # Product fix, found by test_raw_stream_bytes: these reached the stream state as lists
    # and raised TypeError there.
    _, exchange = TRANSPORTS["minimax-anthropic"].build_http_request(REQUEST, stream=True)
    state = StreamState()
    state.handle(exchange.decode_stream_event(SSEEvent(json.dumps(payload))))
    state.flush()
    result = state.result()
    assert (result.text, result.reasoning_text) == ("", "")
