"""The end-of-stream merge: langchain-core's own result, in work that grows linearly.

langchain-core merges a stream's chunks with ``chunks[0] + chunks[1:]``, a left fold
that copies every string it grows inside a dict once per chunk. Our chunks merge the same
way a batch at a time (``langchain_minimax_m3.merge``); these tests hold the result to
langchain-core's own fold and count the characters the merge builds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.language_models.chat_models import _update_message_content_to_blocks
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.outputs.chat_generation import merge_chat_generation_chunks
from lc_helpers import CallbackRecorder

from langchain_minimax_m3 import ChatMiniMaxM3
from langchain_minimax_m3.merge import BATCH, BatchMergedChunk
from langchain_minimax_m3.stream import GenerationChunks
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply
from minimax_m3.types import (
    ChatResult,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
)


def _left_fold(chunks: list[ChatGenerationChunk]) -> ChatGenerationChunk:
    """langchain-core's merge as it is, without our batches."""
    return ChatGenerationChunk.__add__(chunks[0], chunks[1:])


_pieces = st.text(alphabet='ab {}":,é\n', max_size=6)


@st.composite
def _events(draw: st.DrawFn) -> list[StreamEvent]:
    """A stream as our normaliser emits it: reasoning and text deltas in any order, tool
    calls (a call's first fragment names it, each call its own index), one end."""
    events: list[StreamEvent] = []
    calls = 0
    for _ in range(draw(st.integers(1, 3 * BATCH))):
        kind = draw(st.sampled_from(["reasoning", "text", "call", "more"]))
        if kind == "reasoning":
            events.append(ReasoningDelta(text=draw(_pieces), response_id="r-1"))
        elif kind == "text":
            events.append(TextDelta(text=draw(_pieces), response_id="r-1"))
        elif kind == "call" or calls == 0:
            events.append(
                ToolCallDelta(index=calls, id=f"call_{calls}", name="get_weather", arguments="")
            )
            calls += 1
        else:
            index = draw(st.integers(0, calls - 1))
            events.append(ToolCallDelta(index=index, arguments=draw(_pieces)))
    result = ChatResult(
        text="",
        tool_calls=[
            ToolCall(id=f"call_{i}", name="get_weather", arguments="{}") for i in range(calls)
        ],
        finish_reason="tool_calls" if calls else "stop",
        usage=Usage(input_tokens=10, output_tokens=len(events), total_tokens=10 + len(events)),
        model="MiniMax-M3",
        response_id="r-1",
    )
    events.append(StreamEnd(result=result))
    return events


def _as_v1(chunks: list[ChatGenerationChunk]) -> list[ChatGenerationChunk]:
    """The chunks as ``stream()`` rewrites them for ``output_version="v1"``."""
    index, index_type = -1, ""
    for chunk in chunks:
        chunk.message = _update_message_content_to_blocks(chunk.message, "v1")
        for block in chunk.message.content:
            assert isinstance(block, dict)
            if block["type"] != index_type:
                index_type, index = block["type"], index + 1
            block.setdefault("index", index)
    return chunks


@settings(max_examples=400, deadline=None)
@given(events=_events(), v1=st.booleans(), marked=st.sets(st.integers(0, 3 * BATCH)))
def test_the_batched_merge_gives_langchain_cores_own_result(
    events: list[StreamEvent], v1: bool, marked: set[int]
) -> None:
    convert = GenerationChunks("MiniMax-M3")
    chunks = [convert(event) for event in events]
    # Chunks carrying something of their own as well: they cannot be set apart.
    for index in marked & set(range(len(chunks))):
        chunks[index].message.additional_kwargs["note"] = f"n{index}"
    if v1:
        chunks = _as_v1(chunks)
    expected = _left_fold(chunks) if len(chunks) > 1 else chunks[0]

    merged = merge_chat_generation_chunks(chunks)

    assert merged is not None
    assert merged.message == expected.message
    assert merged.message.tool_calls == expected.message.tool_calls
    assert merged.message.invalid_tool_calls == expected.message.invalid_tool_calls
    assert merged.message.usage_metadata == expected.message.usage_metadata
    assert merged.text == expected.text
    assert merged.generation_info == expected.generation_info


class _Counted(str):
    """A string that adds what each ``+`` builds to a shared tally."""

    built: ClassVar[list[int]] = [0]

    def __add__(self, other: str) -> _Counted:
        joined = _Counted(str.__add__(self, other))
        _Counted.built[0] += len(joined)
        return joined


def _characters_built_merging(deltas: int) -> tuple[int, int]:
    convert = GenerationChunks("MiniMax-M3")
    chunks = [convert(ReasoningDelta(text=_Counted(f"r{i:07}"))) for i in range(deltas)]
    _Counted.built[0] = 0
    merged = merge_chat_generation_chunks(chunks)
    assert merged is not None
    reasoning = merged.message.additional_kwargs["reasoning_content"]
    assert reasoning == "".join(f"r{i:07}" for i in range(deltas))
    return _Counted.built[0], len(reasoning)


@pytest.mark.parametrize("deltas", [2_000, 32_000])
def test_merging_copies_each_character_a_bounded_number_of_times(deltas: int) -> None:
    # langchain-core's left fold builds every prefix of the reasoning: at 32,000 deltas
    # that is 16,000 times its length. A batch at a time it stays near BATCH / 2 per level.
    built, length = _characters_built_merging(deltas)
    assert built <= 100 * length, f"{built:,} characters built for {length:,}"


