"""Tool calls are never corrupted or repaired: a tool runs only on what the model sent.

Two streamed fragments at one index with different ids became one call named
``get_weatherdelete_all``; arguments cut off mid-JSON became a valid LangChain call when
streamed (LangChain's chunk merge closes what is open) and LlamaIndex ran the tool with
``{}``. Invoke and stream must agree in each framework: LangChain reports such a call in
``invalid_tool_calls``, LlamaIndex refuses to run it, naming the tool.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessageChunk
from langchain_core.utils.json import parse_partial_json
from rel_helpers import FRAMEWORKS, FUZZ_EXAMPLES, KEY, survived

from langchain_minimax_m3 import ChatMiniMaxM3
from langchain_minimax_m3.stream import _refused_tail
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.sse import SSEDecoder
from minimax_m3.stream import result_from_deltas
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply
from minimax_m3.types import ToolCallFragment, WireDelta

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
# Cut off where a model stops when it runs out of tokens: in a string, after a number,
# inside an array, after a backslash.
CUT_OFF = ['{"city": "Par', '{"amount": 1000000', '{"tags": ["a", "b"', '{"path": "C:\\\\']


def test_a_new_id_at_an_index_in_use_starts_a_new_call() -> None:
    # The shape a proxy merging two upstream streams sent: both calls at index 0.
    deltas = [
        WireDelta(tool_calls=[ToolCallFragment(index=0, id="call_a", name="get_weather")]),
        WireDelta(tool_calls=[ToolCallFragment(index=0, arguments='{"city": "Paris"}')]),
        WireDelta(tool_calls=[ToolCallFragment(index=0, id="call_b", name="delete_all")]),
        WireDelta(tool_calls=[ToolCallFragment(index=0, arguments="{}")]),
        WireDelta(finish_reason="tool_calls"),
    ]
    calls = result_from_deltas(deltas).tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "get_weather", '{"city": "Paris"}'),
        ("call_b", "delete_all", "{}"),
    ]


def test_the_same_id_repeated_on_each_fragment_stays_one_call() -> None:
    deltas = [
        WireDelta(tool_calls=[ToolCallFragment(index=0, id="call_a", name="f", arguments='{"a"')]),
        WireDelta(tool_calls=[ToolCallFragment(index=0, id="call_a", arguments=": 1}")]),
    ]
    [call] = result_from_deltas(deltas).tool_calls
    assert (call.id, call.name, call.arguments) == ("call_a", "f", '{"a": 1}')


def _cut_off_reply(arguments: str) -> Reply:
    # vLLM with M3's parser streams a call's arguments as the model wrote them.
    return Reply(
        tool_calls=[ToolCallReply("get_weather", arguments)],
        provider=ProviderOptions(server="vllm"),
    )


@pytest.mark.parametrize("arguments", CUT_OFF)
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_langchain_reports_cut_off_arguments_as_invalid_both_ways(
    mode: str, arguments: str, emulator: MiniMaxEmulator
) -> None:
    llm = ChatMiniMaxM3(
        provider="openai-compatible",
        model="MiniMax-M3",
        base_url=emulator.base_url + "/v1",
        api_key=KEY,
        max_retries=0,
    ).bind_tools([WEATHER])
    emulator.queue(_cut_off_reply(arguments))
    if mode == "invoke":
        message: Any = llm.invoke("Weather?")
    else:
        message = None
        for chunk in llm.stream("Weather?"):
            message = chunk if message is None else message + chunk
        assert isinstance(message, AIMessageChunk)
    assert message.tool_calls == []
    [invalid] = message.invalid_tool_calls
    assert invalid["name"] == "get_weather"
    assert invalid["args"].startswith(arguments), "what the model sent is kept"
    survived()


@pytest.mark.parametrize("arguments", CUT_OFF)
@pytest.mark.parametrize("mode", ["chat", "stream_chat"])
def test_llama_index_refuses_to_run_a_tool_on_cut_off_arguments(
    mode: str, arguments: str, emulator: MiniMaxEmulator
) -> None:
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool

    def get_weather(city: str) -> str:
        return "sunny"

    llm = MiniMaxM3(
        provider="openai-compatible",
        model="MiniMax-M3",
        base_url=emulator.base_url + "/v1",
        api_key=KEY,
        max_retries=0,
    )
    tool = FunctionTool.from_defaults(get_weather)
    emulator.queue(_cut_off_reply(arguments))
    messages = [ChatMessage(role="user", content="Weather?")]
    if mode == "chat":
        response = llm.chat_with_tools([tool], chat_history=messages)
    else:
        *_, response = llm.stream_chat_with_tools([tool], chat_history=messages)
    with pytest.raises(ValueError, match=r"tool call 'get_weather' .* not a JSON object"):
        llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    survived()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_complete_arguments_are_unaffected(framework: str, emulator: MiniMaxEmulator) -> None:
    emulator.queue(_cut_off_reply('{"city": "Paris"}'))
    settings = {
        "provider": "openai-compatible",
        "model": "MiniMax-M3",
        "base_url": emulator.base_url + "/v1",
        "api_key": KEY,
    }
    if framework == "langchain":
        message: Any = None
        for chunk in ChatMiniMaxM3(**settings).bind_tools([WEATHER]).stream("Weather?"):
            message = chunk if message is None else message + chunk
        assert message.tool_calls[0]["args"] == {"city": "Paris"}
        assert message.invalid_tool_calls == []
    else:
        from llama_index.core.llms import ChatMessage
        from llama_index.core.tools import FunctionTool

        llm = MiniMaxM3(**settings)
        tool = FunctionTool.from_defaults(lambda city: city, name="get_weather")
        *_, response = llm.stream_chat_with_tools(
            [tool], chat_history=[ChatMessage(role="user", content="Weather?")]
        )
        [selection] = llm.get_tool_calls_from_response(response)
        assert selection.tool_kwargs == {"city": "Paris"}


# --- fuzzing the merge and the decoder --------------------------------------------------

JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
).map(json.dumps)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON_TEXT.map(json.loads), max_size=4), st.data())
def test_any_cut_of_an_object_is_refused_once_tailed(
    arguments: dict[str, Any], data: st.DataObject
) -> None:
    text = json.dumps(arguments)
    cut = data.draw(st.integers(min_value=1, max_value=max(1, len(text) - 1)))
    prefix = text[:cut]
    assert parse_partial_json(prefix + _refused_tail(prefix)) is None


CALLS = st.lists(
    st.tuples(st.sampled_from(["f", "get_weather", "delete_all"]), JSON_TEXT),
    min_size=1,
    max_size=4,
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(CALLS, st.data())
def test_calls_at_one_index_split_anyhow_keep_their_own_name_and_arguments(
    calls: list[tuple[str, str]], data: st.DataObject
) -> None:
    deltas: list[WireDelta] = []
    for number, (name, arguments) in enumerate(calls):
        cuts = sorted(data.draw(st.sets(st.integers(0, len(arguments)), max_size=3)))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        deltas.append(
            WireDelta(tool_calls=[ToolCallFragment(index=0, id=f"id{number}", name=name)])
        )
        deltas += [WireDelta(tool_calls=[ToolCallFragment(index=0, arguments=p)]) for p in pieces]
    got = result_from_deltas(deltas).tool_calls
    assert [(c.id, c.name, c.arguments) for c in got] == [
        (f"id{n}", name, arguments) for n, (name, arguments) in enumerate(calls)
    ]


EVENT_DATA = st.lists(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=300), min_size=1, max_size=3
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(EVENT_DATA, min_size=1, max_size=6),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
    st.data(),
)
def test_sse_events_come_out_the_same_however_the_bytes_are_split(
    events: list[list[str]], newline: bytes, data: st.DataObject
) -> None:
    lines = [[line.replace("\r", " ").replace("\n", " ") for line in event] for event in events]
    body = b"".join(
        b"".join(b"data: " + line.encode() + newline for line in event) + newline for event in lines
    )
    cuts = sorted(data.draw(st.sets(st.integers(0, len(body)), max_size=12)))
    decoder = SSEDecoder(max_event_bytes=10_000)
    decoded = []
    for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True):
        decoded += decoder.feed(body[a:b])
    decoded += decoder.close()
    assert [event.data for event in decoded] == ["\n".join(event) for event in lines]


# --- found by a hostile review ------------------------------------------------------------


@pytest.mark.parametrize(
    "fragments",
    [
        # Poolside: the name with one id, the arguments with another (poolsideai/pool#9).
        [("call_A", "get_weather", ""), ("call_B", None, '{"city": "Paris"}')],
        # mlx-openai-server before its PR #216: a fresh id on every delta.
        [
            ("call_1", "get_weather", ""),
            ("call_2", None, '{"city": '),
            ("call_3", None, '"Paris"}'),
        ],
        # A fresh id and the whole name again on every delta (found by a second review).
        [
            ("call_1", "get_weather", '{"city": '),
            ("call_2", "get_weather", '"Paris"}'),
        ],
    ],
    ids=["poolside", "mlx", "name-repeated"],
)
def test_a_fresh_id_without_a_name_continues_the_call(
    fragments: list[tuple[str, str | None, str]],
) -> None:
    # The test's name predates the third case: a repeated name after a cut-off JSON
    # object continues the call too.
    deltas = [
        WireDelta(tool_calls=[ToolCallFragment(index=0, id=i, name=n, arguments=a)])
        for i, n, a in fragments
    ]
    [call] = result_from_deltas(deltas).tool_calls
    assert (call.name, call.arguments) == ("get_weather", '{"city": "Paris"}')


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "r1",
        "object": "chat.completion.chunk",
        "model": "MiniMax-M3",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def test_an_empty_first_fragment_does_not_shift_which_call_is_cut_off() -> None:
    # An empty call at index 0 made no chunk, so the cut-off call at index 1 was matched
    # with the wrong arguments and ran with {}.
    import httpx

    events = [
        _chunk({"role": "assistant", "tool_calls": [{"index": 0, "function": {}}]}),
        _chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "function": {"name": "delete_all", "arguments": '{"confirm": tr'},
                    }
                ]
            }
        ),
        _chunk({}, "length"),
    ]
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    body += b"data: [DONE]\n\n"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    llm = ChatMiniMaxM3(
        provider="openai-compatible",
        model="MiniMax-M3",
        base_url="http://server.test/v1",
        api_key=KEY,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    message: Any = None
    for chunk in llm.stream("Go"):
        message = chunk if message is None else message + chunk
    assert [c["name"] for c in message.tool_calls if c["name"] == "delete_all"] == []
    assert "delete_all" in [c["name"] for c in message.invalid_tool_calls]


# --- arguments from outside our emulator ---------------------------------------------------


def _external_arguments() -> list[Any]:
    """The tool-call arguments vLLM's and SGLang's MiniMax parser tests expect (carried
    over in tests/fixtures/parsers/), as the JSON a server's tool parser sends."""
    from pathlib import Path

    fixtures = Path(__file__).parent.parent / "fixtures" / "parsers"
    found: list[Any] = []
    for name in ("vllm_cases.json", "sglang_cases.json"):
        for case in json.loads((fixtures / name).read_text()):
            for call in (case.get("expected") or {}).get("tool_calls") or []:
                arguments = call.get("arguments")
                if isinstance(arguments, dict) and arguments:
                    found.append(pytest.param(arguments, id=f"{name[:4]}-{case['source'][-50:]}"))
    return found


