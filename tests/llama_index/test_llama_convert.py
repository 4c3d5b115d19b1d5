"""The converters on their own: LlamaIndex messages to neutral ones and answers back."""

from __future__ import annotations

import base64
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from llama_index.core.base.llms.types import (
    AudioBlock,
    CacheControl,
    CachePoint,
    ChatMessage,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)

from llama_index_minimax_m3.convert import (
    chat_message_to_neutral,
    tool_choice_to_neutral,
)
from llama_index_minimax_m3.results import (
    chat_response_to_completion_response,
    chat_response_to_tool_selections,
    result_to_chat_message,
    result_to_chat_response,
    usage_to_dict,
)
from llama_index_minimax_m3.stream import (
    ChatStreamState,
    partial_arguments,
    stream_event_to_chat_response,
)
from minimax_m3.types import (
    ChatResult,
    ImagePart,
    NamedToolChoice,
    ReasoningDelta,
    ReasoningSegment,
    StreamEnd,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    Usage,
    VideoPart,
)

DETAIL = {
    "type": "reasoning.text",
    "id": "reasoning-text-1",
    "format": "MiniMax-response-v1",
    "index": 0,
    "text": "Think first.",
}
ANTHROPIC_THINKING = {"type": "thinking", "thinking": "Hmm.", "signature": "sig-123"}


def answer(**kwargs: object) -> ChatResult:
    defaults: dict[str, object] = {
        "text": "Done.",
        "reasoning": [ReasoningSegment(text="Think first.", wire="chat_completions", data=DETAIL)],
        "tool_calls": [ToolCall(id="call_1", name="lookup", arguments='{"q": "x"}')],
        "finish_reason": "tool_calls",
        "usage": Usage(10, 5, 15, cache_read_tokens=4, reasoning_tokens=3),
    }
    defaults.update(kwargs)
    return ChatResult(**defaults)  # type: ignore[arg-type]


def test_answer_round_trips_through_a_chat_message() -> None:
    message = result_to_chat_message(answer())
    thinking, text, call = message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.additional_information == {"reasoning_details": [DETAIL]}
    assert thinking.num_tokens == 3
    assert text == TextBlock(text="Done.")
    assert call == ToolCallBlock(tool_call_id="call_1", tool_name="lookup", tool_kwargs={"q": "x"})

    back = chat_message_to_neutral(message)
    assert back.role == "assistant"
    assert back.content == "Done."
    assert back.tool_calls == (ToolCall(id="call_1", name="lookup", arguments='{"q": "x"}'),)
    assert [s.data for s in back.reasoning] == [DETAIL]


def test_anthropic_thinking_blocks_keep_their_signature() -> None:
    segment = ReasoningSegment(text="Hmm.", wire="anthropic_messages", data=ANTHROPIC_THINKING)
    message = result_to_chat_message(answer(reasoning=[segment], tool_calls=[]))
    # The signature also where llama-index-llms-anthropic reads it.
    assert message.blocks[0].additional_information == {  # type: ignore[union-attr]
        "reasoning_details": [ANTHROPIC_THINKING],
        "signature": "sig-123",
    }
    [back] = chat_message_to_neutral(message).reasoning
    assert back.wire == "anthropic_messages"
    assert back.data == ANTHROPIC_THINKING


def test_a_thinking_block_from_llms_anthropic_goes_back_signed() -> None:
    # What llama-index-llms-anthropic makes of a thinking block: the text, and the rest of
    # the block (its signature and type) beside it.
    message = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(
                content="Hmm.", additional_information={"signature": "sig-123", "type": "thinking"}
            ),
            ToolCallBlock(tool_call_id="toolu_1", tool_name="lookup", tool_kwargs={"q": "x"}),
        ],
    )
    [segment] = chat_message_to_neutral(message).reasoning
    assert segment.wire == "anthropic_messages"
    assert segment.data == ANTHROPIC_THINKING
    assert segment.text == "Hmm."


def test_an_empty_signature_is_no_signature() -> None:
    # llms-anthropic starts a streamed block with signature ""; unsigned text stays text.
    message = ChatMessage(
        role="assistant",
        blocks=[ThinkingBlock(content="Hmm.", additional_information={"signature": ""})],
    )
    [segment] = chat_message_to_neutral(message).reasoning
    assert (segment.text, segment.wire, segment.data) == ("Hmm.", None, None)


def test_each_signed_thinking_block_gets_a_thinking_block_of_its_own() -> None:
    # A signature is over its own block's text, and llms-anthropic sends one thinking block
    # per ThinkingBlock: run together, neither signature would hold.
    second = {"type": "thinking", "thinking": " Then more.", "signature": "sig-456"}
    segments = [
        ReasoningSegment(text="Hmm.", wire="anthropic_messages", data=ANTHROPIC_THINKING),
        ReasoningSegment(text=" Then more.", wire="anthropic_messages", data=second),
    ]
    message = result_to_chat_message(answer(reasoning=segments, tool_calls=[]))
    first_block, second_block, _text = message.blocks
    assert isinstance(first_block, ThinkingBlock)
    assert isinstance(second_block, ThinkingBlock)
    assert (first_block.content, second_block.content) == ("Hmm.", " Then more.")
    assert first_block.additional_information["signature"] == "sig-123"
    assert second_block.additional_information["signature"] == "sig-456"
    # The answer's reasoning count is for both together: on neither alone.
    assert first_block.num_tokens is None
    assert [s.data for s in chat_message_to_neutral(message).reasoning] == [
        ANTHROPIC_THINKING,
        second,
    ]


