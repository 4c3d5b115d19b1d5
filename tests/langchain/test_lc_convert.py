"""The pure converters and the content-block translator, on their own."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from langchain_core.load import dumpd
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk

from langchain_minimax_m3.content_blocks import translate_content, translate_content_chunk
from langchain_minimax_m3.convert import (
    message_to_neutral,
    messages_to_neutral,
    result_to_ai_message,
    tool_choice_to_neutral,
    tool_to_spec,
    usage_to_metadata,
)
from langchain_minimax_m3.merge import BatchMergedChunk
from langchain_minimax_m3.stream import event_to_chunk, event_to_generation_chunk
from minimax_m3.reasoning import segments_to_records
from minimax_m3.types import (
    ChatResult,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningDelta,
    ReasoningSegment,
    StreamEnd,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
)

DETAIL = {
    "type": "reasoning.text",
    "id": "reasoning-text-1",
    "format": "MiniMax-response-v1",
    "index": 0,
    "text": "verbatim thought",
}
CALL = {"name": "get_weather", "args": {"city": "Zürich"}, "id": "c1", "type": "tool_call"}


def test_plain_messages() -> None:
    history = [
        SystemMessage("Be brief."),
        HumanMessage("Hi", name="ada"),
        AIMessage("Hello."),
        ChatMessage(role="developer", content="Use metric units."),
    ]
    assert messages_to_neutral(history) == [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Hi", name="ada"),
        Message(role="assistant", content="Hello."),
        Message(role="system", content="Use metric units."),
    ]


def test_assistant_turn_with_tool_calls_and_its_result() -> None:
    broken = {"name": "get_weather", "args": '{"city": Par', "id": "c2", "error": None}
    turn = AIMessage(
        "",
        tool_calls=[CALL],
        invalid_tool_calls=[broken],
        additional_kwargs={"reasoning_details": [DETAIL], "reasoning_content": "ignored"},
    )
    neutral = message_to_neutral(turn)
    assert neutral.tool_calls == (
        ToolCall(id="c1", name="get_weather", arguments='{"city": "Zürich"}'),
        ToolCall(id="c2", name="get_weather", arguments='{"city": Par'),
    )
    [segment] = neutral.reasoning
    assert segment.text == "verbatim thought"
    assert segment.data == DETAIL
    result = message_to_neutral(ToolMessage([{"type": "text", "text": "Sunny"}], tool_call_id="c1"))
    assert result == Message(role="tool", content="Sunny", tool_call_id="c1")


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (AIMessage("", additional_kwargs={"reasoning_content": "from kwargs"}), "from kwargs"),
        (AIMessage([{"type": "reasoning", "reasoning": "from v1 block"}]), "from v1 block"),
        (
            AIMessage(
                [
                    {"type": "thinking", "thinking": "anthropic", "signature": "sig", "index": 0},
                    {"type": "text", "text": "Hi"},
                ]
            ),
            "anthropic",
        ),
    ],
)
def test_reasoning_falls_back_to_text_fields_and_blocks(message: AIMessage, text: str) -> None:
    [segment] = message_to_neutral(message).reasoning
    assert segment.text == text


def test_anthropic_thinking_blocks_are_kept_verbatim_without_stream_index() -> None:
    message = AIMessage([{"type": "thinking", "thinking": "t", "signature": "sig", "index": 0}])
    [segment] = message_to_neutral(message).reasoning
    assert segment.data == {"type": "thinking", "thinking": "t", "signature": "sig"}
    assert segment.wire == "anthropic_messages"


def test_text_comes_from_string_content_or_text_blocks_only() -> None:
    message = AIMessage(
        [
            {"type": "text", "text": "Let me check. "},
            {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {}},
            "Done.",
        ],
        tool_calls=[CALL],
    )
    neutral = message_to_neutral(message)
    assert neutral.content == "Let me check. Done."
    assert [call.id for call in neutral.tool_calls] == ["c1"]


def test_converters_do_not_change_their_arguments() -> None:
    messages: list[Any] = [
        HumanMessage([{"type": "image", "base64": "AAAA", "mime_type": "image/png"}, "hi"]),
        AIMessage(
            [{"type": "thinking", "thinking": "t", "signature": "s", "index": 0}],
            tool_calls=[CALL],
            additional_kwargs={"reasoning_details": [DETAIL]},
        ),
        ToolMessage("ok", tool_call_id="c1"),
    ]
    before = copy.deepcopy(messages)
    neutral = messages_to_neutral(messages)
    assert messages == before
    # The neutral copy is not tied to the caller's dicts either.
    assert neutral[1].reasoning[0].data is not DETAIL


def test_user_media_parts() -> None:
    neutral = message_to_neutral(
        HumanMessage(
            [
                {"type": "text", "text": "look"},
                {"type": "image", "url": "https://x/y.png", "extras": {"detail": "low"}},
            ]
        )
    )
    assert neutral.content == [TextPart("look"), ImagePart("https://x/y.png", detail="low")]


@pytest.mark.parametrize(
    "message",
    [
        FunctionMessage(name="f", content="x"),
        ChatMessage(role="critic", content="x"),
        SystemMessage([{"type": "image", "url": "https://x/y.png"}]),
        ToolMessage([{"type": "image", "url": "https://x/y.png"}], tool_call_id="c"),
        AIMessage([{"type": "image", "url": "https://x/y.png"}]),
    ],
)
def test_what_minimax_cannot_take_is_refused_by_name(message: Any) -> None:
    with pytest.raises(ValueError, match=r"not supported|text only|can hold"):
        message_to_neutral(message)


@pytest.mark.parametrize(
    ("choice", "names", "expected"),
    [
        (None, ["a", "b"], None),
        ("auto", ["a", "b"], "auto"),
        ("none", ["a", "b"], "none"),
        ("any", ["a", "b"], "required"),
        ("required", ["a", "b"], "required"),
        (True, ["a"], NamedToolChoice("a")),
        (True, ["a", "b"], "required"),
        ("b", ["a", "b"], NamedToolChoice("b")),
        ({"type": "function", "function": {"name": "a"}}, ["a", "b"], NamedToolChoice("a")),
        ({"type": "tool", "name": "b"}, ["a", "b"], NamedToolChoice("b")),
    ],
)
def test_tool_choice_forms(choice: Any, names: list[str], expected: Any) -> None:
    assert tool_choice_to_neutral(choice, names) == expected


@pytest.mark.parametrize("choice", ["c", {"type": "function", "function": {"name": "c"}}, 3])
def test_a_tool_choice_for_an_unbound_tool_is_refused(choice: Any) -> None:
    with pytest.raises(ValueError, match="tool_choice"):
        tool_choice_to_neutral(choice, ["a", "b"])


def test_tool_to_spec_keeps_the_schema_as_an_object() -> None:
    spec = tool_to_spec(
        {"name": "pick", "description": "Pick.", "input_schema": {"type": "object"}}
    )
    assert (spec.name, spec.description, dict(spec.parameters)) == (
        "pick",
        "Pick.",
        {"type": "object"},
    )


def test_result_to_ai_message_splits_valid_and_invalid_calls() -> None:
    result = ChatResult(
        text="",
        reasoning=[ReasoningSegment(text="go", wire="chat_completions", data=DETAIL)],
        tool_calls=[
            ToolCall("c1", "a", '{"x": 1}'),
            ToolCall("c2", "b", "[1, 2]"),
            ToolCall("c3", "c", ""),
        ],
        finish_reason="tool_calls",
        usage=Usage(10, 5, 15, cache_read_tokens=None, reasoning_tokens=2),
        model="MiniMax-M3",
        response_id="r1",
        request_id="q1",
        provider_metadata={"output_sensitive": False},
    )
    message = result_to_ai_message(result, model="fallback")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("a", {"x": 1}), ("c", {})]
    [invalid] = message.invalid_tool_calls
    assert (invalid["name"], invalid["args"], invalid["id"]) == ("b", "[1, 2]", "c2")
    assert invalid["error"]
    assert message.additional_kwargs == {
        "reasoning_content": "go",
        "reasoning_details": [DETAIL],
    }
    assert message.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "output_token_details": {"reasoning": 2},
    }
    assert message.response_metadata == {
        "model_name": "MiniMax-M3",
        "model_provider": "minimax",
        "finish_reason": "tool_calls",
        "id": "r1",
        "request_id": "q1",
        "output_sensitive": False,
    }


def test_usage_details_only_when_reported() -> None:
    assert usage_to_metadata(None) is None
    assert usage_to_metadata(Usage(1, 2, 3)) == {
        "input_tokens": 1,
        "output_tokens": 2,
        "total_tokens": 3,
    }
    assert usage_to_metadata(Usage(9, 2, 11, cache_read_tokens=0, cache_creation_tokens=4)) == {
        "input_tokens": 9,
        "output_tokens": 2,
        "total_tokens": 11,
        "input_token_details": {"cache_read": 0, "cache_creation": 4},
    }


def test_stream_events_merge_into_one_message_with_one_copy_of_each_record() -> None:
    final = ChatResult(
        text="Hi there",
        reasoning=[ReasoningSegment(text="think more", wire="chat_completions", data=DETAIL)],
        tool_calls=[ToolCall("c1", "f", '{"a": 1}')],
        finish_reason="tool_calls",
        usage=Usage(3, 4, 7),
        response_id="r9",
    )
    events = [
        ReasoningDelta("think "),
        ReasoningDelta("more"),
        TextDelta("Hi "),
        TextDelta("there"),
        ToolCallDelta(index=0, id="c1", name="f", arguments='{"a"'),
        ToolCallDelta(index=0, arguments=": 1}"),
        StreamEnd(final),
    ]
    chunks = [event_to_chunk(event, model="MiniMax-M3") for event in events]
    assert [c.chunk_position for c in chunks] == [None] * 6 + ["last"]
    assert all(c.response_metadata["model_provider"] == "minimax" for c in chunks)
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.content == "Hi there"
    assert full.additional_kwargs["reasoning_content"] == "think more"
    assert full.additional_kwargs["reasoning_details"] == segments_to_records(final.reasoning)
    assert full.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert full.usage_metadata == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert full.id == "r9"
    # Sent back, the merged turn carries the provider's record verbatim, once.
    assert message_to_neutral(full).reasoning[0].data == DETAIL
    assert len(message_to_neutral(full).reasoning) == 1
    assert json.loads(message_to_neutral(full).tool_calls[0].arguments) == {"a": 1}


def test_translator_puts_reasoning_first_and_never_an_empty_block() -> None:
    message = AIMessage(
        "Answer",
        tool_calls=[CALL],
        additional_kwargs={"reasoning_content": "why"},
        response_metadata={"model_provider": "minimax"},
    )
    assert translate_content(message) == [
        {"type": "reasoning", "reasoning": "why"},
        {"type": "text", "text": "Answer"},
        {"type": "tool_call", "id": "c1", "name": "get_weather", "args": {"city": "Zürich"}},
    ]
    assert message.content_blocks == translate_content(message)
    silent = AIMessage("Answer", additional_kwargs={"reasoning_content": ""})
    assert translate_content(silent) == [{"type": "text", "text": "Answer"}]
    only_details = AIMessage("", additional_kwargs={"reasoning_details": [DETAIL]})
    assert translate_content(only_details) == [
        {"type": "reasoning", "reasoning": "verbatim thought"}
    ]


def test_chunk_translator_tags_tool_fragments_and_ignores_final_details() -> None:
    fragment = event_to_chunk(ToolCallDelta(index=1, id="c", name="f", arguments="{"), model="m")
    assert translate_content_chunk(fragment) == [
        {"type": "tool_call_chunk", "id": "c", "name": "f", "args": "{", "index": "lc_tc_1"}
    ]
    last = AIMessageChunk(
        content="", additional_kwargs={"reasoning_details": [DETAIL]}, chunk_position="last"
    )
    assert translate_content_chunk(last) == []
    with pytest.raises(NotImplementedError):
        translate_content(AIMessage([{"type": "text", "text": "list content"}]))


PROVIDER_METADATA = {"model_provider": "minimax"}


@pytest.mark.parametrize(
    ("event", "validated"),
    [
        pytest.param(
            TextDelta("Hi"),
            AIMessageChunk(content="Hi", response_metadata=PROVIDER_METADATA),
            id="text",
        ),
        pytest.param(
            ReasoningDelta("hmm"),
            AIMessageChunk(
                content="",
                additional_kwargs={"reasoning_content": "hmm"},
                response_metadata=PROVIDER_METADATA,
            ),
            id="reasoning",
        ),
    ],
)
def test_stream_chunks_equal_what_langchain_validation_builds(
    event: TextDelta | ReasoningDelta, validated: AIMessageChunk
) -> None:
    """Text and reasoning chunks are copied from a prototype rather than validated one by
    one (they are made per token); they must be the chunks validation would make."""
    generation = event_to_generation_chunk(event, model="MiniMax-M3")
    # Of the class that merges a long stream in batches (langchain_minimax_m3.merge), and
    # serialised as langchain-core's own.
    expected = BatchMergedChunk(message=validated)
    assert generation == expected
    assert dumpd(generation) == dumpd(ChatGenerationChunk(message=validated))
    assert generation.message.model_dump() == validated.model_dump()
    assert generation.message.model_fields_set == validated.model_fields_set
    assert generation.model_fields_set == expected.model_fields_set
    assert dumpd(generation) == dumpd(expected)
    assert generation.text == expected.text
    assert generation.message.content_blocks == validated.content_blocks
    # The text is the content itself, not the copy LangChain's validator would store.
    assert generation.text is generation.message.content


@pytest.mark.parametrize("event", [TextDelta("a"), ReasoningDelta("b")], ids=["text", "reasoning"])
def test_stream_chunks_share_no_mutable_field(event: TextDelta | ReasoningDelta) -> None:
    first = event_to_chunk(event, model="m")
    second = event_to_chunk(event, model="m")
    shared = [
        name
        for name in AIMessageChunk.model_fields
        if isinstance(getattr(first, name), (list, dict))
        and getattr(first, name) is getattr(second, name)
    ]
    assert shared == []
    first.tool_calls.append(CALL)  # type: ignore[arg-type]
    first.additional_kwargs["extra"] = 1
    first.response_metadata["extra"] = 1
    again = event_to_chunk(event, model="m")
    assert again.tool_calls == []
    assert "extra" not in again.additional_kwargs
    assert again.response_metadata == PROVIDER_METADATA


def test_tool_and_final_chunks_are_validated_as_usual() -> None:
    fragment = event_to_generation_chunk(
        ToolCallDelta(index=0, id="c1", name="f", arguments='{"a": 1}'), model="m"
    )
    assert fragment.message.tool_calls == [
        {"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}
    ]
    end = event_to_generation_chunk(
        StreamEnd(ChatResult(text="", usage=Usage(1, 2, 3), response_id="r1")), model="m"
    )
    assert end.message.chunk_position == "last"
    assert end.message.id == "r1"
    assert end.text == ""
