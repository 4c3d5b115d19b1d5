"""Fixtures shared by the whole test suite."""

from collections.abc import Iterator

import pytest

from minimax_m3.testing import MiniMaxEmulator

# tests/testing/test_pytest_plugin.py runs users' suites with our plugin in them.
pytest_plugins = ("pytester",)


@pytest.fixture
def emulator() -> Iterator[MiniMaxEmulator]:
    """A running MiniMax emulator on loopback, stopped after the test.

    It accepts any API key (or none); build ``MiniMaxEmulator(api_key=...)`` yourself to
    test authentication.
    """
    with MiniMaxEmulator() as emu:
        yield emu
