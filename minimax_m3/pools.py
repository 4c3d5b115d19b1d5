"""Pooled connections shared by every ``Transport``, and sending one request through them.

A pool is an httpx transport (keep-alive connections, TLS, proxy), not an httpx client:
requests to one fixed URL need none of a client's per-request machinery (cookie jar,
redirects, auth flows, URL merging, event hooks), which took a sixth of every call. A
client you pass in is used as a client, with all of that. Async pools belong to one event
loop, so they are kept per loop and dropped with it.
"""

from __future__ import annotations

import atexit
import ssl
import threading
import time
import urllib.parse
import urllib.request
import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import httpx

from minimax_m3._gate import GatedAsyncPool
from minimax_m3.errors import ProtocolError, ResponseTooLargeError

if TYPE_CHECKING:
    import asyncio

# Shared by every Transport with the same timeout and proxy.
_sync_pools: dict[tuple[Any, ...], httpx.HTTPTransport] = {}
_async_pools: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Any, ...], httpx.AsyncHTTPTransport]
] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()
# Idle connections are kept as many as may be open: a burst of calls leaves them warm for
# the next one instead of paying a new TCP and TLS handshake for each.
_POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)


def resolve_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """A plain number bounds every phase; the connect phase never waits more than 10 s."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(float(timeout), connect=min(float(timeout), 10.0))


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``ALL_PROXY``, ...),
    unless ``NO_PROXY`` exempts its host: what an httpx client would pick for it."""
    proxies = urllib.request.getproxies()
    parsed = urllib.parse.urlsplit(url)
    proxy = proxies.get(parsed.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parsed.netloc):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


_tls: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """One TLS context for every pool: building one loads the CA bundle (tens of ms),
    which a program running an event loop per call paid on every call. Called with the
    lock held."""
    global _tls
    if _tls is None:
        _tls = httpx.create_ssl_context()
    return _tls


def _pool_key(timeout: httpx.Timeout, proxy: str | None) -> tuple[Any, ...]:
    return (timeout.connect, timeout.read, timeout.write, timeout.pool, proxy)


def shared_sync_pool(timeout: httpx.Timeout, proxy: str | None = None) -> httpx.HTTPTransport:
    key = _pool_key(timeout, proxy)
    with _pools_lock:
        pool = _sync_pools.get(key)
        if pool is None:
            pool = _sync_pools[key] = httpx.HTTPTransport(
                limits=_POOL_LIMITS, proxy=proxy, verify=_tls_context()
            )
        return pool


def shared_async_pool(timeout: httpx.Timeout, proxy: str | None = None) -> httpx.AsyncHTTPTransport:
    key = _pool_key(timeout, proxy)
    import asyncio

    loop = asyncio.get_running_loop()
    with _pools_lock:
        per_loop = _async_pools.get(loop)
        if per_loop is None:
            _forget_pools_of_closed_loops()
            per_loop = _async_pools[loop] = {}
            closer = _loop_closers[loop] = _close_pools_when_loop_ends(loop, per_loop)
            _start(closer)
        pool = per_loop.get(key)
        if pool is None:
            pool = per_loop[key] = GatedAsyncPool(
                limits=_POOL_LIMITS, proxy=proxy, verify=_tls_context()
            )
        return pool


# A loop's pools must be closed while the loop still runs: a closed loop can no longer
# close them, and their connections hold their sockets and, through them, the loop, so
# the weak map alone never lets go. Scripts, notebooks and task queues run a loop per
# call (``asyncio.run``), and ran out of file descriptors. asyncio.run, like
# pytest-asyncio and anyio, finalizes a loop's async generators before closing it; this
# one, started when the loop makes its first pool, closes the loop's pools then.
_loop_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = (
    weakref.WeakKeyDictionary()
)


