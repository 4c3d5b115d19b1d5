"""Shared pieces of the reliability suite: both adapters behind one driver, every provider's
settings, clients that count attempts and prove their pool is empty, and the ledger the
REPORT.md figures come from.

A test names a framework (``langchain``, ``llama_index``) and a mode (``invoke``,
``ainvoke``, ``stream``, ``astream``) and gets the same :class:`Answer` whichever it is;
sync modes run in a worker thread so every test can be a coroutine on one event loop.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, ThinkingBlock

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.retry import RetryPolicy
from minimax_m3.testing import MiniMaxEmulator
from minimax_m3.transport import Transport

KEY = "sk-rel-4c1f0e9d7b5a3c2e1f0d9c8b7a6e5d4c"
"""The API key every test uses: long and unlike anything else, so a search for it in a log,
a pickle or a request body finds only a real leak."""

FRAMEWORKS = ("langchain", "llama_index")
MODES = ("invoke", "ainvoke", "stream", "astream")
STREAM_MODES = ("stream", "astream")
INVOKE_MODES = ("invoke", "ainvoke")

PROVIDERS = (
    "minimax-chat",
    "minimax-anthropic",
    "cloudflare-chat",
    "cloudflare-anthropic",
    "runware-tasks",
    "runware-chat",
    "self-hosted",
)
ACCOUNT = "acct-rel"

TINY_DELAYS = {"initial_delay": 0.001, "max_delay": 0.002}

# Load figures (test_rel_load.py) and hypothesis budgets, also quoted in REPORT.md.
ASYNC_CALLS = 1_000
STREAMS = 200
THREADS = 64
POOL_LIMIT = 100
"""The transport's shared pools open at most this many connections."""
PROPERTY_EXAMPLES = 150
FUZZ_EXAMPLES = 200


def provider_settings(name: str, emulator: MiniMaxEmulator) -> dict[str, Any]:
    """Constructor settings of one provider and wire format, aimed at the emulator."""
    return {
        "minimax-chat": {"provider": "minimax", "base_url": emulator.base_url},
        "minimax-anthropic": {
            "provider": "minimax",
            "api": "anthropic_messages",
            "base_url": emulator.base_url,
        },
        "cloudflare-chat": {
            "provider": "cloudflare",
            "base_url": emulator.cloudflare_base_url,
            "account_id": ACCOUNT,
        },
        "cloudflare-anthropic": {
            "provider": "cloudflare",
            "api": "anthropic_messages",
            "base_url": emulator.cloudflare_base_url,
            "account_id": ACCOUNT,
        },
        "runware-tasks": {"provider": "runware", "base_url": emulator.runware_base_url},
        "runware-chat": {
            "provider": "runware",
            "api": "chat_completions",
            "base_url": emulator.runware_base_url,
        },
        # A self-hosted server without parsers: M3's raw output, the hardest to read.
        "self-hosted": {
            "provider": "openai-compatible",
            "base_url": emulator.self_hosted_base_url("raw"),
        },
    }[name] | {"api_key": KEY}


# --- the model under test -------------------------------------------------------------


def transport_of(model: Any) -> Transport:
    """The transport a model of either framework sends through."""
    transport = model._transport
    assert isinstance(transport, Transport)
    return transport


def set_retry_delays(model: Any, **delays: float) -> None:
    """Keep the model's ``max_retries`` but wait ``delays`` between attempts.

    The adapters take only ``max_retries``; the waits are the transport's policy, which a
    test may shorten (tiny backoff) or stretch (to prove a Retry-After header is obeyed).
    """
    transport = transport_of(model)
    policy = transport.retry_policy
    transport.retry_policy = RetryPolicy(
        max_retries=policy.max_retries,
        initial_delay=delays.get("initial_delay", policy.initial_delay),
        max_delay=delays.get("max_delay", policy.max_delay),
        max_retry_after=delays.get("max_retry_after", policy.max_retry_after),
    )


@dataclass
class Answer:
    """What a call gave back, the same shape for both frameworks and every mode."""

    text: str
    reasoning: str
    tool_calls: list[tuple[str, dict[str, Any]]]
    chunks: int = 1


def _lc_answer(message: Any, chunks: int = 1) -> Answer:
    calls = [(call["name"], dict(call["args"])) for call in message.tool_calls]
    reasoning = str(message.additional_kwargs.get("reasoning_content", ""))
    return Answer(str(message.content), reasoning, calls, chunks)


def _llama_answer(model: MiniMaxM3, response: ChatResponse, chunks: int = 1) -> Answer:
    thinking = "".join(
        block.content or "" for block in response.message.blocks if isinstance(block, ThinkingBlock)
    )
    selections = model.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    calls = [(s.tool_name, dict(s.tool_kwargs)) for s in selections]
    return Answer(str(response.message.content or ""), thinking, calls, chunks)


