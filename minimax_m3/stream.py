"""The stream state shared by every wire format, sync and async alike.

``StreamState.handle`` takes one decoded wire event (a ``WireDelta``) and returns the
clean events to hand to the caller; ``StreamState.result()`` is everything so far. It
owns the fixes MiniMax streams need:

- reasoning that arrives incrementally on some deployments and as cumulative snapshots
  on others (``ReasoningTrack``),
- reasoning inline in content as ``<think>...</think>``, tags split anywhere
  (``ThinkTagSplitter``), never doubled with the structured reasoning fields,
- tool calls in fragments merged by ``index``,
- stop sequences cut on the client side, since MiniMax accepts ``stop`` and ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.tool_xml import ToolXmlExtractor
from minimax_m3.types import (
    ChatResult,
    ReasoningDelta,
    ReasoningFragment,
    ReasoningSegment,
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
            data[self.text_field] = self.text
            if self.signature is not None:
                data["signature"] = self.signature
        return ReasoningSegment(text=self.text, wire=self.wire, data=data)


class ThinkTagSplitter:
    """Splits ``<think>...</think>`` (or ``<mm:think>``) out of content, tags split anywhere.

    The reasoning is trimmed of surrounding white space and the text of leading white
    space, the same way whatever the split: white space at a boundary is held back until
    it is known whether more of the same part follows. ``starts_open`` is for servers
    whose chat template already wrote the opening tag, so output begins inside it.
    """

    __slots__ = ("_close", "_pending", "_state", "_trim_start", "saw_tags")

    _START, _THINK, _TEXT = 0, 1, 2

    def __init__(self, *, starts_open: bool = False) -> None:
        self._state = self._THINK if starts_open else self._START
        self._close: tuple[str, ...] = CLOSE_TAGS
        self._pending = ""
        self._trim_start = True
        self.saw_tags = False

    def feed(self, piece: str) -> tuple[str, str]:
        """Return ``(reasoning, text)`` released by this piece of content."""
        if self._state == self._TEXT and not self._trim_start:
            return "", piece
        buffer, self._pending = self._pending + piece, ""
        if self._state == self._START:
            stripped = buffer.lstrip()
            for tag, close in zip(OPEN_TAGS, CLOSE_TAGS, strict=True):
                if stripped.startswith(tag):
                    self._state = self._THINK
                    self._close = (close,)
                    self.saw_tags = True
                    buffer = stripped[len(tag) :]
                    break
                if tag.startswith(stripped):
                    self._pending = buffer
                    return "", ""
            else:
                self._state = self._TEXT
                # Without a tag the content is the answer, leading white space included.
                self._trim_start = False
                return "", buffer
        reasoning = ""
        if self._state == self._THINK:
            for close in self._close:
                at = buffer.find(close)
                if at >= 0:
                    self.saw_tags = True
                    reasoning = self._trimmed(buffer[:at]).rstrip()
                    self._state = self._TEXT
                    self._trim_start = True
                    buffer = buffer[at + len(close) :]
                    break
            else:
                held = _partial_suffix(buffer, self._close)
                body = buffer[: len(buffer) - held]
                kept = body.rstrip()
                self._pending = buffer[len(kept) :]
                return self._trimmed(kept), ""
        return reasoning, self._trimmed(buffer)

    def finish(self) -> tuple[str, str]:
        """End of content: release what was held back waiting for a tag."""
        pending, self._pending = self._pending, ""
        if self._state == self._THINK:
            return self._trimmed(pending).rstrip(), ""
        if self._state == self._START:
            return "", pending
        return "", self._trimmed(pending)

    def _trimmed(self, text: str) -> str:
        if self._trim_start:
            text = text.lstrip()
            if text:
                self._trim_start = False
        return text


def _partial_suffix(text: str, tags: Sequence[str]) -> int:
    """How many chars at the end of ``text`` could be the start of one of ``tags``."""
    best = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), best, -1):
            if text.endswith(tag[:size]):
                best = size
                break
    return best


def split_think_tags(content: str, *, starts_open: bool = False) -> tuple[str, str]:
    """Split a whole content string into ``(reasoning, text)``.

    Also handles a closing tag with no opening one (self-hosted templates prefill the
    opener, and M2.7 has been seen to send a late ``</think>``).
    """
    if not starts_open and "</" in content:
        head = content.lstrip()
        if not head.startswith(OPEN_TAGS):
            for close in CLOSE_TAGS:
                at = content.find(close)
                if at >= 0:
                    return content[:at].strip(), content[at + len(close) :].lstrip()
    splitter = ThinkTagSplitter(starts_open=starts_open)
    reasoning, text = splitter.feed(content)
    tail_reasoning, tail_text = splitter.finish()
    return reasoning + tail_reasoning, text + tail_text


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


def cut_result_at_stop(result: ChatResult, stops: Sequence[str]) -> ChatResult:
    """A whole answer cut at its first stop sequence (MiniMax ignores ``stop``)."""
    if not stops:
        return result
    cutter = StopCutter(stops)
    kept = cutter.feed(result.text) + cutter.finish()
    if cutter.stopped:
        result.text = kept
        result.finish_reason = "stop"
    return result


class _ToolTrack:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []


class StreamState:
    """Accumulates one streamed answer and turns wire deltas into clean stream events."""

    def __init__(
        self,
        *,
        stop: Sequence[str] = (),
        tools: Sequence[ToolSpec] = (),
        reasoning_starts_open: bool = False,
        request_id: str | None = None,
    ) -> None:
        self._splitter = ThinkTagSplitter(starts_open=reasoning_starts_open)
        self._tool_xml = ToolXmlExtractor(tools)
        self._stop = StopCutter(stop) if stop else None
        self._text: list[str] = []
        self._reasoning: dict[int, ReasoningTrack] = {}
        # Reasoning may come both as structured fields and inline as <think> tags; the
        # first source seen is used and the other dropped, so it is never shown twice.
        self._reasoning_source: str | None = None
        self._held_reasoning = False
        self._calls_from_text = False
        self._tools: dict[int, _ToolTrack] = {}
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
            self._take_structured_reasoning(delta.reasoning, events)
        if delta.content:
            reasoning, text = self._splitter.feed(delta.content)
            if reasoning:
                self._take_tagged_reasoning(reasoning, events)
            if text:
                self._release_reasoning(events)
                self._take_text(text, events)
        if delta.tool_calls:
            self._release_reasoning(events)
            for fragment in delta.tool_calls:
                self._take_tool_fragment(fragment, events)
        if delta.finish_reason:
            self.finish_reason = delta.finish_reason
        return events

    def flush(self) -> list[StreamEvent]:
        """End of stream: release text held back for a tag or a stop sequence."""
        events: list[StreamEvent] = []
        self._release_reasoning(events)
        reasoning, text = self._splitter.finish()
        if reasoning:
            self._take_tagged_reasoning(reasoning, events)
        # White space held back at the start, beside tool calls, is no answer: result()
        # drops it, so the stream must not show it either.
        if text and not (self._tools and not text.strip() and not any(self._text)):
            self._take_text(text, events)
        tail, calls = self._tool_xml.finish()
        self._take_xml_calls(calls, events)
        if tail:
            self._emit_text(tail, events)
        if self._stop is not None:
            tail = self._stop.finish()
            if tail:
                self._text.append(tail)
                events.append(TextDelta(tail))
        return events

    def result(self) -> ChatResult:
        """Everything accumulated so far (the whole answer once the stream has ended)."""
        text = "".join(self._text)
        reasoning = [track.segment() for track in self._reasoning.values() if track.worth_keeping]
        if not reasoning and not self._splitter.saw_tags:
            late = _late_close_tag(text)
            if late is not None:
                late_reasoning, text = late
                reasoning = [ReasoningSegment(text=late_reasoning)]
        tool_calls = [
            ToolCall(
                id=track.id or f"call_{index}", name=track.name, arguments="".join(track.arguments)
            )
            for index, track in sorted(self._tools.items())
        ]
        if tool_calls and not text.strip():
            text = ""
        finish_reason = self.finish_reason
        if self.stopped:
            finish_reason = "stop"
        elif self._calls_from_text and finish_reason in (None, "stop"):
            # The server did not see the calls it sent as text; the answer is a tool call.
            finish_reason = "tool_calls"
        return ChatResult(
            text=text,
            reasoning=reasoning,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            usage=self.usage,
            model=self.model,
            response_id=self.response_id,
            request_id=self.request_id or self.response_id,
            provider_metadata=dict(self.metadata),
        )

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
        text, calls = self._tool_xml.feed(text)
        self._take_xml_calls(calls, events)
        if text:
            self._emit_text(text, events)

    def _take_xml_calls(self, calls: list[ToolCall], events: list[StreamEvent]) -> None:
        if calls:
            self._calls_from_text = True
        for call in calls:
            index = max(self._tools, default=-1) + 1
            self._take_tool_fragment(
                ToolCallFragment(index=index, id=call.id, name=call.name, arguments=call.arguments),
                events,
            )

    def _emit_text(self, text: str, events: list[StreamEvent]) -> None:
        if self._stop is not None:
            text = self._stop.feed(text)
            if not text:
                return
        self._text.append(text)
        events.append(TextDelta(text))

    def _take_tool_fragment(self, fragment: ToolCallFragment, events: list[StreamEvent]) -> None:
        track = self._tools.get(fragment.index)
        if track is None:
            track = self._tools[fragment.index] = _ToolTrack()
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
                ToolCallDelta(
                    index=fragment.index, id=new_id, name=name, arguments=fragment.arguments
                )
            )


def _late_close_tag(text: str) -> tuple[str, str] | None:
    for close in CLOSE_TAGS:
        at = text.find(close)
        if at >= 0:
            return text[:at].strip(), text[at + len(close) :].lstrip()
    return None
