"""MiniMax's Anthropic-compatible endpoint as the emulator speaks it, seen over loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from minimax_m3.testing import (
    Fault,
    Layout,
    MiniMaxEmulator,
    ProviderOptions,
    Reply,
    StreamShape,
    ToolCallReply,
)

PATH = "/anthropic/v1/messages"
USER = {"role": "user", "content": "Weather in Paris?"}
ADAPTIVE = {"type": "adaptive"}
HEX64 = re.compile(r"[0-9a-f]{64}")
USAGE_KEYS = {
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
}
WEATHER = ToolCallReply("get_weather", {"city": "Paris", "days": 3})


@pytest.fixture
def client(emulator: MiniMaxEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as http:
        yield http


def body(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": "MiniMax-M3",
        "max_tokens": 1024,
        "messages": [USER],
        "thinking": ADAPTIVE,
    }
    request.update(overrides)
    return {key: value for key, value in request.items() if value is not None}


def events(response: httpx.Response) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, data) pairs of an event stream."""
    found: list[tuple[str | None, dict[str, Any]]] = []
    name: str | None = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            found.append((name, json.loads(line[len("data: ") :])))
            name = None
    return found


def stream(client: httpx.Client, request: dict[str, Any]) -> list[tuple[str | None, Any]]:
    with client.stream("POST", PATH, json={**request, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return events(response)


def error_of(response: httpx.Response) -> dict[str, Any]:
    envelope = response.json()
    assert set(envelope) == {"type", "error", "request_id"}
    assert envelope["type"] == "error"
    assert envelope["request_id"].startswith("req_")
    error: dict[str, Any] = envelope["error"]
    return error


# --- non-streamed answers -----------------------------------------------------------


def test_message_body_has_thinking_text_and_tool_use(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="Let me check.", reasoning="Use the tool.", tool_calls=[WEATHER]))

    response = client.post(PATH, json=body())

    assert response.status_code == 200
    message = response.json()
    assert set(message) == {
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
        "base_resp",
    }
    assert message["id"].startswith("msg_")
    assert (message["type"], message["role"], message["model"]) == (
        "message",
        "assistant",
        "MiniMax-M3",
    )
    thinking, text, tool_use = message["content"]
    assert thinking["type"] == "thinking"
    assert thinking["thinking"] == "Use the tool."
    assert HEX64.fullmatch(thinking["signature"])
    assert text == {"type": "text", "text": "Let me check."}
    assert tool_use["type"] == "tool_use"
    assert re.fullmatch(r"call_function_[a-z0-9]+_1", tool_use["id"])
    assert (tool_use["name"], tool_use["input"]) == ("get_weather", {"city": "Paris", "days": 3})
    assert message["stop_reason"] == "tool_use"
    assert message["stop_sequence"] is None
    assert set(message["usage"]) == USAGE_KEYS
    assert message["base_resp"] == {"status_code": 0, "status_msg": ""}
    assert response.headers["request-id"].startswith("req_")


@pytest.mark.parametrize("thinking", [None, {"type": "disabled"}], ids=["absent", "disabled"])
def test_no_thinking_block_unless_thinking_is_asked_for(
    emulator: MiniMaxEmulator, client: httpx.Client, thinking: dict[str, Any] | None
) -> None:
    emulator.queue(Reply(text="Paris.", reasoning="Easy."))

    message = client.post(PATH, json=body(thinking=thinking)).json()

    assert message["content"] == [{"type": "text", "text": "Paris."}]
    assert message["stop_reason"] == "end_turn"


def test_enabled_thinking_and_scripted_signature_usage_and_finish(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    usage = {"prompt_tokens": 40, "completion_tokens": 7, "cached_tokens": 128}
    emulator.queue(
        Reply(
            text="cut",
            reasoning="r",
            finish_reason="length",
            usage=usage,
            provider=ProviderOptions(signature="sig-1"),
        )
    )

    message = client.post(
        PATH, json=body(thinking={"type": "enabled", "budget_tokens": 2048})
    ).json()

    assert message["content"][0] == {"type": "thinking", "thinking": "r", "signature": "sig-1"}
    assert message["stop_reason"] == "max_tokens"
    assert message["usage"] == {
        "input_tokens": 40,
        "output_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 128,
    }


def test_default_reply_echoes_the_last_user_text(client: httpx.Client) -> None:
    message = client.post(PATH, json=body(messages=[{"role": "user", "content": "Hi"}])).json()

    assert message["content"][-1] == {"type": "text", "text": "Emulated reply to: Hi"}
    assert message["content"][0]["thinking"] == "The user wrote: Hi."


def test_xml_tool_calls_arrive_as_text(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Reply(text="Checking.", tool_calls=[WEATHER], layout=Layout(xml_tool_calls=True))
    )

    message = client.post(PATH, json=body(thinking=None)).json()

    assert message["content"] == [
        {
            "type": "text",
            "text": 'Checking.\n\n<minimax:tool_call>\n<invoke name="get_weather">\n'
            '<parameter name="city">Paris</parameter>\n<parameter name="days">3</parameter>\n'
            "</invoke>\n</minimax:tool_call>",
        }
    ]
    assert message["stop_reason"] == "end_turn"


# --- streams ------------------------------------------------------------------------


def test_stream_event_order(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Reply(
            text="Let me check.",
            reasoning="I should call the weather tool.",
            tool_calls=[WEATHER],
            usage={"cached_tokens": 128},
            stream=StreamShape(chunk_size=5, tool_args_chunk=4),
        )
    )

    seen = stream(client, body())

    names = [name for name, _ in seen]
    assert all(name == data["type"] for name, data in seen)
    assert names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-2:] == ["message_delta", "message_stop"]
    start = seen[0][1]["message"]
    assert start["content"] == []
    assert start["usage"]["cache_read_input_tokens"] == 128
    blocks: dict[int, list[dict[str, Any]]] = {}
    for name, data in seen:
        if name and name.startswith("content_block"):
            blocks.setdefault(data["index"], []).append(data)
    assert sorted(blocks) == [0, 1, 2]
    thinking = blocks[0]
    assert thinking[0]["content_block"]["type"] == "thinking"
    kinds = [event["delta"]["type"] for event in thinking[1:-1]]
    assert kinds[-1] == "signature_delta"
    assert set(kinds[:-1]) == {"thinking_delta"}
    assert "".join(e["delta"]["thinking"] for e in thinking[1:-2]) == (
        "I should call the weather tool."
    )
    assert HEX64.fullmatch(thinking[-2]["delta"]["signature"])
    assert thinking[-1]["type"] == "content_block_stop"
    text = "".join(event["delta"]["text"] for event in blocks[1][1:-1])
    assert text == "Let me check."
    tool = blocks[2]
    assert tool[0]["content_block"]["input"] == {}
    fragments = [event["delta"] for event in tool[1:-1]]
    assert {fragment["type"] for fragment in fragments} == {"input_json_delta"}
    assert len(fragments) > 1
    arguments = json.loads("".join(fragment["partial_json"] for fragment in fragments))
    assert arguments == {"city": "Paris", "days": 3}
    message_delta = seen[-2][1]
    assert message_delta["delta"]["stop_reason"] == "tool_use"
    assert message_delta["usage"]["output_tokens"] > 0


def test_stream_tool_input_whole(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(tool_calls=[WEATHER], provider=ProviderOptions(tool_input_whole=True)))

    seen = stream(client, body(thinking=None))

    starts = [d["content_block"] for n, d in seen if n == "content_block_start"]
    assert starts == [
        {
            "type": "tool_use",
            "id": starts[0]["id"],
            "name": "get_weather",
            "input": {"city": "Paris", "days": 3},
        }
    ]
    assert not [d for n, d in seen if n == "content_block_delta"]


# --- faults -------------------------------------------------------------------------

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@pytest.mark.parametrize(("status", "kind"), ERROR_TYPES.items())
def test_fault_uses_the_anthropic_envelope(
    emulator: MiniMaxEmulator, client: httpx.Client, status: int, kind: str
) -> None:
    emulator.queue(Fault(status=status, message="boom", provider_code=1000))

    response = client.post(PATH, json=body())

    assert response.status_code == status
    assert error_of(response) == {"type": kind, "message": "boom (1000)"}


def test_minimax_quirks_insufficient_balance_and_usage_limit(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(status=500, provider_code=1008), Fault(status=429, provider_code=2056))

    balance = client.post(PATH, json=body())
    limit = client.post(PATH, json=body())

    assert balance.status_code == 500
    assert error_of(balance) == {"type": "api_error", "message": "insufficient balance (1008)"}
    assert limit.status_code == 429
    error = error_of(limit)
    assert error["type"] == "rate_limit_error"
    assert re.search(r"resets at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(2056\)$", error["message"])


@pytest.mark.parametrize(("status", "kind"), [(500, "api_error"), (529, "overloaded_error")])
def test_fault_error_event_mid_stream(
    emulator: MiniMaxEmulator, client: httpx.Client, status: int, kind: str
) -> None:
    emulator.queue(Fault(status=status, message="Overloaded", error_after_events=4))

    seen = stream(client, body())

    assert len(seen) == 5
    name, error = seen[-1]
    assert name == "error"
    assert error["type"] == "error"
    assert error["error"] == {"type": kind, "message": "Overloaded"}


def test_fault_drop_truncate_and_end_without_finish(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Fault(drop_after_events=3),
        Fault(truncate_json_after_events=2),
        Fault(end_without_finish=True),
    )

    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", PATH, json=body(stream=True)) as dropped,
    ):
        for _ in dropped.iter_lines():
            pass
    with client.stream("POST", PATH, json=body(stream=True)) as truncated:
        data = [line for line in truncated.iter_lines() if line.startswith("data: ")]
    unfinished = stream(client, body())

    assert len(data) == 3
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(data[-1][len("data: ") :])
    names = [name for name, _ in unfinished]
    assert names[-1] == "content_block_stop"
    assert "message_delta" not in names


