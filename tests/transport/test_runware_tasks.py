"""Runware's native tasks: the task body, its envelopes, streams and async polling."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from replaying import replay_stream, summarise

from minimax_m3.errors import BadRequestError, InsufficientBalanceError, ProtocolError, ServerError
from minimax_m3.providers import PROVIDERS
from minimax_m3.stream import result_from_deltas
from minimax_m3.transport import Transport
from minimax_m3.types import (
    ChatRequest,
    ChatResult,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningSegment,
    ToolCall,
    ToolSpec,
    Usage,
)
from minimax_m3.wire import Poll
from minimax_m3.wire.runware_tasks import RunwareTasksExchange

WEATHER = ToolSpec(
    "get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def exchange_for(stream: bool = False, **kwargs: Any) -> RunwareTasksExchange:
    kwargs.setdefault("model", "minimax:m3@0")
    kwargs.setdefault("messages", [Message(role="user", content="Hi")])
    return RunwareTasksExchange(ChatRequest(**kwargs), PROVIDERS["runware"], stream)


def test_one_text_inference_task_with_settings_inside() -> None:
    exchange = exchange_for(
        messages=[Message(role="system", content="Be brief."), Message(role="user", content="Hi")],
        temperature=0.5,
        top_p=0.9,
        max_tokens=1000,
    )
    [task] = exchange.body
    assert uuid.UUID(task["taskUUID"]).version == 4
    assert task == {
        "taskType": "textInference",
        "taskUUID": exchange.task_uuid,
        "model": "minimax:m3@0",
        "deliveryMethod": "sync",
        "messages": [{"role": "user", "content": "Hi"}],
        "settings": {
            "splitThinking": True,
            "systemPrompt": "Be brief.",
            "temperature": 0.5,
            "topP": 0.9,
            "maxTokens": 1000,
        },
        "includeUsage": True,
        # Asked by default since issue 16, so the answer says what it cost.
        "includeCost": True,
    }
    assert exchange_for().task_uuid != exchange.task_uuid


def test_tools_tool_choice_and_a_replayed_tool_turn() -> None:
    call = ToolCall("c1", "get_weather", '{"city": "Tokyo"}')
    exchange = exchange_for(
        stream=True,
        messages=[
            Message(role="user", content="Weather?"),
            Message(
                role="assistant", tool_calls=[call], reasoning=[ReasoningSegment("Look it up.")]
            ),
            Message(role="tool", tool_call_id="c1", content="22°C"),
        ],
        tools=[WEATHER],
        tool_choice=NamedToolChoice("get_weather"),
        extra_body={"includeCost": True},
    )
    [task] = exchange.body
    assert task["deliveryMethod"] == "stream"
    assert task["includeCost"] is True
    assert task["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "schema": WEATHER.parameters,
        }
    ]
    assert task["toolChoice"] == {"type": "tool", "name": "get_weather"}
    assert task["messages"][1] == {
        "role": "assistant",
        # The reasoning byte for byte inside the tags, as it arrived.
        "content": "<think>Look it up.</think>\n\n",
        "tools": [{"id": "c1", "name": "get_weather", "input": {"city": "Tokyo"}}],
    }
    assert task["messages"][2] == {"role": "tool", "id": "c1", "content": "22°C"}


@pytest.mark.parametrize(
    ("choice", "kind"), [("auto", "auto"), ("none", "none"), ("required", "any")]
)
def test_tool_choice_words(choice: str, kind: str) -> None:
    assert exchange_for(tools=[WEATHER], tool_choice=choice).body[0]["toolChoice"] == {"type": kind}


def test_what_the_task_cannot_carry_is_refused_before_sending() -> None:
    # The refusals are validation's (minimax_m3.validation), run before any body is built.
    transport = Transport(provider="runware", api_key="k")
    image = [Message(role="user", content=[ImagePart("https://x/y.png")])]
    with pytest.raises(ValueError, match=r"messages\[0\]: api='runware_tasks' takes text only"):
        transport.build_http_request(
            ChatRequest(model="minimax:m3@0", messages=image), stream=False
        )
    request = ChatRequest(model="minimax:m3@0", messages=[Message(role="user", content="Hi")])
    with pytest.raises(ValueError, match="thinking='disabled' is not available"):
        transport.build_http_request(
            ChatRequest(model="minimax:m3@0", messages=request.messages, thinking="disabled"),
            stream=False,
        )
    # The same on Runware's OpenAI-compatible API is fine.
    chat = Transport(provider="runware", api="chat_completions", api_key="k")
    chat.build_http_request(ChatRequest(model="minimax:m3@0", messages=image), stream=False)


def whole(exchange: RunwareTasksExchange, payload: Any) -> ChatResult | Poll:
    """A task's result as ``Transport.complete`` makes it: through the one normaliser."""
    outcome = exchange.parse_response(payload, request_id=None)
    if isinstance(outcome, Poll):
        return outcome
    return result_from_deltas(outcome)


