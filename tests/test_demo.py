"""`make demo` runs end to end against the emulator and says so."""

from __future__ import annotations

import re

import pytest

from examples import demo

# llama-index's agent workflows touch pydantic's deprecated attributes; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)


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
