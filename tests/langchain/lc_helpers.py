"""Helpers for the LangChain adapter's tests: a sync/async driver and chunk merging."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessageChunk
from langchain_core.runnables import Runnable


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
