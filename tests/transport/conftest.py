from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def seed_response() -> Callable[[str], dict[str, Any]]:
    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((FIXTURES / "seed" / f"{name}.json").read_text())
        return data

    return load


@pytest.fixture
def sse_body() -> Callable[[str], bytes]:
    def load(name: str) -> bytes:
        return (FIXTURES / "sse" / f"{name}.sse").read_bytes()

    return load