def test_fault_reset_and_non_stream_error_body(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(reset_before_response=True), Fault(error_after_events=0))

    with pytest.raises(httpx.TransportError):
        client.post(PATH, json=body())
    in_band = client.post(PATH, json=body())

    assert in_band.status_code == 200
    assert error_of(in_band)["type"] == "api_error"


# --- validation ---------------------------------------------------------------------

TOOL_USE = {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
ASSISTANT_TOOL = {"role": "assistant", "content": [TOOL_USE]}
RESULT = {
    "role": "user",
    "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "24C"}],
}

INVALID = {
    "max_tokens missing": ({"max_tokens": None}, "max_tokens"),
    "max_tokens zero": ({"max_tokens": 0}, "max_tokens"),
    "max_tokens over M3 cap": ({"max_tokens": 524_289}, "524288"),
    "model missing": ({"model": None}, "model"),
    "system role": ({"messages": [{"role": "system", "content": "Be brief."}, USER]}, "system"),
    "system not text blocks": ({"system": [{"type": "image"}]}, "system[0]"),
    "tool_result without tool_use": ({"messages": [USER, RESULT]}, "tool_result"),
    "tool_result after a later turn": (
        {
            "messages": [
                USER,
                ASSISTANT_TOOL,
                RESULT,
                {"role": "assistant", "content": "ok"},
                RESULT,
            ]
        },
        "tool_result",
    ),
    "tool_use left unanswered": (
        {"messages": [USER, ASSISTANT_TOOL, USER]},
        "no tool_result",
    ),
    "temperature above 2": ({"temperature": 2.5}, "temperature"),
    "top_p above 1": ({"top_p": 1.5}, "top_p"),
    "thinking type": ({"thinking": {"type": "on"}}, "thinking"),
    "empty messages": ({"messages": []}, "messages"),
    "tool_use in a user turn": (
        {"messages": [{"role": "user", "content": [TOOL_USE]}]},
        "tool_use",
    ),
    "tool without input_schema": ({"tools": [{"name": "f"}]}, "input_schema"),
}


@pytest.mark.parametrize(("overrides", "fragment"), INVALID.values(), ids=list(INVALID))
def test_invalid_requests_are_rejected_without_consuming_the_queue(
    emulator: MiniMaxEmulator, client: httpx.Client, overrides: dict[str, Any], fragment: str
) -> None:
    emulator.queue(Reply(text="queued"))
    request = body(**overrides)

    response = client.post(PATH, json=request)

    assert response.status_code == 400
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["message"].endswith("(2013)")
    assert fragment in error["message"]
    assert emulator.pending == 1
    assert client.post(PATH, json=body(thinking=None)).json()["content"][0]["text"] == "queued"


def test_valid_edge_values_and_tool_history_are_accepted(client: httpx.Client) -> None:
    history = [USER, ASSISTANT_TOOL, RESULT]
    for overrides in (
        {"temperature": 2, "top_p": 1},
        {"temperature": 0, "max_tokens": 524_288},
        {"system": "Be brief."},
        {"system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]},
        {"messages": history},
        {"tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]},
        {"tool_choice": {"type": "tool", "name": "get_weather"}},
    ):
        response = client.post(PATH, json=body(**overrides))
        assert response.status_code == 200, response.text


def test_require_reasoning_replay_wants_the_signed_thinking_block(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(Reply(reasoning="I need the tool.", tool_calls=[WEATHER]), Reply(text="Sunny."))
    first = client.post(PATH, json=body()).json()
    thinking, tool_use = first["content"]
    answer = {"type": "tool_result", "tool_use_id": tool_use["id"], "content": "24C"}

    def send_back(*blocks: dict[str, Any]) -> httpx.Response:
        turn = {"role": "assistant", "content": list(blocks)}
        return client.post(
            PATH, json=body(messages=[USER, turn, {"role": "user", "content": [answer]}])
        )

    dropped = send_back(tool_use)
    resigned = send_back({**thinking, "signature": "0" * 64}, tool_use)
    edited = send_back({**thinking, "thinking": "I need it."}, tool_use)
    verbatim = send_back(thinking, tool_use)

    for rejected in (dropped, resigned, edited):
        assert rejected.status_code == 400
        assert "replay its thinking block" in error_of(rejected)["message"]
    assert verbatim.json()["content"][-1] == {"type": "text", "text": "Sunny."}


# --- authentication and routing -----------------------------------------------------


def test_auth_takes_bearer_or_x_api_key() -> None:
    with MiniMaxEmulator(api_key="test-key") as emu, httpx.Client(base_url=emu.base_url) as http:
        missing = http.post(PATH, json=body())
        wrong = http.post(PATH, json=body(), headers={"Authorization": "Bearer nope"})
        bearer = http.post(PATH, json=body(), headers={"Authorization": "Bearer test-key"})
        x_api_key = http.post(PATH, json=body(), headers={"x-api-key": "test-key"})
        assert emu.anthropic_base_url == emu.base_url + "/anthropic"

    for response in (missing, wrong):
        assert response.status_code == 401
        error = error_of(response)
        assert error["type"] == "authentication_error"
        assert error["message"].endswith("(1004)")
    assert bearer.status_code == x_api_key.status_code == 200


def test_responder_sees_the_anthropic_body(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    seen: list[dict[str, Any]] = []

    def responder(request: dict[str, Any]) -> Reply:
        seen.append(request)
        return Reply(text=f"max {request['max_tokens']}")

    emulator.respond_with(responder)

    message = client.post(PATH, json=body(thinking=None, max_tokens=77)).json()

    assert message["content"] == [{"type": "text", "text": "max 77"}]
    assert seen[0]["max_tokens"] == 77


# Cache markers where Anthropic's API takes them (its TextBlockParam, ImageBlockParam,
# ToolUseBlockParam, ToolResultBlockParam and ToolParam all have cache_control).
MARK = {"type": "ephemeral"}
MARKED_TOOL = {"name": "get_weather", "input_schema": {"type": "object"}, "cache_control": MARK}


def marked_request(*extra_markers: dict[str, Any]) -> dict[str, Any]:
    """Four markers: a tool, a system block, a tool_use and its tool_result."""
    call = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
    return body(
        tools=[MARKED_TOOL],
        system=[{"type": "text", "text": "Be brief.", "cache_control": {**MARK, "ttl": "1h"}}],
        messages=[
            USER,
            {"role": "assistant", "content": [{**call, "cache_control": MARK}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": "Sunny",
                        "cache_control": MARK,
                    },
                    *extra_markers,
                ],
            },
        ],
    )


def test_cache_markers_are_accepted_where_anthropic_takes_them(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="ok"))
    response = client.post(PATH, json=marked_request())
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "ok"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (
            {"type": "text", "text": "More.", "cache_control": MARK},
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
        (
            {"type": "text", "text": "More.", "cache_control": {"type": "persistent"}},
            "messages[2].content[1].cache_control.type: Input should be 'ephemeral'",
        ),
        (
            {"type": "text", "text": "More.", "cache_control": {**MARK, "ttl": "2h"}},
            "cache_control.ttl: Input should be '5m' or '1h'",
        ),
    ],
    ids=["fifth-marker", "type", "ttl"],
)
def test_cache_markers_anthropic_refuses_are_refused(
    emulator: MiniMaxEmulator, client: httpx.Client, extra: dict[str, Any], fragment: str
) -> None:
    emulator.queue(Reply(text="queued"))
    response = client.post(PATH, json=marked_request(extra))

    assert response.status_code == 400
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert fragment in error["message"]
    assert emulator.pending == 1


def test_a_marked_thinking_block_is_refused(client: httpx.Client) -> None:
    thinking = {"type": "thinking", "thinking": "Hmm.", "signature": "s", "cache_control": MARK}
    request = body(messages=[USER, {"role": "assistant", "content": [thinking]}, USER])
    response = client.post(PATH, json=request)
    assert response.status_code == 400
    assert "thinking blocks cannot be marked" in error_of(response)["message"]
