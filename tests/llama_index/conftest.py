"""Fixtures for the LlamaIndex adapter: an LLM pointed at the emulator, and a sync/async runner.

Tests that take ``mode`` run twice: through the sync methods (in a worker thread, as a
sync program would call them) and through their async twins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from llama_helpers import Mode

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.pools import aclose_shared_clients
from minimax_m3.testing import MiniMaxEmulator


@pytest.fixture
async def make_llm(emulator: MiniMaxEmulator) -> AsyncIterator[Callable[..., MiniMaxM3]]:
    """Build a MiniMaxM3 aimed at the emulator; keyword arguments override the defaults."""

    def make(**kwargs: Any) -> MiniMaxM3:
        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", emulator.base_url)
        kwargs.setdefault("max_retries", 0)
        return MiniMaxM3(**kwargs)

    yield make
    await aclose_shared_clients()


@pytest.fixture
def llm(make_llm: Callable[..., MiniMaxM3]) -> MiniMaxM3:
    return make_llm()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    return Mode(request.param)