def test_completion_response_keeps_the_reasoning_and_leaves_the_chat_response_alone() -> None:
    response = result_to_chat_response(answer())
    before = response.model_copy(deep=True)
    completion = chat_response_to_completion_response(response)
    assert completion.text == "Done."
    assert completion.additional_kwargs["reasoning_content"] == "Think first."
    assert completion.additional_kwargs["reasoning_details"] == [DETAIL]
    assert completion.additional_kwargs["prompt_tokens"] == 10
    assert completion.additional_kwargs["tool_calls"][0]["id"] == "call_1"
    assert completion.raw["reasoning_details"] == [DETAIL]
    assert completion.raw["usage"]["total_tokens"] == 15
    # LlamaIndex's own conversion writes the usage into the message's additional_kwargs.
    assert response == before


def test_edited_tool_arguments_are_sent_as_edited() -> None:
    message = result_to_chat_message(answer())
    edited = message.model_copy(deep=True)
    call = edited.blocks[2]
    assert isinstance(call, ToolCallBlock)
    call.tool_kwargs = {"q": "y"}
    assert chat_message_to_neutral(edited).tool_calls[0].arguments == '{"q": "y"}'
    # Untouched arguments go back exactly as the model wrote them.
    spaced = answer(tool_calls=[ToolCall(id="call_1", name="lookup", arguments='{ "q" : "x" }')])
    assert (
        chat_message_to_neutral(result_to_chat_message(spaced)).tool_calls[0].arguments
        == '{ "q" : "x" }'
    )


def test_thinking_from_another_integration_is_sent_as_text() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[ThinkingBlock(content="Plain thoughts."), TextBlock(text="Hi")],
    )
    [segment] = chat_message_to_neutral(message).reasoning
    assert (segment.text, segment.data) == ("Plain thoughts.", None)


def test_tool_result_message() -> None:
    message = ChatMessage(role="tool", content="42", additional_kwargs={"tool_call_id": "call_9"})
    neutral = chat_message_to_neutral(message)
    assert (neutral.role, neutral.content, neutral.tool_call_id) == ("tool", "42", "call_9")


@pytest.mark.parametrize("role", ["user", "tool", "system"])
@pytest.mark.parametrize(
    "block",
    [ThinkingBlock(content="Hmm."), ToolCallBlock(tool_call_id="c", tool_name="f", tool_kwargs={})],
    ids=["thinking", "tool_call"],
)
def test_only_assistant_turns_carry_reasoning_or_calls(role: str, block: object) -> None:
    for blocks in ([block], [TextBlock(text="Hi"), block]):
        message = ChatMessage(role=role, blocks=blocks)
        with pytest.raises(ValueError, match=f"a {role} message cannot carry a .* block"):
            chat_message_to_neutral(message)


@pytest.mark.parametrize("role", ["user", "tool", "system", "assistant"])
@given(texts=st.lists(st.text(max_size=8), min_size=1, max_size=3))
def test_text_blocks_reach_the_model_as_the_user_reads_them(role: str, texts: list[str]) -> None:
    # One block takes a shorter path than several; both must send ChatMessage.content.
    message = ChatMessage(role=role, blocks=[TextBlock(text=text) for text in texts])
    assert chat_message_to_neutral(message).content == "\n".join(texts)


def test_roles_from_other_vocabularies() -> None:
    assert chat_message_to_neutral(ChatMessage(role="developer", content="Be brief.")).role == (
        "system"
    )
    assert chat_message_to_neutral(ChatMessage(role="model", content="Hi")).role == "assistant"


def test_media_blocks_become_parts_without_touching_the_message() -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    stream = io.BytesIO(b"\x00\x00\x00\x18ftypmp42")
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="Look"),
            ImageBlock(image=png, detail="low"),
            VideoBlock(video=stream, video_mimetype="video/mp4", fps=1),
            CachePoint(cache_control=CacheControl(type="ephemeral")),
        ],
    )
    before = message.model_dump()
    stream.seek(3)
    parts = chat_message_to_neutral(message).content
    assert stream.tell() == 3
    assert parts == [
        TextPart("Look"),
        ImagePart(url="data:image/png;base64," + base64.b64encode(png).decode(), detail="low"),
        VideoPart(
            url="data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42").decode(),
            fps=1.0,
            # The CachePoint marks the block before it.
            cache_control={"type": "ephemeral", "ttl": "5m"},
        ),
    ]
    assert message.model_dump() == before


def test_unsupported_blocks_are_refused_by_name() -> None:
    message = ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF....WAVE", format="wav")])
    with pytest.raises(ValueError, match="audio"):
        chat_message_to_neutral(message)
    with pytest.raises(ValueError, match="image_mimetype"):
        chat_message_to_neutral(
            ChatMessage(role="user", blocks=[ImageBlock(image=b"not an image at all")])
        )


