"""Wire formats: pure translation between neutral types and one provider's JSON dialect.

Each format makes an ``Exchange`` per call: the body to send, the headers the format
needs, and the readers for the answer (whole, or one SSE event at a time). An exchange
may keep state for one call (an Anthropic stream's input tokens, a Runware task's id),
which is why it is made per call rather than being a set of module functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from minimax_m3.providers import ProviderProfile
from minimax_m3.sse import SSEEvent
from minimax_m3.types import ChatRequest, ReasoningStart, WireDelta


@dataclass(frozen=True, slots=True)
class Poll:
    """The provider took the task and answers later: send ``body`` again to ask."""

    body: Any


class Exchange(Protocol):
    @property
    def body(self) -> Any: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def reasoning_start(self) -> ReasoningStart:
        """Where the answer starts: outside reasoning, inside it, or not known."""
        ...

    def parse_response(
        self, payload: Any, *, request_id: str | None
    ) -> Sequence[WireDelta] | Poll: ...

    def decode_stream_event(self, event: SSEEvent) -> WireDelta: ...


WireFormat = Callable[[ChatRequest, ProviderProfile, bool], Exchange]


def parse_results(
    exchange: Exchange, payload: Any, *, request_id: str | None
) -> Sequence[Sequence[WireDelta]] | Poll:
    """A whole body as one list of deltas per answer it holds. Only a format that can
    return several answers (Runware's ``numberResults``) has ``parse_results``; for the
    others the body is one answer."""
    several = getattr(exchange, "parse_results", None)
    if several is not None:
        outcome: Sequence[Sequence[WireDelta]] | Poll = several(payload, request_id=request_id)
        return outcome
    one = exchange.parse_response(payload, request_id=request_id)
    return one if isinstance(one, Poll) else [one]


def poll_delays(first: float = 1.0, factor: float = 1.5, cap: float = 10.0) -> Iterator[float]:
    """Waits between polls of a queued task: 1 s, then growing by half up to 10 s."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


# Each wire format's module and exchange class, imported when the format is first used.
_FORMATS: dict[str, tuple[str, str]] = {
    "chat_completions": ("minimax_m3.wire.chat_completions", "ChatCompletionsExchange"),
    "anthropic_messages": ("minimax_m3.wire.anthropic_messages", "AnthropicMessagesExchange"),
    "runware_tasks": ("minimax_m3.wire.runware_tasks", "RunwareTasksExchange"),
}


def wire_format(api: str) -> WireFormat:
    """The exchange class of one wire format, by its ``ApiName``."""
    try:
        module, name = _FORMATS[api]
    except KeyError:
        raise ValueError(f"unknown wire format {api!r}") from None
    exchange: WireFormat = getattr(importlib.import_module(module), name)
    return exchange
