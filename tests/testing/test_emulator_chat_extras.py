"""The Reply switches added for other servers, on MiniMax's own Chat Completions."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from minimax_m3.testing import Fault, Layout, MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply

PATH = "/v1/chat/completions"
USER = {"role": "user", "content": "Weather in Paris?"}
XML = (
    "<minimax:tool_call>\n"
    '<invoke name="get_weather">\n'
    '<parameter name="city">Paris</parameter>\n'
    '<parameter name="units">["C", "F"]</parameter>\n'
    "</invoke>\n"
    '<invoke name="broken">\n'
    '{"a": \n'
    "</invoke>\n"
    "</minimax:tool_call>"
)
CALLS = [
    ToolCallReply("get_weather", {"city": "Paris", "units": ["C", "F"]}),
    ToolCallReply("broken", '{"a": '),
]


def ask(emulator: MiniMaxEmulator, **extra: Any) -> dict[str, Any]:
    body = {"model": "MiniMax-M3", "messages": [USER], **extra}
    response = httpx.post(emulator.base_url + PATH, json=body, timeout=5.0)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_xml_tool_calls_replace_structured_calls(emulator: MiniMaxEmulator) -> None:
    emulator.queue(Reply(text="Checking.", tool_calls=CALLS, layout=Layout(xml_tool_calls=True)))

    choice = ask(emulator, reasoning_split=True)["choices"][0]

    assert choice["message"]["content"] == f"Checking.\n\n{XML}"
    assert "tool_calls" not in choice["message"]
    assert choice["finish_reason"] == "stop"


def test_xml_tool_calls_stream_after_mm_think_reasoning(emulator: MiniMaxEmulator) -> None:
    emulator.queue(
        Reply(
            reasoning="Tools.",
            tool_calls=CALLS,
            layout=Layout(xml_tool_calls=True, think_tag="mm:think"),
        )
    )
    body = {"model": "MiniMax-M3", "messages": [USER], "stream": True}

    with httpx.stream("POST", emulator.base_url + PATH, json=body) as response:
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]

    chunks = [json.loads(line) for line in lines[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == f"<mm:think>\nTools.\n</mm:think>\n\n{XML}"
    assert not [c for c in chunks if "tool_calls" in c["choices"][0]["delta"]]


def test_mm_think_tag_is_what_reasoning_replay_looks_for(emulator: MiniMaxEmulator) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="Use it.",
            tool_calls=[CALLS[0]],
            layout=Layout(think_tag="mm:think", omit_think_open=True),
        )
    )
    message = ask(emulator)["choices"][0]["message"]
    call_id = message["tool_calls"][0]["id"]
    result = {"role": "tool", "tool_call_id": call_id, "content": "24C"}
    body = {"model": "MiniMax-M3", "messages": [USER, message, result]}

    replayed = httpx.post(emulator.base_url + PATH, json=body)
    stripped = {**body, "messages": [USER, {**message, "content": "\n"}, result]}
    dropped = httpx.post(emulator.base_url + PATH, json=stripped)

    assert message["content"] == "Use it.\n</mm:think>\n\n"
    assert replayed.status_code == 200
    assert dropped.status_code == 400


def test_omit_tool_call_ids(emulator: MiniMaxEmulator) -> None:
    emulator.queue(Reply(tool_calls=[CALLS[0]], provider=ProviderOptions(omit_tool_call_ids=True)))

    [call] = ask(emulator, reasoning_split=True)["choices"][0]["message"]["tool_calls"]

    assert set(call) == {"type", "function", "index"}


def test_string_provider_code_in_the_minimax_envelope(emulator: MiniMaxEmulator) -> None:
    emulator.queue(Fault(status=503, provider_code="upstream", message="busy"))

    response = httpx.post(emulator.base_url + PATH, json={"model": "m", "messages": [USER]})

    assert response.status_code == 503
    assert response.json()["error"]["message"] == "busy (upstream)"


def test_new_reply_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="think_tag"):
        Layout(think_tag="<think>")
    with pytest.raises(ValueError, match="runware_tool_field"):
        ProviderOptions(runware_tool_field="calls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll_pending"):
        ProviderOptions(poll_pending=-1)
    with pytest.raises(ValueError, match="cost"):
        ProviderOptions(cost=-0.1)
