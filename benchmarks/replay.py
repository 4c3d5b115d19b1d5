"""The loopback server's answers without the loopback: an httpx transport that replays
them from memory, one piece per event, as a server flushes them and as httpx then hands
them over (one HTTP chunk at a time).

The scaling series read answers of up to 160,000 chunks. Over the loopback the server,
in its process on the other core, is busy writing for as long as the client reads a big
answer and idle for most of a small one; the two then share the caches and the memory
bus, and every contender, the floors included, looked about 20% dearer per chunk at
16x for that alone. Replayed from memory, nothing but the client runs, and what grows
with the answer is the client's. The per-call, stream-throughput, concurrency and
memory measures still go through the real server (:mod:`benchmarks.server`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from benchmarks.server import SEED, _chunk, _ending, _reasoning, big_events, sse_frame, tool_events

BASE = "http://replay.invalid"


CYCLE = 1_000
"""Distinct events a replayed stream cycles through. A 160,000-chunk answer is 67 MB of
SSE: held whole in memory, reading it streams from DRAM where a 10,000-chunk one sits in
the cache, which made even the floor 30% dearer per chunk at 16x. Off a socket the
bytes arrive fresh in the cache at every size; 1,000 events, neighbours all different,
stay there too."""


@dataclass(frozen=True)
class _Plan:
    head: tuple[bytes, ...]
    cycles: tuple[tuple[tuple[bytes, ...], int], ...]
    """(events to cycle through, how many to send) in turn."""
    tail: tuple[bytes, ...]


class _Pieces(httpx.SyncByteStream):
    def __init__(self, plan: _Plan) -> None:
        self._plan = plan

    def __iter__(self) -> Iterator[bytes]:
        plan = self._plan
        yield from plan.head
        for events, count in plan.cycles:
            for start in range(0, count, len(events)):
                yield from events[: count - start]
        yield from plan.tail


def _frames(events: list[dict[str, object] | str]) -> tuple[bytes, ...]:
    return tuple(sse_frame(event) for event in events)


@functools.lru_cache(maxsize=12)
def _plan(kind: str, count: int) -> _Plan:
    """What the server would send for ``/{kind}/{count}``, as a plan of cycles."""
    if kind == "sse":
        # Reasoning for the first half, then content, then the server's ending.
        half = max(count // 2, 1)
        rest = max(count - half, 1)
        reasoning = tuple(sse_frame(_reasoning(f" r{i}")) for i in range(min(half, CYCLE)))
        content = tuple(sse_frame(_chunk({"content": f" t{i}"})) for i in range(CYCLE))
        last = _ending([_chunk({"content": f" t{(rest - 1) % CYCLE}"})])
        return _Plan((), ((reasoning, half), (content, rest - 1)), _frames(last))
    if kind == "tool":
        events = tool_events(min(count, CYCLE + 3))
        # The call's head and its opening '{"query": "', the text fragments, then the
        # closing '"}' with the finish reason, the usage and [DONE].
        middle = _frames(events[2:-3])
        return _Plan(_frames(events[:2]), ((middle, count - 3),), _frames(events[-3:]))
    return _Plan(_frames(big_events(count)), (), ())


@functools.lru_cache(maxsize=1)
def _seed() -> bytes:
    return (SEED / "capital_of_france.json").read_bytes()


class ReplayTransport(httpx.BaseTransport):
    """Answers ``/json/...`` with the seed completion and ``/sse/N/...``, ``/tool/N/...``
    and ``/big/N/...`` with the server's streams, from memory."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        parts = request.url.path.split("/")
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "json":
            headers = {"content-type": "application/json", "trace-id": "replayed"}
            return httpx.Response(200, headers=headers, content=_seed())
        count = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        if kind in ("sse", "tool", "big") and count > 0:
            headers = {"content-type": "text/event-stream", "trace-id": "replayed"}
            return httpx.Response(200, headers=headers, stream=_Pieces(_plan(kind, count)))
        return httpx.Response(404, json={"error": {"message": f"no such path {request.url}"}})


def client() -> httpx.Client:
    return httpx.Client(transport=ReplayTransport())
