"""Wire formats: pure translation between neutral types and one provider JSON dialect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minimax_m3.sse import SSEEvent
from minimax_m3.types import ChatResult, WireDelta
from minimax_m3.wire import chat_completions


@dataclass(frozen=True, slots=True)
class WireFormat:
    name: str
    build_request_body: Callable[..., dict[str, Any]]
    parse_response: Callable[..., ChatResult]
    decode_stream_event: Callable[[SSEEvent], WireDelta]


WIRE_FORMATS: dict[str, WireFormat] = {
    "chat_completions": WireFormat(
        name="chat_completions",
        build_request_body=chat_completions.build_request_body,
        parse_response=chat_completions.parse_response,
        decode_stream_event=chat_completions.decode_stream_event,
    ),
}
