"""Load: 1,000 async calls, 200 streams, 64 threads on one model, all within the pool.

Both adapters, on the transport's own pooled connections (the default a user gets), against
one emulator. Every call must come back with its own answer (the emulator echoes the
question, so a crossed wire would show), and the server must never have seen more
connections open at once than the pool allows.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from rel_helpers import (
    ASYNC_CALLS,
    FRAMEWORKS,
    KEY,
    POOL_LIMIT,
    STREAMS,
    THREADS,
    Driver,
    provider_settings,
)

from minimax_m3._gate import GatedAsyncPool
from minimax_m3.pools import close_shared_clients
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape


def answer_of(question: str) -> str:
    return f"Emulated reply to: {question}"


def build(framework: str, emulator: MiniMaxEmulator, **extra: Any) -> Any:
    return Driver(framework, "ainvoke").make(
        **provider_settings("minimax-chat", emulator), max_retries=0, **extra
    )


async def test_a_thousand_concurrent_async_calls(
    emulator: MiniMaxEmulator, shared_pools: None
) -> None:
    """Half through each adapter, all at once, on the pooled connections."""
    models = {framework: build(framework, emulator) for framework in FRAMEWORKS}

    async def call(number: int) -> None:
        framework = FRAMEWORKS[number % 2]
        question = f"call {number}"
        answer = await Driver(framework, "ainvoke").ask(models[framework], question)
        assert answer.text == answer_of(question)

    started = time.monotonic()
    results = await asyncio.gather(*(call(n) for n in range(ASYNC_CALLS)), return_exceptions=True)
    elapsed = time.monotonic() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} calls failed, first: {failures[0]!r}"
    assert len(emulator.requests) == ASYNC_CALLS
    assert 0 < emulator.peak_connections <= POOL_LIMIT
    print(f"\n{ASYNC_CALLS} async calls in {elapsed:.1f}s, peak {emulator.peak_connections}")


async def test_two_hundred_concurrent_streams(
    emulator: MiniMaxEmulator, shared_pools: None
) -> None:
    emulator.respond_with(
        lambda body: Reply(
            text=answer_of(body["messages"][-1]["content"]),
            reasoning="Streaming under load.",
            stream=StreamShape(chunk_size=6),
        )
    )
    models = {framework: build(framework, emulator) for framework in FRAMEWORKS}

    async def stream(number: int) -> None:
        framework = FRAMEWORKS[number % 2]
        question = f"stream {number}"
        answer = await Driver(framework, "astream").ask(models[framework], question)
        assert answer.text == answer_of(question)
        assert answer.reasoning == "Streaming under load."
        assert answer.chunks > 5

    started = time.monotonic()
    results = await asyncio.gather(*(stream(n) for n in range(STREAMS)), return_exceptions=True)
    elapsed = time.monotonic() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} streams failed, first: {failures[0]!r}"
    assert len(emulator.requests) == STREAMS
    assert 0 < emulator.peak_connections <= POOL_LIMIT
    print(f"\n{STREAMS} streams in {elapsed:.1f}s, peak {emulator.peak_connections}")


async def test_a_small_pool_of_your_own_is_never_exceeded(emulator: MiniMaxEmulator) -> None:
    """With ``http_async_client`` limited to 8 connections, 200 calls queue for them."""
    limit = 8
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=limit))
    models = {
        framework: build(framework, emulator, http_async_client=client) for framework in FRAMEWORKS
    }

    async def call(number: int) -> None:
        framework = FRAMEWORKS[number % 2]
        mode = "ainvoke" if number % 4 < 2 else "astream"
        answer = await Driver(framework, mode).ask(models[framework], f"q{number}")
        assert answer.text == answer_of(f"q{number}")

    await asyncio.gather(*(call(n) for n in range(200)))
    assert emulator.peak_connections <= limit
    await client.aclose()
    assert await asyncio.to_thread(emulator.wait_for_idle, 3.0)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_sixty_four_threads_share_one_model(
    framework: str, emulator: MiniMaxEmulator
) -> None:
    model = build(framework, emulator)

    def work(number: int) -> None:
        for mode in ("invoke", "stream"):
            question = f"thread {number} {mode}"
            answer = asyncio.run(Driver(framework, mode).ask(model, question))
            assert answer.text == answer_of(question)

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(work, range(THREADS)))
    finally:
        await asyncio.to_thread(close_shared_clients)
    assert len(emulator.requests) == 2 * THREADS
    assert 0 < emulator.peak_connections <= THREADS


async def test_the_shared_async_pool_admits_no_more_requests_than_connections(
    emulator: MiniMaxEmulator,
) -> None:
    """Product fix: requests wait at the pool's gate, not in httpcore's queue, whose
    scheduling scanned every waiter per response and starved the loop under load (1,000
    calls took 20 s and some failed with ConnectTimeout); a stream holds its place until
    it is closed."""
    pool = GatedAsyncPool(limits=httpx.Limits(max_connections=3))
    emulator.respond_with(
        lambda body: Reply(text="x" * 40, stream=StreamShape(chunk_size=4, event_delay=0.005))
    )
    url = emulator.chat_completions_url
    body = (
        b'{"model": "MiniMax-M3", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}'
    )

    async def stream() -> bytes:
        headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
        request = httpx.Request("POST", url, headers=headers, content=body)
        response = await pool.handle_async_request(request)
        try:
            return b"".join([chunk async for chunk in response.stream])
        finally:
            await response.aclose()

    bodies = await asyncio.gather(*(stream() for _ in range(12)))
    assert all(b"[DONE]" in b for b in bodies)
    assert emulator.peak_connections <= 3
    assert pool._gate is not None
    assert pool._gate._value == 3  # every place given back
    await pool.aclose()
