"""Histories moved between ChatAnthropic (langchain-anthropic, run for real against the
emulator's Anthropic endpoint) and ChatMiniMaxM3 keep their thinking signatures.

The emulator's strict mode (``require_reasoning_replay``) answers 400 when a turn with
tool calls comes back without its thinking block, text and signature, as issued."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_anthropic._client_utils import _get_default_httpx_client
from langchain_anthropic.chat_models import AnthropicInvalidRequestError
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from langchain_minimax_m3 import ChatMiniMaxM3, to_anthropic_messages
from minimax_m3.testing import MiniMaxEmulator, Reply, ToolCallReply

KEY = "interop-key"


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}."


@pytest.fixture
def strict() -> Any:
    with MiniMaxEmulator(api_key=KEY, require_reasoning_replay=True) as emulator:
        yield emulator


_made: list[ChatAnthropic] = []


@pytest.fixture(autouse=True)
def _close_claudes() -> Iterator[None]:
    """Close the httpx clients of the ChatAnthropics a test made.

    langchain-anthropic keeps one per base URL in a functools.lru_cache for the life of
    the process, and every emulator has a port of its own: they held their connections
    to stopped emulators until the interpreter exited, when closing them warned.
    """
    yield
    for model in _made:
        if "_client" in vars(model):  # a cached_property, made on first use
            model._client.close()
    _made.clear()
    _get_default_httpx_client.cache_clear()


def claude(emulator: MiniMaxEmulator, **kwargs: Any) -> ChatAnthropic:
    # The Anthropic SDK posts to {base_url}/v1/messages: MiniMax's /anthropic root.
    model = ChatAnthropic(
        model="MiniMax-M3",
        api_key=KEY,
        base_url=emulator.base_url + "/anthropic",
        thinking={"type": "enabled", "budget_tokens": 2048},
        max_tokens=4096,
        max_retries=0,
        **kwargs,
    )
    _made.append(model)
    return model


def ours(emulator: MiniMaxEmulator, **kwargs: Any) -> ChatMiniMaxM3:
    return ChatMiniMaxM3(
        api_key=KEY, base_url=emulator.base_url, api="anthropic_messages", **kwargs
    )


def signatures(request_json: dict[str, Any]) -> list[str]:
    return [
        block["signature"]
        for message in request_json["messages"]
        if message["role"] == "assistant" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "thinking"
    ]


def a_turn_with_a_tool_call(model: Any, emulator: MiniMaxEmulator) -> list[Any]:
    emulator.queue(
        Reply(
            reasoning="Look up Paris.", tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]
        )
    )
    question = HumanMessage("Weather in Paris?")
    turn = model.bind_tools([get_weather]).invoke([question])
    assert turn.tool_calls
    return [question, turn, ToolMessage("Sunny.", tool_call_id=turn.tool_calls[0]["id"])]


@pytest.mark.parametrize("output_version", ["v0", "v1"])
def test_a_chatanthropic_history_replays_signed_through_chatminimaxm3(
    strict: MiniMaxEmulator, output_version: str
) -> None:
    history = a_turn_with_a_tool_call(claude(strict, output_version=output_version), strict)
    strict.queue(Reply(text="It is sunny in Paris."))
    answer = ours(strict).bind_tools([get_weather]).invoke(history)

    assert answer.content == "It is sunny in Paris."
    [signature] = signatures(strict.requests[-1].json)
    assert signature, "sent signed, as ChatAnthropic had it"


@pytest.mark.parametrize("output_version", ["v0", "v1"])
def test_our_history_replays_signed_through_chatanthropic(
    strict: MiniMaxEmulator, output_version: str
) -> None:
    history = a_turn_with_a_tool_call(ours(strict, output_version=output_version), strict)
    turn = history[1]
    assert isinstance(turn, AIMessage)
    [issued] = [d["signature"] for d in turn.additional_kwargs["reasoning_details"]]

    # ChatAnthropic sends thinking only from its own content shape.
    with pytest.raises(AnthropicInvalidRequestError, match="thinking block"):
        claude(strict).bind_tools([get_weather]).invoke(history)

    strict.queue(Reply(text="It is sunny in Paris."))
    answer = claude(strict).bind_tools([get_weather]).invoke(to_anthropic_messages(history))
    assert answer.text == "It is sunny in Paris."
    assert signatures(strict.requests[-1].json) == [issued]


def test_our_v1_content_carries_the_signature_as_chatanthropic_writes_it(
    strict: MiniMaxEmulator,
) -> None:
    history = a_turn_with_a_tool_call(ours(strict, output_version="v1"), strict)
    [reasoning] = [b for b in history[1].content if b["type"] == "reasoning"]
    assert reasoning["extras"]["signature"]
    strict.queue(Reply(text="Sunny."))
    ours(strict).bind_tools([get_weather]).invoke(history)
    assert signatures(strict.requests[-1].json) == [reasoning["extras"]["signature"]]
