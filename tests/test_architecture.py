"""docs/ARCHITECTURE.md stays true: every file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PAGE = ROOT / "docs" / "ARCHITECTURE.md"


def test_every_file_the_architecture_page_names_exists() -> None:
    named = set(
        re.findall(
            r"`((?:minimax_m3|langchain_minimax_m3|llama_index_minimax_m3|pytest_minimax_m3"
            r"|tests)/[\w/.]+)`",
            PAGE.read_text(),
        )
    )
    assert len(named) > 20
    missing = sorted(path for path in named if not (ROOT / path.rstrip("/")).exists())
    assert missing == []


def test_every_package_module_is_on_the_page() -> None:
    text = PAGE.read_text()
    modules = [
        path.relative_to(ROOT).as_posix()
        for package in ("minimax_m3",)
        for path in (ROOT / package).glob("**/*.py")
        if path.name != "__init__.py" and "testing" not in path.parts
    ]
    # The small helpers every part uses need no row of their own.
    helpers = {
        "minimax_m3/jsonio.py",
        "minimax_m3/reasoning.py",
        "minimax_m3/_version.py",
    }
    unnamed = sorted(m for m in modules if m not in text and m not in helpers)
    assert unnamed == []
