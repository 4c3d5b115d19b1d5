"""Every Python code block in the README runs as written, against the emulator."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minimax_m3.testing import MiniMaxEmulator, Reply, ToolCallReply

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
# llama-index touches pydantic's deprecated attributes; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
)

_FAKE = {"string": "x", "integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}


def forced_tool_calls(body: dict[str, Any]) -> Reply | None:
    """Answer a request that forces a tool call with a call whose arguments fit the schema;
    anything else gets the emulator's default echo."""
    tools = body.get("tools") or []
    if body.get("tool_choice") != "required" or not tools:
        return None
    function = tools[0]["function"]
    properties = function.get("parameters", {}).get("properties", {})
    arguments = {name: _FAKE.get(spec.get("type"), "x") for name, spec in properties.items()}
    return Reply(tool_calls=[ToolCallReply(function["name"], arguments)])


@pytest.fixture
def readme_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Snippets read their keys from the environment; MiniMax's base URL points at the
    # emulator, and the sockets guard stops anything that would leave loopback.
    for name in ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.setenv(name, "readme-test-key")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "readme-account")
    with MiniMaxEmulator() as emulator:
        emulator.respond_with(forced_tool_calls)
        monkeypatch.setenv("MINIMAX_BASE_URL", emulator.base_url)
        # ChatAnthropic, in the snippet that moves a history, talks to the same emulator.
        monkeypatch.setenv("ANTHROPIC_API_KEY", "readme-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url + "/anthropic")
        yield


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.usefixtures("readme_env")
@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code: str) -> None:
    namespace: dict[str, object] = {}
    try:
        exec(compile(code, str(README), "exec"), namespace)
    finally:
        close_chat_anthropics(namespace)


def close_chat_anthropics(namespace: dict[str, object]) -> None:
    """Close the httpx clients of the ChatAnthropics a snippet made: langchain-anthropic
    caches one per base URL for the life of the process, which held its connections to
    the stopped emulator until the interpreter exited, when closing them warned."""
    if "langchain_anthropic" not in sys.modules:
        return
    from langchain_anthropic import ChatAnthropic
    from langchain_anthropic._client_utils import _get_default_httpx_client

    for value in namespace.values():
        if isinstance(value, ChatAnthropic) and "_client" in vars(value):
            value._client.close()
    _get_default_httpx_client.cache_clear()
