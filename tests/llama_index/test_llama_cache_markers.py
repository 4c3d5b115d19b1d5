"""Explicit cache markers from LlamaIndex: a ``CachePoint`` marks the block before it, as
llama-index-llms-anthropic places it (``blocks_to_anthropic_blocks``), and a neutral
``ToolSpec`` may carry one. What reaches each wire format, what is refused before
sending, and the warning for M3 on MiniMax's Anthropic endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from llama_helpers import Mode
from llama_index.core.base.llms.types import (
    CacheControl,
    CachePoint,
    ChatMessage,
    TextBlock,
    ToolCallBlock,
)

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.errors import CacheMarkersIgnoredWarning
from minimax_m3.testing import MiniMaxEmulator, Reply
from minimax_m3.types import ToolSpec

# CacheControl's ttl defaults to "5m", so every marker it gives names one.
FIVE = {"type": "ephemeral", "ttl": "5m"}
HOUR = {"type": "ephemeral", "ttl": "1h"}
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    cache_control={"type": "ephemeral"},
)


def point(ttl: str = "5m") -> CachePoint:
    return CachePoint(cache_control=CacheControl(type="ephemeral", ttl=ttl))


def history(*, marked: bool) -> list[ChatMessage]:
    def mark(ttl: str = "5m") -> list[CachePoint]:
        return [point(ttl)] if marked else []

    return [
        ChatMessage(role="system", blocks=[TextBlock(text="You are terse."), *mark()]),
        ChatMessage(
            role="user",
            blocks=[TextBlock(text="A long report ..."), *mark(), TextBlock(text="Paris?")],
        ),
        ChatMessage(
            role="assistant",
            blocks=[
                TextBlock(text="Checking."),
                *mark(),
                ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={}),
            ],
        ),
        ChatMessage(
            role="tool",
            blocks=[TextBlock(text="Sunny"), *mark("1h")],
            additional_kwargs={"tool_call_id": "call_1"},
        ),
    ]


async def test_cache_points_mark_the_block_before_them_on_the_anthropic_wire(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(model="MiniMax-M2.7", api="anthropic_messages")
    emulator.queue(Reply(text="Sunny."))
    await mode.chat(llm, history(marked=True))

    body = emulator.requests[-1].json
    assert body["system"] == [{"type": "text", "text": "You are terse.", "cache_control": FIVE}]
    # Text runs cut after each marked block, newline-joined as ChatMessage.content joins.
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "A long report ...", "cache_control": FIVE},
        {"type": "text", "text": "\nParis?"},
    ]
    assert body["messages"][1]["content"][0] == {
        "type": "text",
        "text": "Checking.",
        "cache_control": FIVE,
    }
    assert body["messages"][1]["content"][1]["type"] == "tool_use"
    [result] = body["messages"][2]["content"]
    assert result["type"] == "tool_result"
    assert result["cache_control"] == HOUR


async def test_a_tool_spec_carries_its_marker_to_the_tool_definition(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(model="MiniMax-M2.7", api="anthropic_messages")
    emulator.queue(Reply(text="Sunny."))
    await mode.chat_with_tools(llm, [WEATHER], user_msg="Weather in Paris?")

    [tool] = emulator.requests[-1].json["tools"]
    assert tool == {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": WEATHER.parameters,
        "cache_control": {"type": "ephemeral"},
    }


async def test_chat_completions_sends_what_it_sent_without_cache_points(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(text="Sunny."), Reply(text="Sunny."))
    await mode.chat(llm, history(marked=True))
    await mode.chat(llm, history(marked=False))

    marked, unmarked = emulator.requests[-2:]
    assert b"cache_control" not in marked.body
    # The user turn goes as text parts instead of one string; its text is the same.
    marked_json, unmarked_json = marked.json, unmarked.json
    user = marked_json["messages"][1]
    assert (
        "".join(part["text"] for part in user["content"]) == unmarked_json["messages"][1]["content"]
    )
    user["content"] = unmarked_json["messages"][1]["content"]
    assert marked_json == unmarked_json


async def test_a_cache_point_with_nothing_before_it_is_refused(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(model="MiniMax-M2.7", api="anthropic_messages")
    message = ChatMessage(role="user", blocks=[point(), TextBlock(text="Hi")])
    with pytest.raises(ValueError, match="a CachePoint marks the text, image or video block"):
        await mode.chat(llm, [message])
    assert emulator.requests == []


async def test_more_than_four_cache_points_are_refused(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(model="MiniMax-M2.7", api="anthropic_messages")
    messages = history(marked=True)
    messages.insert(1, ChatMessage(role="user", blocks=[TextBlock(text="Doc"), point()]))
    messages.insert(2, ChatMessage(role="assistant", content="Read."))
    with pytest.raises(ValueError, match="at most 4 cache_control markers"):
        await mode.chat(llm, messages)
    assert emulator.requests == []


async def test_m3_on_minimax_anthropic_warns_once_and_cloudflare_does_not(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(api="anthropic_messages")
    emulator.queue(Reply(text="a"), Reply(text="b"), Reply(text="c"))
    with pytest.warns(CacheMarkersIgnoredWarning, match="NousResearch/hermes-agent#83678"):
        await mode.chat(llm, history(marked=True))
    await mode.chat(llm, history(marked=True))  # once per model: no second warning

    cloudflare = make_llm(
        provider="cloudflare",
        account_id="acc",
        api="anthropic_messages",
        base_url=emulator.cloudflare_base_url,
    )
    await mode.chat(cloudflare, history(marked=True))
    assert emulator.requests[-1].json["messages"][0]["content"][0]["cache_control"] == FIVE


async def test_two_cache_points_in_one_message_keep_its_text(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(model="MiniMax-M2.7", api="anthropic_messages")
    message = ChatMessage(
        role="system",
        blocks=[TextBlock(text="Rules."), point(), TextBlock(text="Tools."), point("1h")],
    )
    emulator.queue(Reply(text="ok"))
    await mode.chat(llm, [message, ChatMessage(role="user", content="Hi")])

    system = emulator.requests[-1].json["system"]
    assert system == [
        {"type": "text", "text": "Rules.", "cache_control": FIVE},
        {"type": "text", "text": "\nTools.", "cache_control": HOUR},
    ]
    # The same text as the message's own content, which the other formats send.
    assert "".join(block["text"] for block in system) == message.content
