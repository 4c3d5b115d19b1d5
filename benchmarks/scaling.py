"""Whether the transport's cost per event holds as an answer grows: parsing only, no I/O.

A reasoning model can think for tens of thousands of tokens before it answers. Anything
that accumulates the answer by copying all of it on every event (a string grown with
``+``, a buffer searched from its start) makes each event cost more than the one before,
and a long answer slows down quadratically. Sockets would only add noise here: this feeds
the server's own stream bodies, one piece per event as a server flushes them, straight
into the transport's stream reader, and compares the cost per event of a long answer
with that of a short one.
"""

from __future__ import annotations

import time

import httpx

from benchmarks.contenders import KEY, MODEL, PROMPT
from benchmarks.server import sse_frame, stream_events
from benchmarks.timing import alternate, paired_ratio

SHORT_EVENTS = 10_000
LONG_EVENTS = 200_000


def frames(events: int) -> list[bytes]:
    """A stream of ``events`` chunks (reasoning, then content), one SSE frame each."""
    return [sse_frame(event) for event in stream_events(events)]


def per_event(pieces: list[bytes]) -> float:
    """Seconds per piece to read one whole answer with a new stream reader."""
    from minimax_m3 import ChatRequest, Message, Transport

    transport = Transport(api_key=KEY, base_url="http://127.0.0.1:9")
    request = ChatRequest(model=MODEL, messages=[Message(role="user", content=PROMPT)])
    _, exchange = transport.build_http_request(request, stream=True)
    reader = transport.new_stream_reader(request, exchange, httpx.Headers())
    started = time.perf_counter()
    for piece in pieces:
        reader.feed(piece)
    reader.close()
    return (time.perf_counter() - started) / len(pieces)


def growth(rounds: int) -> float | None:
    """Cost per event of a ``LONG_EVENTS`` answer over that of a ``SHORT_EVENTS`` one."""
    short, long = frames(SHORT_EVENTS), frames(LONG_EVENTS)
    measured = alternate(
        [("short", lambda: per_event(short)), ("long", lambda: per_event(long))], rounds
    )
    return paired_ratio(measured, "long", "short")
