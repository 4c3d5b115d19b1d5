"""Helpers shared by the LlamaIndex adapter tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse

from llama_index_minimax_m3 import MiniMaxM3


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


@dataclass
class Mode:
    """Calls the sync or the async form of an LLM method; tests await either the same way."""

    name: str

    @property
    def is_async(self) -> bool:
        return self.name == "async"

    async def chat(
        self, llm: MiniMaxM3, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponse:
        if self.is_async:
            return await llm.achat(messages, **kwargs)
        return await asyncio.to_thread(llm.chat, messages, **kwargs)

    async def stream_chat(
        self, llm: MiniMaxM3, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> list[ChatResponse]:
        if self.is_async:
            return [chunk async for chunk in await llm.astream_chat(messages, **kwargs)]
        return await asyncio.to_thread(lambda: list(llm.stream_chat(messages, **kwargs)))

    async def complete(self, llm: MiniMaxM3, prompt: str, **kwargs: Any) -> CompletionResponse:
        if self.is_async:
            return await llm.acomplete(prompt, **kwargs)
        return await asyncio.to_thread(llm.complete, prompt, **kwargs)

    async def stream_complete(
        self, llm: MiniMaxM3, prompt: str, **kwargs: Any
    ) -> list[CompletionResponse]:
        if self.is_async:
            return [chunk async for chunk in await llm.astream_complete(prompt, **kwargs)]
        return await asyncio.to_thread(lambda: list(llm.stream_complete(prompt, **kwargs)))

    async def chat_with_tools(self, llm: MiniMaxM3, tools: Any, **kwargs: Any) -> ChatResponse:
        if self.is_async:
            return await llm.achat_with_tools(tools, **kwargs)
        return await asyncio.to_thread(lambda: llm.chat_with_tools(tools, **kwargs))

    async def stream_chat_with_tools(
        self, llm: MiniMaxM3, tools: Any, **kwargs: Any
    ) -> list[ChatResponse]:
        if self.is_async:
            stream = await llm.astream_chat_with_tools(tools, **kwargs)
            return [chunk async for chunk in stream]
        return await asyncio.to_thread(lambda: list(llm.stream_chat_with_tools(tools, **kwargs)))

    async def call(self, sync_fn: Callable[..., Any], async_fn: Callable[..., Any]) -> Any:
        """Any pair of methods: ``sync_fn()`` in a thread, or ``await async_fn()``."""
        if self.is_async:
            return await async_fn()
        return await asyncio.to_thread(sync_fn)
