"""Streamed bodies replayed through the real reader, cut at every byte offset."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from replaying import random_cuts, replay_stream, summarise

from minimax_m3.errors import StreamInterruptedError
from minimax_m3.types import ReasoningSegment, ToolCall, Usage

SEED_USAGE = Usage(
    input_tokens=418,
    output_tokens=55,
    total_tokens=473,
    cache_read_tokens=114,
    reasoning_tokens=21,
)

EXPECTED: dict[str, dict[str, Any]] = {
    "reasoning_details_incremental_crlf": {
        "text": "The capital of France is **Paris** — ☀️ naïve café.",
        "reasoning": "The user asks for the capital of France. It is Paris.",
        "finish_reason": "stop",
        "usage": SEED_USAGE,
    },
    "reasoning_content_cumulative": {
        "text": "**40 km/h**",
        "reasoning": "Average speed is total distance over total time. 120 km / 3 h = 40 km/h.",
        "finish_reason": "stop",
        "usage": SEED_USAGE,
    },
    "think_tags_inline": {
        "text": "This image is a portrait with a blurred background.",
        # Inline reasoning is kept byte for byte, the newlines inside the tags included.
        "reasoning": (
            "\nThe user is asking what the image shows. I should describe the image in detail.\n"
        ),
        "finish_reason": "stop",
        "usage": SEED_USAGE,
    },
    "parallel_tool_calls_interleaved": {
        "text": "",
        "reasoning": "Two cities: call get_weather twice.",
        "finish_reason": "tool_calls",
        "usage": SEED_USAGE,
        "tool_calls": [
            ToolCall(
                "call_function_a1nrtksph4pi_1", "get_weather", '{"location": "San Francisco, US"}'
            ),
            ToolCall("call_function_a1nrtksph4pi_2", "get_weather", '{"location": "Paris, FR"}'),
        ],
    },
    "empty_role_alternating_fields": {
        "text": "4",
        "reasoning": "Simple sum: 2 + 2 = 4. Answer briefly.",
        "finish_reason": "stop",
        "usage": SEED_USAGE,
    },
    "no_done_after_finish": {
        "text": "Hello there.",
        "reasoning": "",
        "finish_reason": "stop",
        "usage": None,
    },
    "reasoning_doubled_inline": {
        "text": "Hi! How can I help?",
        "reasoning": "Greet back politely.",
        "finish_reason": "stop",
        "usage": SEED_USAGE,
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_whole_body_gives_the_documented_answer(
    name: str, sse_body: Callable[[str], bytes]
) -> None:
    expected = EXPECTED[name]
    events, result = replay_stream(sse_body(name))
    seen = summarise(events)
    assert seen["text"] == result.text == expected["text"]
    assert seen["reasoning"] == result.reasoning_text == expected["reasoning"]
    assert result.finish_reason == expected["finish_reason"]
    assert result.usage == expected["usage"]
    assert result.tool_calls == expected.get("tool_calls", [])
    assert result.response_id == "066a34c7a1b2c3d4e5f60718293a4b5c"
    assert result.model == "MiniMax-M3"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_single_cut_gives_the_same_answer(
    name: str, sse_body: Callable[[str], bytes]
) -> None:
    body = sse_body(name)
    whole_events, whole = replay_stream(body)
    whole_seen = summarise(whole_events)
    for cut in range(1, len(body)):
        events, result = replay_stream(body, [cut])
        assert summarise(events) == whole_seen, cut
        assert result == whole, cut


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_many_random_cuts_give_the_same_answer(name: str, sse_body: Callable[[str], bytes]) -> None:
    body = sse_body(name)
    _, whole = replay_stream(body)
    rng = random.Random(name)
    for _ in range(50):
        _, result = replay_stream(body, random_cuts(len(body), rng, rng.randint(2, 40)))
        assert result == whole


def test_streamed_tool_calls_arrive_tagged_by_index(sse_body: Callable[[str], bytes]) -> None:
    events, _ = replay_stream(sse_body("parallel_tool_calls_interleaved"))
    tools = summarise(events)["tools"]
    assert tools[0] == {
        "id": "call_function_a1nrtksph4pi_1",
        "name": "get_weather",
        "arguments": '{"location": "San Francisco, US"}',
    }
    assert tools[1]["arguments"] == '{"location": "Paris, FR"}'


def test_reasoning_details_are_rebuilt_verbatim_for_replay(
    sse_body: Callable[[str], bytes],
) -> None:
    _, result = replay_stream(sse_body("reasoning_details_incremental_crlf"))
    assert result.reasoning == [
        ReasoningSegment(
            text="The user asks for the capital of France. It is Paris.",
            wire="chat_completions",
            data={
                "type": "reasoning.text",
                "id": "reasoning-text-1",
                "format": "MiniMax-response-v1",
                "index": 0,
                "text": "The user asks for the capital of France. It is Paris.",
            },
        )
    ]


def test_stream_metadata_keeps_the_sensitivity_flags(sse_body: Callable[[str], bytes]) -> None:
    _, result = replay_stream(sse_body("think_tags_inline"))
    assert result.provider_metadata["input_sensitive"] is False
    assert result.provider_metadata["output_sensitive_type"] == 0


def test_body_that_ends_before_any_finish_reason_raises_with_the_partial_answer(
    sse_body: Callable[[str], bytes],
) -> None:
    body = sse_body("think_tags_inline")
    cut = body.index(b"data:", body.index(b"This image is"))
    with pytest.raises(StreamInterruptedError) as caught:
        replay_stream(body[:cut])
    partial = caught.value.partial
    assert partial is not None
    assert partial.text == "This image is"  # type: ignore[attr-defined]
    assert partial.reasoning_text.startswith("\nThe user is asking")  # type: ignore[attr-defined]
    assert partial.finish_reason is None  # type: ignore[attr-defined]


def test_stop_sequence_cuts_the_text_across_chunks(sse_body: Callable[[str], bytes]) -> None:
    body = sse_body("reasoning_details_incremental_crlf")
    for cut in range(1, len(body), 7):
        events, result = replay_stream(body, [cut], stop=("**Par",))
        assert result.text == "The capital of France is "
        assert summarise(events)["text"] == "The capital of France is "
        assert result.finish_reason == "stop"
