"""Work per stream event that does not grow with the answer (issue 17).

Time is no measure here (this machine's speed varies by a quarter from run to run), so
each test measures what one more event allocates once the answer is long: a path that
copies or rescans what came before allocates in proportion to it.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable

import httpx
import pytest

from minimax_m3 import ChatRequest, Message, Transport
from minimax_m3.stream import StreamState
from minimax_m3.types import (
    ReasoningDelta,
    ReasoningStart,
    StreamEnd,
    TextDelta,
    ToolCallDelta,
    WireDelta,
)

LONG = 100_000


def allocated_by(step: Callable[[], object]) -> int:
    """Peak bytes allocated while ``step`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


@pytest.mark.parametrize("start", ["outside", "inside", "unknown"])
def test_a_model_stuck_writing_newlines_costs_the_same_per_newline(start: ReasoningStart) -> None:
    # Seen in the wild: a model that writes nothing but line breaks until max_tokens.
    state = StreamState(reasoning_start=start)
    for _ in range(LONG):
        state.handle(WireDelta(content="\n"))
    one_more = allocated_by(lambda: state.handle(WireDelta(content="\n")))
    assert one_more < 2_000, f"one newline allocated {one_more} bytes after {LONG}"
    state.flush()
    # Nothing was lost on the way: the white space is the answer, or the reasoning.
    result = state.result()
    assert len(result.text) + len(result.reasoning_text) == LONG + 1


def test_leading_white_space_still_reaches_the_answer_byte_for_byte() -> None:
    state = StreamState()
    events = []
    for piece in (" ", "\n\t", "\r\n", "Hello", " world"):
        events += state.handle(WireDelta(content=piece))
    events += state.flush()
    assert state.result().text == " \n\t\r\nHello world"


@pytest.mark.parametrize("opener", ["<think>", "<mm:think>"])
def test_white_space_before_an_opening_tag_is_no_answer(opener: str) -> None:
    state = StreamState()
    for piece in (
        "\n",
        "\n",
        opener,
        "plan",
        "</",
        "think>" if opener == "<think>" else "mm:think>",
        "Hi",
    ):
        state.handle(WireDelta(content=piece))
    state.flush()
    result = state.result()
    assert (result.reasoning_text, result.text) == ("plan", "Hi")


def frames(pieces: int) -> list[bytes]:
    """A Chat Completions stream as MiniMax sends it: reasoning deltas, then content."""
    chunks: list[dict[str, object]] = []
    for index in range(pieces):
        field = "reasoning_content" if index < pieces // 2 else "content"
        chunks.append({"id": "r1", "choices": [{"index": 0, "delta": {field: f"w{index} "}}]})
    chunks.append({"id": "r1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]


def test_events_that_arrive_in_one_read_come_out_joined() -> None:
    # A client behind its server reads many events at once. One chunk per event there
    # cost every framework a chunk each, and LangChain's end-of-stream merge grows the
    # reasoning string in a dict once per chunk: quadratic in the answer.
    transport = Transport(api_key="k", base_url="http://127.0.0.1:9")
    request = ChatRequest(model="MiniMax-M3", messages=[Message("user", "hi")])
    _, exchange = transport.build_http_request(request, stream=True)
    reader = transport.new_stream_reader(request, exchange, httpx.Headers())
    events = reader.feed(b"".join(frames(2_000))) + reader.close()
    assert [type(event) for event in events] == [ReasoningDelta, TextDelta, StreamEnd]
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert events[0] == ReasoningDelta(end.result.reasoning_text)
    assert events[1] == TextDelta(end.result.text)
    assert events[1].response_id == "r1"  # type: ignore[union-attr]

    # Read an event at a time, the same answer comes out event by event.
    one_by_one = transport.new_stream_reader(request, exchange, httpx.Headers())
    single = [event for frame in frames(2_000) for event in one_by_one.feed(frame)]
    single += one_by_one.close()
    assert len(single) > 1_900
    assert single[-1] == end


def tool_frames(fragments: int, *, interleave: bool) -> list[bytes]:
    """Two calls whose arguments come in ``fragments`` pieces each, one after the other
    or alternating, as OpenAI-shaped servers stream parallel calls."""

    def chunk(call: dict[str, object]) -> dict[str, object]:
        return {"id": "r1", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    def fragment(index: int, at: int) -> dict[str, object]:
        text = '{"city": "' if at == 0 else ("x" if at < fragments - 1 else '"}')
        return chunk({"index": index, "function": {"arguments": text}})

    heads = [
        chunk({"index": i, "id": f"call_{i}", "type": "function", "function": {"name": "f"}})
        for i in (0, 1)
    ]
    if interleave:
        body = [fragment(i, at) for at in range(fragments) for i in (0, 1)]
        chunks = [*heads, *body]
    else:
        chunks = [heads[0], *(fragment(0, at) for at in range(fragments))]
        chunks += [heads[1], *(fragment(1, at) for at in range(fragments))]
    end = {"id": "r1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    chunks.append(end)
    return [f"data: {json.dumps(c)}\n\n".encode() for c in chunks] + [b"data: [DONE]\n\n"]


@pytest.mark.parametrize("interleave", [False, True])
def test_a_calls_argument_fragments_in_one_read_come_out_joined(interleave: bool) -> None:
    # One LangChain chunk per fragment made langchain-core's merge grow the arguments in a
    # dict once per fragment, and LlamaIndex copy them onto every response.
    transport = Transport(api_key="k", base_url="http://127.0.0.1:9")
    request = ChatRequest(model="MiniMax-M3", messages=[Message("user", "hi")])
    _, exchange = transport.build_http_request(request, stream=True)
    pieces = tool_frames(1_000, interleave=interleave)

    reader = transport.new_stream_reader(request, exchange, httpx.Headers())
    events = reader.feed(b"".join(pieces)) + reader.close()
    one_by_one = transport.new_stream_reader(request, exchange, httpx.Headers())
    single = [event for piece in pieces for event in one_by_one.feed(piece)]
    single += one_by_one.close()

    whole = '{"city": "' + "x" * 998 + '"}'
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert [(call.id, call.arguments) for call in end.result.tool_calls] == [
        ("call_0", whole),
        ("call_1", whole),
    ]
    assert single[-1] == end
    calls = [event for event in events if isinstance(event, ToolCallDelta)]
    if interleave:
        # Only neighbours join: fragments of two calls in turn stay apart, in order.
        assert len(calls) == 2 + 2 * 1_000
    else:
        assert [(c.index, c.id, c.name, c.arguments) for c in calls] == [
            (0, "call_0", "f", whole),
            (1, "call_1", "f", whole),
        ]
    assert len([e for e in single if isinstance(e, ToolCallDelta)]) == 2 + 2 * 1_000
    for index in (0, 1):
        joined = "".join(c.arguments for c in calls if c.index == index)
        assert joined == whole
