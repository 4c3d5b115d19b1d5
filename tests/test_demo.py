"""`make demo` runs end to end against the emulator."""

from __future__ import annotations

import pytest

from examples import demo


def test_demo_runs_offline_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "Using the loopback emulator" in out
    assert "80 km/h" in out
    assert "tool call: get_weather({'city': 'Lisbon'})" in out
    assert "It is sunny in Lisbon, 24°C." in out