def item(exchange: RunwareTasksExchange, **fields: Any) -> dict[str, Any]:
    return {"taskType": "textInference", "taskUUID": exchange.task_uuid, **fields}


def test_sync_result_with_reasoning_usage_cost_and_tool_calls() -> None:
    exchange = exchange_for()
    result = whole(
        exchange,
        {
            "data": [
                item(
                    exchange,
                    text="",
                    reasoningContent=["Need ", "weather."],
                    finishReason="tool_use",
                    usage={
                        "promptTokens": 10,
                        "completionTokens": 5,
                        "totalTokens": 15,
                        "thinkingTokens": 3,
                    },
                    cost=0.0012,
                    toolCalls=[{"id": "c9", "name": "get_weather", "input": {"city": "Oslo"}}],
                )
            ]
        },
    )
    assert not isinstance(result, Poll)
    assert result.reasoning_text == "Need weather."
    assert result.tool_calls == [ToolCall("c9", "get_weather", '{"city": "Oslo"}')]
    assert result.finish_reason == "tool_calls"
    assert result.usage == Usage(10, 5, 15, reasoning_tokens=3)
    assert result.provider_metadata["cost"] == 0.0012
    assert result.request_id == exchange.task_uuid


@pytest.mark.parametrize("field", ["tools", "toolCalls", "tool_calls"])
def test_tool_calls_from_any_field_name(field: str) -> None:
    exchange = exchange_for()
    calls = [{"id": "c1", "name": "f", "input": {}}]
    result = whole(exchange, {"data": [item(exchange, text="", **{field: calls})]})
    assert not isinstance(result, Poll)
    assert [c.name for c in result.tool_calls] == ["f"]


def test_inline_think_without_split_reasoning() -> None:
    exchange = exchange_for()
    result = whole(
        exchange,
        {"data": [item(exchange, text="<think>plan</think>\n\nAnswer", finishReason="stop")]},
    )
    assert not isinstance(result, Poll)
    assert (result.reasoning_text, result.text) == ("plan", "Answer")


def test_errors_of_other_tasks_in_the_same_body_are_not_ours() -> None:
    exchange = exchange_for()
    payload = {
        "data": [item(exchange, text="ok", finishReason="stop")],
        "errors": [{"code": "timeoutProvider", "message": "slow", "taskUUID": "someone-else"}],
    }
    result = whole(exchange, payload)
    assert not isinstance(result, Poll)
    assert result.text == "ok"
    payload["errors"][0]["taskUUID"] = exchange.task_uuid  # type: ignore[index]
    with pytest.raises(ServerError):
        exchange.parse_response(payload, request_id=None)


def test_failed_item_and_missing_item() -> None:
    exchange = exchange_for()
    failed = item(
        exchange, status="error", error={"code": "insufficientCredits", "message": "top up"}
    )
    with pytest.raises(InsufficientBalanceError):
        exchange.parse_response({"data": [failed]}, request_id=None)
    with pytest.raises(ProtocolError, match="no result for task"):
        exchange.parse_response({"data": [{"taskUUID": "other", "text": "x"}]}, request_id=None)


def test_acknowledgement_and_processing_mean_poll_again() -> None:
    exchange = exchange_for(extra_body={"deliveryMethod": "async"})
    outcome = exchange.parse_response(
        {"data": [item(exchange, status="processing")]}, request_id=None
    )
    assert outcome == Poll([{"taskType": "getResponse", "taskUUID": exchange.task_uuid}])


def sse(*events: dict[str, Any] | str) -> bytes:
    lines = []
    for event in events:
        lines.append(event if isinstance(event, str) else "data: " + json.dumps(event) + "\n\n")
    return "".join(lines).encode()


