"""The loopback HTTP/1.1 server: asyncio for sockets, h11 for HTTP, a thread for the loop.

Requests are routed to a wire format by path (see ``_FORMATS``); the format returns a
:class:`~minimax_m3.testing.plan.ResponsePlan` and this module carries it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import h11

from minimax_m3.testing import anthropic_messages, chat_completions, cloudflare, runware_tasks
from minimax_m3.testing._common import status_phrase
from minimax_m3.testing.plan import Drop, ResponsePlan, Send, Wait
from minimax_m3.testing.script import ServerKind
from minimax_m3.testing.state import RecordedRequest, Responder, ScriptItem, ScriptState

_READ_SIZE = 65536
_BACKLOG = 4096
# The name of the task a connection reads with while it pauses: not one to wait for.
_READ_TASK = "minimax-emulator-read"


@dataclass(frozen=True)
class WireFormat:
    """One API the emulator speaks: which paths it owns and how it answers them."""

    name: str
    matches: Callable[[str], bool]
    handle: Callable[[RecordedRequest, ScriptState], ResponsePlan]


# First match wins: the provider prefixes come before the catch-all */chat/completions.
_FORMATS: tuple[WireFormat, ...] = (
    WireFormat("anthropic_messages", anthropic_messages.matches, anthropic_messages.handle),
    WireFormat("cloudflare", cloudflare.matches, cloudflare.handle),
    WireFormat("runware", runware_tasks.matches, runware_tasks.handle),
    WireFormat("chat_completions", chat_completions.matches, chat_completions.handle),
)


class MiniMaxEmulator:
    """A scriptable stand-in for MiniMax's API on ``127.0.0.1``.

    Speaks the Chat Completions format at any path ending in ``/chat/completions``
    (so both ``{base_url}/v1/chat/completions`` and a self-hosted style
    ``{base_url}/v1`` root work). Each valid request consumes one queued
    :class:`Reply` or :class:`Fault`, first in first out; with nothing queued it answers
    with reasoning ``"The user wrote: <last user text>."`` and text
    ``"Emulated reply to: <last user text>"``. Requests the real API rejects get its
    400 error (code 2013) and consume nothing.

    The same server also speaks every other wire format and provider the project
    supports; one queue drives them all, each rendering the neutral Reply its own way:

    ==========================================================  ==========================
    ``POST {base_url}/anthropic/v1/messages``                   MiniMax, Anthropic Messages
    ``POST {cloudflare_base_url}/accounts/{id}/ai/v1/chat/completions``  Cloudflare, Chat
    ``POST {cloudflare_base_url}/accounts/{id}/ai/v1/messages``  Cloudflare, Anthropic
    ``POST {runware_base_url}``                                  Runware native tasks
    ``POST {runware_base_url}/chat/completions``                 Runware, OpenAI-compatible
    ==========================================================  ==========================

    ``cloudflare_base_url`` is ``{base_url}/client/v4`` and ``runware_base_url`` is
    ``{base_url}/runware/v1``, so a client needs only its provider's base URL swapped.
    Errors and scripted faults come in the envelope of the provider that was asked.

    Args:
        api_key: when set, requests need ``Authorization: Bearer <api_key>`` or get a 401
            (code 1004); None accepts any or no key. ``/anthropic`` also takes
            ``x-api-key: <api_key>``; Runware also takes an ``authentication`` task.
        require_reasoning_replay: reject (400) an assistant message that replays tool calls
            this emulator issued without the exact reasoning sent with them, in
            ``reasoning_details`` (or inline ``<think>`` when it was sent inline), or as
            the thinking block with its signature on the Anthropic format.
        cloudflare_account_id: when set, Cloudflare paths with another account id get
            HTTP 404, code 7003; None accepts any account id.
        prompt_cache: model MiniMax's passive prompt cache (:mod:`.prompt_cache`): a
            request of 512 estimated tokens or more reports as cached the leading blocks
            (tools, system, each message) that an earlier request with the same key and
            model sent, as ``prompt_tokens_details.cached_tokens`` on Chat Completions and
            ``cache_read_input_tokens`` on Anthropic Messages. False reports 0, as before.
            :meth:`reset` empties it; a Reply's ``usage`` overrides it.
        host, port: where to listen; port 0 picks a free port.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        require_reasoning_replay: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        cloudflare_account_id: str | None = None,
        prompt_cache: bool = True,
    ) -> None:
        self._state = ScriptState(
            api_key,
            require_reasoning_replay=require_reasoning_replay,
            cloudflare_account_id=cloudflare_account_id,
            prompt_cache=prompt_cache,
        )
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connections = 0
        self._peak_connections = 0
        self._connections_changed = threading.Condition()

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> MiniMaxEmulator:
        """Start listening; returns self once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("MiniMaxEmulator is already running")
        ready = threading.Event()
        self._startup_error = None
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="minimax-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error
        return self

    def stop(self) -> None:
        """Close every connection and stop the server thread. Safe to call twice."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = self._loop = self._stopping = None
        self._port = None

    def __enter__(self) -> MiniMaxEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- scripting and inspection -----------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root, ``http://127.0.0.1:PORT``; requests go to ``/v1/chat/completions``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def chat_completions_url(self) -> str:
        return f"{self.base_url}/v1/chat/completions"

    @property
    def anthropic_base_url(self) -> str:
        """``{base_url}/anthropic``: an Anthropic client appends ``/v1/messages``."""
        return f"{self.base_url}/anthropic"

    def self_hosted_base_url(self, server: ServerKind = "raw") -> str:
        """``{base_url}/{server}/v1``: a self-hosted server's root, for
        ``provider="openai-compatible"``. Replies there answer as ``server`` says
        (``"vllm"`` or ``"sglang"`` with M3's parsers, ``"raw"`` without any) unless their
        ``ProviderOptions.server`` names a kind of its own."""
        if server not in ("vllm", "sglang", "raw"):
            raise ValueError(f"server must be 'vllm', 'sglang' or 'raw'; got {server!r}")
        return f"{self.base_url}/{server}/v1"

    @property
    def cloudflare_base_url(self) -> str:
        """``{base_url}/client/v4``, standing in for ``https://api.cloudflare.com/client/v4``."""
        return f"{self.base_url}{cloudflare.PREFIX}"

    @property
    def runware_base_url(self) -> str:
        """``{base_url}/runware/v1``, standing in for ``https://api.runware.ai/v1``."""
        return f"{self.base_url}{runware_tasks.PREFIX}"

    @property
    def cloudflare_account_id(self) -> str | None:
        """The only account id Cloudflare paths accept; None accepts any."""
        return self._state.cloudflare_account_id

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("MiniMaxEmulator is not running; call start() first")
        return self._port

    def queue(self, *items: ScriptItem) -> None:
        """Append replies or faults; each valid request consumes the oldest one."""
        self._state.enqueue(items)

    def respond_with(self, responder: Responder | None) -> None:
        """Answer requests from a function while the queue is empty.

        ``responder(request_json)`` returns a Reply, a Fault, or None for the default echo
        reply; it runs on the emulator's thread. Queued items still come first. For a
        Runware native request it receives the ``textInference`` task object.
        """
        self._state.responder = responder

    @property
    def pending(self) -> int:
        """How many queued items are still waiting for a request."""
        return self._state.pending

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, rejected ones included, oldest first."""
        return self._state.requests

    @property
    def require_reasoning_replay(self) -> bool:
        return self._state.require_reasoning_replay

    @require_reasoning_replay.setter
    def require_reasoning_replay(self, value: bool) -> None:
        self._state.require_reasoning_replay = value

    @property
    def open_connections(self) -> int:
        """Client TCP connections currently open on the server."""
        with self._connections_changed:
            return self._connections

    @property
    def peak_connections(self) -> int:
        """The most client TCP connections that were open at once since the server started
        (or since :meth:`reset`): a load test checks it against the client's pool limit."""
        with self._connections_changed:
            return self._peak_connections

    def wait_for_idle(self, timeout: float = 2.0) -> bool:
        """Wait until no client connection is open; False if some are still open."""
        with self._connections_changed:
            return self._connections_changed.wait_for(lambda: self._connections == 0, timeout)

    def reset(self) -> None:
        """Clear the queue, the request log and the prompt cache, and count the peak of
        open connections afresh."""
        self._state.reset()
        with self._connections_changed:
            self._peak_connections = self._connections

    # --- event loop -----------------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # start() raises it when binding failed
            self._startup_error = exc
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(
            self._on_connection, self._host, self._requested_port, backlog=_BACKLOG
        )
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self._end_connections(server)
            await server.wait_closed()

    async def _end_connections(self, server: asyncio.Server) -> None:
        """Stop listening, and close every connection.

        A connection accepted in the loop's last turn is set up by a task of asyncio's
        that has not run yet. Once the server is closed that task fails silently (on
        Python 3.11 it asserts the server is open), and cancelled before it runs it does
        nothing: either way the accepted socket is left open for the garbage collector
        to warn about, in whatever test runs then. So those tasks, and our connection
        tasks they start, run first; the server closes once none is left, in the same
        step, so nothing is accepted after; then our tasks are cancelled, each of which
        closes its connection.
        """
        me = asyncio.current_task()
        for _ in range(100):  # bounded: a client connecting without pause cannot hold it
            starting = [
                task
                for task in asyncio.all_tasks()
                if task is not me and task not in self._tasks and task.get_name() != _READ_TASK
            ]
            if not starting:
                break
            await asyncio.wait(starting, timeout=0.05)
        server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _count_connection(self, change: int) -> None:
        with self._connections_changed:
            self._connections += change
            self._peak_connections = max(self._peak_connections, self._connections)
            self._connections_changed.notify_all()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._count_connection(+1)
        try:
            await _Connection(reader, writer, self._state).serve()
        except (ConnectionError, OSError, h11.ProtocolError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels these tasks; re-raising makes Python < 3.12 log an error.
            pass
        finally:
            writer.close()
            self._count_connection(-1)
            if task is not None:
                self._tasks.discard(task)


class _Connection:
    """One client connection: read requests, answer them in order, until either side closes."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: ScriptState
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._state = state
        self._http = h11.Connection(h11.SERVER)

    async def serve(self) -> None:
        while True:
            try:
                request = await self._read_request()
            except h11.RemoteProtocolError as exc:
                await self._reject_malformed(exc)
                return
            if request is None:
                return
            if not await self._respond(dispatch(request, self._state)):
                return
            if h11.MUST_CLOSE in (self._http.our_state, self._http.their_state):
                return
            self._http.start_next_cycle()

    async def _read_request(self) -> RecordedRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = self._http.next_event()
            if event is h11.NEED_DATA:
                if self._http.they_are_waiting_for_100_continue:  # curl does, for big bodies
                    await self._send(h11.InformationalResponse(status_code=100, headers=[]))
                self._http.receive_data(await self._reader.read(_READ_SIZE))
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
                return RecordedRequest.build(
                    head.method.decode("ascii"), head.target.decode("latin-1"), headers, bytes(body)
                )
            else:  # ConnectionClosed, or PAUSED after the client hung up
                return None

    async def _respond(self, plan: ResponsePlan) -> bool:
        """Carry out ``plan``; False when the connection must not be reused."""
        if plan.reset:
            self._reset()
            return False
        if plan.delay and not await self._pause(plan.delay):
            return False
        headers = [(name.encode(), value.encode()) for name, value in plan.headers]
        if plan.content_length is not None:
            headers.append((b"content-length", str(plan.content_length).encode()))
        await self._send(
            h11.Response(
                status_code=plan.status,
                headers=headers,
                reason=status_phrase(plan.status, "").encode(),
            )
        )
        for action in plan.actions:
            if isinstance(action, Send):
                await self._send(h11.Data(data=action.data))
            elif isinstance(action, Wait):
                if not await self._pause(action.seconds):
                    return False
            elif isinstance(action, Drop):
                self._writer.close()
                return False
        await self._send(h11.EndOfMessage())
        return True

    async def _send(self, event: h11.Event) -> None:
        data = self._http.send(event)
        if data:
            self._writer.write(data)
            await self._writer.drain()

    async def _pause(self, seconds: float) -> bool:
        """Sleep, but notice when the client hangs up meanwhile; False if it did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            read = loop.create_task(self._reader.read(_READ_SIZE), name=_READ_TASK)
            try:
                done, _ = await asyncio.wait({read}, timeout=remaining)
            finally:
                if not read.done():
                    read.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await read
            if not done:
                return True
            data = read.result()
            if not data:
                return False
            self._http.receive_data(data)  # a pipelined request, kept for later
        return True

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees a reset, not a clean close.
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()

    async def _reject_malformed(self, exc: h11.RemoteProtocolError) -> None:
        if self._http.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = f"malformed HTTP request: {exc}".encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
        with contextlib.suppress(h11.LocalProtocolError):
            await self._send(h11.Response(status_code=exc.error_status_hint, headers=headers))
            await self._send(h11.Data(data=body))
            await self._send(h11.EndOfMessage())


def dispatch(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Record ``request`` and route it to the first wire format that owns its path."""
    state.record(request)
    request_id = secrets.token_hex(16)
    for wire_format in _FORMATS:
        if wire_format.matches(request.path):
            try:
                return wire_format.handle(request, state)
            except Exception as exc:  # a bug in the emulator: make it visible to the test
                message = f"emulator error in {wire_format.name}: {exc!r}"
                return chat_completions.error_plan(500, message, None, request_id)
    message = f"no route for {request.method} {request.path}"
    return chat_completions.error_plan(404, message, None, request_id)
