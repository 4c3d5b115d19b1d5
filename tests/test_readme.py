"""Every Python code block in the README runs as written (against the emulator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Snippets that only build a client read their keys from the environment; nothing
    # is sent, and the sockets guard would stop it if it were.
    for name in ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.setenv(name, "readme-test-key")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "readme-account")
    monkeypatch.delenv("MINIMAX_BASE_URL", raising=False)
    namespace: dict[str, object] = {}
    exec(compile(code, str(README), "exec"), namespace)
