"""A server that drips, pings for ever, inflates and never ends a line.

Not the emulator: a raw socket on loopback writes exactly the bytes each test scripts,
so nothing of ours stands between the attack and the client. Each attack ran the client
out of time or memory before: a body dripping a byte at a time never tripped
``timeout`` (httpx's is per read), keep-alive pings held a stream open for ever, and
1 MiB of gzip became a gigabyte answer.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rel_helpers import FRAMEWORKS, KEY, Driver, survived

from minimax_m3.errors import (
    APITimeoutError,
    ProtocolError,
    ResponseTooLargeError,
    StreamInterruptedError,
)
from minimax_m3.sse import SSEDecoder
from minimax_m3.testing import Reply

Script = Callable[[socket.socket], None]
MIB = 1024 * 1024


class RawServer:
    """Loopback HTTP/1.1 that reads each request and hands the socket to ``script``."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                _read_request(conn)
                # The client hanging up mid-script is what a test wants to see.
                with contextlib.suppress(OSError):
                    self._script(conn)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=10)
        self._listener.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += conn.recv(65536)


def _head(content_type: str, **extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"content-type: {content_type}", "connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], RawServer]]:
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


ANSWER = {
    "id": "x",
    "object": "chat.completion",
    "model": "MiniMax-M3",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "base_resp": {"status_code": 0, "status_msg": "success"},
}


async def _ask(framework: str, mode: str, base_url: str, **settings: Any) -> Any:
    driver = Driver(framework, mode)
    model = driver.make(api_key="k", base_url=base_url, max_retries=0, **settings)
    return await driver.ask(model)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_dripping_body_is_cut_off_at_the_timeout(
    framework: str, mode: str, serve: Callable[[Script], RawServer]
) -> None:
    body = json.dumps(ANSWER).encode()

    def drip(conn: socket.socket) -> None:
        conn.sendall(_head("application/json", content_length=str(len(body))))
        for byte in body:  # about 4 s in all: each read is quick, the whole is not
            conn.sendall(bytes([byte]))
            time.sleep(0.015)

    server = serve(drip)
    with pytest.raises(APITimeoutError):
        await _ask(framework, mode, server.base_url + "/", timeout=1)
    survived()


# An SSE comment, as Chat Completions servers ping; and the Anthropic format's own ping
# event, which a first version counted as progress, so pings kept a stream open for ever.
PINGS = {
    "sse-comment": ({}, b": ping\n\n"),
    "anthropic-ping-event": (
        {"api": "anthropic_messages"},
        b'event: ping\ndata: {"type": "ping"}\n\n',
    ),
}


@pytest.mark.parametrize("ping_shape", list(PINGS))
@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_stream_of_pings_alone_stalls_at_the_timeout(
    framework: str, mode: str, ping_shape: str, serve: Callable[[Script], RawServer]
) -> None:
    settings, frame = PINGS[ping_shape]

    def ping(conn: socket.socket) -> None:
        conn.sendall(_head("text/event-stream"))
        for _ in range(60):  # 6 s of pings, then the server gives up
            conn.sendall(frame)
            time.sleep(0.1)

    server = serve(ping)
    with pytest.raises(StreamInterruptedError, match="keep-alive pings do not count"):
        await _ask(framework, mode, server.base_url, timeout=1, **settings)
    survived()


def _gzip_of_zeros(size: int) -> bytes:
    return gzip.compress(b"0" * size, compresslevel=9)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_gzip_bomb_is_refused_at_the_size_cap(
    framework: str, mode: str, serve: Callable[[Script], RawServer]
) -> None:
    # 96 MiB inflated from about 100 KB on the wire, against the default 64 MiB cap.
    bomb = _gzip_of_zeros(96 * MIB)

    def inflate(conn: socket.socket) -> None:
        head = _head("application/json", content_encoding="gzip", content_length=str(len(bomb)))
        conn.sendall(head + bomb)

    server = serve(inflate)
    with pytest.raises(ResponseTooLargeError, match="max_response_bytes=67,108,864"):
        await _ask(framework, mode, server.base_url)
    survived()


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_one_inflated_stream_event_is_refused_at_the_size_cap(
    framework: str, mode: str, serve: Callable[[Script], RawServer]
) -> None:
    event = b"data: " + b"0" * (8 * MIB)
    bomb = gzip.compress(event, compresslevel=9)

    def inflate(conn: socket.socket) -> None:
        conn.sendall(_head("text/event-stream", content_encoding="gzip") + bomb)

    server = serve(inflate)
    with pytest.raises(ResponseTooLargeError, match="a stream event is larger"):
        await _ask(framework, mode, server.base_url, max_response_bytes=MIB)
    survived()


def test_the_size_cap_is_a_setting_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        Driver("langchain", "invoke").make(api_key="k", max_response_bytes=0)


@pytest.mark.parametrize("pieces", [1, 7, 4096])
def test_a_long_line_in_many_pieces_decodes_whole(pieces: int) -> None:
    line = b"data: " + bytes(range(48, 58)) * 10_000 + b"\n\n"
    decoder = SSEDecoder()
    size = -(-len(line) // pieces)
    events = []
    for start in range(0, len(line), size):
        events += decoder.feed(line[start : start + size])
    assert [event.data for event in events] == [line[6:-2].decode()]


PAGE = b"<html><body><h1>Sign in to the corporate proxy</h1></body></html>"


@pytest.mark.parametrize("mode", ["invoke", "stream", "astream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_proxy_page_is_kept_in_the_error_streamed_or_not(
    framework: str, mode: str, serve: Callable[[Script], RawServer]
) -> None:
    # A streamed request answered with a 200 HTML page lost it (body=None) behind "the
    # stream ended before the model finished".
    def page(conn: socket.socket) -> None:
        conn.sendall(_head("text/html", content_length=str(len(PAGE))) + PAGE)

    server = serve(page)
    with pytest.raises(ProtocolError, match="not JSON") as caught:
        await _ask(framework, mode, server.base_url)
    assert "Sign in to the corporate proxy" in str(caught.value.body)
    survived()


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip, zstd"])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_a_body_in_an_encoding_not_asked_for_is_not_read(
    mode: str, encoding: str, serve: Callable[[Script], RawServer]
) -> None:
    # httpx inflates a whole zstd read at once: 32 KB on the wire made 2 GB in memory
    # before any cap could look at it. We ask for gzip and deflate only.
    def inflate(conn: socket.socket) -> None:
        conn.sendall(_head("application/json", content_encoding=encoding) + b"\x28\xb5" * 64)

    server = serve(inflate)
    with pytest.raises(ProtocolError, match="which was not asked for"):
        await _ask("langchain", mode, server.base_url)
    survived()


def test_the_request_asks_for_gzip_and_deflate_only(emulator: Any) -> None:
    emulator.queue(Reply(text="Hi"))
    Driver("langchain", "invoke").make(api_key=KEY, base_url=emulator.base_url).invoke("Hi")
    assert emulator.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_a_streamed_request_answered_whole_is_bound_by_the_timeout(
    serve: Callable[[Script], RawServer],
) -> None:
    body = json.dumps(ANSWER).encode()

    def drip(conn: socket.socket) -> None:
        conn.sendall(_head("application/json", content_length=str(len(body))))
        for byte in body:
            conn.sendall(bytes([byte]))
            time.sleep(0.015)

    server = serve(drip)
    model = Driver("langchain", "stream").make(
        api_key="k", base_url=server.base_url, max_retries=0, timeout=1
    )
    with pytest.raises(APITimeoutError):
        list(model.stream("Hi"))
    survived()


def test_tool_markup_streamed_slowly_is_progress_not_a_stall(
    serve: Callable[[Script], RawServer],
) -> None:
    # Markup is held back until its call closes, so no event reached the caller for
    # longer than the timeout; the stream was cut off and retried (billed three times).
    pieces = ['<minimax:tool_call>\n<invoke name="write_file">\n<parameter name="content">']
    pieces += [f"line {i}\n" for i in range(10)]
    pieces += ["</parameter>\n</invoke>\n</minimax:tool_call>"]

    def slow(conn: socket.socket) -> None:
        conn.sendall(_head("text/event-stream"))
        for piece in pieces:
            time.sleep(0.2)
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            conn.sendall(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        conn.sendall(b"data: " + json.dumps(done).encode() + b"\n\ndata: [DONE]\n\n")

    server = serve(slow)
    tool = {"type": "function", "function": {"name": "write_file", "parameters": {}}}
    model = (
        Driver("langchain", "stream")
        .make(
            provider="openai-compatible",
            model="MiniMax-M3",
            base_url=server.base_url + "/v1",
            api_key="k",
            max_retries=0,
            timeout=1,
        )
        .bind_tools([tool])
    )
    message: Any = None
    for chunk in model.stream("Write it"):
        message = chunk if message is None else message + chunk
    assert [call["name"] for call in message.tool_calls] == ["write_file"]
    survived()