def test_stream_with_pings_reasoning_text_and_final_event() -> None:
    body = sse(
        {"taskUUID": "t", "taskType": "textInference", "delta": {"reasoningContent": "Think "}},
        ": ping\n\n",
        {"taskUUID": "t", "delta": {"reasoningContent": "briefly."}},
        {"taskUUID": "t", "delta": {"text": "Hello"}, "finishReason": None},
        {"taskUUID": "t", "delta": {"text": " there."}, "finishReason": None},
        {
            "taskUUID": "t",
            "delta": {},
            "finishReason": "stop",
            "usage": {"promptTokens": 4, "completionTokens": 3, "totalTokens": 7},
            "cost": 0.001,
        },
        "data: [DONE]\n\n",
    )
    events, result = replay_stream(body, api="runware_tasks", provider="runware")
    assert summarise(events)["reasoning"] == "Think briefly."
    assert result.text == "Hello there."
    assert result.usage == Usage(4, 3, 7)
    assert result.provider_metadata["cost"] == 0.001
    for cut in range(1, len(body), 5):
        assert replay_stream(body, [cut], api="runware_tasks", provider="runware")[1] == result


def test_stream_error_event_raises_the_runware_error() -> None:
    body = sse(
        {"taskUUID": "t", "delta": {"text": "Hel"}},
        {
            "errors": [
                {"code": "timeoutProvider", "message": "The provider timed out.", "taskUUID": "t"}
            ]
        },
    )
    with pytest.raises(ServerError) as caught:
        replay_stream(body, api="runware_tasks", provider="runware")
    assert caught.value.provider_code == "timeoutProvider"


# The async delivery through the transport: acknowledgement, processing polls, success.


def polling_server(
    polls_before_done: int, *, fail: bool = False
) -> tuple[httpx.MockTransport, list[Any]]:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        task = body[0]
        if task["taskType"] == "textInference":
            return httpx.Response(
                200, json={"data": [{"taskUUID": task["taskUUID"], "status": "processing"}]}
            )
        if len(seen) <= polls_before_done:
            return httpx.Response(
                200, json={"data": [{"taskUUID": task["taskUUID"], "status": "processing"}]}
            )
        if fail:
            failed = {
                "taskUUID": task["taskUUID"],
                "status": "error",
                "error": {"code": "invalidParameter", "message": "bad"},
            }
            return httpx.Response(200, json={"data": [failed]})
        done = {
            "taskUUID": task["taskUUID"],
            "status": "success",
            "text": "Done.",
            "reasoningContent": "Queued, then answered.",
            "finishReason": "stop",
        }
        return httpx.Response(200, json={"data": [done]})

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_async_delivery_polls_until_the_task_is_done(mode: str) -> None:
    mock, seen = polling_server(polls_before_done=3)
    transport = Transport(
        provider="runware",
        api_key="rw",
        poll_interval=0.001,
        http_client=httpx.Client(transport=mock),
        http_async_client=httpx.AsyncClient(transport=mock),
    )
    request = ChatRequest(
        model="minimax:m3@0",
        messages=[Message(role="user", content="Hi")],
        extra_body={"deliveryMethod": "async"},
    )
    result = transport.complete(request) if mode == "sync" else await transport.acomplete(request)
    assert (result.text, result.reasoning_text) == ("Done.", "Queued, then answered.")
    assert [body[0]["taskType"] for body in seen] == ["textInference"] + ["getResponse"] * 3
    assert {body[0]["taskUUID"] for body in seen} == {seen[0][0]["taskUUID"]}
    assert transport.url == "https://api.runware.ai/v1"


async def test_failed_async_task_raises_its_error() -> None:
    mock, _ = polling_server(polls_before_done=1, fail=True)
    transport = Transport(
        provider="runware",
        api_key="rw",
        poll_interval=0.001,
        http_async_client=httpx.AsyncClient(transport=mock),
    )
    request = ChatRequest(
        model="minimax:m3@0",
        messages=[Message(role="user", content="Hi")],
        extra_body={"deliveryMethod": "async"},
    )
    with pytest.raises(BadRequestError):
        await transport.acomplete(request)


def test_polling_is_bounded_by_the_timeout() -> None:
    mock, seen = polling_server(polls_before_done=10**6)
    transport = Transport(
        provider="runware",
        api_key="rw",
        timeout=0.05,
        poll_interval=0.01,
        http_client=httpx.Client(transport=mock),
    )
    request = ChatRequest(
        model="minimax:m3@0",
        messages=[Message(role="user", content="Hi")],
        extra_body={"deliveryMethod": "async"},
    )
    with pytest.raises(TimeoutError, match="still processing"):
        transport.complete(request)
    assert 2 <= len(seen) < 50
