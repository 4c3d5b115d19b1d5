"""Bytes of one streamed response in, stream events out: SSE, the wire format, the state."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, TypeGuard

from minimax_m3.errors import MiniMaxM3Error, StreamInterruptedError
from minimax_m3.sse import SSEDecoder
from minimax_m3.stream.state import StreamState
from minimax_m3.types import (
    KEEP_ALIVE,
    ReasoningDelta,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
)

if TYPE_CHECKING:
    from minimax_m3.wire import Exchange


class StreamReader:
    """Bytes of one streamed response in, stream events out. No I/O."""

    __slots__ = ("_decode", "_decoder", "emitted", "progressed", "state")

    def __init__(
        self, exchange: Exchange, state: StreamState, *, max_event_bytes: int | None = None
    ) -> None:
        self._decoder = SSEDecoder(max_event_bytes=max_event_bytes)
        self._decode = exchange.decode_stream_event
        self.state = state
        self.emitted = 0
        # Whether the last piece held a whole event: progress, even when what it said is
        # held back (tool markup is shown only once its call closes). Pings, as SSE
        # comments or as a format's keep-alive event, are none.
        self.progressed = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        state = self.state
        try:
            sse_events = self._decoder.feed(chunk)
            if len(sse_events) == 1:  # what nearly every piece of a stream holds
                delta = self._decode(sse_events[0])
                self.progressed = delta is not KEEP_ALIVE
                events = state.handle(delta)
            else:
                self.progressed = False
                events = []
                for sse_event in sse_events:
                    delta = self._decode(sse_event)
                    if delta is not KEEP_ALIVE:
                        self.progressed = True
                    events.extend(state.handle(delta))
                    if state.stopped:
                        break
                if len(events) > 1:
                    events = coalesced(events)
        except MiniMaxM3Error as error:
            # A malformed event or an error the provider sent mid-stream: the error
            # carries what had arrived, as a broken connection's does.
            self._attach_partial(error)
            raise
        self.emitted += len(events)
        return events

    def close(self) -> list[StreamEvent]:
        """End of body: the last events, or an error if the answer is incomplete."""
        events: list[StreamEvent] = []
        state = self.state
        if not state.stopped:
            try:
                for sse_event in self._decoder.close():
                    events.extend(state.handle(self._decode(sse_event)))
            except MiniMaxM3Error as error:
                self._attach_partial(error)
                raise
        if not state.complete:
            raise self.interrupted("the stream ended before the model finished its answer")
        events.extend(state.flush())
        events.append(StreamEnd(state.result()))
        return events

    def _attach_partial(self, error: MiniMaxM3Error) -> None:
        if error.partial is None:
            error.partial = self.state.result()
        if error.request_id is None:
            error.request_id = self.state.request_id

    def stalled(self, seconds: float) -> StreamInterruptedError:
        """The stream sent nothing of the answer for ``seconds`` (pings only, say)."""
        return self.interrupted(
            f"the stream stalled: nothing of the answer for {seconds:g}s, the timeout "
            "(keep-alive pings do not count)",
            retryable=True,
        )

    def interrupted(self, reason: str, *, retryable: bool = False) -> StreamInterruptedError:
        return StreamInterruptedError(
            reason,
            request_id=self.state.request_id,
            partial=self.state.result(),
            retryable=retryable and self.emitted == 0,
        )


def coalesced(events: list[StreamEvent]) -> list[StreamEvent]:
    """Events that arrived in one network read, runs of one kind joined: text, reasoning,
    and the argument fragments of one tool call (the first may name it, the rest only
    add arguments).

    Joining adds no wait (they came together) and leaves what the events add up to as it
    was. It saves every consumer a chunk per joined event, and frameworks that merge
    chunks by growing a string held in a dict (LangChain's merge_dicts, for the
    reasoning and the arguments), or that keep the whole answer so far on every chunk
    (LlamaIndex), copy what came before once per chunk: a server faster than its reader
    made that quadratic in the answer's length.
    """
    out: list[StreamEvent] = []
    run: list[JoinedDelta] = []
    for event in events:
        if run and _continues(event, run[0]):
            run.append(event)
            continue
        _end_run(out, run)
        if isinstance(event, (TextDelta, ReasoningDelta, ToolCallDelta)):
            run = [event]
        else:
            run = []
            out.append(event)
    _end_run(out, run)
    return out


JoinedDelta = TextDelta | ReasoningDelta | ToolCallDelta


def _continues(event: StreamEvent, head: JoinedDelta) -> TypeGuard[JoinedDelta]:
    if isinstance(event, ToolCallDelta):
        return (
            isinstance(head, ToolCallDelta)
            and event.index == head.index
            and event.id is None
            and event.name is None
        )
    return type(event) is type(head) and isinstance(event, (TextDelta, ReasoningDelta))


def _end_run(out: list[StreamEvent], run: list[JoinedDelta]) -> None:
    if len(run) == 1:
        out.append(run[0])
    elif run:
        # The last event's id: a server may name its answer only after it has begun.
        head, response_id = run[0], run[-1].response_id
        if isinstance(head, ToolCallDelta):
            joined = "".join([e.arguments for e in run if isinstance(e, ToolCallDelta)])
            out.append(replace(head, arguments=joined, response_id=response_id))
        else:
            joined = "".join([e.text for e in run if not isinstance(e, ToolCallDelta)])
            out.append(type(head)(joined, response_id))
