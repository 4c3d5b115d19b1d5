"""Pytest fixtures for testing your own chains and agents against the emulator, offline.

Installed with ``minimax-m3`` and registered through the ``pytest11`` entry point, so a
test suite only names the fixtures it wants::

    def test_my_chain(minimax_emulator, chat_minimax_m3):
        minimax_emulator.queue(Reply(text="Paris", reasoning="The capital of France."))
        assert my_chain(chat_minimax_m3).invoke("Capital of France?") == "Paris"
        assert minimax_emulator.requests[0].json["model"] == "MiniMax-M3"

- ``minimax_emulator``: a fresh emulator for each test.
- ``minimax_emulator_session``: one emulator for the whole session; call ``reset()``
  where a test needs an empty queue, log and prompt cache (cache reads carry over too).
- ``minimax_env``: points code that builds its own model (``ChatMiniMaxM3()``,
  ``MiniMaxM3()``) at ``minimax_emulator``, through ``MINIMAX_BASE_URL`` and a placeholder
  ``MINIMAX_API_KEY``, for the test's duration.
- ``chat_minimax_m3`` (LangChain) and ``minimax_m3_llm`` (LlamaIndex): models wired to
  ``minimax_emulator``; a test asking for one whose framework is not installed is
  skipped, naming the extra to install.

The plugin defines fixtures and nothing else (no hooks, no options). It is a package of
its own, outside ``minimax_m3``, so that loading it imports nothing but pytest: the
emulator and the frameworks are imported when a fixture is used, and suites that use none
of them run as before. A fixture of the same name in your own ``conftest.py`` takes
precedence over these; ``-p no:minimax_m3`` turns the plugin off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from minimax_m3.testing.server import MiniMaxEmulator

EMULATOR_API_KEY = "emulator-test-key"
"""The key the fixtures' models send; the emulator they talk to accepts any key."""


def _started() -> MiniMaxEmulator:
    from minimax_m3.testing.server import MiniMaxEmulator

    return MiniMaxEmulator().start()


@pytest.fixture
def minimax_emulator() -> Iterator[MiniMaxEmulator]:
    """A MiniMax emulator of this test's own, on a free loopback port."""
    emulator = _started()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def minimax_emulator_session() -> Iterator[MiniMaxEmulator]:
    """One MiniMax emulator for the whole session; its queue, log and prompt cache carry
    over."""
    emulator = _started()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def minimax_env(
    minimax_emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> MiniMaxEmulator:
    """``MINIMAX_BASE_URL`` and ``MINIMAX_API_KEY`` set to reach ``minimax_emulator``."""
    monkeypatch.setenv("MINIMAX_BASE_URL", minimax_emulator.base_url)
    monkeypatch.setenv("MINIMAX_API_KEY", EMULATOR_API_KEY)
    return minimax_emulator


def _settings(emulator: MiniMaxEmulator) -> dict[str, Any]:
    return {"base_url": emulator.base_url, "api_key": EMULATOR_API_KEY}


@pytest.fixture
def chat_minimax_m3(minimax_emulator: MiniMaxEmulator) -> Any:
    """A LangChain ``ChatMiniMaxM3`` talking to ``minimax_emulator``."""
    pytest.importorskip(
        "langchain_core",
        reason='chat_minimax_m3 needs LangChain: install minimax-m3 with its "langchain" extra',
    )
    from langchain_minimax_m3 import ChatMiniMaxM3

    return ChatMiniMaxM3(**_settings(minimax_emulator))


@pytest.fixture
def minimax_m3_llm(minimax_emulator: MiniMaxEmulator) -> Any:
    """A LlamaIndex ``MiniMaxM3`` talking to ``minimax_emulator``."""
    pytest.importorskip(
        "llama_index.core",
        reason='minimax_m3_llm needs LlamaIndex: install minimax-m3 with its "llama-index" extra',
    )
    from llama_index_minimax_m3 import MiniMaxM3

    return MiniMaxM3(**_settings(minimax_emulator))
