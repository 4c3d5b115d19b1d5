"""A loopback HTTP/1.1 server that answers at once, so only the client's cost is measured.

Every answer is built once and cached as bytes; a request costs the server a header scan
and one ``write``. The path chooses the answer, so each contender is pointed at it
through its ``base_url`` and the rest of the path (``/v1/chat/completions``,
``/chat/completions``) is ignored:

- ``/json/...``: the seed completion (``tests/fixtures/seed/capital_of_france.json``);
- ``/sse/N/...``: a MiniMax-shaped stream of N chunks, reasoning then content, then a
  usage chunk and ``[DONE]``; one HTTP chunk per event, as a real server flushes them;
- ``/big/BYTES/...``: a stream whose content adds up to BYTES bytes, in 4 KiB chunks;
- ``/tool/N/...``: a stream of one tool call whose arguments come in N fragments.

Requests may be as big as a 1M-token prompt: the server reads them in full, looking for
the end of each request's head only in what it has not looked at yet.

The runner starts it in a process of its own (``python -m benchmarks.server`` prints the
port, then serves until its standard input closes): a server in the measuring process
would share its GIL and add its own work to every contender's time.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "seed"
BIG_CHUNK = 4096
_RESPONSE_ID = "066a34c7a1b2c3d4e5f60718293a4b5c"
# Fields MiniMax puts on every chunk besides the answer.
_CHUNK_TAIL = {
    "created": 1780154823,
    "model": "MiniMax-M3",
    "object": "chat.completion.chunk",
    "usage": None,
    "input_sensitive": False,
    "output_sensitive": False,
    "input_sensitive_type": 0,
    "output_sensitive_type": 0,
    "output_sensitive_int": 0,
}
_USAGE = {
    "total_tokens": 473,
    "prompt_tokens": 418,
    "completion_tokens": 55,
    "prompt_tokens_details": {"cached_tokens": 114},
    "completion_tokens_details": {"reasoning_tokens": 21},
}


def _json_response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\ntrace-id: {_RESPONSE_ID}\r\n\r\n"
    )
    return head.encode() + body


def sse_frame(event: dict[str, object] | str) -> bytes:
    """One event as the server sends it: a ``data:`` line and a blank line."""
    data = event if isinstance(event, str) else json.dumps(event)
    return f"data: {data}\n\n".encode()


def _sse_response(events: list[dict[str, object] | str]) -> bytes:
    parts = [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\ntrace-id: " + _RESPONSE_ID.encode() + b"\r\n\r\n"
    ]
    for event in events:
        frame = sse_frame(event)
        parts.append(b"%x\r\n%s\r\n" % (len(frame), frame))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def _chunk(delta: dict[str, object], **extra: object) -> dict[str, object]:
    choice: dict[str, object] = {
        "index": 0,
        "delta": {**delta, "role": "assistant", "name": "MiniMax AI", "audio_content": ""},
    }
    choice.update(extra)
    return {"id": _RESPONSE_ID, "choices": [choice], **_CHUNK_TAIL}


def _reasoning(text: str) -> dict[str, object]:
    item = {
        "type": "reasoning.text",
        "id": "reasoning-text-1",
        "format": "MiniMax-response-v1",
        "index": 0,
        "text": text,
    }
    return _chunk({"reasoning_details": [item]})


def _ending(
    pieces: list[dict[str, object] | str], finish: str = "stop"
) -> list[dict[str, object] | str]:
    """The last piece gets the finish reason; then the usage chunk and ``[DONE]``."""
    *head, last = pieces
    assert isinstance(last, dict)
    choices = last["choices"]
    assert isinstance(choices, list)
    finished = {**last, "choices": [{**choices[0], "finish_reason": finish}]}
    usage = {"id": _RESPONSE_ID, "choices": [], **_CHUNK_TAIL, "usage": _USAGE}
    return [*head, finished, usage, "[DONE]"]


def stream_events(chunks: int) -> list[dict[str, object] | str]:
    """``chunks`` events, the first half reasoning and the rest content, one token each.

    Tokens differ from each other, as real ones do (identical ones would look like
    cumulative reasoning snapshots to the transport).
    """
    half = max(chunks // 2, 1)
    pieces: list[dict[str, object] | str] = [_reasoning(f" r{i}") for i in range(half)]
    pieces += [_chunk({"content": f" t{i}"}) for i in range(max(chunks - half, 1))]
    return _ending(pieces)


TOOL_FRAGMENT = 20


def tool_events(fragments: int) -> list[dict[str, object] | str]:
    """One call of ``search`` whose arguments, ``{"query": "..."}``, come in ``fragments``
    pieces of about 20 characters, as a model streams a long argument."""
    head = '{"query": "'
    body = "".join(f"w{i:06} long words " for i in range(2 * fragments))
    arguments = head + body[: (fragments - 2) * TOOL_FRAGMENT] + '"}'
    cuts = [0, len(head), *range(len(head) + TOOL_FRAGMENT, len(arguments) - 2, TOOL_FRAGMENT)]
    cuts.append(len(arguments))
    first = {
        "index": 0,
        "id": "call_function_bench_1",
        "type": "function",
        "function": {"name": "search", "arguments": ""},
    }
    pieces: list[dict[str, object] | str] = [_chunk({"tool_calls": [first]})]
    for start, end in itertools.pairwise(cuts):
        fragment = {"index": 0, "function": {"arguments": arguments[start:end]}}
        pieces.append(_chunk({"tool_calls": [fragment]}))
    return _ending(pieces, "tool_calls")


def big_text(size: int) -> str:
    line = "All work and no play makes a long answer. "
    return (line * (size // len(line) + 1))[:size]


def big_events(size: int) -> list[dict[str, object] | str]:
    """A little reasoning, then ``size`` bytes of ASCII content in 4 KiB chunks."""
    pieces: list[dict[str, object] | str] = [_reasoning(f" r{i}") for i in range(8)]
    body = big_text(size)
    pieces += [_chunk({"content": body[at : at + BIG_CHUNK]}) for at in range(0, size, BIG_CHUNK)]
    return _ending(pieces)


@functools.lru_cache(maxsize=16)
def response_for(path: bytes) -> bytes:
    parts = path.decode("latin-1").split("/")
    kind = parts[1] if len(parts) > 1 else ""
    count = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    if kind == "json":
        return _json_response("200 OK", (SEED / "capital_of_france.json").read_bytes())
    if kind == "sse" and count > 0:
        return _sse_response(stream_events(count))
    if kind == "big" and count > 0:
        return _sse_response(big_events(count))
    if kind == "tool" and count > 1:
        return _sse_response(tool_events(count))
    body = json.dumps({"error": {"message": f"no such benchmark path {path!r}"}}).encode()
    return _json_response("404 Not Found", body)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests with a Content-Length body, answered in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scanned = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while self._transport is not None:
            # A 16 MB body arrives in hundreds of reads: searching it all on every read
            # would make the server quadratic in the size of the request.
            end = buffer.find(b"\r\n\r\n", max(self._scanned - 3, 0))
            if end < 0:
                self._scanned = len(buffer)
                return
            head = bytes(buffer[:end])
            size = end + 4 + _content_length(head)
            if len(buffer) < size:
                return
            del buffer[:size]
            self._scanned = 0
            path = head.split(b" ", 2)[1]
            self._transport.write(response_for(path))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


async def _serve(on_ready: Callable[[int], None], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", 0, backlog=4096)
    on_ready(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()


class LoopbackServer:
    """The server on a thread of this process (for a quick look; the runner uses a process)."""

    def __init__(self) -> None:
        self._port: list[int] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="bench-server", daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(_serve(self._started, self._stop))

    def _started(self, port: int) -> None:
        self._port.append(port)
        self._ready.set()

    def __enter__(self) -> str:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the benchmark server did not start within 10 s")
        return f"http://127.0.0.1:{self._port[0]}"

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class ServerProcess:
    """The server in a child process; entering gives its root URL, leaving stops it."""

    def __enter__(self) -> str:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.__exit__()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        return f"http://127.0.0.1:{int(line)}"

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


async def _serve_until_stdin_closes() -> None:
    stop = asyncio.Event()
    serving = asyncio.create_task(_serve(lambda port: print(port, flush=True), stop))
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    await serving


def main() -> None:
    # Build the big answers before saying the port, so no request waits for them.
    for path in (b"/json", b"/sse/5000"):
        response_for(path)
    asyncio.run(_serve_until_stdin_closes())


if __name__ == "__main__":
    main()
