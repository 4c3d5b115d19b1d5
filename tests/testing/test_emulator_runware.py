"""Runware's native tasks and OpenAI-compatible API as the emulator speaks them."""

from __future__ import annotations

import json
import uuid
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

USER = {"role": "user", "content": "Weather in Paris?"}
WEATHER = ToolCallReply("get_weather", {"city": "Paris"}, id="call_1")
ITEM_KEYS = {"taskType", "taskUUID", "text", "finishReason"}


@pytest.fixture
def client(emulator: MiniMaxEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.runware_base_url, timeout=5.0) as http:
        yield http


def task(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "taskType": "textInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "minimax:m3@0",
        "messages": [USER],
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def post(client: httpx.Client, *tasks: dict[str, Any]) -> httpx.Response:
    return client.post("", json=list(tasks))


def only_item(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data"}
    [item] = body["data"]
    found: dict[str, Any] = item
    return found


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    found: dict[str, Any] = error
    return found


def stream_lines(client: httpx.Client, body: dict[str, Any]) -> list[str]:
    with client.stream("POST", "", json=[{**body, "deliveryMethod": "stream"}]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line for line in response.iter_lines() if line]


def payloads(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


# --- sync ---------------------------------------------------------------------------


def test_sync_result_reasoning_inline_without_split_thinking(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="Sunny.", reasoning="Think first."))
    sent = task()

    item = only_item(post(client, sent))

    assert set(item) == ITEM_KEYS
    assert item["taskType"] == "textInference"
    assert item["taskUUID"] == sent["taskUUID"]
    assert item["text"] == "<think>\nThink first.\n</think>\n\nSunny."
    assert item["finishReason"] == "stop"


def test_sync_split_thinking_usage_and_cost(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    usage = {"prompt_tokens": 30, "completion_tokens": 12, "reasoning_tokens": 4}
    emulator.queue(
        Reply(
            text="Sunny.",
            reasoning="Think first.",
            usage=usage,
            provider=ProviderOptions(cost=0.0012),
        )
    )

    item = only_item(
        post(
            client,
            task(settings={"splitThinking": True}, includeUsage=True, includeCost=True),
        )
    )

    assert item["text"] == "Sunny."
    assert item["reasoningContent"] == "Think first."
    assert item["usage"] == {
        "promptTokens": 30,
        "completionTokens": 12,
        "totalTokens": 42,
        "thinkingTokens": 4,
    }
    assert item["cost"] == 0.0012


@pytest.mark.parametrize("field", ["toolCalls", "tools", "tool_calls"])
def test_sync_tool_calls_under_the_chosen_key(
    emulator: MiniMaxEmulator, client: httpx.Client, field: Any
) -> None:
    emulator.queue(Reply(tool_calls=[WEATHER], provider=ProviderOptions(runware_tool_field=field)))

    item = only_item(post(client, task()))

    assert item["finishReason"] == "tool_calls"
    assert item["text"] == ""
    assert item[field] == [{"id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]


def test_xml_tool_calls_and_mm_think_tag(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Reply(
            reasoning="Need it.",
            tool_calls=[ToolCallReply("lookup", {"q": "Paris", "n": 2, "deep": True})],
            layout=Layout(xml_tool_calls=True, think_tag="mm:think"),
        )
    )

    item = only_item(post(client, task()))

    assert item["text"] == (
        "<mm:think>\nNeed it.\n</mm:think>\n\n"
        '<minimax:tool_call>\n<invoke name="lookup">\n'
        '<parameter name="q">Paris</parameter>\n'
        '<parameter name="n">2</parameter>\n'
        '<parameter name="deep">true</parameter>\n'
        "</invoke>\n</minimax:tool_call>"
    )
    assert item["finishReason"] == "stop"
    assert set(item) == ITEM_KEYS


def test_number_results_gives_one_item_each(client: httpx.Client) -> None:
    response = post(client, task(numberResults=3))

    items = response.json()["data"]
    assert [item["resultIndex"] for item in items] == [0, 1, 2]


# --- stream -------------------------------------------------------------------------


def test_stream_order_pings_and_final_event(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(
        Reply(
            text="It is sunny.",
            reasoning="Look it up.",
            tool_calls=[WEATHER],
            stream=StreamShape(chunk_size=4),
            provider=ProviderOptions(cost=0.5),
        )
    )
    sent = task(settings={"splitThinking": True}, includeUsage=True, includeCost=True)

    lines = stream_lines(client, sent)

    assert lines[-1] == "data: [DONE]"
    assert ": ping" in lines
    events = payloads(lines)
    assert all(e["taskUUID"] == sent["taskUUID"] for e in events)
    assert all(e["taskType"] == "textInference" for e in events)
    kinds = ["reasoning" if "reasoningContent" in e["delta"] else "text" for e in events[:-1]]
    assert kinds == sorted(kinds)  # reasoning first
    assert "".join(e["delta"].get("reasoningContent", "") for e in events) == "Look it up."
    assert "".join(e["delta"].get("text", "") for e in events) == "It is sunny."
    assert all(e["finishReason"] is None for e in events[:-1] if "text" in e["delta"])
    final = events[-1]
    assert final["delta"] == {}
    assert final["finishReason"] == "tool_calls"
    assert final["usage"]["totalTokens"] > 0
    assert final["cost"] == 0.5
    assert final["toolCalls"] == [
        {"id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
    ]


def test_stream_without_split_inlines_and_omits_usage(client: httpx.Client) -> None:
    events = payloads(stream_lines(client, task()))

    assert not [e for e in events if "reasoningContent" in e["delta"]]
    assert "".join(e["delta"].get("text", "") for e in events).startswith("<think>\n")
    assert set(events[-1]) == {"taskUUID", "taskType", "delta", "finishReason"}


def test_stream_faults(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(error_after_events=2),
        Fault(end_without_finish=True),
        Fault(drop_after_events=1),
    )
    sent = task()

    errored = stream_lines(client, sent)
    unfinished = stream_lines(client, task())
    with pytest.raises(httpx.RemoteProtocolError):
        stream_lines(client, task())

    *_, last = payloads(errored)
    assert last == {
        "errors": [
            {
                "code": "timeoutProvider",
                "message": "The provider timed out.",
                "taskType": "textInference",
                "taskUUID": sent["taskUUID"],
            }
        ]
    }
    assert "data: [DONE]" not in errored
    assert "data: [DONE]" not in unfinished
    assert all(e["finishReason"] is None for e in payloads(unfinished))


# --- async --------------------------------------------------------------------------


def poll(client: httpx.Client, task_uuid: str) -> httpx.Response:
    return post(client, {"taskType": "getResponse", "taskUUID": task_uuid})


def test_async_ack_processing_polls_then_success(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="Done.", provider=ProviderOptions(poll_pending=2)))
    sent = task(deliveryMethod="async", includeUsage=True)
    task_uuid = sent["taskUUID"]

    ack = only_item(post(client, sent))
    polls = [only_item(poll(client, task_uuid)) for _ in range(4)]

    assert ack == {"taskType": "textInference", "taskUUID": task_uuid, "status": "processing"}
    assert emulator.pending == 0
    assert polls[:2] == [{"taskUUID": task_uuid, "status": "processing"}] * 2
    for done in polls[2:]:
        assert done["status"] == "success"
        assert done["text"].endswith("Done.")
        assert done["taskType"] == "textInference"
        assert done["usage"]["totalTokens"] > 0


def test_async_faults_and_unknown_task(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(provider_code="timeoutProvider"),
        Fault(provider_code="insufficientCredits", error_shape="error"),
    )
    first, second = task(deliveryMethod="async"), task(deliveryMethod="async")

    post(client, first)
    post(client, second)
    assert only_item(poll(client, first["taskUUID"]))["status"] == "processing"
    failed = only_item(poll(client, first["taskUUID"]))
    poll(client, second["taskUUID"])
    errors = poll(client, second["taskUUID"])
    unknown = poll(client, str(uuid.uuid4()))

    assert failed == {
        "taskUUID": first["taskUUID"],
        "status": "error",
        "error": {"code": "timeoutProvider", "message": "The provider timed out."},
    }
    assert errors.status_code == 200
    assert only_error(errors)["code"] == "insufficientCredits"
    assert unknown.status_code == 404
    error = only_error(unknown)
    assert error["code"] == "taskFailedOrNotFound"
    assert error["taskType"] == "getResponse"


# --- plain faults -------------------------------------------------------------------


def test_faults_use_the_runware_envelope(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(
        Fault(status=402, provider_code="insufficientCredits"),
        Fault(status=200, provider_code="timeoutProvider", message="slow"),
        Fault(error_after_events=0),
        Fault(status=429),
    )
    sent = task()

    credits = post(client, sent)
    in_band = post(client, task())
    alongside = post(client, task())
    limited = post(client, task())

    assert credits.status_code == 402
    assert only_error(credits) == {
        "code": "insufficientCredits",
        "message": "Insufficient credits to run this task.",
        "taskType": "textInference",
        "taskUUID": sent["taskUUID"],
    }
    assert in_band.status_code == 200
    assert only_error(in_band)["message"] == "slow"
    both = alongside.json()
    assert set(both) == {"data", "errors"}
    assert both["data"][0]["text"]
    assert both["errors"][0]["code"] == "timeoutProvider"
    assert limited.status_code == 429
    assert only_error(limited)["code"] == "rateLimitExceeded"


# --- validation ---------------------------------------------------------------------

ASSISTANT_TOOLS = {
    "role": "assistant",
    "tools": [{"id": "c1", "name": "get_weather", "input": {"city": "Paris"}}],
}
TOOL_RESULT = {"role": "tool", "id": "c1", "content": "24C, sunny"}
TOOL = {"type": "function", "name": "get_weather", "description": "Weather.", "schema": {}}

INVALID: dict[str, tuple[dict[str, Any], str, str]] = {
    "taskUUID missing": ({"taskUUID": None}, "missingParameter", "taskUUID"),
    "taskUUID not v4": ({"taskUUID": str(uuid.uuid1())}, "invalidParameter", "taskUUID"),
    "model missing": ({"model": None}, "missingParameter", "model"),
    "system role": (
        {"messages": [{"role": "system", "content": "Be brief."}, USER]},
        "invalidMessageRole",
        "messages[0].role",
    ),
    "top-level temperature": ({"temperature": 0.5}, "unsupportedParameter", "temperature"),
    "top-level maxTokens": ({"maxTokens": 100}, "unsupportedParameter", "maxTokens"),
    "top-level topP": ({"topP": 0.9}, "unsupportedParameter", "topP"),
    "temperature above 2": (
        {"settings": {"temperature": 2.5}},
        "invalidParameter",
        "settings.temperature",
    ),
    "topP above 1": ({"settings": {"topP": 1.5}}, "invalidParameter", "settings.topP"),
    "maxTokens zero": ({"settings": {"maxTokens": 0}}, "invalidParameter", "settings.maxTokens"),
    "maxTokens over cap": (
        {"settings": {"maxTokens": 512_001}},
        "invalidParameter",
        "settings.maxTokens",
    ),
    "empty systemPrompt": (
        {"settings": {"systemPrompt": ""}},
        "invalidParameter",
        "settings.systemPrompt",
    ),
    "numberResults 5": ({"numberResults": 5}, "invalidParameter", "numberResults"),
    "stream with 2 results": (
        {"numberResults": 2, "deliveryMethod": "stream"},
        "invalidParameter",
        "numberResults",
    ),
    "deliveryMethod": ({"deliveryMethod": "webhook"}, "invalidParameter", "deliveryMethod"),
    # Seed 003 and reference B.2: topK is an integer, webhookURL a URI, and tools are
    # function tools or the built-in search and codeInterpreter.
    "topK zero": ({"settings": {"topK": 0}}, "invalidParameter", "settings.topK"),
    "webhookURL not a URI": ({"webhookURL": "hooks"}, "invalidParameter", "webhookURL"),
    "unknown built-in tool": (
        {"tools": [{"type": "webSearch"}]},
        "invalidParameter",
        "tools[0].type",
    ),
    "tool without schema": (
        {"tools": [{"type": "function", "name": "f", "description": "d"}]},
        "missingParameter",
        "tools[0].schema",
    ),
    "openai-style tool": (
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        "missingParameter",
        "tools[0].name",
    ),
    "toolChoice tool without name": (
        {"tools": [TOOL], "toolChoice": {"type": "tool"}},
        "missingParameter",
        "toolChoice.name",
    ),
    "toolChoice required": (
        {"toolChoice": {"type": "required"}},
        "invalidParameter",
        "toolChoice.type",
    ),
    "tool result not after its call": (
        {"messages": [USER, TOOL_RESULT]},
        "invalidParameter",
        "messages[1].id",
    ),
    "tool call unanswered": (
        {"messages": [USER, ASSISTANT_TOOLS, USER]},
        "invalidParameter",
        "messages[2]",
    ),
    "empty content": (
        {"messages": [{"role": "user", "content": ""}]},
        "invalidParameter",
        "messages[0].content",
    ),
    "array content": (
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
        "invalidParameter",
        "messages[0].content",
    ),
}


@pytest.mark.parametrize(("overrides", "code", "parameter"), INVALID.values(), ids=list(INVALID))
def test_invalid_tasks_are_rejected_without_consuming_the_queue(
    emulator: MiniMaxEmulator,
    client: httpx.Client,
    overrides: dict[str, Any],
    code: str,
    parameter: str,
) -> None:
    emulator.queue(Reply(text="queued"))
    sent = task(**overrides)
    for key, value in overrides.items():
        if value is None:
            sent.pop(key, None)

    response = post(client, sent)

    assert response.status_code == 400
    error = only_error(response)
    assert (error["code"], error["parameter"], error["taskType"]) == (
        code,
        parameter,
        "textInference",
    )
    if isinstance(sent.get("taskUUID"), str):
        assert error["taskUUID"] == sent["taskUUID"]
    assert emulator.pending == 1
    assert only_item(post(client, task()))["text"] == "queued"


@pytest.mark.parametrize(
    "payload",
    [
        {"not": "an array"},
        [task(), task()],
        [{"taskType": "imageInference", "taskUUID": str(uuid.uuid4())}],
    ],
    ids=["object", "two tasks", "other task type"],
)
def test_malformed_batches_are_rejected(emulator: MiniMaxEmulator, payload: Any) -> None:
    emulator.queue(Reply(text="queued"))

    response = httpx.post(emulator.runware_base_url, json=payload)

    assert response.status_code == 400
    assert only_error(response)["code"] in {"invalidPayload", "invalidParameter", "invalidTaskType"}
    assert emulator.pending == 1


def test_valid_tool_history_and_settings_are_accepted(client: httpx.Client) -> None:
    history = [USER, ASSISTANT_TOOLS, TOOL_RESULT]
    for overrides in (
        {"messages": history, "tools": [TOOL], "toolChoice": {"type": "auto"}},
        {"messages": [USER, {**ASSISTANT_TOOLS, "content": "Checking."}, TOOL_RESULT]},
        {"toolChoice": {"type": "tool", "name": "get_weather"}, "tools": [TOOL]},
        {
            "settings": {
                "temperature": 2,
                "topP": 0,
                "maxTokens": 512_000,
                "systemPrompt": "Be brief.",
            }
        },
        {"numberResults": 4, "outputFormat": "TEXT"},
        {"tools": [TOOL, {"type": "search"}, {"type": "codeInterpreter"}]},
        {"settings": {"topK": 40}, "webhookURL": "https://hooks.example.com/rw?token=t"},
    ):
        response = post(client, task(**overrides))
        assert response.status_code == 200, response.text


# --- auth and routing ---------------------------------------------------------------


def test_auth_by_bearer_or_authentication_task() -> None:
    with (
        MiniMaxEmulator(api_key="rw-key") as emu,
        httpx.Client(base_url=emu.runware_base_url) as http,
    ):
        assert emu.runware_base_url == emu.base_url + "/runware/v1"
        missing = post(http, task())
        chat_missing = http.post("/chat/completions", json={"model": "m", "messages": [USER]})
        bearer = http.post("", json=[task()], headers={"Authorization": "Bearer rw-key"})
        auth_task = post(http, {"taskType": "authentication", "apiKey": "rw-key"}, task())

    for response in (missing, chat_missing):
        assert response.status_code == 401
        assert only_error(response)["code"] == "invalidApiKey"
    assert bearer.status_code == auth_task.status_code == 200


# --- the OpenAI-compatible endpoint -------------------------------------------------


def test_openai_compatible_body_is_plain(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    emulator.queue(Reply(reasoning="Call it.", tool_calls=[WEATHER]))

    response = client.post("/chat/completions", json={"model": "minimax:m3@0", "messages": [USER]})

    body = response.json()
    assert set(body) == {"id", "object", "created", "model", "choices", "usage"}
    message = body["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "Call it.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert set(body["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_openai_compatible_stream_and_faults(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    emulator.queue(Reply(text="Sunny.", reasoning="Easy."), Fault(status=402))
    request = {
        "model": "minimax:m3@0",
        "messages": [USER],
        "stream": True,
        "stream_options": {"include_usage": True},
    }

    with client.stream("POST", "/chat/completions", json=request) as response:
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    refused = client.post("/chat/completions", json=request)

    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Easy."
    assert "".join(d.get("content", "") for d in deltas) == "Sunny."
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert refused.status_code == 402
    assert only_error(refused)["code"] == "insufficientCredits"


def test_unknown_runware_path_is_404(client: httpx.Client) -> None:
    response = client.post("/images", json=[])

    assert response.status_code == 404
    assert "errors" in response.json()
