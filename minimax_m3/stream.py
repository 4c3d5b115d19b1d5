"""The one normaliser, for whole answers and streams alike, sync and async.

``StreamState.handle`` takes one decoded wire event (a ``WireDelta``) and returns the
clean events to hand to the caller; ``StreamState.result()`` is everything so far. A whole
response is handed to it as the deltas its body holds, so a whole answer and a streamed
one are made by the same code. It owns every fix MiniMax's answers need:

- reasoning that arrives incrementally on some deployments and as cumulative snapshots
  on others (``ReasoningTrack``), structured reasoning winning over an inline copy,
- reasoning inline in content as ``<think>`` or ``<mm:think>``, with the opening tag
  written by the model, prefilled by the chat template, or not known; tags split
  anywhere; stray closing tags (``ReasoningTagReader``),
- M2's and M3's tool-call markup left in the text (``minimax_m3.tool_markup``),
- tool calls in fragments merged by ``index``,
- stop sequences cut on the client side, since MiniMax accepts ``stop`` and ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from minimax_m3.tool_markup import ToolMarkupReader
from minimax_m3.types import (
    ChatResult,
    ReasoningDelta,
    ReasoningFragment,
    ReasoningSegment,
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

OPEN_TAGS = ("<think>", "<mm:think>")
CLOSE_TAGS = ("</think>", "</mm:think>")

# A fragment that extends the previous one is taken for a cumulative snapshot once the
# previous one has at least this many characters; shorter ones may extend each other by
# chance, so the track waits for the next fragment.
SNAPSHOT_MIN_PREFIX = 3

_UNDECIDED, _INCREMENTAL, _CUMULATIVE = 0, 1, 2


class ReasoningTrack:
    """One reasoning segment being accumulated, whether fragments are incremental or
    cumulative snapshots.

    Until the mode is known the text is held back (at most a fragment or two); ``release``
    lets it go early, when the answer moves on to content or tool calls, and what has
    been released is never taken back.

    The text is kept as a list of parts, joined only when read: M3 may think for tens of
    thousands of tokens, and growing one string by every fragment copied all of it each
    time, so a long stream slowed down as it went.
    """

    __slots__ = (
        "_chain",
        "_emitted",
        "_length",
        "_mode",
        "_parts",
        "_released",
        "fields",
        "signature",
        "text_field",
        "wire",
    )

    def __init__(self, fragment: ReasoningFragment, *, incremental: bool = False) -> None:
        # The text is "".join(_parts), _length characters, the first _emitted of them shown.
        # It only ever grows at its end, so the part not shown yet is always a suffix.
        self._parts: list[str] = []
        self._length = 0
        self._emitted = 0
        self._mode = _INCREMENTAL if incremental else _UNDECIDED
        self._chain: list[str] = []
        self._released = False
        self.wire = fragment.wire
        self.fields: Mapping[str, Any] | None = fragment.fields
        self.text_field = fragment.text_field
        self.signature: str | None = None

    @property
    def text(self) -> str:
        """The whole text so far."""
        parts = self._parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def add(self, fragment: ReasoningFragment) -> str:
        """Take one fragment; return the text that may now be shown."""
        if self.fields is None and fragment.fields is not None:
            self.fields = fragment.fields
            self.text_field = fragment.text_field
        if fragment.signature:
            self.signature = (self.signature or "") + fragment.signature
        piece = fragment.text
        if piece:
            self._take(piece)
        if self._mode == _UNDECIDED and not self._released:
            return ""
        return self._unseen()

    def release(self) -> str:
        """Show what is held back, taking the fragments so far for what they look like."""
        self._released = True
        return self._unseen()

    def _unseen(self) -> str:
        missing = self._length - self._emitted
        if not missing:
            return ""
        self._emitted = self._length
        tail: list[str] = []
        for part in reversed(self._parts):
            if len(part) >= missing:
                tail.append(part[len(part) - missing :])
                break
            tail.append(part)
            missing -= len(part)
        return tail[0] if len(tail) == 1 else "".join(reversed(tail))

    def _append(self, piece: str) -> None:
        self._parts.append(piece)
        self._length += len(piece)

    def _replace(self, text: str) -> None:
        """A snapshot that extends the text so far becomes the whole text."""
        self._parts = [text]
        self._length = len(text)

    def _take(self, piece: str) -> None:
        if self._mode == _INCREMENTAL:
            self._append(piece)
        elif self._mode == _CUMULATIVE:
            text = self.text
            if piece.startswith(text):
                self._replace(piece)
            elif not text.startswith(piece):
                # A snapshot that no longer extends the text: keep both rather than lose one.
                self._append(piece)
        elif not self._chain:
            self._chain.append(piece)
            self._replace(piece)
        elif piece.startswith(self._chain[-1]) and len(piece) >= len(self._chain[-1]):
            if len(self._chain[-1]) >= SNAPSHOT_MIN_PREFIX:
                self._mode = _CUMULATIVE
                self._chain = []
            else:
                self._chain.append(piece)
            self._replace(piece)
        else:
            self._mode = _INCREMENTAL
            # Shown text is never rewritten: once released, the snapshots read so far stand.
            if not self._released:
                self._replace("".join(self._chain))
            self._append(piece)
            self._chain = []

    @property
    def worth_keeping(self) -> bool:
        """Text, a signature, or a redacted block's data: an empty item is no reasoning."""
        return bool(self.text or self.signature or (self.fields and "data" in self.fields))

    def segment(self) -> ReasoningSegment:
        data: dict[str, Any] | None = None
        if self.fields is not None:
            data = dict(self.fields)
            # A redacted block has its data and no text field: none is added to it.
            if self.text or self.text_field in data or "data" not in data:
                data[self.text_field] = self.text
            if self.signature is not None:
                data["signature"] = self.signature
        return ReasoningSegment(text=self.text, wire=self.wire, data=data)


