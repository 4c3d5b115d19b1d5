"""The Anthropic Messages wire module: bodies, whole responses, streams."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from replaying import replay_stream, summarise

from minimax_m3.errors import InsufficientBalanceError, RateLimitError, ServerError
from minimax_m3.providers import PROVIDERS
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
from minimax_m3.wire.anthropic_messages import AnthropicMessagesExchange, parse_response
from tests.transport.replaying import parse_whole as parse_any


def parse_whole(payload: Any, **kwargs: Any) -> Any:
    return parse_any(payload, parse=parse_response, **kwargs)


SIGNATURE = "fa86efec7c27d4aa23eac60ba7a1f4e5f0f37a18d6ec4944fe495aebb6bd0930"
THINKING = {"type": "thinking", "thinking": "Check the weather.", "signature": SIGNATURE}
WEATHER = ToolSpec("get_weather", "Weather", {"type": "object", "properties": {}})
CALL = ToolCall("call_1", "get_weather", '{"city": "Paris"}')


def body_for(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("model", "MiniMax-M3")
    kwargs.setdefault("messages", [Message(role="user", content="Hi")])
    stream = kwargs.pop("stream", False)
    exchange = AnthropicMessagesExchange(ChatRequest(**kwargs), PROVIDERS["minimax"], stream)
    assert exchange.headers["anthropic-version"] == "2023-06-01"
    body: dict[str, Any] = exchange.body
    return body


def test_thinking_is_always_explicit_for_m3_and_max_tokens_always_set() -> None:
    body = body_for()
    assert body["thinking"] == {"type": "adaptive"}
    assert body["max_tokens"] == 131_072
    assert body_for(thinking="disabled", max_tokens=512)["thinking"] == {"type": "disabled"}
    assert "thinking" not in body_for(model="MiniMax-M2.7")


def test_system_goes_top_level_and_tool_results_travel_in_one_user_turn() -> None:
    second = ToolCall("call_2", "get_weather", '{"city": "Oslo"}')
    body = body_for(
        messages=[
            Message(role="system", content="Be brief."),
            Message(role="user", content="Weather?"),
            Message(
                role="assistant",
                content="Checking.",
                tool_calls=[CALL, second],
                reasoning=[
                    ReasoningSegment(THINKING["thinking"], wire="anthropic_messages", data=THINKING)
                ],
            ),
            Message(role="tool", tool_call_id="call_1", content="sunny"),
            Message(role="tool", tool_call_id="call_2", content="rain"),
        ],
        tools=[WEATHER],
    )
    assert body["system"] == "Be brief."
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            THINKING,
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Oslo"}},
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "call_2", "content": "rain"},
        ],
    }


def test_reasoning_from_chat_completions_becomes_an_unsigned_thinking_block() -> None:
    message = Message(role="assistant", content="Hi", reasoning=[ReasoningSegment("plan")])
    body = body_for(messages=[Message(role="user", content="a"), message])
    assert body["messages"][1]["content"][0] == {"type": "thinking", "thinking": "plan"}


@pytest.mark.parametrize(
    ("choice", "expected", "tools"),
    [
        ("auto", {"type": "auto"}, ["get_weather", "get_time"]),
        ("none", {"type": "none"}, ["get_weather", "get_time"]),
        ("required", {"type": "any"}, ["get_weather", "get_time"]),
        (NamedToolChoice("get_time"), {"type": "tool", "name": "get_time"}, ["get_time"]),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, str], tools: list[str]) -> None:
    body = body_for(tools=[WEATHER, ToolSpec("get_time")], tool_choice=choice)
    assert body["tool_choice"] == expected
    assert [t["name"] for t in body["tools"]] == tools
    assert "input_schema" in body["tools"][0]


def test_images_become_base64_or_url_sources() -> None:
    content = [
        TextPart("What?"),
        ImagePart("data:image/png;base64,AAAA"),
        ImagePart("https://x/y.jpg"),
    ]
    body = body_for(messages=[Message(role="user", content=content)])
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "What?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://x/y.jpg"}},
    ]


def test_stop_and_stream() -> None:
    body = body_for(stop=["END"], stream=True)
    assert body["stop_sequences"] == ["END"]
    assert body["stream"] is True


def test_whole_response_with_thinking_text_and_tool_use() -> None:
    result = parse_whole(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "MiniMax-M3",
            "content": [
                THINKING,
                {"type": "text", "text": "I'll check."},
                {
                    "type": "tool_use",
                    "id": "call_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
            "stop_reason": "tool_use",
            "usage": {
                "input_tokens": 100,
                "output_tokens": 20,
                "cache_read_input_tokens": 128,
                "cache_creation_input_tokens": 0,
            },
            "base_resp": {"status_code": 0, "status_msg": ""},
        },
        request_id="req-9",
    )
    assert result.text == "I'll check."
    assert result.reasoning == [
        ReasoningSegment("Check the weather.", wire="anthropic_messages", data=THINKING)
    ]
    assert result.tool_calls == [ToolCall("call_1", "get_weather", '{"city": "Paris"}')]
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(228, 20, 248, cache_read_tokens=128, cache_creation_tokens=0)
    assert result.provider_metadata == {
        "stop_reason": "tool_use",
        "base_resp": {"status_code": 0, "status_msg": ""},
    }
    assert result.request_id == "req-9"


def test_billing_error_body_on_http_200_is_raised() -> None:
    with pytest.raises(InsufficientBalanceError):
        parse_whole(
            {
                "type": "error",
                "error": {"type": "api_error", "message": "insufficient balance (1008)"},
            }
        )


def test_stream_of_thinking_text_and_two_tools(sse_body: Callable[[str], bytes]) -> None:
    events, result = replay_stream(
        sse_body("anthropic_thinking_text_tools"), api="anthropic_messages"
    )
    seen = summarise(events)
    assert seen["reasoning"] == "The user wants the weather in Paris; call the tool."
    assert seen["text"] == result.text == "Let me check — ☀️?"
    [segment] = result.reasoning
    assert segment.data == {
        "type": "thinking",
        "thinking": "The user wants the weather in Paris; call the tool.",
        "signature": SIGNATURE,
    }
    assert [(c.id, c.name, c.parsed_arguments()) for c in result.tool_calls] == [
        ("call_function_9pjh8jjdebck_1", "get_weather", {"city": "Paris"}),
        ("call_function_9pjh8jjdebck_2", "get_time", {"zone": "Europe/Paris"}),
    ]
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(328, 57, 385, cache_read_tokens=128)
    assert result.response_id == "msg_066b"


def test_stream_gives_the_same_answer_for_every_cut(sse_body: Callable[[str], bytes]) -> None:
    body = sse_body("anthropic_thinking_text_tools")
    _, whole = replay_stream(body, api="anthropic_messages")
    for cut in range(1, len(body), 3):
        assert replay_stream(body, [cut], api="anthropic_messages")[1] == whole


def test_error_event_mid_stream_raises(sse_body: Callable[[str], bytes]) -> None:
    with pytest.raises(ServerError) as caught:
        replay_stream(sse_body("anthropic_error_mid_stream"), api="anthropic_messages")
    assert caught.value.retryable


def test_rate_limit_error_event_is_a_rate_limit() -> None:
    body = (
        b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error",'
        b'"message":"usage limit exceeded, resets at 2026-05-15T15:00:00Z (2056)"}}\n\n'
    )
    with pytest.raises(InsufficientBalanceError) as caught:
        replay_stream(body, api="anthropic_messages")
    assert caught.value.reset_at is not None
    body = (
        b'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error",'
        b'"message":"slow"}}\n\n'
    )
    with pytest.raises(RateLimitError):
        replay_stream(body, api="anthropic_messages")


def test_media_markers_go_on_their_blocks_and_unmarked_bodies_keep_their_bytes() -> None:
    mark = {"type": "ephemeral"}
    marked = [
        ImagePart("https://x/y.jpg", cache_control=mark),
        VideoPart("https://x/clip.mp4", cache_control={**mark, "ttl": "1h"}),
        TextPart("What?"),
    ]
    body = body_for(messages=[Message(role="user", content=marked)])
    assert body["messages"][0]["content"] == [
        {
            "type": "image",
            "source": {"type": "url", "url": "https://x/y.jpg"},
            "cache_control": mark,
        },
        {
            "type": "video",
            "source": {"type": "url", "url": "https://x/clip.mp4"},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
        {"type": "text", "text": "What?"},
    ]
    # Without markers, the body is the one this module always wrote, key order and all.
    plain = body_for(
        messages=[
            Message(role="system", content=[TextPart("Be brief.")]),
            Message(role="user", content=[TextPart("What?")]),
        ],
        tools=[WEATHER],
    )
    assert json.dumps(plain) == json.dumps(
        {
            "model": "MiniMax-M3",
            "max_tokens": plain["max_tokens"],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "What?"}]}],
            "system": "Be brief.",
            "thinking": {"type": "adaptive"},
            "tools": [
                {
                    "name": "get_weather",
                    "description": "Weather",
                    "input_schema": {"type": "object", "properties": {}},
                }
            ],
        }
    )