@pytest.mark.parametrize("output_version", ["v0", "v1"])
def test_a_long_stream_ends_with_the_merge_langchain_core_would_make(
    emulator: MiniMaxEmulator, output_version: str
) -> None:
    # A pause between events keeps each in its own read, so none are joined on the way.
    emulator.queue(
        Reply(
            text="".join(f" word{i}" for i in range(60)),
            reasoning="".join(f" step {i}." for i in range(60)),
            tool_calls=[ToolCallReply(name="get_weather", arguments={"city": "Paris " * 20})],
            stream=StreamShape(chunk_size=8, tool_args_chunk=8, event_delay=0.001),
        )
    )
    ends = CallbackRecorder()
    model = ChatMiniMaxM3(
        model="MiniMax-M3",
        api_key="k",
        base_url=emulator.base_url,
        output_version=output_version,
    )

    streamed = list(model.stream("Weather?", config={"callbacks": [ends]}))

    assert len(ends.chunks) > 2 * BATCH
    assert isinstance(ends.chunks[0], BatchMergedChunk)
    [[generation]] = ends.results[0].generations
    assert isinstance(generation, ChatGenerationChunk)
    expected = _left_fold(ends.chunks)
    assert generation.message == expected.message
    assert generation.message.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Paris " * 20},
            "id": generation.message.tool_calls[0]["id"],
            "type": "tool_call",
        }
    ]
    assert len(streamed) >= len(ends.chunks)


@pytest.mark.filterwarnings("ignore:The function `load` is in beta")
def test_a_batched_chunk_serialises_as_langchain_cores_class() -> None:
    from langchain_core.load import dumpd, load

    chunk = GenerationChunks("MiniMax-M3")(TextDelta(text="Paris"))
    assert isinstance(chunk, BatchMergedChunk)
    dumped = dumpd(chunk)
    assert dumped["id"] == ["langchain", "schema", "output", "ChatGenerationChunk"]
    loaded = load(dumped, allowed_objects=[ChatGenerationChunk, AIMessageChunk])
    assert type(loaded) is ChatGenerationChunk
    assert loaded.message.content == "Paris"


SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seed"


def _seed_stream(seed: dict[str, Any], piece: int) -> list[bytes]:
    """The seed's real answer streamed as MiniMax streams M3 (reasoning_details items,
    then content, then a call, then usage), ``piece`` characters a delta, a read each."""
    message = seed["choices"][0]["message"]
    reasoning, text = message["reasoning_content"], message["content"]
    # A long call whose arguments are the model's own words, quotes and newlines escaped.
    arguments = json.dumps({"poem": text, "notes": reasoning})

    def chunk(delta: dict[str, Any], **extra: Any) -> bytes:
        choice = {"index": 0, "delta": {"role": "assistant", **delta}, **extra}
        body = {"id": seed["id"], "model": seed["model"], "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n".encode()

    def cut(value: str) -> list[str]:
        return [value[at : at + piece] for at in range(0, len(value), piece)]

    pieces = [
        chunk(
            {"reasoning_details": [{"type": "reasoning.text", "id": "r1", "index": 0, "text": t}]}
        )
        for t in cut(reasoning)
    ]
    pieces += [chunk({"content": t}) for t in cut(text)]
    head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "save"}}
    pieces.append(chunk({"tool_calls": [{**head, "function": {"name": "save", "arguments": ""}}]}))
    pieces += [
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": t}}]}) for t in cut(arguments)
    ]
    pieces.append(chunk({}, finish_reason="tool_calls"))
    usage = {"id": seed["id"], "choices": [], "usage": seed["usage"]}
    return [*pieces, f"data: {json.dumps(usage)}\n\n".encode(), b"data: [DONE]\n\n"]


@pytest.mark.parametrize("output_version", ["v0", "v1"])
def test_the_seeds_real_answer_streamed_a_character_at_a_time_merges_whole(
    output_version: str,
) -> None:
    # Real model text (the Cloudflare page's minimax/m3 answer: 2,045 characters of
    # reasoning, a haiku), in thousands of chunks, so every path of the merge runs on
    # text we did not write: batches of reasoning, text set apart, a long call's fragments.
    seed = json.loads((SEEDS / "haiku_long_reasoning.json").read_text(encoding="utf-8"))
    message = seed["choices"][0]["message"]
    pieces = _seed_stream(seed, piece=1)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=iter(pieces), headers={"content-type": "text/event-stream"}
        )

    model = ChatMiniMaxM3(
        api_key="k",
        base_url="http://server.test",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
        output_version=output_version,
    )
    recorder = CallbackRecorder()
    list(model.stream("A haiku, please.", config={"callbacks": [recorder]}))

    assert len(recorder.chunks) > 4_000
    [[generation]] = recorder.results[0].generations
    assert generation.message == _left_fold(recorder.chunks).message
    merged = generation.message
    assert merged.text == message["content"]
    [call] = merged.tool_calls
    assert call["args"] == {"poem": message["content"], "notes": message["reasoning_content"]}
    if output_version == "v0":
        assert merged.additional_kwargs["reasoning_content"] == message["reasoning_content"]
    else:
        reasoning = [b["reasoning"] for b in merged.content if b["type"] == "reasoning"]
        assert "".join(reasoning) == message["reasoning_content"]
    assert merged.usage_metadata["output_tokens"] == seed["usage"]["completion_tokens"]
