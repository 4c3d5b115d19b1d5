"""The MiniMax emulator, observed the way any HTTP client would see it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from minimax_m3.testing import Fault, Layout, MiniMaxEmulator, Reply, StreamShape, ToolCallReply

PATH = "/v1/chat/completions"
QUESTION = "What is the capital of France?"

# Keys of the MiniMax-M3 raw responses captured on Cloudflare's model page (its own
# gatewayMetadata left out), plus completion_tokens_details that MiniMax sends on M2.x.
SEED_TOP_KEYS = {
    "id",
    "choices",
    "created",
    "model",
    "object",
    "usage",
    "input_sensitive",
    "output_sensitive",
    "base_resp",
    "input_sensitive_type",
    "output_sensitive_type",
    "output_sensitive_int",
}
SEED_MESSAGE_KEYS = {
    "role",
    "content",
    "name",
    "audio_content",
    "reasoning_content",
    "reasoning_details",
}
SEED_USAGE_KEYS = {
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_characters",
    "prompt_tokens_details",
    "completion_tokens_details",
}
DETAIL_KEYS = {"type", "id", "format", "index", "text"}


@pytest.fixture
def client(emulator: MiniMaxEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as http:
        yield http


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "MiniMax-M3",
        "messages": [{"role": "user", "content": QUESTION}],
        "reasoning_split": True,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def stream_body(**overrides: Any) -> dict[str, Any]:
    return request_body(stream=True, stream_options={"include_usage": True}, **overrides)


def data_lines(client: httpx.Client, body: dict[str, Any]) -> list[str]:
    with client.stream("POST", PATH, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


def for_each_event(response: httpx.Response, action: Callable[[str], object]) -> None:
    for line in response.iter_lines():
        if line.startswith("data: "):
            action(line)


def chunks(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    lines = data_lines(client, body)
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def deltas(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event["choices"][0]["delta"] for event in events if event["choices"]]


def tool_fragments(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for delta in deltas(events) for item in delta.get("tool_calls", [])]


def error_message(response: httpx.Response) -> str:
    envelope = response.json()
    assert envelope["type"] == "error"
    assert envelope["error"]["http_code"] == str(response.status_code)
    message: str = envelope["error"]["message"]
    return message


def weather_turn(call_id: str = "call_function_abc_1", **extra: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": "\n",
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
        **extra,
    }


def tool_result(
    call_id: str = "call_function_abc_1", content: Any = "24C, sunny"
) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


USER = {"role": "user", "content": "Weather in Paris?"}
NOT_FOLLOW = "invalid params, tool call result does not follow tool call"


# --- non-streamed answers -----------------------------------------------------------


def test_non_stream_body_has_the_keys_of_real_responses(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="The capital of France is **Paris**.", reasoning="Simple fact."))

    response = client.post(PATH, json=request_body())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SEED_TOP_KEYS
    assert response.headers["trace-id"] == body["id"]
    assert body["object"] == "chat.completion"
    assert body["model"] == "MiniMax-M3"
    assert body["base_resp"] == {"status_code": 0, "status_msg": ""}
    choice = body["choices"][0]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert set(message) == SEED_MESSAGE_KEYS
    assert message["content"] == "The capital of France is **Paris**."
    assert message["name"] == "MiniMax AI"
    assert message["reasoning_content"] == "Simple fact."
    [detail] = message["reasoning_details"]
    assert set(detail) == DETAIL_KEYS
    assert detail["text"] == "Simple fact."
    assert detail["format"] == "MiniMax-response-v1"
    assert set(body["usage"]) == SEED_USAGE_KEYS
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_non_stream_tool_calls_look_like_minimax(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(
            reasoning="Call the tool.",
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}),
                ToolCallReply("f", '{"a": '),
            ],
        )
    )

    body = client.post(PATH, json=request_body()).json()

    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] == "\n"
    first, second = message["tool_calls"]
    assert re.fullmatch(r"call_function_[a-z0-9]+_1", first["id"])
    assert first["type"] == "function"
    assert json.loads(first["function"]["arguments"]) == {"city": "Paris"}
    assert second["function"] == {"name": "f", "arguments": '{"a": '}
    assert first["id"] != second["id"]


def test_usage_and_model_can_be_scripted(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "cached_tokens": 3, "reasoning_tokens": 2}
    emulator.queue(Reply(text="x", usage=usage, model="MiniMax-M3-served", finish_reason="length"))

    body = client.post(PATH, json=request_body()).json()

    assert body["model"] == "MiniMax-M3-served"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["total_tokens"] == 15
    assert body["usage"]["prompt_tokens_details"] == {"cached_tokens": 3}
    assert body["usage"]["completion_tokens_details"] == {"reasoning_tokens": 2}


@pytest.mark.parametrize("field", ["reasoning_details", "reasoning_content", "reasoning"])
def test_non_stream_reasoning_field_can_be_chosen(
    emulator: MiniMaxEmulator, client: httpx.Client, field: Any
) -> None:
    emulator.queue(Reply(text="x", reasoning="thought", layout=Layout(reasoning_field=field)))

    message = client.post(PATH, json=request_body()).json()["choices"][0]["message"]

    assert set(message) - {"role", "content", "name", "audio_content"} == {field}


def test_without_reasoning_split_thinking_is_inline(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(text="Paris.", reasoning="Easy."),
        Reply(text="Paris.", reasoning="Easy.", layout=Layout(omit_think_open=True)),
    )

    tagged = client.post(PATH, json=request_body(reasoning_split=None)).json()
    untagged = client.post(PATH, json=request_body(reasoning_split=None)).json()

    message = tagged["choices"][0]["message"]
    assert message["content"] == "<think>\nEasy.\n</think>\n\nParis."
    assert "reasoning_content" not in message
    assert "reasoning_details" not in message
    assert untagged["choices"][0]["message"]["content"] == "Easy.\n</think>\n\nParis."


def test_default_reply_echoes_the_last_user_text(client: httpx.Client) -> None:
    message = client.post(PATH, json=request_body()).json()["choices"][0]["message"]

    assert message["content"] == f"Emulated reply to: {QUESTION}"
    assert message["reasoning_content"] == f"The user wrote: {QUESTION}."


# --- streams ------------------------------------------------------------------------


def test_stream_order_and_usage_only_final_chunk(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(
            text="Paris is the capital.",
            reasoning="The user asks a fact.",
            tool_calls=[ToolCallReply("lookup", {"q": "France"})],
            usage={"prompt_tokens": 7, "cached_tokens": 4, "reasoning_tokens": 5},
        )
    )

    events = chunks(client, stream_body())

    kinds = []
    for event in events[:-2]:
        delta = event["choices"][0]["delta"]
        kinds.append(next(k for k in ("reasoning_details", "content", "tool_calls") if k in delta))
        assert delta["role"] == "assistant"
        assert delta["name"] == "MiniMax AI"
        assert event["usage"] is None
        assert event["object"] == "chat.completion.chunk"
        assert "finish_reason" not in event["choices"][0]
    assert kinds == sorted(kinds, key=["reasoning_details", "content", "tool_calls"].index)
    assert set(kinds) == {"reasoning_details", "content", "tool_calls"}
    finish, usage_chunk = events[-2:]
    assert finish["choices"][0]["finish_reason"] == "tool_calls"
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["prompt_tokens"] == 7
    assert usage_chunk["usage"]["prompt_tokens_details"] == {"cached_tokens": 4}
    assert usage_chunk["usage"]["completion_tokens_details"] == {"reasoning_tokens": 5}
    assert len({event["id"] for event in events}) == 1
    text = "".join(d.get("content", "") for d in deltas(events))
    assert text == "Paris is the capital."


def test_stream_without_include_usage_has_no_usage_chunk(client: httpx.Client) -> None:
    events = chunks(client, request_body(stream=True))

    assert all(event["choices"] for event in events)
    assert all(event["usage"] is None for event in events)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("incremental", ["abcd", "efgh", "ij"]),
        ("cumulative", ["abcd", "abcdefgh", "abcdefghij"]),
    ],
)
def test_stream_reasoning_modes(
    emulator: MiniMaxEmulator, client: httpx.Client, mode: Any, expected: list[str]
) -> None:
    emulator.queue(
        Reply(
            text="ok", reasoning="abcdefghij", stream=StreamShape(chunk_size=4, reasoning_mode=mode)
        )
    )

    events = chunks(client, stream_body())

    pieces = [d["reasoning_details"][0]["text"] for d in deltas(events) if "reasoning_details" in d]
    assert pieces == expected


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_stream_reasoning_field_can_be_chosen(
    emulator: MiniMaxEmulator, client: httpx.Client, field: Any
) -> None:
    emulator.queue(
        Reply(text="ok", reasoning="thinking hard", layout=Layout(reasoning_field=field))
    )

    found = [d[field] for d in deltas(chunks(client, stream_body())) if field in d]

    assert "".join(found) == "thinking hard"


@pytest.mark.parametrize(
    ("omit_open", "expected"),
    [
        (False, "<think>\nPondering.\n</think>\n\nAnswer."),
        (True, "Pondering.\n</think>\n\nAnswer."),
    ],
)
def test_stream_think_tags_inline(
    emulator: MiniMaxEmulator, client: httpx.Client, omit_open: bool, expected: str
) -> None:
    emulator.queue(
        Reply(
            text="Answer.",
            reasoning="Pondering.",
            stream=StreamShape(chunk_size=3),
            layout=Layout(omit_think_open=omit_open),
        )
    )

    found = deltas(chunks(client, stream_body(reasoning_split=None)))

    assert "".join(d.get("content", "") for d in found) == expected
    assert not any("reasoning_details" in d or "reasoning_content" in d for d in found)


def test_think_tags_option_forces_inline_even_with_split(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="A", reasoning="R", layout=Layout(think_tags=True)))

    found = deltas(chunks(client, stream_body()))

    assert "".join(d.get("content", "") for d in found) == "<think>\nR\n</think>\n\nA"


def test_tool_call_fragments_carry_the_id_only_first(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    arguments = {"city": "Paris", "unit": "celsius", "days": 3}
    emulator.queue(Reply(tool_calls=[ToolCallReply("get_weather", arguments, id="call_1")]))

    fragments = tool_fragments(chunks(client, stream_body()))

    assert len(fragments) > 3
    assert fragments[0]["id"] == "call_1"
    assert fragments[0]["function"]["name"] == "get_weather"
    assert all("id" not in fragment for fragment in fragments[1:])
    assert all(len(f["function"]["arguments"]) <= 10 for f in fragments)
    assert json.loads("".join(f["function"]["arguments"] for f in fragments)) == arguments


def test_tool_call_fragments_interleaved_and_split_name(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}),
                ToolCallReply("get_time", {}),
            ],
            stream=StreamShape(interleave_tool_calls=True, split_tool_name=True, tool_args_chunk=4),
        )
    )

    fragments = tool_fragments(chunks(client, stream_body()))

    indices = [fragment["index"] for fragment in fragments]
    assert indices[:4] == [0, 1, 0, 1]
    for index, name in ((0, "get_weather"), (1, "get_time")):
        mine = [f for f in fragments if f["index"] == index]
        names = [f["function"]["name"] for f in mine if "name" in f["function"]]
        assert len(names) == 2
        assert "".join(names) == name
        assert sum("id" in f for f in mine) == 1
    args = "".join(f["function"]["arguments"] for f in fragments if f["index"] == 0)
    assert json.loads(args) == {"city": "Paris"}


def test_empty_role_and_no_done(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(text="hello", stream=StreamShape(empty_role=True, send_done=False)))

    lines = data_lines(client, stream_body())

    assert lines[-1] != "[DONE]"
    events = [json.loads(line) for line in lines]
    assert all(d["role"] == "" for d in deltas(events) if "content" in d)


def test_event_delay_paces_the_stream(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(text="abcdefgh", stream=StreamShape(chunk_size=2, event_delay=0.05)))

    started = time.monotonic()
    chunks(client, stream_body())

    assert time.monotonic() - started >= 0.25


# --- faults -------------------------------------------------------------------------


def test_fault_status_uses_the_minimax_envelope(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(status=429, provider_code=1002, headers={"Retry-After": "0"}))

    response = client.post(PATH, json=request_body())

    assert response.status_code == 429
    assert response.headers["retry-after"] == "0"
    assert error_message(response) == "rate limit (1002)"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.json()["request_id"] == response.headers["trace-id"]


def test_fault_body_is_sent_verbatim(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(status=502, body=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"})
    )

    response = client.post(PATH, json=request_body())

    assert response.status_code == 502
    assert response.text == "<html>bad gateway</html>"
    assert response.headers["content-type"] == "text/html"


def test_fault_base_resp_on_http_200(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Fault(base_resp_code=1008))

    response = client.post(PATH, json=request_body(stream=True))

    assert response.status_code == 200
    body = response.json()
    assert body["base_resp"] == {"status_code": 1008, "status_msg": "insufficient balance"}
    assert body["choices"] == []


def test_fault_reset_before_response(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Fault(reset_before_response=True))

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.post(PATH, json=request_body())

    assert len(emulator.requests) == 1
    assert client.post(PATH, json=request_body()).status_code == 200


def test_fault_drop_mid_stream(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="abcdefghijklmnop", stream=StreamShape(chunk_size=4)),
            drop_after_events=2,
        )
    )
    received: list[str] = []

    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", PATH, json=stream_body()) as response,
    ):
        for_each_event(response, received.append)

    assert len(received) == 2


def test_fault_drop_mid_body_without_stream(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(reply=Reply(text="x" * 200), drop_after_events=0))

    with pytest.raises(httpx.RemoteProtocolError):
        client.post(PATH, json=request_body())


def test_fault_stall_keeps_the_connection_open(emulator: MiniMaxEmulator) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="abcdefgh" * 2, stream=StreamShape(chunk_size=8)),
            stall_after_events=1,
            stall_seconds=5,
        )
    )
    received: list[str] = []

    open_while_reading: list[int] = []

    def on_event(line: str) -> None:
        received.append(line)
        open_while_reading.append(emulator.open_connections)

    with (
        httpx.Client(base_url=emulator.base_url, timeout=httpx.Timeout(5.0, read=0.3)) as http,
        pytest.raises(httpx.ReadTimeout),
        http.stream("POST", PATH, json=stream_body()) as response,
    ):
        for_each_event(response, on_event)

    assert open_while_reading == [1]
    assert len(received) == 1
    assert emulator.wait_for_idle(timeout=2.0)


def test_fault_stall_resumes_after_stall_seconds(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(reply=Reply(text="abcd"), stall_after_events=1, stall_seconds=0.2))

    started = time.monotonic()
    events = chunks(client, stream_body())

    assert time.monotonic() - started >= 0.2
    assert events[-1]["choices"] == []


@pytest.mark.parametrize("shape", ["base_resp", "error"])
def test_fault_error_chunk_mid_stream(
    emulator: MiniMaxEmulator, client: httpx.Client, shape: Any
) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="abcdefgh", stream=StreamShape(chunk_size=2)),
            error_after_events=3,
            provider_code=1027,
            error_shape=shape,
        )
    )

    lines = data_lines(client, stream_body())

    assert len(lines) == 4
    last = json.loads(lines[-1])
    if shape == "base_resp":
        assert last["base_resp"] == {"status_code": 1027, "status_msg": "output new_sensitive"}
    else:
        assert last["error"]["message"] == "output new_sensitive (1027)"


def test_fault_truncated_json(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(
            reply=Reply(text="abcdefgh", stream=StreamShape(chunk_size=4)),
            truncate_json_after_events=1,
        )
    )

    lines = data_lines(client, stream_body())

    assert len(lines) == 2
    json.loads(lines[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[1])


def test_fault_malformed_sse(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Fault(reply=Reply(text="hello"), malformed_sse=True))

    with client.stream("POST", PATH, json=stream_body()) as response:
        raw = response.read().decode()

    assert "this line is not server-sent events" in raw
    assert raw.endswith("data: [DONE]\n\n")
    bad = [
        line for line in raw.splitlines() if line.startswith("data: {") and not _is_json(line[6:])
    ]
    assert bad


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_fault_end_without_finish(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Fault(reply=Reply(text="hello world", reasoning="r"), end_without_finish=True))

    lines = data_lines(client, stream_body())

    events = [json.loads(line) for line in lines]
    assert events
    assert all(event["choices"] and "finish_reason" not in event["choices"][0] for event in events)


def test_fault_delay_triggers_read_timeout(emulator: MiniMaxEmulator) -> None:
    emulator.queue(
        Fault(status=503, delay=0.5), Reply(text="late but fine", stream=StreamShape(delay=0.2))
    )

    timeout = httpx.Timeout(5.0, read=0.1)
    with (
        httpx.Client(base_url=emulator.base_url, timeout=timeout) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        http.post(PATH, json=request_body())
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as http:
        started = time.monotonic()
        response = http.post(PATH, json=request_body())

    assert time.monotonic() - started >= 0.2
    assert response.json()["choices"][0]["message"]["content"] == "late but fine"


# --- validation ---------------------------------------------------------------------

INVALID_REQUESTS = {
    "missing messages": ({"messages": None}, "messages"),
    "empty messages": ({"messages": []}, "messages"),
    "developer role": ({"messages": [{"role": "developer", "content": "x"}]}, "role"),
    "n is 2": ({"n": 2}, "n "),
    "tool content not a string": (
        {"messages": [USER, weather_turn(), tool_result(content={"temp": 24})]},
        "must be a string",
    ),
    "tool result without a call": (
        {"messages": [USER, tool_result()]},
        (NOT_FOLLOW, "messages[1] does not follow an assistant message"),
    ),
    "tool result after the turn ended": (
        {"messages": [USER, weather_turn(), tool_result(), USER, tool_result()]},
        (NOT_FOLLOW, "messages[4] does not follow an assistant message"),
    ),
    "tool call answered twice": (
        {"messages": [USER, weather_turn(), tool_result(), tool_result()]},
        (NOT_FOLLOW, "answered twice"),
    ),
    "tool result after another message": (
        {"messages": [USER, weather_turn(), USER, tool_result()]},
        (NOT_FOLLOW, "unanswered before messages[2]"),
    ),
    "tool_call_id matches nothing": (
        {"messages": [USER, weather_turn(), tool_result("call_other")]},
        (NOT_FOLLOW, "'call_other' matches no tool call"),
    ),
    "call left unanswered": (
        {
            "messages": [
                USER,
                {
                    **weather_turn(),
                    "tool_calls": [
                        *weather_turn()["tool_calls"],
                        *weather_turn("call_2")["tool_calls"],
                    ],
                },
                tool_result(),
                USER,
            ]
        },
        (NOT_FOLLOW, "['call_2'] are unanswered before messages[3]"),
    ),
    "historical arguments not JSON": (
        {
            "messages": [
                USER,
                {
                    **weather_turn(),
                    "tool_calls": [
                        {
                            "id": "call_function_abc_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{oops"},
                        }
                    ],
                },
                tool_result(),
            ]
        },
        "not valid JSON",
    ),
    "temperature above 2": ({"temperature": 2.5}, "temperature"),
    "temperature below 0": ({"temperature": -0.1}, "temperature"),
    "top_p above 1": ({"top_p": 1.5}, "top_p"),
    "max_completion_tokens too big": (
        {"max_completion_tokens": 524_289},
        "model[MiniMax-M3] does not support max tokens > 524288",
    ),
    "max_tokens zero": ({"max_tokens": 0}, "max_tokens"),
}


@pytest.mark.parametrize(
    ("overrides", "fragment"), list(INVALID_REQUESTS.values()), ids=list(INVALID_REQUESTS)
)
def test_invalid_requests_are_rejected_without_consuming_the_queue(
    emulator: MiniMaxEmulator,
    client: httpx.Client,
    overrides: dict[str, Any],
    fragment: str | tuple[str, ...],
) -> None:
    emulator.queue(Reply(text="queued"))
    body = request_body(**{k: v for k, v in overrides.items() if v is not None})
    if "messages" in overrides and overrides["messages"] is None:
        del body["messages"]

    response = client.post(PATH, json=body)

    assert response.status_code == 400
    message = error_message(response)
    assert message.endswith("(2013)")
    for part in (fragment,) if isinstance(fragment, str) else fragment:
        assert part in message
    assert response.json()["error"]["type"] == "bad_request_error"
    assert emulator.pending == 1
    answer = client.post(PATH, json=request_body()).json()
    assert answer["choices"][0]["message"]["content"] == "queued"


def test_malformed_json_body_is_rejected(client: httpx.Client) -> None:
    response = client.post(
        PATH, content=b'{"model": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert "Syntax error" in error_message(response)


def test_valid_tool_history_and_edge_values_are_accepted(client: httpx.Client) -> None:
    two_calls = {
        **weather_turn(),
        "tool_calls": [*weather_turn()["tool_calls"], *weather_turn("call_2")["tool_calls"]],
    }
    history = [USER, two_calls, tool_result(), tool_result("call_2"), USER]

    for overrides in (
        {"temperature": 0},
        {"temperature": 2},
        {"top_p": 1},
        {"max_completion_tokens": 524_288},
    ):
        response = client.post(PATH, json=request_body(messages=history, **overrides))
        assert response.status_code == 200, response.text


# --- authentication, routing, the request log, connections --------------------------


def test_bad_or_missing_key_gets_401() -> None:
    with MiniMaxEmulator(api_key="test-key") as emu, httpx.Client(base_url=emu.base_url) as http:
        emu.queue(Reply(text="authorised"))
        missing = http.post(PATH, json=request_body())
        wrong = http.post(PATH, json=request_body(), headers={"Authorization": "Bearer nope"})
        right = http.post(PATH, json=request_body(), headers={"Authorization": "Bearer test-key"})

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authorized_error"
        assert error_message(response).endswith("(1004)")
    assert right.json()["choices"][0]["message"]["content"] == "authorised"


def test_request_log_and_reset(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    body = request_body(temperature=0.5)

    client.post(PATH, json=body, headers={"X-Trace": "abc"})
    client.get("/v1/models")

    first, second = emulator.requests
    assert first.method == "POST"
    assert first.path == PATH
    assert first.headers["x-trace"] == "abc"
    assert first.headers["content-type"] == "application/json"
    assert first.json == body
    assert json.loads(first.body) == body
    assert (second.method, second.path, second.json) == ("GET", "/v1/models", None)
    emulator.queue(Reply(text="dropped"))
    emulator.reset()
    assert emulator.requests == []
    assert emulator.pending == 0


def test_routes(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(text="self-hosted"))

    hosted = client.post("/v1/chat/completions", json=request_body())
    self_hosted = client.post("/custom/root/chat/completions", json=request_body())
    missing = client.post("/v1/embeddings", json=request_body())

    assert hosted.status_code == 200
    assert (
        self_hosted.json()["choices"][0]["message"]["content"] == "Emulated reply to: " + QUESTION
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"
    assert emulator.base_url.startswith("http://127.0.0.1:")


def test_stopping_closes_connections_it_had_not_started_serving() -> None:
    # Connections accepted in the loop's last turn wait for a task that sets them up;
    # cancelling that task before it ran left the accepted socket to the garbage
    # collector: a ResourceWarning in whichever test ran then.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(20):
            emu = MiniMaxEmulator().start()
            clients = [socket.create_connection(("127.0.0.1", emu.port)) for _ in range(5)]
            emu.stop()
            for client in clients:
                client.close()
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []


def test_stopping_does_not_wait_for_a_reply_that_pauses() -> None:
    emu = MiniMaxEmulator().start()
    emu.queue(Reply(text="x" * 50, stream=StreamShape(chunk_size=1, event_delay=5.0)))

    def read_the_stream() -> None:
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("POST", emu.base_url + PATH, json=request_body(stream=True)) as reply,
        ):
            for _ in reply.iter_bytes():
                pass

    reader = threading.Thread(target=read_the_stream)
    reader.start()
    deadline = time.monotonic() + 5.0
    while not emu.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the stream is under way, pausing before its next event
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2.0
    reader.join()


def test_open_connections_return_to_zero(emulator: MiniMaxEmulator) -> None:
    with httpx.Client(base_url=emulator.base_url) as http:
        http.post(PATH, json=request_body())
        http.post(PATH, json=request_body(stream=True))
        assert emulator.open_connections == 1  # keep-alive reused the connection

    assert emulator.wait_for_idle(timeout=2.0)
    assert emulator.open_connections == 0


async def test_200_concurrent_requests(emulator: MiniMaxEmulator) -> None:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=emulator.base_url, limits=limits, timeout=10) as http:

        async def ask(n: int) -> str:
            body = request_body(messages=[{"role": "user", "content": f"question {n}"}])
            response = await http.post(PATH, json=body)
            content: str = response.json()["choices"][0]["message"]["content"]
            return content

        answers = await asyncio.gather(*(ask(n) for n in range(200)))

    assert answers == [f"Emulated reply to: question {n}" for n in range(200)]
    assert len(emulator.requests) == 200


# --- reasoning replay ---------------------------------------------------------------


def test_require_reasoning_replay(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="I need the weather tool.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})],
        ),
        Reply(text="Sunny in Paris."),
    )
    first = client.post(PATH, json=request_body(messages=[USER])).json()["choices"][0]["message"]
    call_id = first["tool_calls"][0]["id"]
    bare = {"role": "assistant", "content": first["content"], "tool_calls": first["tool_calls"]}

    def send_back(turn: dict[str, Any]) -> httpx.Response:
        return client.post(PATH, json=request_body(messages=[USER, turn, tool_result(call_id)]))

    dropped = send_back(bare)
    only_text = send_back({**bare, "reasoning_content": first["reasoning_content"]})
    last_piece = [{**first["reasoning_details"][0], "text": "weather tool."}]
    truncated = send_back({**bare, "reasoning_details": last_piece})
    replayed = send_back({**bare, "reasoning_details": first["reasoning_details"]})

    for rejected in (dropped, only_text, truncated):
        assert rejected.status_code == 400
        assert "does not replay its reasoning" in error_message(rejected)
    assert replayed.json()["choices"][0]["message"]["content"] == "Sunny in Paris."


def test_require_reasoning_replay_accepts_inline_think_blocks(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(Reply(reasoning="Use the tool.", tool_calls=[ToolCallReply("get_weather")]))
    first = client.post(PATH, json=request_body(messages=[USER], reasoning_split=None))
    message = first.json()["choices"][0]["message"]
    call_id = message["tool_calls"][0]["id"]
    history = [USER, message, tool_result(call_id)]
    stripped = [USER, {**message, "content": ""}, tool_result(call_id)]

    assert message["content"].startswith("<think>\nUse the tool.\n</think>")
    assert client.post(PATH, json=request_body(messages=stripped)).status_code == 400
    assert client.post(PATH, json=request_body(messages=history)).status_code == 200


def test_reply_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        StreamShape(chunk_size=0)
    with pytest.raises(ValueError, match="unknown keys"):
        Reply(usage={"bogus": 1})
    with pytest.raises(ValueError, match="status"):
        Fault(status=99)


def test_reply_groups_must_be_their_own_classes() -> None:
    with pytest.raises(TypeError, match=r"Reply\.stream must be a StreamShape"):
        Reply(stream={"chunk_size": 3})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Reply\.provider must be a ProviderOptions"):
        Reply(provider=Layout())  # type: ignore[arg-type]


def test_a_tool_call_written_as_a_dict_is_refused_when_the_reply_is_made() -> None:
    # Refused only while answering, it was a 500 the client retried into the echo reply.
    with pytest.raises(TypeError, match=r"Reply\.tool_calls must hold ToolCallReply"):
        Reply(tool_calls=[{"name": "get_weather", "arguments": {}}])  # type: ignore[list-item]


def test_responder_answers_when_the_queue_is_empty(emulator: MiniMaxEmulator) -> None:
    seen: list[dict[str, Any]] = []

    def responder(body: dict[str, Any]) -> Reply | None:
        seen.append(body)
        question = body["messages"][-1]["content"]
        return Reply(text=f"scripted answer to {question}") if "capital" in question else None

    emulator.respond_with(responder)
    emulator.queue(Reply(text="queued first"))
    url = emulator.base_url + "/v1/chat/completions"
    texts = []
    for question in ["capital?", "capital?", "other"]:
        response = httpx.post(
            url, json={"model": "MiniMax-M3", "messages": [{"role": "user", "content": question}]}
        )
        texts.append(response.json()["choices"][0]["message"]["content"])
    assert texts[0] == "queued first"
    assert texts[1] == "scripted answer to capital?"
    assert texts[2].endswith("Emulated reply to: other")
    assert len(seen) == 2