ReasoningStart: TypeAlias = Literal["outside", "inside", "unknown"]

_UNKNOWN, _START, _THINK_START, _THINK, _AFTER_THINK, _TEXT = range(6)
# A closing tag is searched for in each new piece plus this much of what came before.
_TAG_OVERLAP = max(len(tag) for tag in CLOSE_TAGS) - 1


class ReasoningTagReader:
    """Reasoning written inline in content, ``<think>`` or ``<mm:think>``, taken out.

    ``feed`` returns ``("reasoning", text)`` and ``("text", text)`` pieces in order. Where
    the answer starts is the ``start`` given:

    - ``"outside"``: the chat template wrote no opening tag. An opening tag at the very
      start opens reasoning; a closing tag there is a stray one (M3 writes a bare
      ``</mm:think>`` in multi-turn chats) and is dropped.
    - ``"inside"``: the template wrote the opening tag (M3's ``thinking_mode: enabled``,
      M2's templates), so the answer starts inside reasoning.
    - ``"unknown"``: either may be true. Until a tag or the end decides, nothing is shown:
      text shown now could turn out to be reasoning, and shown text is never taken back.
      ``settle`` reads the start as outside when other evidence arrives (the server sent
      reasoning or tool calls in their own fields, so it parses the output itself).

    Reasoning is kept byte for byte, so it goes back to the server exactly as it came;
    white space between the closing tag and the answer is dropped. Once the answer has
    begun, a further closing tag is markup, never the answer's text, and is dropped.
    """

    __slots__ = ("_close", "_held", "_opener_ruled_out", "_parts", "_state", "_tail", "saw_tags")

    def __init__(self, start: ReasoningStart = "outside") -> None:
        self._state = {"outside": _START, "inside": _THINK_START, "unknown": _UNKNOWN}[start]
        self._close: tuple[str, ...] = CLOSE_TAGS
        self._held = ""
        # The undecided start, in parts joined only when a closing tag may be among them.
        self._parts: list[str] = []
        self._tail = ""
        self._opener_ruled_out = False
        self.saw_tags = False

    @property
    def passes_text(self) -> bool:
        """In the answer with nothing held back: text without "<" goes through as it is."""
        return self._state == _TEXT and not self._held

    def feed(self, piece: str) -> list[tuple[str, str]]:
        if self._state == _TEXT and not self._held and "<" not in piece:
            return [("text", piece)]
        if self._state == _UNKNOWN:
            return self._feed_unknown(piece)
        out: list[tuple[str, str]] = []
        buffer, self._held = self._held + piece, ""
        while buffer:
            buffer = self._step(buffer, out)
        return out

    def settle(self) -> list[tuple[str, str]]:
        """The start was outside reasoning after all: read what is held that way."""
        if self._state != _UNKNOWN:
            return []
        self._state = _START
        held = "".join(self._parts)
        self._parts, self._tail = [], ""
        return self.feed(held) if held else []

    def finish(self) -> list[tuple[str, str]]:
        """End of content: what was held back for a tag, as what it turned out to be."""
        if self._state == _UNKNOWN:
            held = "".join(self._parts)
            self._parts = []
            self._state = _TEXT
            return [("text", held)] if held else []
        held, self._held = self._held, ""
        if not held or self._state == _AFTER_THINK:
            return []
        inside = self._state in (_THINK, _THINK_START)
        return [("reasoning" if inside else "text", held)]

    def _feed_unknown(self, piece: str) -> list[tuple[str, str]]:
        window = self._tail + piece
        self._parts.append(piece)
        self._tail = window[-_TAG_OVERLAP:]
        # Only a closing tag in the new piece (or across its start) decides anything, so
        # what is held is joined only then: a long undecided answer stays linear.
        if self._opener_ruled_out and _first_tag(window, CLOSE_TAGS)[0] < 0:
            return []
        held = "".join(self._parts)
        self._parts = [held]
        if not self._opener_ruled_out:
            lead = held.lstrip()
            for opener, closer in zip(OPEN_TAGS, CLOSE_TAGS, strict=True):
                if lead.startswith(opener):
                    self._open(closer)
                    self._parts, self._tail = [], ""
                    return self.feed(lead[len(opener) :])
            if not lead or any(tag.startswith(lead) for tag in OPEN_TAGS):
                return []
            self._opener_ruled_out = True
        at, closer = _first_tag(held, CLOSE_TAGS)
        if at < 0:
            return []
        self._parts, self._tail = [], ""
        self.saw_tags = True
        self._state = _AFTER_THINK
        out: list[tuple[str, str]] = [("reasoning", held[:at])] if at else []
        rest = held[at + len(closer) :]
        return out + (self.feed(rest) if rest else [])

    def _open(self, closer: str) -> None:
        self._state = _THINK
        self._close = (closer,)
        self.saw_tags = True

    def _step(self, buffer: str, out: list[tuple[str, str]]) -> str:
        state = self._state
        if state == _START:
            lead = buffer.lstrip()
            for opener, closer in zip(OPEN_TAGS, CLOSE_TAGS, strict=True):
                if lead.startswith(opener):
                    self._open(closer)
                    return lead[len(opener) :]
            for closer in CLOSE_TAGS:
                if lead.startswith(closer):
                    self.saw_tags = True
                    self._state = _AFTER_THINK
                    return lead[len(closer) :]
            if not lead or any(tag.startswith(lead) for tag in (*OPEN_TAGS, *CLOSE_TAGS)):
                self._held = buffer
                return ""
            # No tag: the content is the answer, its leading white space included.
            self._state = _TEXT
            return buffer
        if state == _THINK_START:
            # The template wrote the opener; a model that writes it again is not heard twice.
            lead = buffer.lstrip()
            for opener, closer in zip(OPEN_TAGS, CLOSE_TAGS, strict=True):
                if lead.startswith(opener):
                    self._open(closer)
                    return lead[len(opener) :]
            if not lead or any(tag.startswith(lead) for tag in OPEN_TAGS):
                self._held = buffer
                return ""
            self._state = _THINK
            return buffer
        if state == _THINK:
            at, closer = _first_tag(buffer, self._close)
            if at >= 0:
                if at:
                    out.append(("reasoning", buffer[:at]))
                self._state = _AFTER_THINK
                return buffer[at + len(closer) :]
            keep = _partial_suffix(buffer, self._close)
            if len(buffer) > keep:
                out.append(("reasoning", buffer[: len(buffer) - keep]))
            self._held = buffer[len(buffer) - keep :]
            return ""
        if state == _AFTER_THINK:
            lead = buffer.lstrip()
            if lead:
                self._state = _TEXT
            return lead
        # _TEXT: a closing tag here is markup, not the answer.
        at, closer = _first_tag(buffer, CLOSE_TAGS)
        if at >= 0:
            if at:
                out.append(("text", buffer[:at]))
            self.saw_tags = True
            return buffer[at + len(closer) :]
        keep = _partial_suffix(buffer, CLOSE_TAGS)
        if len(buffer) > keep:
            out.append(("text", buffer[: len(buffer) - keep]))
        self._held = buffer[len(buffer) - keep :]
        return ""


