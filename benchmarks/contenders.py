"""The contenders: one way each to ask the loopback server for an answer.

Each builder takes ``base``, the server's root plus the path that picks the answer
(``http://127.0.0.1:PORT/json`` or ``.../sse/5000``), and returns a :class:`Contender`
with the three things the runner times: one call, one async call, one whole stream.
Every contender runs with its defaults: this is what a user gets out of the box.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

MODEL = "MiniMax-M3"
KEY = "bench-key"
PROMPT = "What is the capital of France?"


@dataclass
class Contender:
    name: str
    call: Callable[[], object]
    acall: Callable[[], Awaitable[object]]
    stream: Callable[[], int]
    """Reads one whole stream and returns how many items it yielded."""


def raw_httpx(base: str, chunks: int = 0, size: int = 0) -> Contender:
    """The floor: httpx posting prebuilt JSON and ``json.loads`` on the answer."""
    import httpx

    url = base + "/v1/chat/completions"
    headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    client = httpx.Client()
    async_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def call() -> object:
        return json.loads(client.post(url, content=json.dumps(body), headers=headers).content)

    async def acall() -> object:
        loop = asyncio.get_running_loop()
        async_client = async_clients.get(loop)
        if async_client is None:
            async_client = async_clients[loop] = httpx.AsyncClient()
        response = await async_client.post(url, content=json.dumps(body), headers=headers)
        return json.loads(response.content)

    def stream() -> int:
        # A minimal correct reader: every data line parsed, the text kept.
        count, parts = 0, []
        content = json.dumps(stream_body)
        with client.stream("POST", url, content=content, headers=headers) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:])["choices"]
                if choices:
                    text = choices[0]["delta"].get("content")
                    if text:
                        parts.append(text)
                count += 1
        "".join(parts)
        return count

    return Contender("raw httpx", call, acall, stream)


def httpx_floor(base: str, chunks: int = 0, size: int = 0) -> Contender:
    """The lowest-level path: httpx's transport with no client, ``pydantic_core`` JSON."""
    from benchmarks.httpx_floor import HttpxFloor

    floor = HttpxFloor(base)
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    stream_body = {**body, "stream_options": {"include_usage": True}}

    async def acall() -> object:
        return await floor.acall(body)

    return Contender(
        "httpx floor", lambda: floor.call(body), acall, lambda: floor.stream(stream_body)
    )


def model_for(name: str, base: str, tokens: tuple[str, ...] = (), http_client: Any = None) -> Any:
    """The model object behind contender ``name``, pointed at ``base``, with its defaults
    (a floor streams ``tokens``); ``http_client``, an ``httpx.Client``, replaces the
    default one of each contender that takes one."""
    client = {} if http_client is None else {"http_client": http_client}
    if name == "minimax_m3 Transport":
        from minimax_m3 import Transport

        return Transport(api_key=KEY, base_url=base, **client)
    if name == "ChatOpenAI":
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        return ChatOpenAI(model=MODEL, api_key=SecretStr(KEY), base_url=base + "/v1", **client)
    if name == "ChatMiniMaxM3":
        from pydantic import SecretStr

        from langchain_minimax_m3 import ChatMiniMaxM3

        return ChatMiniMaxM3(model=MODEL, api_key=SecretStr(KEY), base_url=base, **client)
    if name == "LangChain floor":
        from benchmarks.floors import FloorChatModel

        return FloorChatModel(tokens=tokens)
    if name == "OpenAILike":
        from llama_index.llms.openai_like import OpenAILike  # type: ignore[import-untyped]

        return OpenAILike(
            model=MODEL,
            api_key=KEY,
            api_base=base + "/v1",
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=1_000_000,
            **client,
        )
    if name == "MiniMaxM3":
        from llama_index_minimax_m3 import MiniMaxM3

        return MiniMaxM3(MODEL, api_key=KEY, base_url=base, **client)
    if name == "LlamaIndex floor":
        from benchmarks.floors import FloorLLM

        return FloorLLM(tokens=tokens)
    raise ValueError(f"no model for contender {name!r}")


def transport(base: str, chunks: int = 0, size: int = 0) -> Contender:
    from minimax_m3 import ChatRequest, Message

    client = model_for("minimax_m3 Transport", base)

    def request() -> ChatRequest:
        return ChatRequest(model=MODEL, messages=[Message(role="user", content=PROMPT)])

    def stream() -> int:
        return sum(1 for _ in client.stream(request()))

    async def acall() -> object:
        return await client.acomplete(request())

    return Contender("minimax_m3 Transport", lambda: client.complete(request()), acall, stream)


def _langchain(name: str, model: Any) -> Contender:
    def stream() -> int:
        return sum(1 for _ in model.stream(PROMPT))

    async def acall() -> object:
        return await model.ainvoke(PROMPT)

    return Contender(name, lambda: model.invoke(PROMPT), acall, stream)


def chat_openai(base: str, chunks: int = 0, size: int = 0) -> Contender:
    return _langchain("ChatOpenAI", model_for("ChatOpenAI", base))


def chat_minimax_m3(base: str, chunks: int = 0, size: int = 0) -> Contender:
    return _langchain("ChatMiniMaxM3", model_for("ChatMiniMaxM3", base))


def langchain_floor(base: str, chunks: int = 0, size: int = 0) -> Contender:
    from benchmarks.floors import floor_tokens

    name = "LangChain floor"
    return _langchain(name, model_for(name, base, floor_tokens(chunks, size)))


def _llama_index(name: str, llm: Any) -> Contender:
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="user", content=PROMPT)]

    def stream() -> int:
        return sum(1 for _ in llm.stream_chat(messages))

    async def acall() -> object:
        return await llm.achat(messages)

    return Contender(name, lambda: llm.chat(messages), acall, stream)


def openai_like(base: str, chunks: int = 0, size: int = 0) -> Contender:
    return _llama_index("OpenAILike", model_for("OpenAILike", base))


def minimax_m3_llm(base: str, chunks: int = 0, size: int = 0) -> Contender:
    return _llama_index("MiniMaxM3", model_for("MiniMaxM3", base))


def llama_index_floor(base: str, chunks: int = 0, size: int = 0) -> Contender:
    from benchmarks.floors import floor_tokens

    name = "LlamaIndex floor"
    return _llama_index(name, model_for(name, base, floor_tokens(chunks, size)))


BUILDERS: dict[str, Callable[[str, int, int], Contender]] = {
    "httpx floor": httpx_floor,
    "raw httpx": raw_httpx,
    "minimax_m3 Transport": transport,
    "ChatOpenAI": chat_openai,
    "ChatMiniMaxM3": chat_minimax_m3,
    "LangChain floor": langchain_floor,
    "OpenAILike": openai_like,
    "MiniMaxM3": minimax_m3_llm,
    "LlamaIndex floor": llama_index_floor,
}