@pytest.mark.parametrize(
    ("choice", "required", "expected"),
    [
        (None, False, "auto"),
        (None, True, "required"),
        ("none", True, "none"),
        ("any", False, "required"),
        ("lookup", False, NamedToolChoice("lookup")),
        ({"type": "function", "function": {"name": "lookup"}}, False, NamedToolChoice("lookup")),
        ({"type": "tool", "name": "lookup"}, False, NamedToolChoice("lookup")),
        ({"type": "auto"}, False, "auto"),
    ],
)
def test_tool_choice_forms(choice: object, required: bool, expected: object) -> None:
    assert tool_choice_to_neutral(choice, tool_required=required, tool_names=["lookup"]) == expected


def test_no_tools_no_tool_choice() -> None:
    assert tool_choice_to_neutral("required", tool_required=True, tool_names=[]) is None


def test_usage_keys() -> None:
    assert usage_to_dict(Usage(10, 5, 15)) == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
    }
    assert usage_to_dict(None) == {}
    response = result_to_chat_response(answer())
    assert (
        response.additional_kwargs
        == response.raw["usage"]
        == {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "cached_tokens": 4,
            "reasoning_tokens": 3,
        }
    )


def test_malformed_final_arguments_are_kept_reported_and_never_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = answer(tool_calls=[ToolCall(id="call_1", name="lookup", arguments='{"q": ')])
    response = result_to_chat_response(broken)
    assert response.message.blocks[2].tool_kwargs == '{"q": '  # type: ignore[union-attr]
    assert "not a JSON object" in caplog.text
    # Issue 14: the tool is not run on arguments the model did not send (it got {}).
    with pytest.raises(ValueError, match=r"tool call 'lookup' \(call_1\).*not a JSON object"):
        chat_response_to_tool_selections(response)
    # Replayed exactly as the model produced it.
    assert chat_message_to_neutral(response.message).tool_calls[0].arguments == '{"q": '


def test_stream_state_accumulates_events() -> None:
    state = ChatStreamState()
    events = [
        ReasoningDelta("Think "),
        ReasoningDelta("first."),
        TextDelta("Do"),
        TextDelta("ne."),
        ToolCallDelta(index=0, id="call_1", name="lookup"),
        ToolCallDelta(index=0, arguments='{"q": "x'),
        ToolCallDelta(index=0, arguments='"}'),
        StreamEnd(answer()),
    ]
    chunks = [stream_event_to_chat_response(event, state) for event in events]
    assert [c.additional_kwargs.get("thinking_delta") for c in chunks[:3]] == [
        "Think ",
        "first.",
        None,
    ]
    assert [c.delta for c in chunks[:4]] == ["", "", "Do", "ne."]
    assert chunks[3].message.content == "Done."
    assert chunks[1].message.blocks[0] == ThinkingBlock(content="Think first.")
    partial_call = chunks[5].message.blocks[-1]
    assert isinstance(partial_call, ToolCallBlock)
    assert partial_call.tool_kwargs == {"q": "x"}
    assert chunks[5].message.additional_kwargs["tool_calls"][0]["function"]["arguments"] == (
        '{"q": "x'
    )
    final = chunks[-1]
    assert final.delta == ""
    assert final.message.blocks[0].additional_information == {  # type: ignore[union-attr]
        "reasoning_details": [DETAIL]
    }
    assert final.additional_kwargs["total_tokens"] == 15


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=8), st.integers())))
def test_partial_arguments_never_fail_and_end_complete(arguments: dict[str, object]) -> None:
    text = json.dumps(arguments)
    for end in range(len(text) + 1):
        assert isinstance(partial_arguments(text[:end]), dict)
    assert partial_arguments(text) == arguments


def test_streamed_messages_equal_validated_ones_and_keep_their_history() -> None:
    """Streamed messages are copies of a validated one, and a block that did not change is
    handed on to the next response; each must still be what validation builds, and what
    an earlier response showed must not change afterwards."""
    state = ChatStreamState()
    events = [ReasoningDelta("Think "), ReasoningDelta("twice."), TextDelta("Do"), TextDelta("ne")]
    responses = [stream_event_to_chat_response(event, state) for event in events]
    expected = [
        [ThinkingBlock(content="Think "), TextBlock(text="")],
        [ThinkingBlock(content="Think twice."), TextBlock(text="")],
        [ThinkingBlock(content="Think twice."), TextBlock(text="Do")],
        [ThinkingBlock(content="Think twice."), TextBlock(text="Done")],
    ]
    for response, blocks in zip(responses, expected, strict=True):
        validated = ChatMessage(role="assistant", blocks=blocks, additional_kwargs={})
        assert response.message == validated
        assert response.message.model_dump() == validated.model_dump()
        assert response.message.model_fields_set == validated.model_fields_set
    # Each response has lists and dicts of its own.
    first, second = responses[2].message, responses[3].message
    assert first.blocks is not second.blocks
    assert first.additional_kwargs is not second.additional_kwargs
