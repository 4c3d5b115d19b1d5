"""Cancelled calls and streams left early: the connection is closed at once, not leaked.

After a task running ``ainvoke``/``astream`` (LangChain) or ``achat``/``astream_chat``
(LlamaIndex) is cancelled, or a caller stops reading a stream, the client's pool holds no
busy connection and the server sees none open, before the clients are closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rel_helpers import FRAMEWORKS, Clients, Driver, provider_settings, survived

from minimax_m3.testing import Fault, MiniMaxEmulator, Reply, StreamShape

LONG = Reply(text="x" * 400, reasoning="r" * 40, stream=StreamShape(chunk_size=2, event_delay=0.01))
SLOW = Fault(reply=Reply(text="too late"), delay=5.0)


async def assert_connection_closed(emulator: MiniMaxEmulator, clients: Clients) -> None:
    """Nothing open on either side, with the clients still open."""
    assert await asyncio.to_thread(emulator.wait_for_idle, 3.0), "the server still sees it"
    assert emulator.open_connections == 0
    assert clients.busy_connections() == 0
    await clients.close_and_check(emulator)


async def wait_for_request(emulator: MiniMaxEmulator) -> None:
    for _ in range(500):
        if emulator.requests:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the request never reached the emulator")


def build(framework: str, emulator: MiniMaxEmulator, clients: Clients) -> Any:
    settings = provider_settings("minimax-chat", emulator) | clients.settings()
    return Driver(framework, "ainvoke").make(**settings, max_retries=0)


async def consume(framework: str, model: Any, how: str, started: asyncio.Event) -> None:
    """Run one async call the way ``how`` says; set ``started`` once something arrived."""
    if how == "ainvoke":
        if framework == "langchain":
            await model.ainvoke("Hi")
        else:
            await model.achat([Driver(framework, "ainvoke").user("Hi")])
        return
    if framework == "langchain":
        async for _ in model.astream("Hi"):
            started.set()
    else:
        async for _ in await model.astream_chat([Driver(framework, "astream").user("Hi")]):
            started.set()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(
    ("how", "when"),
    [
        ("ainvoke", "waiting-for-the-response"),
        ("astream", "waiting-for-the-response"),
        ("astream", "mid-stream"),
    ],
)
async def test_cancelling_the_task_closes_the_connection(
    framework: str, how: str, when: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(SLOW if when == "waiting-for-the-response" else LONG)
    model = build(framework, emulator, clients)
    started = asyncio.Event()
    task = asyncio.create_task(consume(framework, model, how, started))
    if when == "mid-stream":
        await asyncio.wait_for(started.wait(), 5)
    else:
        await wait_for_request(emulator)
    assert emulator.open_connections == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_connection_closed(emulator, clients)
    survived()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("how", ["close", "drop-the-reference"])
async def test_leaving_a_sync_stream_early_closes_the_connection(
    framework: str, how: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(LONG)
    model = build(framework, emulator, clients)

    def read_two_chunks() -> None:
        if framework == "langchain":
            stream = model.stream("Hi")
        else:
            stream = model.stream_chat([Driver(framework, "stream").user("Hi")])
        for count, _ in enumerate(stream):
            if count == 1:
                break
        assert emulator.open_connections == 1
        if how == "close":
            stream.close()
        # else: the generator goes with this frame, as when a caller just breaks out

    await asyncio.to_thread(read_two_chunks)
    await assert_connection_closed(emulator, clients)
    survived()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_leaving_an_async_stream_early_closes_the_connection(
    framework: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(LONG)
    model = build(framework, emulator, clients)
    if framework == "langchain":
        stream = model.astream("Hi")
    else:
        stream = await model.astream_chat([Driver(framework, "astream").user("Hi")])
    await stream.__anext__()
    await stream.__anext__()
    await stream.aclose()
    await assert_connection_closed(emulator, clients)
    survived()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_pool_serves_the_next_call_after_a_cancellation(
    framework: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    emulator.queue(LONG, Reply(text="Still works."))
    model = build(framework, emulator, clients)
    started = asyncio.Event()
    task = asyncio.create_task(consume(framework, model, "astream", started))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    answer = await Driver(framework, "ainvoke").ask(model)
    assert answer.text == "Still works."
    assert len(emulator.requests) == 2
    await clients.close_and_check(emulator)
    survived()
