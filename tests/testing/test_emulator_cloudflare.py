"""Cloudflare's REST API for minimax/m3 as the emulator speaks it, seen over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from minimax_m3.testing import Fault, MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply

ACCOUNT = "0123456789abcdef0123456789abcdef"
CHAT = f"/accounts/{ACCOUNT}/ai/v1/chat/completions"
MESSAGES = f"/accounts/{ACCOUNT}/ai/v1/messages"
USER = {"role": "user", "content": "What is the capital of France?"}
# The keys of the raw responses on Cloudflare's minimax/m3 page.
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
    "gatewayMetadata",
}
SEED_MESSAGE_KEYS = {
    "role",
    "content",
    "name",
    "audio_content",
    "reasoning_content",
    "reasoning_details",
}
WEATHER = ToolCallReply("get_weather", {"city": "Paris"})


@pytest.fixture
def client(emulator: MiniMaxEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.cloudflare_base_url, timeout=5.0) as http:
        yield http


def chat_body(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"model": "minimax/m3", "max_tokens": 2048, "messages": [USER]}
    request.update(overrides)
    return {key: value for key, value in request.items() if value is not None}


def messages_body(**overrides: Any) -> dict[str, Any]:
    return chat_body(thinking={"type": "adaptive"}, **overrides)


def cf_error(response: httpx.Response) -> dict[str, Any]:
    envelope = response.json()
    assert envelope["success"] is False
    assert envelope["result"] is None
    assert envelope["messages"] == []
    [error] = envelope["errors"]
    assert set(error) == {"code", "message"}
    found: dict[str, Any] = error
    return found


def data_lines(client: httpx.Client, path: str, request: dict[str, Any]) -> list[str]:
    with client.stream("POST", path, json={**request, "stream": True}) as response:
        assert response.status_code == 200
        return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


# --- Chat Completions ---------------------------------------------------------------


def test_chat_body_is_the_seed_shape_with_gateway_metadata(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="The capital of France is **Paris**.", reasoning="Simple fact."))

    response = client.post(CHAT, json=chat_body(), headers={"cf-aig-gateway-id": "my-gateway"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SEED_TOP_KEYS
    assert body["gatewayMetadata"] == {"keySource": "Unified"}
    assert body["model"] == "MiniMax-M3"
    message = body["choices"][0]["message"]
    assert set(message) == SEED_MESSAGE_KEYS
    assert message["content"] == "The capital of France is **Paris**."
    assert message["reasoning_content"] == "Simple fact."
    assert message["reasoning_details"][0]["text"] == "Simple fact."
    [sent] = emulator.requests
    assert sent.path == "/client/v4" + CHAT
    assert sent.headers["cf-aig-gateway-id"] == "my-gateway"
    assert "reasoning_split" not in sent.json


def test_chat_result_wrapper_and_tool_calls_without_ids(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(text="x", provider=ProviderOptions(cloudflare_wrap_result=True)),
        Reply(tool_calls=[WEATHER], provider=ProviderOptions(omit_tool_call_ids=True)),
    )

    wrapped = client.post(CHAT, json=chat_body()).json()
    no_ids = client.post(CHAT, json=chat_body()).json()

    assert set(wrapped) == {"result", "success", "errors", "messages"}
    assert (wrapped["success"], wrapped["errors"], wrapped["messages"]) == (True, [], [])
    assert wrapped["result"]["choices"][0]["message"]["content"] == "x"
    [call] = no_ids["choices"][0]["message"]["tool_calls"]
    assert "id" not in call
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_chat_stream_is_minimax_stream(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(text="Paris.", reasoning="Easy.", tool_calls=[WEATHER]))
    emulator.queue(Reply(tool_calls=[WEATHER], provider=ProviderOptions(omit_tool_call_ids=True)))

    lines = data_lines(client, CHAT, chat_body(stream_options={"include_usage": True}))
    no_ids = data_lines(client, CHAT, chat_body())

    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]
    reasoning = "".join(
        d["reasoning_details"][0]["text"] for d in deltas if "reasoning_details" in d
    )
    assert reasoning == "Easy."
    assert "".join(d.get("content", "") for d in deltas) == "Paris."
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[0]["model"] == "MiniMax-M3"
    fragments = [
        item
        for line in no_ids[:-1]
        for choice in json.loads(line)["choices"]
        for item in choice["delta"].get("tool_calls", [])
    ]
    assert fragments
    assert not [fragment for fragment in fragments if "id" in fragment]


CHAT_INVALID = {
    "temperature above 1": {"temperature": 1.5},
    "top_p above 1": {"top_p": 1.2},
    "tool_choice required": {"tool_choice": "required"},
    "tool_choice object": {"tool_choice": {"type": "function", "function": {"name": "f"}}},
    "max_tokens zero": {"max_tokens": 0},
    "max_completion_tokens negative": {"max_completion_tokens": -1},
    "assistant content null": {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ]
    },
    "tool content not a string": {
        "messages": [
            USER,
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "ok"}]},
        ]
    },
    "messages missing": {"messages": None},
}


@pytest.mark.parametrize("overrides", CHAT_INVALID.values(), ids=list(CHAT_INVALID))
def test_chat_bad_input_is_5006_and_consumes_nothing(
    emulator: MiniMaxEmulator, client: httpx.Client, overrides: dict[str, Any]
) -> None:
    emulator.queue(Reply(text="queued"))
    request = chat_body(**overrides)
    if "messages" in overrides and overrides["messages"] is None:
        request.pop("messages", None)

    response = client.post(CHAT, json=request)

    assert response.status_code == 400
    error = cf_error(response)
    assert error["code"] == 5006
    assert error["message"].startswith("AiError: Bad input: ")
    assert emulator.pending == 1
    assert client.post(CHAT, json=chat_body()).json()["choices"][0]["message"]["content"] == (
        "queued"
    )


def test_chat_accepts_the_edges_and_an_empty_assistant_content(client: httpx.Client) -> None:
    history = [
        USER,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    for overrides in (
        {"temperature": 1, "top_p": 0},
        {"tool_choice": "auto"},
        {"tool_choice": "none"},
        {"messages": history},
        {"max_completion_tokens": 1},
    ):
        response = client.post(CHAT, json=chat_body(**overrides))
        assert response.status_code == 200, response.text


# --- faults, auth, routing ----------------------------------------------------------


def test_faults_use_the_cloudflare_envelope(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Fault(status=402),
        Fault(status=200, provider_code=3040),
        Fault(status=503, provider_code=7009, message="Upstream down"),
        Fault(status=429, headers={"Retry-After": "7"}),
    )

    balance = client.post(CHAT, json=chat_body())
    in_band = client.post(CHAT, json=chat_body())
    upstream = client.post(MESSAGES, json=messages_body())
    busy = client.post(CHAT, json=chat_body())

    assert balance.status_code == 402
    assert cf_error(balance) == {
        "code": 2021,
        "message": "Insufficient balance; add money to your gateway or use BYOK",
    }
    assert in_band.status_code == 200
    assert cf_error(in_band)["code"] == 3040
    assert upstream.status_code == 503
    assert cf_error(upstream) == {"code": 7009, "message": "Upstream down"}
    assert busy.status_code == 429
    assert cf_error(busy)["code"] == 3040
    assert busy.headers["retry-after"] == "7"


def test_stream_faults_work_on_both_endpoints(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Fault(end_without_finish=True), Fault(error_after_events=2))

    chat = data_lines(client, CHAT, chat_body())
    messages = data_lines(client, MESSAGES, messages_body())

    assert "[DONE]" not in chat
    assert not [line for line in chat if '"finish_reason":"stop"' in line]
    assert len(messages) == 3
    assert json.loads(messages[-1])["type"] == "error"


def test_auth_error_is_10000() -> None:
    with (
        MiniMaxEmulator(api_key="cf-token") as emu,
        httpx.Client(base_url=emu.cloudflare_base_url) as http,
    ):
        missing = http.post(CHAT, json=chat_body())
        anthropic_style = http.post(
            MESSAGES, json=messages_body(), headers={"x-api-key": "cf-token"}
        )
        right = http.post(CHAT, json=chat_body(), headers={"Authorization": "Bearer cf-token"})

    for response in (missing, anthropic_style):
        assert response.status_code == 401
        assert response.json() == {
            "success": False,
            "errors": [{"code": 10000, "message": "Authentication error"}],
            "messages": [],
            "result": None,
        }
    assert right.status_code == 200


def test_account_id_and_unknown_paths_get_7003() -> None:
    with (
        MiniMaxEmulator(cloudflare_account_id=ACCOUNT) as emu,
        httpx.Client(base_url=emu.cloudflare_base_url) as http,
    ):
        assert emu.cloudflare_base_url == emu.base_url + "/client/v4"
        assert emu.cloudflare_account_id == ACCOUNT
        emu.queue(Reply(text="kept"))
        other = http.post("/accounts/other/ai/v1/chat/completions", json=chat_body())
        unknown = http.post(f"/accounts/{ACCOUNT}/ai/v1/responses", json=chat_body())
        right = http.post(CHAT, json=chat_body())

    assert other.status_code == 404
    assert cf_error(other) == {
        "code": 7003,
        "message": "Could not route to /client/v4/accounts/other/ai/v1/chat/completions, "
        "perhaps your object identifier is invalid?",
    }
    assert unknown.status_code == 404
    assert cf_error(unknown)["code"] == 7003
    assert right.json()["choices"][0]["message"]["content"] == "kept"


def test_any_account_id_is_accepted_by_default(client: httpx.Client) -> None:
    response = client.post("/accounts/whatever/ai/v1/chat/completions", json=chat_body())

    assert response.status_code == 200


# --- Anthropic Messages -------------------------------------------------------------


def test_messages_body_is_a_plain_anthropic_message(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="Paris.", reasoning="Easy.", tool_calls=[WEATHER]))
    emulator.queue(Reply(text="Paris.", reasoning="Easy."))

    message = client.post(MESSAGES, json=messages_body()).json()
    no_thinking = client.post(MESSAGES, json=chat_body()).json()

    assert "base_resp" not in message
    assert message["model"] == "MiniMax-M3"
    assert [block["type"] for block in message["content"]] == ["thinking", "text", "tool_use"]
    assert message["stop_reason"] == "tool_use"
    assert no_thinking["content"] == [{"type": "text", "text": "Paris."}]


def test_messages_stream_order(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(text="Paris.", reasoning="Easy."))

    types = [json.loads(line)["type"] for line in data_lines(client, MESSAGES, messages_body())]

    assert types[:3] == ["message_start", "ping", "content_block_start"]
    assert types[-2:] == ["message_delta", "message_stop"]
    assert types.count("content_block_stop") == 2


MESSAGES_INVALID = {
    "temperature above 1": {"temperature": 1.5},
    "system as blocks": {"system": [{"type": "text", "text": "Be brief."}]},
    "top_k zero": {"top_k": 0},
    "max_tokens missing": {"max_tokens": None},
    "system role": {"messages": [{"role": "system", "content": "x"}, USER]},
}


@pytest.mark.parametrize("overrides", MESSAGES_INVALID.values(), ids=list(MESSAGES_INVALID))
def test_messages_bad_input_is_5006(
    emulator: MiniMaxEmulator, client: httpx.Client, overrides: dict[str, Any]
) -> None:
    emulator.queue(Reply(text="queued"))

    response = client.post(MESSAGES, json=messages_body(**overrides))

    assert response.status_code == 400
    error = cf_error(response)
    assert error["code"] == 5006
    assert error["message"].startswith("AiError: Bad input: ")
    assert emulator.pending == 1


def test_messages_accepts_a_string_system_and_temperature_1(client: httpx.Client) -> None:
    response = client.post(
        MESSAGES, json=messages_body(system="Be brief.", temperature=1, top_k=40)
    )

    assert response.status_code == 200, response.text
