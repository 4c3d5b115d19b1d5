"""Wire formats: pure translation between neutral types and one provider's JSON dialect.

Each format makes an ``Exchange`` per call: the body to send, the headers the format
needs, and the readers for the answer (whole, or one SSE event at a time). An exchange
may keep state for one call (an Anthropic stream's input tokens, a Runware task's id),
which is why it is made per call rather than being a set of module functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from minimax_m3.providers import ProviderProfile
from minimax_m3.sse import SSEEvent
from minimax_m3.stream import ReasoningStart
from minimax_m3.types import ChatRequest, WireDelta


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


def poll_delays(first: float = 1.0, factor: float = 1.5, cap: float = 10.0) -> Iterator[float]:
    """Waits between polls of a queued task: 1 s, then growing by half up to 10 s."""
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, cap)


def wire_format(api: str) -> WireFormat:
    # Imported here so that each format's module loads only when it is used.
    if api == "chat_completions":
        from minimax_m3.wire.chat_completions import ChatCompletionsExchange

        return ChatCompletionsExchange
    if api == "anthropic_messages":
        from minimax_m3.wire.anthropic_messages import AnthropicMessagesExchange

        return AnthropicMessagesExchange
    if api == "runware_tasks":
        from minimax_m3.wire.runware_tasks import RunwareTasksExchange

        return RunwareTasksExchange
    raise ValueError(f"unknown wire format {api!r}")