async def _close_pools_when_loop_ends(
    loop: asyncio.AbstractEventLoop, pools: dict[tuple[Any, ...], httpx.AsyncHTTPTransport]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # Only the pools this closer was made for: after aclose_shared_clients() the loop
        # may hold new ones, with a closer of their own.
        with _pools_lock:
            if _async_pools.get(loop) is pools:
                del _async_pools[loop]
                _loop_closers.pop(loop, None)
            closing = list(pools.values())
            pools.clear()
        for pool in closing:
            await pool.aclose()


def _start(closer: AsyncGenerator[None, None]) -> None:
    """Run ``closer`` to its ``yield`` now: nothing before it awaits, so one step does it.
    Starting it in the running loop registers it with that loop for finalization."""
    step = closer.__anext__()
    try:
        step.send(None)
    except StopIteration:
        return
    raise RuntimeError("the pool closer awaited before its yield")


def _forget_pools_of_closed_loops() -> None:
    """A loop closed without finalizing its async generators (``loop.close()`` alone)
    left its pools open: forget them, so the garbage collector closes their sockets.
    Called with the lock held, when a new loop asks for its first pool."""
    for loop in [loop for loop in _async_pools if loop.is_closed()]:
        del _async_pools[loop]
        _loop_closers.pop(loop, None)


async def aclose_shared_clients() -> None:
    """Close the pooled async connections of the running event loop.

    Call it before the loop ends (the pool keeps connections open for reuse); clients
    you passed in yourself are yours to close.
    """
    import asyncio

    with _pools_lock:
        per_loop = _async_pools.pop(asyncio.get_running_loop(), {})
        # Emptied in place: the loop's closer holds this dict and must find nothing left.
        pools = list(per_loop.values())
        per_loop.clear()
    for pool in pools:
        await pool.aclose()


def close_shared_clients() -> None:
    """Close the pooled sync connections; the next call opens new ones."""
    with _pools_lock:
        pools = list(_sync_pools.values())
        _sync_pools.clear()
    for pool in pools:
        pool.close()


def send(
    sender: httpx.Client | httpx.BaseTransport,
    request: httpx.Request,
    *,
    timeout: httpx.Timeout,
    stream: bool = False,
    limit: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """Send through a client (yours) or a pool (ours); ``timeout`` is for the pool.

    A body compressed in a way we did not ask for is refused unread. Unless ``stream``,
    the body is read whole, at most ``limit`` bytes decompressed, and by the end of
    ``timeout.read`` from now.
    """
    deadline = deadline_after(timeout)
    if isinstance(sender, httpx.Client):
        response = sender.send(request, stream=True)
    else:
        request.extensions.setdefault("timeout", timeout.as_dict())
        response = sender.handle_request(request)
        response.request = request
    try:
        check_encoding(response)
        if not stream:
            read_body(response, limit, deadline)
    except BaseException:
        response.close()
        raise
    if not stream:
        response.close()
    return response


async def asend(
    sender: httpx.AsyncClient | httpx.AsyncBaseTransport,
    request: httpx.Request,
    *,
    timeout: httpx.Timeout,
    stream: bool = False,
    limit: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """The async ``send``."""
    deadline = deadline_after(timeout)
    if isinstance(sender, httpx.AsyncClient):
        response = await sender.send(request, stream=True)
    else:
        request.extensions.setdefault("timeout", timeout.as_dict())
        response = await sender.handle_async_request(request)
        response.request = request
    try:
        check_encoding(response)
        if not stream:
            await aread_body(response, limit, deadline)
    except BaseException:
        await response.aclose()
        raise
    if not stream:
        await response.aclose()
    return response


def read_body(response: httpx.Response, limit: int, deadline: float | None) -> None:
    """Read a streamed response whole (an error body, say), at most ``limit`` bytes and
    by ``deadline`` (``time.monotonic()``)."""
    body = _Body(limit, deadline)
    for chunk in response.iter_bytes():
        body.add(chunk)
    body.store_in(response)


async def aread_body(response: httpx.Response, limit: int, deadline: float | None) -> None:
    body = _Body(limit, deadline)
    async for chunk in response.aiter_bytes():
        body.add(chunk)
    body.store_in(response)


def deadline_after(timeout: httpx.Timeout) -> float | None:
    """When a whole body read from now must be done: the read timeout from now."""
    return None if timeout.read is None else time.monotonic() + timeout.read


# What a body may be compressed with: decoders that inflate a network read into a
# bounded multiple of it. httpx's zstd and brotli decoders inflate a read whole.
_ENCODINGS = frozenset({"", "identity", "gzip", "deflate", "x-gzip"})


def check_encoding(response: httpx.Response) -> None:
    """Refuse a body compressed in a way we did not ask for, before reading any of it."""
    encodings = [
        part.strip().lower() for part in response.headers.get("content-encoding", "").split(",")
    ]
    refused = [encoding for encoding in encodings if encoding not in _ENCODINGS]
    if refused:
        raise ProtocolError(
            f"the response is compressed with {', '.join(refused)}, which was not asked "
            "for (accept-encoding: gzip, deflate); it is not read, since such a body can "
            "inflate without bound"
        )


class _Body:
    """A body read in pieces, refused once it outgrows its limit or its time.

    httpx's own timeout is per read, so a server sending a byte a second never trips
    it; and 1 MiB of gzip can inflate to a gigabyte. Both are checked as pieces arrive.
    """

    __slots__ = ("_deadline", "_limit", "_pieces", "_size")

    def __init__(self, limit: int, deadline: float | None) -> None:
        self._limit = limit
        self._deadline = deadline
        self._pieces: list[bytes] = []
        self._size = 0

    def add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise ResponseTooLargeError(
                f"the response is larger than max_response_bytes={self._limit:,} once "
                "decompressed; no answer is that large, so it was cut off"
            )
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise httpx.ReadTimeout("the response did not finish within the timeout")
        self._pieces.append(piece)

    def store_in(self, response: httpx.Response) -> None:
        # Where httpx's own read() keeps the body, so response.content works as usual.
        response._content = b"".join(self._pieces)


atexit.register(close_shared_clients)
