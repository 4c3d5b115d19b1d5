"""Usage and cost through both frameworks, on every wire format, whole and streamed.

Bodies come from sources we did not write, served over httpx.MockTransport: the Cloudflare
seed page's raw M3 response (``cached_tokens: 114``), MiniMax's documented M3 stream
(minimax-api.md §4.4), the usage shape MiniMax uses with explicit cache_control
(minimax-api.md §3.4, cc-skills ``prompt-caching.md``), the ``anthropic`` SDK's own usage
types, and Runware's SDK stream test (cloudflare-runware.md B.3, ``"cost":0.001``) with
the seed 003 page's ``usage.thinkingTokens``. LangChain's numbers are checked against
langchain-anthropic's own conversion where it has one: ``input_tokens`` includes cache
reads and writes, as langchain-core's UsageMetadata documents.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic.types
import httpx
import pytest
from langchain_anthropic.chat_models import _create_usage_metadata
from llama_index.core.base.llms.types import ChatMessage

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply
from minimax_m3.wire import runware_tasks

Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """A MockTransport that answers each request with ``answer(request)`` and keeps them."""

    def __init__(self, answer: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]


def models(server: Server, **settings: Any) -> tuple[ChatMiniMaxM3, MiniMaxM3]:
    client = httpx.Client(transport=httpx.MockTransport(server))
    settings = {"api_key": "k", "base_url": "http://server.test", "max_retries": 0, **settings}
    return ChatMiniMaxM3(http_client=client, **settings), MiniMaxM3(http_client=client, **settings)


def sse(*events: str) -> bytes:
    return "".join(f"{event}\n\n" for event in events).encode()


def whole(body: Any) -> Handler:
    return lambda request: httpx.Response(200, json=body)


def streamed(content: bytes) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream") is not True:
            raise AssertionError("expected a streamed request")
        return httpx.Response(200, content=content, headers={"content-type": "text/event-stream"})

    return answer


def lc_stream(model: ChatMiniMaxM3) -> Any:
    merged: Any = None
    for chunk in model.stream("hi"):
        merged = chunk if merged is None else merged + chunk
    return merged


def li_stream(llm: MiniMaxM3) -> Any:
    *_, last = llm.stream_chat([ChatMessage(role="user", content="hi")])
    return last


def li_chat(llm: MiniMaxM3) -> Any:
    return llm.chat([ChatMessage(role="user", content="hi")])


# Chat Completions


def seed_with_usage(seed: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    return {**seed, "usage": usage}


@pytest.fixture
def capital(seed_response: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return seed_response("capital_of_france")


@pytest.mark.parametrize(
    ("usage", "read", "creation", "reasoning"),
    [
        # The seed page's own usage: the passive cache.
        (
            {
                "total_tokens": 221,
                "prompt_tokens": 183,
                "completion_tokens": 38,
                "total_characters": 0,
                "prompt_tokens_details": {"cached_tokens": 114},
            },
            114,
            None,
            None,
        ),
        # With explicit cache_control (M2.7): Anthropic-style names in the details...
        (
            {
                "total_tokens": 221,
                "prompt_tokens": 183,
                "completion_tokens": 38,
                "prompt_tokens_details": {
                    "cache_read_input_tokens": 114,
                    "cache_creation_input_tokens": 60,
                },
                "completion_tokens_details": {"reasoning_tokens": 30},
            },
            114,
            60,
            30,
        ),
        # ... or at the top level of usage, as the same campaign's snippet reads them.
        (
            {
                "total_tokens": 221,
                "prompt_tokens": 183,
                "completion_tokens": 38,
                "cache_read_input_tokens": 114,
                "cache_creation_input_tokens": 60,
            },
            114,
            60,
            None,
        ),
    ],
    ids=["passive-seed", "explicit-in-details", "explicit-top-level"],
)
def test_chat_completions_cache_and_reasoning_counts_reach_both_frameworks(
    capital: dict[str, Any],
    usage: dict[str, Any],
    read: int,
    creation: int | None,
    reasoning: int | None,
) -> None:
    lc, li = models(Server(whole(seed_with_usage(capital, usage))))

    metadata = lc.invoke("hi").usage_metadata
    assert metadata["input_tokens"] == 183  # prompt_tokens already counts cache reads
    assert metadata["output_tokens"] == 38
    assert metadata["total_tokens"] == 221
    assert metadata["input_token_details"].get("cache_read") == read
    assert metadata["input_token_details"].get("cache_creation") == creation
    assert metadata.get("output_token_details", {}).get("reasoning") == reasoning

    response = li_chat(li)
    for counts in (response.raw["usage"], response.additional_kwargs):
        assert counts["prompt_tokens"] == 183
        assert counts["cached_tokens"] == read
        assert counts.get("cache_creation_tokens") == creation
        assert counts.get("reasoning_tokens") == reasoning


# minimax-api.md §4.4, MiniMax's M3 tool-call stream: its usage chunk, verbatim but for the
# id, arrives last with empty choices.
DOCUMENTED_STREAM = sse(
    'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}',
    'data: {"id":"c1","choices":[{"index":0,"finish_reason":"stop","delta":{}}]}',
    'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":418,"completion_tokens":55,'
    '"total_tokens":473,"prompt_tokens_details":{"cached_tokens":114}}}',
    "data: [DONE]",
)


def test_chat_completions_stream_usage_reaches_the_merged_chunk_and_the_last_response() -> None:
    lc, li = models(Server(streamed(DOCUMENTED_STREAM)))

    merged = lc_stream(lc)
    assert merged.usage_metadata["input_tokens"] == 418
    assert merged.usage_metadata["total_tokens"] == 473
    assert merged.usage_metadata["input_token_details"] == {"cache_read": 114}

    last = li_stream(li)
    assert last.raw["usage"]["cached_tokens"] == 114
    assert last.additional_kwargs["cached_tokens"] == 114


# Anthropic Messages

SDK_USAGE = anthropic.types.Usage(
    input_tokens=21, output_tokens=40, cache_read_input_tokens=2048, cache_creation_input_tokens=512
)


def anthropic_message(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "MiniMax-M2.7",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def expected_langchain_usage() -> dict[str, Any]:
    """What langchain-anthropic makes of the same usage, our reference for the totals."""
    theirs = _create_usage_metadata(SDK_USAGE)
    details = theirs["input_token_details"]
    return {
        "input_tokens": theirs["input_tokens"],
        "output_tokens": theirs["output_tokens"],
        "total_tokens": theirs["total_tokens"],
        "input_token_details": {
            "cache_read": details["cache_read"],
            "cache_creation": details["cache_creation"],
        },
    }


def test_anthropic_usage_totals_agree_with_langchain_anthropic() -> None:
    body = anthropic_message(SDK_USAGE.model_dump(exclude_none=True))
    lc, li = models(Server(whole(body)), model="MiniMax-M2.7", api="anthropic_messages")

    expected = expected_langchain_usage()
    assert expected["input_tokens"] == 21 + 2048 + 512
    assert lc.invoke("hi").usage_metadata == expected

    counts = li_chat(li).raw["usage"]
    assert counts == {
        "prompt_tokens": 21 + 2048 + 512,
        "completion_tokens": 40,
        "total_tokens": 21 + 2048 + 512 + 40,
        "cached_tokens": 2048,
        "cache_creation_tokens": 512,
    }


def anthropic_stream(delta_usage: dict[str, Any]) -> bytes:
    # message_start carries the input counts (MiniMax: "its usage may already include
    # cache_read_input_tokens"); message_delta's usage has the final output count, and
    # may repeat the input counts (MessageDeltaUsage in the SDK has them all).
    start = {
        "type": "message_start",
        "message": {
            **anthropic_message({**SDK_USAGE.model_dump(exclude_none=True), "output_tokens": 1}),
            "content": [],
            "stop_reason": None,
        },
    }
    events = [
        ("message_start", start),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Hi"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": delta_usage,
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse(*(f"event: {name}\ndata: {json.dumps(data)}" for name, data in events))


@pytest.mark.parametrize(
    "delta_usage",
    [
        {"output_tokens": 40},
        anthropic.types.MessageDeltaUsage(
            input_tokens=21,
            output_tokens=40,
            cache_read_input_tokens=2048,
            cache_creation_input_tokens=512,
        ).model_dump(exclude_none=True),
    ],
    ids=["output-only", "repeats-input"],
)
def test_anthropic_stream_usage_counts_once_with_its_cache_reads(
    delta_usage: dict[str, Any],
) -> None:
    lc, li = models(
        Server(streamed(anthropic_stream(delta_usage))),
        model="MiniMax-M2.7",
        api="anthropic_messages",
    )

    assert lc_stream(lc).usage_metadata == expected_langchain_usage()
    last = li_stream(li)
    assert last.raw["usage"]["prompt_tokens"] == 21 + 2048 + 512
    assert last.raw["usage"]["total_tokens"] == 21 + 2048 + 512 + 40
    assert last.additional_kwargs["cached_tokens"] == 2048


# Runware's native tasks


def runware_result(task: dict[str, Any]) -> dict[str, Any]:
    # The sync item's fields (cloudflare-runware.md B.2, RW-PY MinimaxM3Result), the usage
    # with seed 003's thinkingTokens.
    return {
        "data": [
            {
                "taskType": "textInference",
                "taskUUID": task["taskUUID"],
                "text": "Hello",
                "finishReason": "stop",
                "usage": {
                    "promptTokens": 10,
                    "completionTokens": 5,
                    "totalTokens": 15,
                    "thinkingTokens": 3,
                },
                "cost": 0.001,
            }
        ]
    }


def runware_whole(request: httpx.Request) -> httpx.Response:
    [task] = json.loads(request.content)
    return httpx.Response(200, json=runware_result(task))


def runware_stream(request: httpx.Request) -> httpx.Response:
    [task] = json.loads(request.content)
    uuid = task["taskUUID"]
    # Runware's SDK stream test, as cloudflare-runware.md B.3 reconstructs it.
    content = sse(
        f'data: {{"taskUUID":"{uuid}","taskType":"textInference",'
        '"delta":{"reasoningContent":"Let me think..."}}',
        f'data: {{"taskUUID":"{uuid}","taskType":"textInference","delta":{{"text":"Hello"}},'
        '"finishReason":null}',
        f'data: {{"taskUUID":"{uuid}","taskType":"textInference","delta":{{}},'
        '"finishReason":"stop","usage":{"promptTokens":10,"completionTokens":5,'
        '"totalTokens":15,"thinkingTokens":3},"cost":0.001}',
        "data: [DONE]",
    )
    return httpx.Response(200, content=content, headers={"content-type": "text/event-stream"})


@pytest.fixture(params=["whole", "stream"])
def runware(request: pytest.FixtureRequest) -> tuple[str, Server]:
    return request.param, Server(runware_whole if request.param == "whole" else runware_stream)


def test_runware_tasks_ask_for_the_cost_and_report_it_in_both_frameworks(
    runware: tuple[str, Server],
) -> None:
    how, server = runware
    lc, li = models(server, provider="runware")

    message = lc_stream(lc) if how == "stream" else lc.invoke("hi")
    # One cost on the merged chunk: only the last chunk carries it, so merging neither
    # sums it nor makes it a list.
    assert message.response_metadata["cost"] == 0.001
    assert message.usage_metadata["output_token_details"] == {"reasoning": 3}
    assert message.usage_metadata["total_tokens"] == 15

    response = li_stream(li) if how == "stream" else li_chat(li)
    assert response.raw["cost"] == 0.001
    assert response.additional_kwargs["cost"] == 0.001
    assert response.raw["usage"]["reasoning_tokens"] == 3

    for task in (body[0] for body in server.bodies()):
        assert task["includeCost"] is True
        assert task["includeUsage"] is True


def test_runware_cost_can_be_left_out_with_extra_body() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        [task] = json.loads(request.content)
        result = runware_result(task)
        if not task.get("includeCost"):
            del result["data"][0]["cost"]
        return httpx.Response(200, json=result)

    server = Server(answer)
    lc, li = models(server, provider="runware", extra_body={"includeCost": False})

    assert "cost" not in lc.invoke("hi").response_metadata
    response = li_chat(li)
    assert "cost" not in response.raw
    assert "cost" not in response.additional_kwargs
    assert [body[0]["includeCost"] for body in server.bodies()] == [False, False]


def test_runware_openai_compatible_route_has_no_include_cost(
    capital: dict[str, Any],
) -> None:
    """Runware's /v1/chat/completions lacks includeCost (cloudflare-runware.md B.5)."""
    server = Server(whole(capital))
    lc, li = models(server, provider="runware", api="chat_completions")
    lc.invoke("hi")
    li_chat(li)
    assert all("includeCost" not in body for body in server.bodies())


