"""Bad input fails before sending, with an error naming the argument and what is allowed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minimax_m3.providers import PROVIDERS
from minimax_m3.types import ChatRequest, ImagePart, Message, NamedToolChoice, ToolCall, ToolSpec
from minimax_m3.validation import arguments_json, validate_request

USER = Message(role="user", content="Hi")


def check(provider: str = "minimax", **kwargs: Any) -> None:
    kwargs.setdefault("model", "MiniMax-M3")
    kwargs.setdefault("messages", [USER])
    validate_request(ChatRequest(**kwargs), PROVIDERS[provider])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 2.5}, "temperature must be from 0 to 2; got 2.5"),
        ({"temperature": -0.1}, "temperature must be from 0 to 2"),
        ({"temperature": float("nan")}, "temperature must be a number"),
        ({"temperature": "hot"}, "temperature must be a number"),
        ({"top_p": 1.5}, "top_p must be from 0 to 1; got 1.5"),
        ({"max_tokens": 524_289}, "max_tokens must be 1 to 524,288 for MiniMax-M3"),
        ({"max_tokens": 0}, "max_tokens must be 1 to 524,288"),
        ({"max_tokens": 1.5}, "max_tokens must be an integer"),
        ({"model": "MiniMax-M2.7", "max_tokens": 300_000}, "1 to 204,800 for MiniMax-M2.7"),
        ({"n": 2}, "n must be 1"),
        ({"thinking": "enabled"}, "thinking must be 'adaptive', 'disabled' or None"),
        ({"stop": "END"}, "stop must be a list of strings"),
        ({"model": ""}, "model must be a non-empty model id"),
        ({"messages": []}, "messages must hold at least one message"),
        ({"tool_choice": "sometimes", "tools": [ToolSpec("f")]}, "tool_choice must be 'auto'"),
        ({"tool_choice": NamedToolChoice("g"), "tools": [ToolSpec("f")]}, "tool_choice names 'g'"),
        ({"tool_choice": "required"}, "needs at least one tool"),
        ({"tools": [ToolSpec("f"), ToolSpec("f")]}, "tool names must be unique"),
    ],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check(**kwargs)


def test_cloudflare_allows_temperature_up_to_one_only() -> None:
    check(temperature=2.0)
    with pytest.raises(ValueError, match=r"temperature must be from 0 to 1; got 1\.5"):
        check("cloudflare", model="minimax/m3", temperature=1.5)


def test_edges_of_the_ranges_are_allowed() -> None:
    check(temperature=0, top_p=1.0, max_tokens=524_288)
    check(temperature=2, top_p=0, max_tokens=1)


CALL = ToolCall("call_1", "f", "{}")
ASKS = Message(role="assistant", tool_calls=[CALL])
ANSWER = Message(role="tool", tool_call_id="call_1", content="ok")


def test_a_complete_tool_round_is_accepted() -> None:
    check(messages=[USER, ASKS, ANSWER, Message(role="user", content="thanks")])


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([USER, ANSWER], r"messages\[1\]: a tool result must directly follow"),
        ([USER, ASKS, USER, ANSWER], r"messages\[2\]: tool calls \['call_1'\]"),
        ([USER, ASKS], r"tool calls \['call_1'\] of the last assistant message have no result"),
        ([USER, ASKS, ANSWER, ANSWER], r"messages\[3\]: a tool result must directly follow"),
        (
            [USER, ASKS, Message(role="tool", tool_call_id="call_1", content=[ImagePart("x")])],
            r"messages\[2\]: a tool result must be text",
        ),
    ],
)
def test_tool_results_must_follow_their_call(messages: list[Message], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check(messages=messages)


def test_images_and_videos_need_a_model_that_sees_them() -> None:
    from minimax_m3.types import TextPart, VideoPart

    check(messages=[Message(role="user", content=[TextPart("?"), ImagePart("https://x/y.png")])])
    with pytest.raises(ValueError, match=r"messages\[0\]: MiniMax-M2.7 takes no image input"):
        check(
            model="MiniMax-M2.7", messages=[Message(role="user", content=[ImagePart("https://x")])]
        )
    with pytest.raises(ValueError, match=r"messages\[0\]: MiniMax-M2.5 takes no video input"):
        check(
            model="MiniMax-M2.5",
            messages=[Message(role="user", content=[VideoPart("mm_file://1")])],
        )


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(arguments=st.dictionaries(st.text(), _json_values, max_size=5))
def test_replayed_arguments_are_the_text_json_dumps_gives(arguments: dict[str, object]) -> None:
    # The arguments a history replays are encoded by one prebuilt C encoder; the text
    # must be json.dumps's, byte for byte, so a replayed prefix stays the same.
    assert arguments_json(arguments, "t") == json.dumps(arguments, ensure_ascii=False)


def test_arguments_that_hold_themselves_are_refused_by_name() -> None:
    arguments: dict[str, object] = {"city": "Paris"}
    arguments["again"] = arguments
    with pytest.raises(ValueError, match=r"tool call 'find': arguments\['again'\] holds a dict"):
        arguments_json(arguments, "find")
    # A failure leaves the shared encoder as it was.
    assert arguments_json({"city": "Paris"}, "find") == '{"city": "Paris"}'