def _merged(chunks: list[Any]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    return total


@dataclass(frozen=True)
class Driver:
    """One framework in one mode. ``ask`` awaits either the same way."""

    framework: str
    mode: str

    def __str__(self) -> str:
        return f"{self.framework}-{self.mode}"

    @property
    def streams(self) -> bool:
        return self.mode in STREAM_MODES

    @property
    def is_async(self) -> bool:
        return self.mode.startswith("a")

    def make(self, **settings: Any) -> Any:
        if self.framework == "langchain":
            return ChatMiniMaxM3(**settings)
        return MiniMaxM3(**settings)

    async def ask(self, model: Any, question: str = "Hi", **call_kwargs: Any) -> Answer:
        if self.framework == "langchain":
            return await self._ask_langchain(model, [HumanMessage(question)], call_kwargs)
        return await self._ask_llama(
            model, [ChatMessage(role="user", content=question)], call_kwargs
        )

    async def ask_messages(self, model: Any, messages: list[Any], **call_kwargs: Any) -> Answer:
        """Like :meth:`ask` with a whole history in the framework's own message type."""
        if self.framework == "langchain":
            return await self._ask_langchain(model, messages, call_kwargs)
        return await self._ask_llama(model, messages, call_kwargs)

    async def _ask_langchain(
        self, model: ChatMiniMaxM3, messages: list[BaseMessage], kwargs: dict[str, Any]
    ) -> Answer:
        if self.mode == "invoke":
            return _lc_answer(await asyncio.to_thread(model.invoke, messages, **kwargs))
        if self.mode == "ainvoke":
            return _lc_answer(await model.ainvoke(messages, **kwargs))
        if self.mode == "stream":
            chunks = await asyncio.to_thread(lambda: list(model.stream(messages, **kwargs)))
        else:
            chunks = [chunk async for chunk in model.astream(messages, **kwargs)]
        return _lc_answer(_merged(chunks), len(chunks))

    async def _ask_llama(
        self, model: MiniMaxM3, messages: list[ChatMessage], kwargs: dict[str, Any]
    ) -> Answer:
        if self.mode == "invoke":
            return _llama_answer(model, await asyncio.to_thread(model.chat, messages, **kwargs))
        if self.mode == "ainvoke":
            return _llama_answer(model, await model.achat(messages, **kwargs))
        if self.mode == "stream":
            responses = await asyncio.to_thread(lambda: list(model.stream_chat(messages, **kwargs)))
        else:
            responses = [r async for r in await model.astream_chat(messages, **kwargs)]
        return _llama_answer(model, responses[-1], len(responses))

    def user(self, text: str) -> Any:
        if self.framework == "langchain":
            return HumanMessage(text)
        return ChatMessage(role="user", content=text)


def all_drivers() -> list[Driver]:
    return [Driver(f, m) for f in FRAMEWORKS for m in MODES]


# --- connections -----------------------------------------------------------------------


# Building an SSL context loads the CA bundle (tens of milliseconds); the suite makes
# hundreds of clients, all for plain-HTTP loopback, so they share this one.
TLS = ssl.create_default_context()


class Clients:
    """A sync and an async httpx client of the test's own, counting every attempt.

    The ``request`` event hook fires once per request sent, before connecting, so it
    counts attempts even when no server answers (connection refused).
    """

    def __init__(self, **client_kwargs: Any) -> None:
        self._lock = threading.Lock()
        self.attempts = 0

        def count(_: httpx.Request) -> None:
            with self._lock:
                self.attempts += 1

        async def acount(request: httpx.Request) -> None:
            count(request)

        client_kwargs.setdefault("verify", TLS)
        self.sync = httpx.Client(event_hooks={"request": [count]}, **client_kwargs)
        self.async_ = httpx.AsyncClient(event_hooks={"request": [acount]}, **client_kwargs)

    def settings(self) -> dict[str, Any]:
        return {"http_client": self.sync, "http_async_client": self.async_}

    def busy_connections(self) -> int:
        """Connections of either pool still serving a request (neither idle nor closed)."""
        busy = 0
        for client in (self.sync, self.async_):
            pool = client._transport._pool  # type: ignore[attr-defined]
            busy += len(pool._requests)
            busy += sum(1 for conn in pool.connections if not (conn.is_idle() or conn.is_closed()))
        return busy

    async def close_and_check(self, emulator: MiniMaxEmulator | None) -> None:
        """Assert no request holds a connection, close both clients, and assert the server
        sees no connection left open."""
        assert self.busy_connections() == 0, "a connection is still checked out of the pool"
        await asyncio.to_thread(self.sync.close)
        await self.async_.aclose()
        if emulator is not None:
            assert await asyncio.to_thread(emulator.wait_for_idle, 3.0)
            assert emulator.open_connections == 0

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)
        await self.async_.aclose()


# --- the ledger behind REPORT.md -------------------------------------------------------

FAULT, BAD_INPUT, SECRET = "faults survived", "bad inputs tried", "secrets checks"


class Ledger:
    """Counts what each test proved; conftest.py keeps the counts of tests that passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: str | None = None
        self.by_test: dict[str, Counter[str]] = {}

    def add(self, kind: str, n: int = 1) -> None:
        with self._lock:
            if self.current is not None:
                self.by_test.setdefault(self.current, Counter())[kind] += n


LEDGER = Ledger()


def survived(n: int = 1) -> None:
    """``n`` injected faults were met with the right error or a recovery."""
    LEDGER.add(FAULT, n)


def tried_bad_input(n: int = 1) -> None:
    """``n`` invalid arguments were refused before anything was sent."""
    LEDGER.add(BAD_INPUT, n)


def checked_secret(n: int = 1) -> None:
    """``n`` places were searched for the API key and did not hold it."""
    LEDGER.add(SECRET, n)
