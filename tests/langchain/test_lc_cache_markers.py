"""Explicit cache markers from LangChain: ChatAnthropic's convention (``cache_control`` on
content blocks, on a tool dict, in a tool's ``extras``), what reaches each wire format,
what is refused before sending, and the warning for M3 on MiniMax's Anthropic endpoint.

Every request here goes to the emulator, whose Anthropic route refuses markers where
Anthropic does; the bodies checked are the ones it recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from lc_helpers import Driver

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.errors import CacheMarkersIgnoredWarning
from minimax_m3.testing import MiniMaxEmulator, Reply

EPHEMERAL = {"type": "ephemeral"}
HOUR = {"type": "ephemeral", "ttl": "1h"}


@tool(extras={"cache_control": EPHEMERAL})
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}."


# An Anthropic-format tool dict, as ChatAnthropic users write it (AnthropicTool has
# cache_control).
FORECAST = {
    "name": "get_forecast",
    "description": "Tomorrow's weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    "cache_control": EPHEMERAL,
}


def marked_history() -> list[Any]:
    """System, AI and tool messages each carrying one marker (three, plus a tool's)."""
    return [
        SystemMessage(
            [{"type": "text", "text": "You are a terse forecaster.", "cache_control": EPHEMERAL}]
        ),
        HumanMessage("Weather in Paris?"),
        AIMessage(
            [{"type": "text", "text": "Checking.", "cache_control": EPHEMERAL}],
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
        ),
        ToolMessage(
            [{"type": "text", "text": "Sunny", "cache_control": HOUR}], tool_call_id="call_1"
        ),
    ]


def unmarked_history() -> list[Any]:
    return [
        SystemMessage("You are a terse forecaster."),
        HumanMessage("Weather in Paris?"),
        AIMessage(
            "Checking.",
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
        ),
        ToolMessage("Sunny", tool_call_id="call_1"),
    ]


def strip_markers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [strip_markers(v) for v in value]
    return value


async def test_markers_reach_the_anthropic_wire_on_the_blocks_they_follow(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    # M2.7 on MiniMax's Anthropic endpoint honours markers (anthropic-api-compatible-cache).
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages").bind_tools([get_weather])
    emulator.queue(Reply(text="Sunny."))
    await driver.invoke(model, marked_history())

    body = emulator.requests[-1].json
    # A marked system prompt goes as text blocks, the only form that carries one.
    assert body["system"] == [
        {"type": "text", "text": "You are a terse forecaster.", "cache_control": EPHEMERAL}
    ]
    assert body["tools"][0]["name"] == "get_weather"
    assert body["tools"][0]["cache_control"] == EPHEMERAL
    assert body["messages"][1]["content"][0] == {
        "type": "text",
        "text": "Checking.",
        "cache_control": EPHEMERAL,
    }
    # On the tool_result itself, where ChatAnthropic hoists it.
    [result] = body["messages"][2]["content"]
    assert result == {
        "type": "tool_result",
        "tool_use_id": "call_1",
        "content": "Sunny",
        "cache_control": HOUR,
    }


async def test_human_blocks_and_an_anthropic_tool_dict_carry_their_markers(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages").bind_tools([FORECAST])
    emulator.queue(Reply(text="Rain."))
    question = HumanMessage(
        [
            {"type": "text", "text": "A long document ...", "cache_control": EPHEMERAL},
            # A standard v1 block carries it in extras, as ChatAnthropic reads it.
            {"type": "text", "text": "Tomorrow in Oslo?", "extras": {"cache_control": HOUR}},
        ]
    )
    await driver.invoke(model, [question])

    body = emulator.requests[-1].json
    assert body["tools"] == [
        {
            "name": "get_forecast",
            "description": "Tomorrow's weather for a city.",
            "input_schema": FORECAST["input_schema"],
            "cache_control": EPHEMERAL,
        }
    ]
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "A long document ...", "cache_control": EPHEMERAL},
        {"type": "text", "text": "Tomorrow in Oslo?", "cache_control": HOUR},
    ]


async def test_chat_completions_sends_the_same_body_as_without_markers(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    """The OpenAI format has no marker field; MiniMax caches prefixes there by itself."""
    model = make_model().bind_tools([get_weather])
    emulator.queue(Reply(text="Sunny."), Reply(text="Sunny."))
    await driver.invoke(model, marked_history())
    await driver.invoke(model, unmarked_history())

    marked, unmarked = emulator.requests[-2:]
    assert b"cache_control" not in marked.body
    assert marked.body == unmarked.body


async def test_unmarked_anthropic_requests_keep_their_plain_shape(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages").bind_tools([FORECAST])
    emulator.queue(Reply(text="Sunny."), Reply(text="Sunny."))
    plain = make_model(model="MiniMax-M2.7", api="anthropic_messages").bind_tools(
        [{k: v for k, v in FORECAST.items() if k != "cache_control"}]
    )
    await driver.invoke(model, marked_history())
    await driver.invoke(plain, unmarked_history())

    marked, unmarked = (request.json for request in emulator.requests[-2:])
    assert unmarked["system"] == "You are a terse forecaster."
    assert b"cache_control" not in emulator.requests[-1].body
    # The markers are all that differs, once the system blocks are read as their text.
    stripped = strip_markers(marked)
    stripped["system"] = "".join(block["text"] for block in stripped["system"])
    assert stripped == unmarked


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ({"type": "persistent"}, r"messages\[0\]\.content\[0\]: cache_control must be"),
        ({"type": "ephemeral", "ttl": "10m"}, r"ttl must be '5m' or '1h'; got '10m'"),
        ({"type": "ephemeral", "scope": "global"}, r"only 'type' and 'ttl'; got 'scope'"),
        ("ephemeral", r"cache_control must be a dict"),
    ],
)
async def test_a_malformed_marker_is_refused_before_sending(
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_model: Callable[..., ChatMiniMaxM3],
    marker: Any,
    expected: str,
) -> None:
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages")
    message = HumanMessage([{"type": "text", "text": "Hi", "cache_control": marker}])
    with pytest.raises(ValueError, match=expected):
        await driver.invoke(model, [message])
    assert emulator.requests == []


async def test_a_fifth_marker_is_refused_naming_where_they_are(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages").bind_tools([get_weather])
    history = marked_history()
    history.insert(1, HumanMessage([{"type": "text", "text": "Doc", "cache_control": EPHEMERAL}]))
    with pytest.raises(ValueError, match=r"at most 4 cache_control markers.*got 5: tools\[0\]"):
        await driver.invoke(model, history)
    assert emulator.requests == []


async def test_m3_on_minimax_anthropic_warns_once_per_model(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    """pi#5605 and hermes-agent#83678: M3's /anthropic bills marked prompts in full."""
    model = make_model(api="anthropic_messages")
    emulator.queue(Reply(text="a"), Reply(text="b"), Reply(text="c"))
    question = [HumanMessage([{"type": "text", "text": "Hi", "cache_control": EPHEMERAL}])]
    with pytest.warns(CacheMarkersIgnoredWarning, match="api='chat_completions'") as caught:
        await driver.invoke(model, question)
    assert len(caught) == 1
    assert "earendil-works/pi#5605" in str(caught[0].message)
    # Once: filterwarnings=error would turn a second one into a failure here.
    await driver.invoke(model, question)
    # The markers still went out: the endpoint may honour them one day.
    assert emulator.requests[-1].json["messages"][0]["content"][0]["cache_control"] == EPHEMERAL
    # A new model instance says it again.
    with pytest.warns(CacheMarkersIgnoredWarning):
        await driver.invoke(make_model(api="anthropic_messages"), question)


@pytest.mark.parametrize(
    "config",
    [
        {"model": "MiniMax-M2.7", "api": "anthropic_messages"},
        {"api": "chat_completions"},
        {"provider": "cloudflare", "account_id": "acc", "api": "anthropic_messages"},
    ],
    ids=["minimax-m2.7-anthropic", "minimax-m3-chat-completions", "cloudflare-anthropic"],
)
async def test_no_warning_where_markers_are_honoured_or_not_sent(
    driver: Driver,
    emulator: MiniMaxEmulator,
    make_model: Callable[..., ChatMiniMaxM3],
    config: dict[str, Any],
) -> None:
    if config.get("provider") == "cloudflare":
        config = {**config, "base_url": emulator.cloudflare_base_url}
    model = make_model(**config).bind_tools([get_weather])
    emulator.queue(Reply(text="Sunny."))
    await driver.invoke(model, marked_history())  # filterwarnings=error: any warning fails


async def test_cloudflare_anthropic_keeps_a_string_system_and_the_other_markers(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    model = make_model(
        provider="cloudflare",
        account_id="acc",
        api="anthropic_messages",
        base_url=emulator.cloudflare_base_url,
    ).bind_tools([get_weather])
    emulator.queue(Reply(text="Sunny."))
    await driver.invoke(model, marked_history())

    body = emulator.requests[-1].json
    # Its /ai/v1/messages takes a string system prompt; the marker after it in the
    # messages covers the system prompt as part of its prefix.
    assert body["system"] == "You are a terse forecaster."
    assert body["tools"][0]["cache_control"] == EPHEMERAL
    assert body["messages"][2]["content"][0]["cache_control"] == HOUR
    assert json.dumps(body).count("cache_control") == 3


async def test_m3_on_minimax_anthropic_without_markers_does_not_warn(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    emulator.queue(Reply(text="Sunny."))
    model = make_model(api="anthropic_messages").bind_tools([FORECAST_PLAIN])
    await driver.invoke(model, unmarked_history())  # filterwarnings=error: a warning fails
    assert b"cache_control" not in emulator.requests[-1].body


FORECAST_PLAIN = {k: v for k, v in FORECAST.items() if k != "cache_control"}


async def test_a_call_s_cache_control_keyword_marks_the_last_block(
    driver: Driver, emulator: MiniMaxEmulator, make_model: Callable[..., ChatMiniMaxM3]
) -> None:
    """ChatAnthropic's ``invoke(..., cache_control=...)``, placed as it places it for
    transports without a request-level marker: on the newest block, a string becoming
    a text block."""
    model = make_model(model="MiniMax-M2.7", api="anthropic_messages")
    emulator.queue(Reply(text="a"), Reply(text="b"))
    await driver.invoke(model, [SystemMessage("Be brief."), HumanMessage("Hi")], cache_control=HOUR)
    assert emulator.requests[-1].json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": HOUR}]}
    ]
    assert emulator.requests[-1].json["system"] == "Be brief."

    await driver.invoke(
        model.bind_tools([get_weather]), unmarked_history(), cache_control=EPHEMERAL
    )
    [result] = emulator.requests[-1].json["messages"][-1]["content"]
    assert result["cache_control"] == EPHEMERAL
    assert emulator.requests[-1].body.count(b"cache_control") == 2  # and the tool's own

    with pytest.raises(ValueError, match="ttl must be '5m' or '1h'"):
        await driver.invoke(model, "Hi", cache_control={"type": "ephemeral", "ttl": "1d"})
    assert len(emulator.requests) == 2
