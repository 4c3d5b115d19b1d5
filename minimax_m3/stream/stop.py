"""Stop sequences cut on the client side, since MiniMax accepts ``stop`` and ignores it."""

from __future__ import annotations

from collections.abc import Sequence


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
