"""Fixtures for the LangChain adapter's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from lc_helpers import Driver

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.pools import aclose_shared_clients
from minimax_m3.testing import MiniMaxEmulator


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Runs each test once through the sync methods and once through the async ones."""
    return Driver(request.param)


@pytest.fixture(autouse=True)
async def _close_pooled_async_clients() -> AsyncIterator[None]:
    """The transport pools async clients per event loop; close them before the loop ends."""
    yield
    await aclose_shared_clients()


@pytest.fixture
def make_model(emulator: MiniMaxEmulator) -> Callable[..., ChatMiniMaxM3]:
    """ChatMiniMaxM3 pointed at the emulator; keyword arguments override the defaults."""

    def make(**kwargs: Any) -> ChatMiniMaxM3:
        kwargs.setdefault("api_key", "test-key")
        kwargs.setdefault("base_url", emulator.base_url)
        return ChatMiniMaxM3(**kwargs)

    return make
