"""The Chat Completions wire module: request bodies, whole responses, stream events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from minimax_m3.errors import (
    ContextWindowExceededError,
    InsufficientBalanceError,
    ProtocolError,
    RateLimitError,
)
from minimax_m3.providers import PROVIDERS
from minimax_m3.sse import SSEEvent
from minimax_m3.types import (
    ChatRequest,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningSegment,
    TextPart,
    ToolCall,
    ToolSpec,
    Usage,
    VideoPart,
)
from minimax_m3.wire.chat_completions import (
    ChatCompletionsExchange,
    build_request_body,
    decode_stream_event,
)
from tests.transport.replaying import parse_whole

MINIMAX = PROVIDERS["minimax"]
WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}},
)
DETAIL = {
    "type": "reasoning.text",
    "id": "reasoning-text-1",
    "format": "MiniMax-response-v1",
    "index": 0,
    "text": "Let me think about this request.",
}


def body_for(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("model", "MiniMax-M3")
    kwargs.setdefault("messages", [Message(role="user", content="Hi")])
    stream = kwargs.pop("stream", False)
    return build_request_body(ChatRequest(**kwargs), profile=MINIMAX, stream=stream)


def test_minimal_body_always_asks_for_split_reasoning() -> None:
    assert body_for() == {
        "model": "MiniMax-M3",
        "messages": [{"role": "user", "content": "Hi"}],
        "reasoning_split": True,
    }


def test_sampling_and_limits_use_the_current_field_names() -> None:
    body = body_for(temperature=0.0, top_p=0.9, max_tokens=2048, stop=["\n\n"], thinking="disabled")
    assert body["temperature"] == 0.0
    assert body["top_p"] == 0.9
    assert body["max_completion_tokens"] == 2048
    assert "max_tokens" not in body
    assert body["stop"] == ["\n\n"]
    assert body["thinking"] == {"type": "disabled"}
    assert "n" not in body


def test_thinking_is_only_sent_to_m3() -> None:
    assert "thinking" not in body_for(model="MiniMax-M2.7", thinking="disabled")
    assert body_for(thinking="adaptive")["thinking"] == {"type": "adaptive"}


def test_streaming_asks_for_usage() -> None:
    body = body_for(stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_tools_are_function_tools_and_tool_choice_passes_through() -> None:
    body = body_for(tools=[WEATHER], tool_choice="auto")
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
            },
        }
    ]
    assert body["tool_choice"] == "auto"


def test_named_tool_choice_sends_that_tool_alone_and_requires_a_call() -> None:
    other = ToolSpec(name="get_time")
    body = body_for(tools=[WEATHER, other], tool_choice=NamedToolChoice("get_time"))
    assert [tool["function"]["name"] for tool in body["tools"]] == ["get_time"]
    assert body["tool_choice"] == "required"


def test_images_and_videos_become_url_parts() -> None:
    message = Message(
        role="user",
        content=[
            TextPart("What is this?"),
            ImagePart("data:image/png;base64,AAAA", detail="high"),
            VideoPart("mm_file://42", fps=2),
        ],
    )
    assert body_for(messages=[message])["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}},
        {"type": "video_url", "video_url": {"url": "mm_file://42", "fps": 2}},
    ]


def test_tool_loop_replays_the_assistant_turn_with_its_reasoning_verbatim() -> None:
    call = ToolCall(
        "call_function_2831178524_1", "get_weather", '{"location": "San Francisco, US"}'
    )
    messages = [
        Message(role="system", content="Be brief."),
        Message(role="user", content="Weather in SF?"),
        Message(
            role="assistant",
            content="",
            tool_calls=[call],
            reasoning=[ReasoningSegment(DETAIL["text"], wire="chat_completions", data=DETAIL)],
        ),
        Message(role="tool", tool_call_id=call.id, content="24℃, sunny"),
    ]
    body = body_for(messages=messages, tools=[WEATHER])
    assert body["messages"][2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_function_2831178524_1",
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": '{"location": "San Francisco, US"}',
                },
            }
        ],
        "reasoning_details": [DETAIL],
    }
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_function_2831178524_1",
        "content": "24℃, sunny",
    }


def test_plain_text_reasoning_is_replayed_as_a_minimax_reasoning_item() -> None:
    message = Message(role="assistant", content="Hi", reasoning=[ReasoningSegment("why")])
    body = body_for(messages=[Message(role="user", content="a"), message])
    assert body["messages"][1]["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "id": "reasoning-text-1",
            "format": "MiniMax-response-v1",
            "index": 0,
            "text": "why",
        }
    ]


def test_hosts_other_than_minimax_also_get_reasoning_content_and_no_reasoning_split() -> None:
    message = Message(role="assistant", content="Hi", reasoning=[ReasoningSegment("why")])
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content="a"), message])
    body = build_request_body(request, profile=PROVIDERS["cloudflare"], stream=False)
    assert "reasoning_split" not in body
    assert body["messages"][1]["reasoning_content"] == "why"


@pytest.mark.parametrize(
    ("model", "tag", "gap"),
    [("MiniMax-M3", "mm:think", ""), ("MiniMaxAI/MiniMax-M2.5", "think", "\n\n")],
)
def test_self_hosted_servers_get_reasoning_inline_once_and_verbatim(
    model: str, tag: str, gap: str
) -> None:
    reasoning = [ReasoningSegment("\nwhy, "), ReasoningSegment("then how \n")]
    message = Message(role="assistant", content="Hi", reasoning=reasoning)
    request = ChatRequest(model=model, messages=[Message(role="user", content="a"), message])
    body = build_request_body(request, profile=PROVIDERS["openai-compatible"], stream=False)
    assert body["messages"][1] == {
        "role": "assistant",
        "content": f"<{tag}>\nwhy, then how \n</{tag}>{gap}Hi",
    }


@pytest.mark.parametrize(
    ("thinking", "extra", "kwargs", "start"),
    [
        (None, None, None, "unknown"),
        ("adaptive", None, {"thinking_mode": "adaptive"}, "outside"),
        ("disabled", None, {"thinking_mode": "disabled"}, "outside"),
        (
            None,
            {"chat_template_kwargs": {"thinking_mode": "enabled"}},
            {"thinking_mode": "enabled"},
            "inside",
        ),
        (
            "adaptive",
            {"chat_template_kwargs": {"custom": 1}},
            {"thinking_mode": "adaptive", "custom": 1},
            "outside",
        ),
    ],
)
def test_self_hosted_thinking_goes_to_the_template_and_says_where_answers_start(
    thinking: Any, extra: Any, kwargs: Any, start: str
) -> None:
    request = ChatRequest(
        model="MiniMax-M3",
        messages=[Message(role="user", content="a")],
        thinking=thinking,
        extra_body=extra,
    )
    exchange = ChatCompletionsExchange(request, PROVIDERS["openai-compatible"], False)
    assert exchange.body.get("chat_template_kwargs") == kwargs
    assert "thinking" not in exchange.body
    assert exchange.reasoning_start == start


def test_extra_body_is_merged_last() -> None:
    assert body_for(extra_body={"service_tier": "priority"})["service_tier"] == "priority"


def test_builder_does_not_change_the_callers_objects() -> None:
    parameters = {"type": "object", "properties": {}}
    spec = ToolSpec(name="f", parameters=parameters)
    body = body_for(tools=[spec])
    body["tools"][0]["function"]["parameters"]["added"] = True
    assert parameters == {"type": "object", "properties": {}}


# Whole responses


@pytest.mark.parametrize(
    "name",
    [
        "capital_of_france",
        "system_prompt_recipe",
        "multi_turn_no_reasoning",
        "haiku_long_reasoning",
    ],
)
def test_seed_responses_parse_completely(
    name: str, seed_response: Callable[[str], dict[str, Any]]
) -> None:
    payload = seed_response(name)
    message = payload["choices"][0]["message"]
    result = parse_whole(payload, request_id="req-1")
    assert result.text == message["content"]
    assert result.reasoning_text == message["reasoning_content"]
    assert result.finish_reason == "stop"
    assert result.model == "MiniMax-M3"
    assert result.response_id == payload["id"]
    assert result.request_id == "req-1"
    assert result.usage == Usage(
        input_tokens=payload["usage"]["prompt_tokens"],
        output_tokens=payload["usage"]["completion_tokens"],
        total_tokens=payload["usage"]["total_tokens"],
        cache_read_tokens=114,
    )
    assert result.provider_metadata["base_resp"] == {"status_code": 0, "status_msg": ""}
    assert result.provider_metadata["output_sensitive"] is False


def test_seed_reasoning_details_are_kept_verbatim(
    seed_response: Callable[[str], dict[str, Any]],
) -> None:
    payload = seed_response("capital_of_france")
    detail = payload["choices"][0]["message"]["reasoning_details"][0]
    [segment] = parse_whole(payload).reasoning
    assert segment.data == detail
    assert segment.wire == "chat_completions"


def test_empty_reasoning_content_makes_no_reasoning(
    seed_response: Callable[[str], dict[str, Any]],
) -> None:
    assert parse_whole(seed_response("multi_turn_no_reasoning")).reasoning == []


def response(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "model": "MiniMax-M3",
        "choices": [{"index": 0, "message": message, "finish_reason": extra.pop("finish", "stop")}],
        "base_resp": {"status_code": 0, "status_msg": ""},
        **extra,
    }


def test_inline_think_tags_are_split_out_of_the_content() -> None:
    # Reasoning verbatim, to go back byte for byte; the blank line before the answer is
    # no part of the answer.
    result = parse_whole(response({"content": "<think>\nplan\n</think>\n\n**9.9**"}))
    assert (result.reasoning_text, result.text) == ("\nplan\n", "**9.9**")


def test_inline_copy_is_dropped_when_structured_reasoning_exists() -> None:
    result = parse_whole(
        response({"content": "<think>plan</think>Answer", "reasoning_content": "plan"})
    )
    assert (result.reasoning_text, result.text) == ("plan", "Answer")


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_from_either_plain_field(field: str) -> None:
    assert parse_whole(response({"content": "x", field: "why"})).reasoning_text == "why"


def test_tool_calls_with_whitespace_content() -> None:
    result = parse_whole(
        response(
            {
                "content": "\n",
                "tool_calls": [
                    {
                        "id": "call_function_2831178524_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location": "SF"}'},
                        "index": 0,
                    }
                ],
                "reasoning_details": [DETAIL],
            },
            finish="tool_calls",
        )
    )
    assert result.text == ""
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [
        ToolCall("call_function_2831178524_1", "get_weather", '{"location": "SF"}')
    ]
    assert result.tool_calls[0].parsed_arguments() == {"location": "SF"}


def test_usage_with_reasoning_and_anthropic_style_cache_names() -> None:
    result = parse_whole(
        response(
            {"content": "x"},
            usage={
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "prompt_tokens_details": {
                    "cache_read_input_tokens": 7,
                    "cache_creation_input_tokens": 3,
                },
                "completion_tokens_details": {"reasoning_tokens": 4},
            },
        )
    )
    assert result.usage == Usage(
        10, 5, 15, cache_read_tokens=7, cache_creation_tokens=3, reasoning_tokens=4
    )


def test_base_resp_error_on_http_200_raises_the_mapped_error() -> None:
    payload = {
        "choices": [],
        "base_resp": {"status_code": 1008, "status_msg": "insufficient balance"},
    }
    with pytest.raises(InsufficientBalanceError) as caught:
        parse_whole(payload, request_id="t-1")
    assert caught.value.provider_code == 1008
    assert caught.value.request_id == "t-1"
    assert not caught.value.retryable


@pytest.mark.parametrize("payload", [[], {"choices": []}, {"choices": [{"message": None}]}, "x"])
def test_shapeless_bodies_raise_protocol_errors(payload: Any) -> None:
    with pytest.raises(ProtocolError):
        parse_whole(payload)


# Stream events


def event(payload: dict[str, Any] | str) -> SSEEvent:
    return SSEEvent(data=payload if isinstance(payload, str) else json.dumps(payload))


def test_done_marker() -> None:
    assert decode_stream_event(event("[DONE]")).done


def test_usage_only_chunk_with_no_choices() -> None:
    delta = decode_stream_event(
        event({"id": "x", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}})
    )
    assert delta.usage == Usage(3, 2, 5)
    assert delta.content is None


def test_all_zero_usage_on_intermediate_chunks_is_ignored() -> None:
    delta = decode_stream_event(
        event({"choices": [{"delta": {"content": "a"}}], "usage": {"total_tokens": 0}})
    )
    assert delta.usage is None


def test_reasoning_field_priority_in_one_chunk() -> None:
    delta = decode_stream_event(
        event(
            {
                "choices": [
                    {
                        "delta": {
                            "reasoning_details": [DETAIL],
                            "reasoning_content": "dup",
                            "reasoning": "dup",
                        }
                    }
                ]
            }
        )
    )
    assert delta.reasoning is not None
    assert [f.text for f in delta.reasoning] == [DETAIL["text"]]


def test_error_chunk_mid_stream_raises() -> None:
    with pytest.raises(RateLimitError):
        decode_stream_event(event({"base_resp": {"status_code": 1002, "status_msg": "rate limit"}}))


def test_error_object_mid_stream_raises() -> None:
    with pytest.raises(ContextWindowExceededError):
        decode_stream_event(
            event({"error": {"message": "invalid params, context window exceeds limit (2013)"}})
        )


def test_truncated_json_event_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not valid JSON"):
        decode_stream_event(event('{"id": "x", "choi'))


def test_request_id_falls_back_to_the_body_id() -> None:
    assert parse_whole(response({"content": "x"})).request_id == "r1"
    assert parse_whole(response({"content": "x"}), request_id="hdr").request_id == "hdr"


def test_an_m2_model_on_a_self_hosted_server_gets_no_thinking_mode() -> None:
    # M2's templates always write the opening tag and read no thinking_mode; saying
    # "adaptive" would make the client take the answer to start outside reasoning.
    request = ChatRequest(
        model="MiniMaxAI/MiniMax-M2.5",
        messages=[Message(role="user", content="a")],
        thinking="adaptive",
    )
    exchange = ChatCompletionsExchange(request, PROVIDERS["openai-compatible"], False)
    assert "chat_template_kwargs" not in exchange.body
    assert exchange.reasoning_start == "unknown"
    result = parse_whole(
        response({"content": "I should greet.</think>\n\nHello!"}), reasoning_start="unknown"
    )
    assert (result.reasoning_text, result.text) == ("I should greet.", "Hello!")


def test_a_self_hosted_model_served_under_its_own_name_is_taken_for_m3() -> None:
    # vLLM's --served-model-name makes any id; it names no family, so the provider's
    # default model (MiniMax-M3) speaks for it: thinking_mode is sent, <mm:think> replayed.
    turn = Message(role="assistant", content="Hi", reasoning=[ReasoningSegment("why")])
    request = ChatRequest(
        model="default",
        messages=[Message(role="user", content="a"), turn],
        thinking="adaptive",
    )
    exchange = ChatCompletionsExchange(request, PROVIDERS["openai-compatible"], False)
    assert exchange.body["chat_template_kwargs"] == {"thinking_mode": "adaptive"}
    assert exchange.reasoning_start == "outside"
    assert exchange.body["messages"][1]["content"] == "<mm:think>why</mm:think>Hi"