def _first_tag(text: str, tags: Sequence[str]) -> tuple[int, str]:
    best, found = -1, ""
    for tag in tags:
        at = text.find(tag)
        if at >= 0 and (best < 0 or at < best):
            best, found = at, tag
    return best, found


def _partial_suffix(text: str, tags: Sequence[str]) -> int:
    """How many chars at the end of ``text`` could be the start of one of ``tags``."""
    if "<" not in text[-_TAG_OVERLAP:]:
        return 0
    best = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), best, -1):
            if text.endswith(tag[:size]):
                best = size
                break
    return best


class StopCutter:
    """Cuts visible text at the first stop sequence, across chunk boundaries."""

    __slots__ = ("_held", "_hold", "_stops", "stopped")

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._hold = max((len(s) for s in self._stops), default=1) - 1
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        buffer = self._held + text
        cut = min((at for at in (buffer.find(s) for s in self._stops) if at >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buffer[:cut]
        if self._hold and len(buffer) > self._hold:
            self._held = buffer[-self._hold :]
            return buffer[: -self._hold]
        if self._hold:
            self._held = buffer
            return ""
        return buffer

    def finish(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held


class _ToolTrack:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


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
        self._blank = ""
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
                if index is None:
                    # The server's own index where it is free, so calls keep its order.
                    index = fragment.index
                    if index < 0 or index in self._tools:
                        index = max(self._tools, default=-1) + 1
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
        blank, self._blank = self._blank, ""
        if blank and not self._tools:
            self._show(blank, events)
        if self._stop is not None:
            tail = self._stop.finish()
            if tail:
                self._text.append(tail)
                events.append(TextDelta(tail))
        return events

    def result(self) -> ChatResult:
        """Everything accumulated so far (the whole answer once it has ended)."""
        reasoning = [track.segment() for track in self._reasoning.values() if track.worth_keeping]
        tool_calls = [
            ToolCall(
                id=track.id or f"call_{index}", name=track.name, arguments="".join(track.arguments)
            )
            for index, track in sorted(self._tools.items())
        ]
        finish_reason = self.finish_reason
        if self.stopped:
            finish_reason = "stop"
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
                self._take_tool_fragment(max(self._tools, default=-1) + 1, fragment, events)

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
                events.append(ReasoningDelta(new))
            elif fragment.text:
                self._held_reasoning = True

    def _release_reasoning(self, events: list[StreamEvent]) -> None:
        """The answer moved on: show reasoning still held back, before what follows."""
        if self._held_reasoning:
            self._held_reasoning = False
            for track in self._reasoning.values():
                new = track.release()
                if new:
                    events.append(ReasoningDelta(new))

    def _take_tagged_reasoning(self, text: str, events: list[StreamEvent]) -> None:
        if self._reasoning_source is None:
            self._reasoning_source = "tags"
        elif self._reasoning_source != "tags":
            return
        track = self._reasoning.get(-1)
        if track is None:
            # Tag text is cut from incremental content, so it is shown as it comes.
            track = self._reasoning[-1] = ReasoningTrack(ReasoningFragment(), incremental=True)
        events.append(ReasoningDelta(track.add(ReasoningFragment(text=text))))

    def _take_text(self, text: str, events: list[StreamEvent]) -> None:
        if not self._shown_text:
            if text.isspace():
                self._blank += text
                return
            # The answer has begun (even while a stop cutter still holds it back).
            self._shown_text = True
            text, self._blank = self._blank + text, ""
        self._show(text, events)

    def _show(self, text: str, events: list[StreamEvent]) -> None:
        if self._stop is not None:
            text = self._stop.feed(text)
            if not text:
                return
        self._text.append(text)
        events.append(TextDelta(text))

    def _take_tool_fragment(
        self, index: int, fragment: ToolCallFragment, events: list[StreamEvent]
    ) -> None:
        track = self._tools.get(index)
        if track is None:
            track = self._tools[index] = _ToolTrack()
        new_id = None
        if fragment.id and fragment.id != track.id:
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
                ToolCallDelta(index=index, id=new_id, name=name, arguments=fragment.arguments)
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
