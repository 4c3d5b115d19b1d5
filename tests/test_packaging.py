"""One version, told the same way everywhere; the Python the package claims is the one
the README claims and the one these tests run on. (The built wheel itself is checked by
``make wheel-check``: tests/packaging/check_wheel.py.)"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import tomllib

import minimax_m3

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once_and_read_by_the_metadata() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "minimax_m3/_version.py"
    assert importlib.metadata.version("minimax-m3") == minimax_m3.__version__


def test_the_changelog_has_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {minimax_m3.__version__}\n" in changelog


def test_the_python_claimed_is_the_python_tested() -> None:
    required = PYPROJECT["project"]["requires-python"]
    found = re.fullmatch(r">=3\.(\d+)", required)
    assert found, required
    minor = int(found.group(1))
    assert sys.version_info[:2] >= (3, minor)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python 3.{minor}+" in readme
    assert not re.search(rf"Python 3\.(?!{minor}\+)\d+\+", readme), "another claim in the README"


def test_every_install_line_in_the_docstrings_names_a_real_extra() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    sources = [
        path
        for package in ("minimax_m3", "langchain_minimax_m3", "llama_index_minimax_m3")
        for path in (ROOT / package).rglob("*.py")
    ]
    lines = [
        line
        for path in [*sources, ROOT / "README.md"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if "pip install" in line and "minimax-m3" in line
    ]
    assert lines
    for line in lines:
        for named in re.findall(r"minimax[-_]m3[^\[\s\"]*\[([\w,-]+)\]", line):
            assert set(named.split(",")) <= extras, line
        if 'pip install "minimax-m3[' in line:  # not on the package index yet
            assert " @ git+" in line, f"a line pip cannot install: {line}"
