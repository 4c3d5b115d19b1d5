"""Work per stream event in LlamaIndex's responses (issue 17): an event re-parses only
the tool call it adds to, never every call the answer holds, and a long call's arguments
are neither parsed nor copied whole on every fragment."""

from __future__ import annotations

import json

import pytest

import llama_index_minimax_m3.stream as stream_module
from llama_index_minimax_m3.stream import ChatStreamState, stream_event_to_chat_response
from minimax_m3.types import ChatResult, StreamEnd, TextDelta, ToolCall, ToolCallDelta


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments each partial parse was given."""
    seen: list[str] = []
    real = stream_module.partial_arguments

    def counting(text: str) -> dict[str, object]:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(stream_module, "partial_arguments", counting)
    return seen


def test_text_after_tool_calls_parses_no_arguments(parses: list[str]) -> None:
    state = ChatStreamState()
    arguments = json.dumps({"city": "Paris", "days": 3})
    for index in range(3):
        stream_event_to_chat_response(
            ToolCallDelta(index=index, id=f"c{index}", name="get_weather", arguments=arguments),
            state,
        )
    parses.clear()
    for _ in range(1_000):
        response = stream_event_to_chat_response(TextDelta("x"), state)
    assert parses == []
    assert [block.tool_kwargs for block in response.message.blocks[1:]] == [
        {"city": "Paris", "days": 3}
    ] * 3


def test_a_fragment_reparses_its_own_call_only(parses: list[str]) -> None:
    state = ChatStreamState()
    stream_event_to_chat_response(
        ToolCallDelta(index=0, id="a", name="first", arguments='{"x": 1}'), state
    )
    stream_event_to_chat_response(ToolCallDelta(index=1, id="b", name="second"), state)
    parses.clear()
    for piece in ['{"q": "', "long ", "text", '"}']:
        response = stream_event_to_chat_response(ToolCallDelta(index=1, arguments=piece), state)
    assert parses == ['{"q": "', '{"q": "long ', '{"q": "long text', '{"q": "long text"}']
    first, second = response.message.blocks[1:]
    assert (first.tool_kwargs, second.tool_kwargs) == ({"x": 1}, {"q": "long text"})
    raw = response.message.additional_kwargs["tool_calls"]
    assert [call["function"]["arguments"] for call in raw] == ['{"x": 1}', '{"q": "long text"}']


def test_a_long_calls_arguments_are_parsed_a_bounded_number_of_times_over(
    parses: list[str],
) -> None:
    # A 400 KB argument (a file written by a coding agent) in 20-character fragments.
    arguments = json.dumps({"path": "notes.md", "text": "x" * 400_000})
    state = ChatStreamState()
    stream_event_to_chat_response(ToolCallDelta(index=0, id="w", name="write_file"), state)
    shown: list[str] = []  # each distinct arguments text a response held
    for start in range(0, len(arguments), 20):
        piece = arguments[start : start + 20]
        response = stream_event_to_chat_response(ToolCallDelta(index=0, arguments=piece), state)
        raw = response.message.additional_kwargs["tool_calls"][0]["function"]["arguments"]
        sent = start + len(piece)
        assert raw == arguments[:sent] if sent < 4096 else arguments.startswith(raw)
        assert len(raw) >= sent * 8 // 9, "shown at most an eighth behind"
        if not shown or raw is not shown[-1]:
            shown.append(raw)
    # Parsed whole on every fragment this would be about 20,000 times its length.
    assert sum(map(len, parses)) <= 12 * len(arguments)
    # Joined whole on every fragment, the texts held would add up to 10,000 times it.
    assert sum(map(len, shown)) <= 12 * len(arguments)
    block = response.message.blocks[-1]
    assert block.tool_kwargs["path"] == "notes.md"
    assert len(block.tool_kwargs["text"]) >= 400_000 * 7 // 8
    end = stream_event_to_chat_response(
        StreamEnd(ChatResult(tool_calls=[ToolCall("w", "write_file", arguments)])), state
    )
    whole = end.message.additional_kwargs["tool_calls"][0]["function"]["arguments"]
    assert whole == arguments, "the last response holds the arguments whole"


def test_partial_responses_show_a_streamed_tool_name_whole() -> None:
    # Servers split a name over fragments; each response holds the name so far.
    state = ChatStreamState()
    stream_event_to_chat_response(ToolCallDelta(index=0, id="c", name="get_"), state)
    response = stream_event_to_chat_response(
        ToolCallDelta(index=0, name="weather", arguments='{"city": "Oslo"}'), state
    )
    [block] = response.message.blocks[1:]
    assert (block.tool_name, block.tool_kwargs) == ("get_weather", {"city": "Oslo"})
    [raw] = response.message.additional_kwargs["tool_calls"]
    assert raw["function"]["name"] == "get_weather"
