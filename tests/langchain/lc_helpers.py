"""Helpers for the LangChain adapter's tests: a sync/async driver, chunk merging and a
callback recorder."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessageChunk
from langchain_core.outputs import LLMResult
from langchain_core.runnables import Runnable

from langchain_minimax_m3 import ChatMiniMaxM3


@dataclass
class Driver:
    """Calls a runnable through its sync methods (in a worker thread) or its async ones.

    Tests await either the same way, so each behaviour is checked on both paths.
    """

    mode: str

    async def invoke(self, runnable: Runnable[Any, Any], value: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return await asyncio.to_thread(lambda: runnable.invoke(value, **kwargs))
        return await runnable.ainvoke(value, **kwargs)

    async def stream(self, runnable: Runnable[Any, Any], value: Any, **kwargs: Any) -> list[Any]:
        if self.mode == "sync":
            return await asyncio.to_thread(lambda: list(runnable.stream(value, **kwargs)))
        return [chunk async for chunk in runnable.astream(value, **kwargs)]

    async def batch(self, runnable: Runnable[Any, Any], values: list[Any]) -> list[Any]:
        if self.mode == "sync":
            return await asyncio.to_thread(lambda: runnable.batch(values))
        return await runnable.abatch(values)


def merge(chunks: list[Any]) -> AIMessageChunk:
    """The sum of streamed chunks, as a user would build it."""
    full: BaseMessageChunk | None = None
    for chunk in chunks:
        full = chunk if full is None else full + chunk
    assert isinstance(full, AIMessageChunk)
    return full


class M3Declarations:
    """What ChatMiniMaxM3 declares to langchain-tests, shared by the unit and the
    integration suites so they never claim different capabilities."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatMiniMaxM3

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_video_inputs(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[str]]:
        return {
            "invoke": ["cache_read_input", "reasoning_output"],
            "stream": ["cache_read_input", "reasoning_output"],
        }


class CallbackRecorder(BaseCallbackHandler):
    """What a model's callbacks receive: every token with its chunk, and each run's end."""

    def __init__(self) -> None:
        self.tokens: list[Any] = []
        self.chunks: list[Any] = []
        self.results: list[LLMResult] = []

    def on_llm_new_token(self, token: Any, *, chunk: Any = None, **kwargs: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(chunk)

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.results.append(response)
