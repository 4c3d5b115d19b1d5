"""The only I/O in the package: pooled httpx clients, the retry loop and stream reading.

Everything that decides (what to send, what a response means, whether to retry, how
long to wait) is the ``Endpoint``'s, in ``minimax_m3.endpoint``; the sync and async
drivers here are thin loops over it that differ only where one awaits.

asyncio is imported by the async driver when it first runs, not here: a program that
only makes sync calls never pays for loading it (about a sixth of this module's import).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Callable, Generator
from functools import partial
from typing import TypeAlias, TypeVar

import httpx

from minimax_m3.endpoint import Endpoint
from minimax_m3.errors import MiniMaxM3Error, ProtocolError
from minimax_m3.failures import interruption, scrub
from minimax_m3.pools import (
    aclose_shared_clients,
    aread_body,
    asend,
    close_shared_clients,
    deadline_after,
    read_body,
    send,
    shared_async_pool,
    shared_sync_pool,
)
from minimax_m3.retry import DEFAULT_MAX_RETRIES
from minimax_m3.stream import StreamReader
from minimax_m3.types import ChatRequest, ChatResult, StreamEvent
from minimax_m3.wire import Exchange, Poll, poll_delays

# The pools' closers are also reached from here, where they always were.
__all__ = [
    "DEFAULT_MAX_RETRIES",
    "StreamReader",
    "Transport",
    "aclose_shared_clients",
    "close_shared_clients",
]

logger = logging.getLogger("minimax_m3")

T = TypeVar("T")
# What a whole response means: a result, a queued task or a token count.
ReadResponse: TypeAlias = Callable[[httpx.Response], T]
# What a whole answer means for one call: its result(s), or a queued task to poll.
ReadAnswer: TypeAlias = Callable[[ChatRequest, Exchange, httpx.Response], "T | Poll"]


def one_answer(request: ChatRequest) -> None:
    """complete() returns one answer; a request for several must not lose the rest.
    (Validation refuses n > 1 where the format returns one answer, naming where it works.)"""
    if isinstance(request.n, int) and request.n > 1:
        raise ValueError(
            f"n={request.n!r} asks for several answers, which complete() cannot return; "
            "use complete_all()"
        )


async def _asleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


class Transport(Endpoint):
    """Sends neutral chat requests to one provider and returns neutral results.

    Both framework adapters hold one of these; it is safe to share between threads and
    between tasks of one event loop. What it sends and how it reads the answers is its
    ``Endpoint``'s; here are the loops that wait.
    """

    # Sync driver.

    def _sync_client(self) -> httpx.Client | httpx.HTTPTransport:
        return self._http_client or shared_sync_pool(self.timeout, self._proxy)

    def complete(self, request: ChatRequest) -> ChatResult:
        if self.profile.max_results.get(self.api, 1) > 1:
            one_answer(request)
        return self._complete(request, self.result_from_response)

    def complete_all(self, request: ChatRequest) -> list[ChatResult]:
        """Every answer of a request that asks for ``n`` of them, in order."""
        return self._complete(request, self.results_from_response)

    def _complete(self, request: ChatRequest, read: ReadAnswer[T]) -> T:
        http_request, exchange = self.build_http_request(request, stream=False)
        outcome = self._send(http_request, partial(read, request, exchange))
        started = time.monotonic()
        delays = poll_delays(first=self.poll_interval)
        while isinstance(outcome, Poll):
            if time.monotonic() - started > self.poll_budget:
                raise self.poll_timed_out(started, outcome)
            time.sleep(next(delays))
            poll = self.http_request(outcome.body, exchange.headers, stream=False)
            outcome = self._send(poll, partial(read, request, exchange))
        return outcome

    def count_tokens(self, request: ChatRequest) -> int:
        return self._send(self.count_tokens_request(request), self.input_tokens_from_response)

    def _send(self, http_request: httpx.Request, read: ReadResponse[T]) -> T:
        retries = 0
        while True:
            try:
                response = self._post(http_request, stream=False)
                return read(response)
            except MiniMaxM3Error as error:
                time.sleep(self.delay_or_raise(error, retries))
                retries += 1

    def _post(self, http_request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send a request, httpx's failures raised as ours. The body is read whole unless it
        is the event stream a streamed request asked for.

        The caller closes that one. Not a context manager: in the async driver one would be
        another async generator, and asyncio.run finalizes a loop's async generators all at
        once, so closing an abandoned stream failed "already running".
        """
        try:
            response = send(
                self._sync_client(),
                http_request,
                timeout=self.timeout,
                stream=stream,
                limit=self.max_response_bytes,
            )
        except httpx.HTTPError as exc:
            raise self.connection_error(exc) from exc
        logger.debug("POST %s -> HTTP %d", http_request.url, response.status_code)
        if not stream or _is_event_stream(response):
            return response
        try:
            read_body(response, self.max_response_bytes, deadline_after(self.timeout))
        except BaseException as exc:
            response.close()
            if isinstance(exc, httpx.HTTPError):
                raise self.connection_error(exc) from exc
            raise
        return response

    def stream(self, request: ChatRequest) -> Generator[StreamEvent, None, None]:
        http_request, exchange = self.build_http_request(request, stream=True)
        retries = 0
        while True:
            reader: StreamReader | None = None
            try:
                response = self._post(http_request, stream=True)
                try:
                    if not _is_event_stream(response):
                        yield from self.events_from_whole_response(request, exchange, response)
                        return
                    reader = self.new_stream_reader(request, exchange, response.headers)
                    quiet_since = time.monotonic()
                    try:
                        for chunk in response.iter_bytes():
                            yield from reader.feed(chunk)
                            if reader.progressed:
                                quiet_since = time.monotonic()
                            elif time.monotonic() - quiet_since > self.stream_idle_limit:
                                raise reader.stalled(self.stream_idle_limit)
                            if reader.state.stopped:
                                break
                    except httpx.HTTPError as exc:
                        scrub(exc, self._secrets)
                        raise reader.interrupted(interruption(exc), retryable=True) from exc
                finally:
                    response.close()
                yield from reader.close()
                return
            except MiniMaxM3Error as error:
                if reader is not None and reader.emitted:
                    self.redact(error)
                    raise
                time.sleep(self.delay_or_raise(error, retries))
                retries += 1

    def events_from_whole_response(
        self, request: ChatRequest, exchange: Exchange, response: httpx.Response
    ) -> list[StreamEvent]:
        """Errors, and servers that ignore ``stream: true``, answer with one JSON body."""
        outcome = self.whole_events(request, exchange, response)
        if isinstance(outcome, Poll):
            raise ProtocolError("a streamed request was answered with a queued task")
        return outcome

    # Async driver: the same loops, awaiting.

    def _async_client(self) -> httpx.AsyncClient | httpx.AsyncHTTPTransport:
        return self._http_async_client or shared_async_pool(self.timeout, self._proxy)

    async def acomplete(self, request: ChatRequest) -> ChatResult:
        if self.profile.max_results.get(self.api, 1) > 1:
            one_answer(request)
        return await self._acomplete(request, self.result_from_response)

    async def acomplete_all(self, request: ChatRequest) -> list[ChatResult]:
        """``complete_all``, awaited."""
        return await self._acomplete(request, self.results_from_response)

    async def _acomplete(self, request: ChatRequest, read: ReadAnswer[T]) -> T:
        http_request, exchange = self.build_http_request(request, stream=False)
        outcome = await self._asend(http_request, partial(read, request, exchange))
        started = time.monotonic()
        delays = poll_delays(first=self.poll_interval)
        while isinstance(outcome, Poll):
            if time.monotonic() - started > self.poll_budget:
                raise self.poll_timed_out(started, outcome)
            await _asleep(next(delays))
            poll = self.http_request(outcome.body, exchange.headers, stream=False)
            outcome = await self._asend(poll, partial(read, request, exchange))
        return outcome

    async def acount_tokens(self, request: ChatRequest) -> int:
        return await self._asend(
            self.count_tokens_request(request), self.input_tokens_from_response
        )

    async def _asend(self, http_request: httpx.Request, read: ReadResponse[T]) -> T:
        retries = 0
        while True:
            try:
                response = await self._apost(http_request, stream=False)
                return read(response)
            except MiniMaxM3Error as error:
                await _asleep(self.delay_or_raise(error, retries))
                retries += 1

    async def _apost(self, http_request: httpx.Request, *, stream: bool) -> httpx.Response:
        try:
            response = await asend(
                self._async_client(),
                http_request,
                timeout=self.timeout,
                stream=stream,
                limit=self.max_response_bytes,
            )
        except httpx.HTTPError as exc:
            raise self.connection_error(exc) from exc
        logger.debug("POST %s -> HTTP %d", http_request.url, response.status_code)
        if not stream or _is_event_stream(response):
            return response
        try:
            await aread_body(response, self.max_response_bytes, deadline_after(self.timeout))
        except BaseException as exc:
            await response.aclose()
            if isinstance(exc, httpx.HTTPError):
                raise self.connection_error(exc) from exc
            raise
        return response

    async def astream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        http_request, exchange = self.build_http_request(request, stream=True)
        retries = 0
        while True:
            reader: StreamReader | None = None
            try:
                response = await self._apost(http_request, stream=True)
                try:
                    if not _is_event_stream(response):
                        for event in self.events_from_whole_response(request, exchange, response):
                            yield event
                        return
                    reader = self.new_stream_reader(request, exchange, response.headers)
                    quiet_since = time.monotonic()
                    try:
                        async for chunk in response.aiter_bytes():
                            for event in reader.feed(chunk):
                                yield event
                            if reader.progressed:
                                quiet_since = time.monotonic()
                            elif time.monotonic() - quiet_since > self.stream_idle_limit:
                                raise reader.stalled(self.stream_idle_limit)
                            if reader.state.stopped:
                                break
                    except httpx.HTTPError as exc:
                        scrub(exc, self._secrets)
                        raise reader.interrupted(interruption(exc), retryable=True) from exc
                finally:
                    await response.aclose()
                for event in reader.close():
                    yield event
                return
            except MiniMaxM3Error as error:
                if reader is not None and reader.emitted:
                    self.redact(error)
                    raise
                await _asleep(self.delay_or_raise(error, retries))
                retries += 1


def _is_event_stream(response: httpx.Response) -> bool:
    """Errors, and servers that ignore ``stream: true``, answer with a JSON body; a proxy's
    login or error page comes as HTML. Anything else is read as events, whatever its
    content type says (some servers send them as text/plain)."""
    if not 200 <= response.status_code < 300:
        return False
    content_type = response.headers.get("content-type", "")
    return "json" not in content_type and "html" not in content_type
