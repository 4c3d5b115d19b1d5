"""An async connection pool that lets no more requests in than it has connections.

httpcore's pool hands out connections by scanning every waiting request against every
connection each time one frees up: with a thousand calls waiting on a hundred
connections that is a hundred thousand checks per response, the event loop starves, and
calls fail with connect timeouts they never really had. Waiting here instead, on a
semaphore, costs nothing per waiter; the pool itself then never holds more requests than
it can serve at once. A streamed response keeps its place until it is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx


class GatedAsyncPool(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` admitting at most ``limits.max_connections`` requests."""

    def __init__(self, *, limits: httpx.Limits, **kwargs: Any) -> None:
        super().__init__(limits=limits, **kwargs)
        self._places = limits.max_connections
        self._gate: Any = None  # an asyncio.Semaphore, made on first use, in the pool's loop

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._places is None:
            return await super().handle_async_request(request)
        gate = self._gate
        if gate is None:
            import asyncio

            gate = self._gate = asyncio.Semaphore(self._places)
        await gate.acquire()
        try:
            response = await super().handle_async_request(request)
        except BaseException:
            gate.release()
            raise
        response.stream = _ReleasingStream(response.stream, gate.release)
        return response


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its place at the gate back when it is closed."""

    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