EXTERNAL_ARGUMENTS = _external_arguments()


def test_the_external_data_is_there() -> None:
    assert len(EXTERNAL_ARGUMENTS) >= 40


@pytest.mark.parametrize("arguments", EXTERNAL_ARGUMENTS)
def test_every_cut_of_real_arguments_is_refused_and_the_whole_kept(
    arguments: dict[str, Any],
) -> None:
    for text in (json.dumps(arguments), json.dumps(arguments, ensure_ascii=False, indent=1)):
        assert parse_partial_json(text) == arguments
        for cut in range(1, len(text)):
            prefix = text[:cut]
            assert parse_partial_json(prefix + _refused_tail(prefix)) is None, prefix


@pytest.mark.parametrize("arguments", EXTERNAL_ARGUMENTS[:12])
def test_real_arguments_cut_in_half_are_invalid_streamed_and_invoked(
    arguments: dict[str, Any], emulator: MiniMaxEmulator
) -> None:
    text = json.dumps(arguments, ensure_ascii=False)
    cut = text[: len(text) // 2]
    llm = ChatMiniMaxM3(
        provider="openai-compatible",
        model="MiniMax-M3",
        base_url=emulator.base_url + "/v1",
        api_key=KEY,
        max_retries=0,
    ).bind_tools([WEATHER])
    emulator.queue(_cut_off_reply(cut), _cut_off_reply(cut), _cut_off_reply(text))
    invoked = llm.invoke("Go")
    streamed: Any = None
    for chunk in llm.stream("Go"):
        streamed = chunk if streamed is None else streamed + chunk
    for message in (invoked, streamed):
        assert message.tool_calls == []
        assert [call["args"][: len(cut)] for call in message.invalid_tool_calls] == [cut]
    whole: Any = None
    for chunk in llm.stream("Go"):
        whole = chunk if whole is None else whole + chunk
    assert [call["args"] for call in whole.tool_calls] == [arguments]
    survived()


def test_the_same_tool_again_at_a_used_index_after_a_whole_call_is_a_new_call() -> None:
    fragments = [
        ("call_1", "get_weather", '{"city": "Paris"}'),
        ("call_2", "get_weather", '{"city": "Oslo"}'),
    ]
    deltas = [
        WireDelta(tool_calls=[ToolCallFragment(index=0, id=i, name=n, arguments=a)])
        for i, n, a in fragments
    ]
    calls = result_from_deltas(deltas).tool_calls
    assert [(c.id, c.arguments) for c in calls] == [
        ("call_1", '{"city": "Paris"}'),
        ("call_2", '{"city": "Oslo"}'),
    ]


@pytest.mark.parametrize("cut", [None, 3, 50, 105])
def test_an_event_over_the_limit_is_refused_however_it_arrives(cut: int | None) -> None:
    # One whole one-line event per read went by a fast path that skipped the size check,
    # so the same bytes passed whole and were refused when split (found by a review).
    from minimax_m3.errors import ResponseTooLargeError

    body = b"data: " + b"x" * 100 + b"\n\n"
    decoder = SSEDecoder(max_event_bytes=10)
    pieces = [body] if cut is None else [body[:cut], body[cut:]]

    def feed_all() -> None:
        for piece in pieces:
            decoder.feed(piece)

    with pytest.raises(ResponseTooLargeError, match="max_response_bytes=10"):
        feed_all()
    fits = SSEDecoder(max_event_bytes=100)
    assert [event.data for event in fits.feed(body)] == ["x" * 100]
