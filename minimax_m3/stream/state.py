"""The state that drives the normaliser's parts: one answer, delta by delta."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from minimax_m3.stream.reasoning import ReasoningTrack
from minimax_m3.stream.stop import StopCutter
from minimax_m3.stream.tags import ReasoningTagReader
from minimax_m3.tool_markup import ToolMarkupReader, new_call_id
from minimax_m3.types import (
    ChatResult,
    ReasoningDelta,
    ReasoningFragment,
    ReasoningStart,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallFragment,
    ToolSpec,
    Usage,
    WireDelta,
)


class _ToolTrack:
    __slots__ = ("arguments", "id", "minted", "name")

    def __init__(self) -> None:
        self.id = ""
        # The id is ours, made when the call came without one.
        self.minted = False
        self.name = ""
        self.arguments: list[str] = []

    def has_whole_arguments(self) -> bool:
        """Whether the arguments so far are a whole JSON value (asked only when a fragment
        with a new id and the same name arrives, which is rare)."""
        try:
            json.loads("".join(self.arguments))
        except (ValueError, RecursionError):
            return False
        return True


class StreamState:
    """Accumulates one answer and turns wire deltas into clean stream events.

    It is the one normaliser: a streamed answer goes through it a delta at a time, and a
    whole answer as the deltas its body holds, so both come out the same. The events a
    stream yields always add up to ``result()``: nothing shown is ever taken back.
    """

    def __init__(
        self,
        *,
        stop: Sequence[str] = (),
        tools: Sequence[ToolSpec] = (),
        reasoning_start: ReasoningStart = "outside",
        request_id: str | None = None,
    ) -> None:
        self._tags = ReasoningTagReader(reasoning_start)
        self._markup = ToolMarkupReader(tools)
        self._stop = StopCutter(stop) if stop else None
        self._text: list[str] = []
        # White space with nothing else shown yet: beside tool calls it is no answer, so
        # it waits for text (or the end) before it is shown.
        # Pieces, not one string: an attribute's += copies the whole string every time, so
        # a model stuck emitting newlines cost time growing with the square of its answer.
        self._blank: list[str] = []
        self._shown_text = False
        self._reasoning: dict[int, ReasoningTrack] = {}
        # Reasoning may come both as structured fields and inline as tags; the first
        # source seen is used and the other dropped, so it is never shown twice.
        self._reasoning_source: str | None = None
        self._held_reasoning = False
        self._calls_from_text = False
        # Calls by the index the caller sees: structured fragments are merged by their
        # own index, calls read from markup come whole, and the two never share a slot.
        self._tools: dict[int, _ToolTrack] = {}
        self._wire_indexes: dict[int, int] = {}
        self._next_index = 0
        self.finish_reason: str | None = None
        self.done = False
        self.usage: Usage | None = None
        self.response_id: str | None = None
        self.model: str | None = None
        self.request_id = request_id
        self.metadata: dict[str, Any] = {}

    @property
    def stopped(self) -> bool:
        """A stop sequence was seen: the rest of the stream can be dropped."""
        return self._stop is not None and self._stop.stopped

    @property
    def complete(self) -> bool:
        """The stream said it was finished ([DONE], or a finish reason)."""
        return self.done or self.finish_reason is not None or self.stopped

    def handle(self, delta: WireDelta) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if delta.response_id and self.response_id is None:
            self.response_id = delta.response_id
        if delta.request_id and self.request_id is None:
            self.request_id = delta.request_id
        if delta.model and self.model is None:
            self.model = delta.model
        if delta.metadata:
            self.metadata.update(delta.metadata)
        if delta.usage is not None:
            self.usage = delta.usage
        if delta.done:
            self.done = True
        if self.stopped:
            return events
        if delta.reasoning:
            # The server parses reasoning itself: its content starts outside reasoning.
            self._take_tag_pieces(self._tags.settle(), events)
            self._take_structured_reasoning(delta.reasoning, events)
        content = delta.content
        if content:
            if (
                "<" not in content
                and content[-1] != "]"
                and self._tags.passes_text
                and self._markup.idle
            ):
                # Nearly every piece of a long answer: plain text, nothing held anywhere.
                if self._held_reasoning:
                    self._release_reasoning(events)
                self._take_text(content, events)
            else:
                self._take_tag_pieces(self._tags.feed(content), events)
        if delta.tool_calls and not self.stopped:
            self._take_tag_pieces(self._tags.settle(), events)
            self._release_reasoning(events)
            for fragment in delta.tool_calls:
                index = self._wire_indexes.get(fragment.index)
                if index is not None and fragment.id and fragment.name:
                    held = self._tools[index]
                    # Another id and a name at an index in use: the server began a new
                    # call there (merging made "get_weatherdelete_all" of two). A new id
                    # alone is no new call: some servers (Poolside, older mlx) send a
                    # fresh id on every fragment of one call, and some repeat the name
                    # too, so the same name starts a new call only after a whole one.
                    if (
                        held.id
                        and held.id != fragment.id
                        and held.name
                        and (fragment.name != held.name or held.has_whole_arguments())
                    ):
                        index = None
                if index is None:
                    # The server's own index where it is free, so calls keep its order.
                    index = fragment.index
                    if index < 0 or index in self._tools:
                        index = self._next_index
                    self._wire_indexes[fragment.index] = index
                self._take_tool_fragment(index, fragment, events)
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
        return events

    def flush(self) -> list[StreamEvent]:
        """End of the answer: release what was held back for a tag or a stop sequence."""
        events: list[StreamEvent] = []
        self._release_reasoning(events)
        self._take_tag_pieces(self._tags.finish(), events)
        self._take_markup_pieces(self._markup.finish(), events)
        blank, self._blank = "".join(self._blank), []
        if blank and not self._tools:
            self._show(blank, events)
        if self._stop is not None:
            tail = self._stop.finish()
            if tail:
                self._text.append(tail)
                events.append(TextDelta(tail, self.response_id))
        return events

    def result(self) -> ChatResult:
        """Everything accumulated so far (the whole answer once it has ended)."""
        reasoning = [track.segment() for track in self._reasoning.values() if track.worth_keeping]
        tool_calls = [
            ToolCall(id=track.id, name=track.name, arguments="".join(track.arguments))
            for index, track in sorted(self._tools.items())
        ]
        finish_reason = self.finish_reason
        if self.stopped:
            # Calls made before the stop sequence still stand.
            finish_reason = "tool_calls" if tool_calls else "stop"
        elif self._calls_from_text and finish_reason in (None, "stop"):
            # The server did not see the calls it sent as text; the answer is a tool call.
            finish_reason = "tool_calls"
        return ChatResult(
            text="".join(self._text),
            reasoning=reasoning,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            usage=self.usage,
            model=self.model,
            response_id=self.response_id,
            request_id=self.request_id or self.response_id,
            provider_metadata=dict(self.metadata),
        )

    def _take_tag_pieces(self, pieces: list[tuple[str, str]], events: list[StreamEvent]) -> None:
        for kind, text in pieces:
            if kind == "reasoning":
                self._take_tagged_reasoning(text, events)
            else:
                self._release_reasoning(events)
                self._take_markup_pieces(self._markup.feed(text), events)

    def _take_markup_pieces(self, pieces: list[tuple[str, Any]], events: list[StreamEvent]) -> None:
        for kind, value in pieces:
            if kind == "text":
                self._take_text(value, events)
            elif not self.stopped:  # nothing after a stop sequence counts, calls neither
                self._calls_from_text = True
                call: ToolCall = value
                fragment = ToolCallFragment(
                    index=-1, id=call.id, name=call.name, arguments=call.arguments
                )
                self._take_tool_fragment(self._next_index, fragment, events)

    def _take_structured_reasoning(
        self, fragments: list[ReasoningFragment], events: list[StreamEvent]
    ) -> None:
        if self._reasoning_source is None:
            self._reasoning_source = "structured"
        elif self._reasoning_source != "structured":
            return
        for fragment in fragments:
            track = self._reasoning.get(fragment.key)
            if track is None:
                track = self._reasoning[fragment.key] = ReasoningTrack(
                    fragment, incremental=fragment.incremental
                )
            new = track.add(fragment)
            if new:
                events.append(ReasoningDelta(new, self.response_id))
            elif fragment.text:
                self._held_reasoning = True

    def _release_reasoning(self, events: list[StreamEvent]) -> None:
        """The answer moved on: show reasoning still held back, before what follows."""
        if self._held_reasoning:
            self._held_reasoning = False
            for track in self._reasoning.values():
                new = track.release()
                if new:
                    events.append(ReasoningDelta(new, self.response_id))

    def _take_tagged_reasoning(self, text: str, events: list[StreamEvent]) -> None:
        if self._reasoning_source is None:
            self._reasoning_source = "tags"
        elif self._reasoning_source != "tags":
            return
        track = self._reasoning.get(-1)
        if track is None:
            # Tag text is cut from incremental content, so it is shown as it comes.
            track = self._reasoning[-1] = ReasoningTrack(ReasoningFragment(), incremental=True)
        events.append(ReasoningDelta(track.add(ReasoningFragment(text=text)), self.response_id))

    def _take_text(self, text: str, events: list[StreamEvent]) -> None:
        if not self._shown_text:
            if text.isspace():
                self._blank.append(text)
                return
            # The answer has begun (even while a stop cutter still holds it back).
            self._shown_text = True
            if self._blank:
                text = "".join((*self._blank, text))
                self._blank = []
        self._show(text, events)

    def _show(self, text: str, events: list[StreamEvent]) -> None:
        if self._stop is not None:
            text = self._stop.feed(text)
            if not text:
                return
        self._text.append(text)
        events.append(TextDelta(text, self.response_id))

    def _take_tool_fragment(
        self, index: int, fragment: ToolCallFragment, events: list[StreamEvent]
    ) -> None:
        track = self._tools.get(index)
        new_id = None
        if track is None:
            track = self._tools[index] = _ToolTrack()
            self._next_index = max(self._next_index, index + 1)
            if not fragment.id:
                # Some Cloudflare paths send calls without ids. The call is named once,
                # here, so every chunk of it and every later replay of the history carry
                # the same id, and no two calls of a conversation share one.
                track.id = new_id = new_call_id()
                track.minted = True
        # An id arriving after ours is not taken: the chunks already carry ours, and
        # LangChain's merge would join the two into one string.
        if fragment.id and fragment.id != track.id and not track.minted:
            track.id = new_id = fragment.id
        name = fragment.name or None
        # Some servers repeat the whole name on every fragment; others split it. A repeat
        # of the name we already hold, once arguments have begun, is not a new piece.
        if name is not None and name == track.name and track.arguments:
            name = None
        if name is not None:
            track.name += name
        if fragment.arguments:
            track.arguments.append(fragment.arguments)
        if new_id is not None or name is not None or fragment.arguments:
            events.append(
                ToolCallDelta(
                    index=index,
                    id=new_id,
                    name=name,
                    arguments=fragment.arguments,
                    response_id=self.response_id,
                )
            )


def whole_answer(state: StreamState, deltas: Sequence[WireDelta]) -> list[StreamEvent]:
    """A whole response's deltas through ``state``: its events, ``StreamEnd`` last."""
    events: list[StreamEvent] = []
    for delta in deltas:
        events.extend(state.handle(delta))
    events.extend(state.flush())
    events.append(StreamEnd(state.result()))
    return events


def result_from_deltas(
    deltas: Sequence[WireDelta],
    *,
    tools: Sequence[ToolSpec] = (),
    stop: Sequence[str] = (),
    reasoning_start: ReasoningStart = "outside",
    request_id: str | None = None,
) -> ChatResult:
    """The answer a whole response's deltas make (what ``Transport.complete`` returns)."""
    state = StreamState(
        stop=stop, tools=tools, reasoning_start=reasoning_start, request_id=request_id
    )
    end = whole_answer(state, deltas)[-1]
    assert isinstance(end, StreamEnd)
    return end.result
