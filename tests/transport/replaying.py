"""Replaying streamed bodies through the real stream reader, for the stream tests."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from minimax_m3.providers import PROVIDERS
from minimax_m3.stream import StreamReader, StreamState, result_from_deltas
from minimax_m3.types import (
    ChatRequest,
    ChatResult,
    Message,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    WireDelta,
)
from minimax_m3.wire import chat_completions, wire_format


def parse_whole(
    payload: Any,
    *,
    request_id: str | None = None,
    parse: Callable[..., Sequence[WireDelta]] = chat_completions.parse_response,
    **normaliser: Any,
) -> ChatResult:
    """A whole body read by one wire format's parser, then by the one normaliser."""
    deltas = parse(payload, request_id=request_id)
    return result_from_deltas(deltas, request_id=request_id, **normaliser)


def replay_stream(
    body: bytes,
    cuts: Iterable[int] = (),
    *,
    stop: tuple[str, ...] = (),
    api: str = "chat_completions",
    provider: str = "minimax",
) -> tuple[list[StreamEvent], ChatResult]:
    """Feed ``body`` to a stream reader of one wire format, cut at the given offsets."""
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content="Hi")])
    exchange = wire_format(api)(request, PROVIDERS[provider], True)
    reader = StreamReader(exchange, StreamState(stop=stop))
    events: list[StreamEvent] = []
    start = 0
    for cut in sorted(set(cuts)):
        events.extend(reader.feed(body[start:cut]))
        start = cut
    events.extend(reader.feed(body[start:]))
    events.extend(reader.close())
    end = events[-1]
    assert isinstance(end, StreamEnd)
    return events, end.result


def summarise(events: list[StreamEvent]) -> dict[str, Any]:
    """What a user sees of a stream, whatever its chunking."""
    tools: dict[int, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            tool = tools.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            tool["id"] += event.id or ""
            tool["name"] += event.name or ""
            tool["arguments"] += event.arguments
    return {
        "text": "".join(e.text for e in events if isinstance(e, TextDelta)),
        "reasoning": "".join(e.text for e in events if isinstance(e, ReasoningDelta)),
        "tools": tools,
    }


def random_cuts(size: int, rng: random.Random, pieces: int) -> list[int]:
    return sorted(rng.sample(range(1, size), min(pieces, size - 1))) if size > 1 else []
