"""The same chat model on every provider and wire format the transport speaks."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from lc_helpers import Driver, merge

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply
from minimax_m3.testing.script import ServerKind


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}."


def _base_url(emulator: MiniMaxEmulator, provider: str) -> str:
    return {
        "cloudflare": emulator.cloudflare_base_url,
        "runware": emulator.runware_base_url,
        "openai-compatible": emulator.base_url + "/v1",
    }.get(provider, emulator.base_url)


CONFIGS: dict[str, dict[str, Any]] = {
    "minimax": {"provider": "minimax"},
    "minimax-anthropic": {"provider": "minimax", "api": "anthropic_messages"},
    "cloudflare": {"provider": "cloudflare", "account_id": "acc"},
    "cloudflare-anthropic": {
        "provider": "cloudflare",
        "account_id": "acc",
        "api": "anthropic_messages",
    },
    "runware-tasks": {"provider": "runware"},
    "runware-chat": {"provider": "runware", "api": "chat_completions"},
}


@pytest.mark.parametrize("name", list(CONFIGS))
async def test_streamed_tool_turn_replays_its_reasoning_on_every_provider(
    driver: Driver, emulator: MiniMaxEmulator, name: str
) -> None:
    """Stream a tool call, merge the chunks, send them back: the provider gets the
    reasoning exactly as it sent it (signed thinking blocks on Anthropic Messages)."""
    config = CONFIGS[name]
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="I need the weather in Rome.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})],
            stream=StreamShape(chunk_size=5),
        ),
        Reply(reasoning="Got it.", text="Rome is sunny."),
    )
    model = ChatMiniMaxM3(
        api_key="test-key",
        base_url=_base_url(emulator, config["provider"]),
        thinking="adaptive",
        **config,
    ).bind_tools([get_weather])

    turn = merge(await driver.stream(model, "Weather in Rome?"))
    assert turn.additional_kwargs["reasoning_content"] == "I need the weather in Rome."
    assert turn.tool_calls[0]["args"] == {"city": "Rome"}
    history = [HumanMessage("Weather in Rome?"), turn, get_weather.invoke(turn.tool_calls[0])]
    final = await driver.invoke(model, history)

    assert final.content == "Rome is sunny."
    assert final.response_metadata["model_provider"] == "minimax"
    assert final.usage_metadata is not None
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("server", ["vllm", "sglang", "raw"])
async def test_self_hosted_server(
    driver: Driver, emulator: MiniMaxEmulator, server: ServerKind
) -> None:
    base_url = emulator.self_hosted_base_url(server)
    model = ChatMiniMaxM3(provider="openai-compatible", base_url=base_url)
    emulator.queue(Reply(text="Hi from vLLM.", reasoning="Greet back."))
    message = await driver.invoke(model, "Hi")
    assert message.content == "Hi from vLLM."
    assert message.additional_kwargs["reasoning_content"] == "Greet back."
    assert "authorization" not in emulator.requests[0].headers