def test_runware_cost_arrives_through_async_polling(emulator: MiniMaxEmulator) -> None:
    """deliveryMethod "async": the answer the class polls for carries its cost too."""
    settings: dict[str, Any] = {
        "provider": "runware",
        "api_key": "k",
        "base_url": emulator.runware_base_url,
        "extra_body": {"deliveryMethod": "async"},
        "poll_interval": 0.01,
    }
    emulator.queue(
        Reply(text="Hello", provider=ProviderOptions(cost=0.0025)),
        Reply(text="Hello", provider=ProviderOptions(cost=0.0025)),
    )
    assert ChatMiniMaxM3(**settings).invoke("hi").response_metadata["cost"] == 0.0025
    assert li_chat(MiniMaxM3(**settings)).raw["cost"] == 0.0025
    tasks = [r.json[0] for r in emulator.requests if r.json[0]["taskType"] == "textInference"]
    assert [task["includeCost"] for task in tasks] == [True, True]


def test_runware_reasoning_tokens_under_completion_details() -> None:
    """The older SDK's usage shape (ITextInferenceUsage): completionTokensDetails."""
    usage = runware_tasks.parse_usage(
        {
            "promptTokens": 10,
            "completionTokens": 5,
            "totalTokens": 15,
            "completionTokensDetails": {"reasoningTokens": 2},
        }
    )
    assert usage is not None
    assert (usage.reasoning_tokens, usage.total_tokens) == (2, 15)
