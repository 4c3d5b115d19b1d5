"""Server-sent events, decoded from bytes without I/O.

Feed the body in whatever pieces the network delivers; the events come out the same for
any split. Lines may end in LF, CRLF or CR; comment lines (``:``, used for keep-alive
pings) are skipped. Bytes are cut into lines before decoding, so a UTF-8 character split
between two pieces is never broken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from minimax_m3.errors import ResponseTooLargeError


# Not frozen: one is made per event, and a frozen dataclass sets each field through
# object.__setattr__, which doubles the cost of making it.
@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    """Bytes in, events out; ``max_event_bytes`` bounds one event (its lines so far)."""

    __slots__ = (
        "_buffer",
        "_data",
        "_data_size",
        "_event",
        "_id",
        "_limit",
        "_pending",
        "_pending_size",
    )

    def __init__(self, *, max_event_bytes: int | None = None) -> None:
        self._buffer = b""
        # Pieces of a line not yet ended. Joined once its end arrives, so a long line in
        # many pieces costs its length, not its length times the number of pieces.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._id: str | None = None
        # No limit is an infinite one, so the checks below need no test for None.
        self._limit: float = math.inf if max_event_bytes is None else max_event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode the events completed by ``chunk``."""
        if 10 not in chunk and 13 not in chunk:  # b"\n", b"\r": no line ends here
            if chunk:
                self._pending.append(chunk)
                self._pending_size += len(chunk)
                self._check_size(self._pending_size + len(self._buffer))
            return []
        if self._pending:
            self._take_pending()
        if (
            chunk[:6] == b"data: "
            and chunk[-2:] == b"\n\n"
            and not self._buffer
            and not self._data
            and chunk.find(b"\n") == len(chunk) - 2
            and 13 not in chunk
        ):
            # What servers flush for nearly every token: one whole one-line event per
            # piece. It decodes as the general loop below would, without splitting lines.
            if len(chunk) - 8 > self._limit:
                self._data_size = len(chunk) - 8
                self._check_size(0)
            whole = SSEEvent(
                chunk[6:-2].decode("utf-8", "replace"), self._event or "message", self._id
            )
            self._event = ""
            return [whole]
        buffer = self._buffer + chunk if self._buffer else chunk
        if 13 in buffer:  # b"\r", found by memchr (the bytes test is a slower search)
            # A CR at the very end may be the first half of a CRLF: keep it for later.
            keep_cr = buffer.endswith(b"\r")
            if keep_cr:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if keep_cr:
                buffer += b"\r"
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            # The two lines nearly every event is made of come first, handled in place.
            if line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
                data.append(value.decode("utf-8", "replace"))
                self._data_size += len(value)
                if self._data_size > self._limit:
                    self._check_size(0)
            elif line or not data:
                self._take_line(line)
            else:
                events.append(SSEEvent("\n".join(data), self._event or "message", self._id))
                data = self._data = []
                self._data_size = 0
                self._event = ""
        if self._data_size + len(self._buffer) > self._limit:
            self._check_size(len(self._buffer))
        return events

    def _take_pending(self) -> None:
        self._buffer += b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0

    def _check_size(self, unfinished: int) -> None:
        limit = self._limit
        if self._data_size + unfinished > limit:
            raise ResponseTooLargeError(
                f"a stream event is larger than max_response_bytes={limit:,}; no event of "
                "an answer is that large, so the stream was cut off"
            )

    def close(self) -> list[SSEEvent]:
        """End of body: dispatch an event the server left without its blank line."""
        if self._pending:
            self._take_pending()
        tail, self._buffer = self._buffer.rstrip(b"\r"), b""
        if tail:
            self._take_line(tail)
        event = self._take_line(b"")
        return [] if event is None else [event]

    def _take_line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            if not self._data:
                self._event = ""
                return None
            event = SSEEvent(
                data="\n".join(self._data), event=self._event or "message", id=self._id
            )
            self._data = []
            self._data_size = 0
            self._event = ""
            return event
        if raw[:1] == b":":
            return None
        line = raw.decode("utf-8", errors="replace")
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        # "retry" and unknown fields carry nothing we use.
        return None
