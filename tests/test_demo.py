"""`make demo` runs end to end against the emulator and says so."""

from __future__ import annotations

import itertools
import re

import pytest

from examples import demo
from minimax_m3.testing.prompt_cache import MIN_CACHED_PROMPT

# llama-index's agent workflows touch pydantic's deprecated attributes; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)
CACHE_LINE = re.compile(
    r"^turn (\d+): ([\d,]+) of ([\d,]+) input tokens read from cache \((\d+)%\)$", re.M
)


def cache_turns(out: str) -> list[tuple[int, int, int, int]]:
    """(turn, cached, input tokens, percent) of each printed cache line."""
    return [
        (int(turn), int(cached.replace(",", "")), int(total.replace(",", "")), int(share))
        for turn, cached, total, share in CACHE_LINE.findall(out)
    ]


def assert_cache_figures(turns: list[tuple[int, int, int, int]]) -> None:
    """One agent's lines as the emulator's cache model makes them: nothing cached on the
    first turn, then each turn reads the whole previous prompt (which it repeats byte for
    byte) and only its new messages are fresh."""
    assert [turn for turn, *_ in turns] == [1, 2, 3]
    assert turns[0][2] >= MIN_CACHED_PROMPT
    assert turns[0][1] == 0
    for previous, current in itertools.pairwise(turns):
        assert current[1] == previous[2]
        assert current[2] > previous[2]
    for _, cached, total, share in turns:
        assert share == round(100 * cached / total)


def test_demo_runs_offline_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    assert demo.main() == 0
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert out.count("[offline: no MINIMAX_API_KEY set") == 4
    assert "Speed is distance over time" in out
    assert "80 km/h" in out
    assert "tool call: get_weather({'city': 'Lisbon'})" in out
    assert "tool call: celsius_to_fahrenheit({'celsius': 24})" in out
    assert "Four coffees cost 14.0." in out
    assert "1,000,000 tokens" in out
    assert "source: m3_overview.md" in out
    turns = cache_turns(out)
    assert len(turns) == 6, "three turns of each agent"
    assert_cache_figures(turns[:3])
    assert_cache_figures(turns[3:])
    assert turns[2][3] >= 80, "the last LangChain turn is mostly read from cache"
