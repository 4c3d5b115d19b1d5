"""Bytes of one streamed response in, stream events out: SSE, the wire format, the state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minimax_m3.errors import MiniMaxM3Error, StreamInterruptedError
from minimax_m3.sse import SSEDecoder
from minimax_m3.stream.state import StreamState
from minimax_m3.types import KEEP_ALIVE, ReasoningDelta, StreamEnd, StreamEvent, TextDelta

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
    """Events that arrived in one network read, text and reasoning runs joined.

    Joining adds no wait (they came together) and leaves what the events add up to as it
    was. It saves every consumer a chunk per joined event, and frameworks that merge
    chunks by growing a string held in a dict (LangChain's merge_dicts, for the
    reasoning) copy what came before once per chunk: a server faster than its reader
    made that quadratic in the answer's length.
    """
    out: list[StreamEvent] = []
    run: list[str] = []
    run_kind: type[TextDelta] | type[ReasoningDelta] | None = None
    response_id: str | None = None
    for event in events:
        if isinstance(event, (TextDelta, ReasoningDelta)):
            if type(event) is not run_kind:
                _end_run(out, run, run_kind, response_id)
                run, run_kind = [], type(event)
            run.append(event.text)
            response_id = event.response_id
        else:
            _end_run(out, run, run_kind, response_id)
            run, run_kind = [], None
            out.append(event)
    _end_run(out, run, run_kind, response_id)
    return out


def _end_run(
    out: list[StreamEvent],
    run: list[str],
    kind: type[TextDelta] | type[ReasoningDelta] | None,
    response_id: str | None,
) -> None:
    if kind is not None and run:
        out.append(kind("".join(run), response_id))
