"""Reasoning written inline in content, ``<think>`` or ``<mm:think>``, taken out."""

from __future__ import annotations

from collections.abc import Sequence

from minimax_m3.types import ReasoningStart

OPEN_TAGS = ("<think>", "<mm:think>")
CLOSE_TAGS = ("</think>", "</mm:think>")

_UNKNOWN, _START, _THINK_START, _THINK, _AFTER_THINK, _TEXT = range(6)
# Where the answer has shown nothing yet: leading white space decides nothing there.
_STARTS = (_UNKNOWN, _START, _THINK_START)
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

    __slots__ = ("_close", "_held", "_opener_ruled_out", "_parts", "_space", "_state", "_tail")

    def __init__(self, start: ReasoningStart = "outside") -> None:
        self._state = {"outside": _START, "inside": _THINK_START, "unknown": _UNKNOWN}[start]
        self._close: tuple[str, ...] = CLOSE_TAGS
        self._held = ""
        # White space before anything else, held in pieces until the first other text
        # decides what it is: scanning it again with each new piece made a model stuck
        # writing newlines cost time growing with the square of its answer.
        self._space: list[str] = []
        # The undecided start, in parts joined only when a closing tag may be among them.
        self._parts: list[str] = []
        self._tail = ""
        self._opener_ruled_out = False

    @property
    def passes_text(self) -> bool:
        """In the answer with nothing held back: text without "<" goes through as it is."""
        return self._state == _TEXT and not self._held

    def feed(self, piece: str) -> list[tuple[str, str]]:
        if self._state == _TEXT and not self._held and "<" not in piece:
            return [("text", piece)]
        if self._state in _STARTS and not (self._held or self._parts or self._opener_ruled_out):
            if piece.isspace():
                self._space.append(piece)
                return []
            if self._space:
                piece = "".join((*self._space, piece))
                self._space = []
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
        held = "".join((*self._space, *self._parts))
        self._space, self._parts, self._tail = [], [], ""
        return self.feed(held) if held else []

    def finish(self) -> list[tuple[str, str]]:
        """End of content: what was held back for a tag, as what it turned out to be."""
        if self._state == _UNKNOWN:
            held = "".join((*self._space, *self._parts))
            self._space, self._parts = [], []
            self._state = _TEXT
            return [("text", held)] if held else []
        held = "".join((*self._space, self._held))
        self._space, self._held = [], ""
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
        self._state = _AFTER_THINK
        out: list[tuple[str, str]] = [("reasoning", held[:at])] if at else []
        rest = held[at + len(closer) :]
        return out + (self.feed(rest) if rest else [])

    def _open(self, closer: str) -> None:
        self._state = _THINK
        self._close = (closer,)

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
