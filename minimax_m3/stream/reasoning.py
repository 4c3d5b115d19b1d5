"""One reasoning segment being accumulated, from incremental fragments or snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minimax_m3.types import ReasoningFragment, ReasoningSegment

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
