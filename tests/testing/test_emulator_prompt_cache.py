"""The emulator's model of MiniMax's passive prompt cache (minimax-api.md §3.4: calls of
512 input tokens or more, prefixes matched tools, then system, then history), reported in
each endpoint's own usage shape, and read where the official SDKs read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from minimax_m3.testing import MiniMaxEmulator, Reply, prompt_cache
from minimax_m3.testing.prompt_cache import (
    MIN_CACHED_PROMPT,
    block_tokens,
    chat_blocks,
    count_blocks,
    messages_blocks,
)

ACCOUNT = "acct-cache"
LONG = "Answer as the shop's order desk; quote policy clauses exactly. " * 40
TOOL_CHAT = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up one order by id.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    },
}
TOOL_ANTHROPIC = {
    "name": "lookup_order",
    "description": "Look up one order by id.",
    "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}
HISTORY = [
    {"role": "user", "content": "Where is A-1042?"},
    {"role": "assistant", "content": "Let me check."},
    {"role": "user", "content": "Thanks, and the refund?"},
]


@pytest.fixture
def client(emulator: MiniMaxEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=5.0) as http:
        yield http


def chat_body(messages: list[Any], tools: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "MiniMax-M3", "messages": messages, **extra}
    if tools is not None:
        body["tools"] = tools
    return body


def chat_prompt(history: list[Any] | None = None, system: str = LONG) -> list[Any]:
    return [{"role": "system", "content": system}, *(history or HISTORY)]


def anthropic_body(
    system: str = LONG, tools: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    # M2.7: MiniMax's Anthropic endpoint caches it; M3 there is reported billed in full.
    return {
        "model": "MiniMax-M2.7",
        "max_tokens": 256,
        "system": system,
        "tools": tools or [TOOL_ANTHROPIC],
        "messages": HISTORY,
        **extra,
    }


def chat_usage(client: httpx.Client, body: dict[str, Any], key: str = "k1") -> dict[str, Any]:
    response = client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()["usage"]
    return usage


def cached(client: httpx.Client, body: dict[str, Any], key: str = "k1") -> int:
    return int(chat_usage(client, body, key)["prompt_tokens_details"]["cached_tokens"])


def message_usage(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/anthropic/v1/messages", json=body, headers={"x-api-key": "k1"})
    assert response.status_code == 200, response.text
    usage: dict[str, Any] = response.json()["usage"]
    return usage


def user_prompt_of(tokens: int) -> list[Any]:
    """One user message whose prompt is exactly ``tokens`` in the emulator's estimate."""
    for size in range(tokens * 4 - 40, tokens * 4 + 4):
        messages = [{"role": "user", "content": "x" * size}]
        if count_blocks(messages) == tokens:
            return messages
    raise AssertionError("no such size")


@pytest.mark.parametrize(("tokens", "expected"), [(511, 0), (512, 512)])
def test_prompts_under_512_tokens_are_never_cached(
    client: httpx.Client, tokens: int, expected: int
) -> None:
    body = chat_body(user_prompt_of(tokens))
    first = chat_usage(client, body)
    assert first["prompt_tokens"] == tokens
    assert first["prompt_tokens_details"]["cached_tokens"] == 0
    assert cached(client, body) == expected


def test_a_changed_last_message_keeps_the_blocks_before_it(client: httpx.Client) -> None:
    first = chat_body(chat_prompt(), tools=[TOOL_CHAT])
    assert cached(client, first) == 0
    changed = chat_prompt([*HISTORY[:2], {"role": "user", "content": "And the invoice?"}])
    expected = sum(block_tokens(b) for b in [[TOOL_CHAT], *chat_prompt()[:3]])
    assert cached(client, chat_body(changed, tools=[TOOL_CHAT])) == expected
    # The whole earlier prompt, once repeated, is read in full.
    assert cached(client, first) == count_blocks(chat_blocks(first))


def test_appended_turns_read_the_whole_earlier_prompt(client: httpx.Client) -> None:
    first = chat_body(chat_prompt(), tools=[TOOL_CHAT])
    cached(client, first)
    longer = chat_prompt([*HISTORY, {"role": "assistant", "content": "22.40 EUR."}])
    assert cached(client, chat_body(longer, tools=[TOOL_CHAT])) == count_blocks(chat_blocks(first))


def test_a_changed_system_prompt_caches_only_the_tools(client: httpx.Client) -> None:
    assert message_usage(client, anthropic_body())["cache_read_input_tokens"] == 0
    usage = message_usage(client, anthropic_body(system=LONG + " Be brief."))
    assert usage["cache_read_input_tokens"] == block_tokens([TOOL_ANTHROPIC])


def test_a_changed_tool_caches_nothing(client: httpx.Client) -> None:
    message_usage(client, anthropic_body())
    other = {**TOOL_ANTHROPIC, "description": "Look up one order by its id."}
    assert message_usage(client, anthropic_body(tools=[other]))["cache_read_input_tokens"] == 0


def test_key_order_does_not_matter_but_every_value_does(client: httpx.Client) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    result = {"role": "tool", "tool_call_id": "call_1", "content": "done"}
    history = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        result,
    ]
    cached(client, chat_body(chat_prompt(history)))
    reordered = [
        history[0],
        {"tool_calls": [call], "content": "", "role": "assistant"},
        {"content": "done", "tool_call_id": "call_1", "role": "tool"},
    ]
    full = count_blocks(chat_blocks(chat_body(chat_prompt(history))))
    assert cached(client, chat_body(chat_prompt(reordered))) == full
    other_args = {**call, "function": {"name": "f", "arguments": '{"a": 1}'}}
    # The same arguments written with a space: the blocks from that message on are new.
    changed = [history[0], {**history[1], "tool_calls": [other_args]}, result]
    expected = full - block_tokens(history[1]) - block_tokens(result)
    assert cached(client, chat_body(chat_prompt(changed))) == expected


def test_each_key_and_model_has_its_own_cache(client: httpx.Client) -> None:
    body = chat_body(chat_prompt())
    cached(client, body, key="alice")
    assert cached(client, body, key="bob") == 0
    assert cached(client, {**body, "model": "MiniMax-M2.7"}, key="alice") == 0
    assert cached(client, body, key="alice") == count_blocks(chat_blocks(body))


def test_reset_empties_the_cache(emulator: MiniMaxEmulator, client: httpx.Client) -> None:
    body = chat_body(chat_prompt())
    cached(client, body)
    emulator.reset()
    assert cached(client, body) == 0


def test_a_scripted_count_overrides_the_model(
    emulator: MiniMaxEmulator, client: httpx.Client
) -> None:
    body = chat_body(chat_prompt())
    cached(client, body)
    emulator.queue(Reply(text="ok", usage={"cached_tokens": 7}))
    assert cached(client, body) == 7


def test_the_model_can_be_switched_off() -> None:
    with (
        MiniMaxEmulator(prompt_cache=False) as emulator,
        httpx.Client(base_url=emulator.base_url, timeout=5.0) as client,
    ):
        body = chat_body(chat_prompt())
        cached(client, body)
        assert cached(client, body) == 0


def test_anthropic_counts_input_tokens_without_the_cached_part(client: httpx.Client) -> None:
    body = anthropic_body()
    total = count_blocks(messages_blocks(body))
    first = message_usage(client, body)
    assert (first["input_tokens"], first["cache_read_input_tokens"]) == (total, 0)
    again = message_usage(client, body)
    assert again["cache_read_input_tokens"] == total
    assert again["input_tokens"] == 0
    assert again["cache_creation_input_tokens"] == 0
    # count_tokens agrees with what an answer's usage adds up to.
    counted = {key: value for key, value in body.items() if key != "max_tokens"}
    count = client.post("/anthropic/v1/messages/count_tokens", json=counted).json()
    assert count == {"input_tokens": total}


def sse_payloads(response: httpx.Response) -> list[Any]:
    return [
        json.loads(line[6:])
        for line in response.text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def test_streams_carry_the_same_counts(client: httpx.Client) -> None:
    chat = chat_body(chat_prompt(), stream=True, stream_options={"include_usage": True})
    client.post("/v1/chat/completions", json=chat)
    chunks = sse_payloads(client.post("/v1/chat/completions", json=chat))
    usage = next(c["usage"] for c in chunks if c.get("usage"))
    assert usage["prompt_tokens_details"]["cached_tokens"] == count_blocks(chat_blocks(chat))

    messages = anthropic_body(stream=True)
    client.post("/anthropic/v1/messages", json=messages)
    events = sse_payloads(client.post("/anthropic/v1/messages", json=messages))
    start = next(e for e in events if e["type"] == "message_start")["message"]["usage"]
    assert start["cache_read_input_tokens"] == count_blocks(messages_blocks(messages))
    assert start["input_tokens"] == 0


def test_cloudflare_and_runware_chat_report_cached_tokens(emulator: MiniMaxEmulator) -> None:
    routes = {
        f"{emulator.cloudflare_base_url}/accounts/{ACCOUNT}/ai/v1/chat/completions": "minimax/m3",
        f"{emulator.runware_base_url}/chat/completions": "minimax:m3@0",
    }
    with httpx.Client(timeout=5.0) as client:
        for url, model in routes.items():
            body = {"model": model, "messages": chat_prompt()}
            client.post(url, json=body)
            usage = client.post(url, json=body).json()
            usage = usage.get("result", usage)["usage"]
            assert usage["prompt_tokens_details"]["cached_tokens"] == count_blocks(
                chat_blocks(body)
            )


def test_m3_on_minimax_s_anthropic_endpoint_reads_nothing_from_the_cache(
    client: httpx.Client, emulator: MiniMaxEmulator
) -> None:
    # earendil-works/pi#5605: M3 there bills the whole input; Cloudflare's route, M2.7
    # on the same endpoint and M3 on Chat Completions all read the repeated prefix.
    m3 = {**anthropic_body(), "model": "MiniMax-M3"}
    message_usage(client, m3)
    usage = message_usage(client, m3)
    assert usage["cache_read_input_tokens"] == 0
    assert usage["input_tokens"] == count_blocks(prompt_cache.messages_blocks(m3))
    message_usage(client, anthropic_body())
    assert message_usage(client, anthropic_body())["cache_read_input_tokens"] > 0


def test_self_hosted_and_runware_tasks_report_no_cached_part(emulator: MiniMaxEmulator) -> None:
    body = chat_body(chat_prompt(), model="MiniMaxAI/MiniMax-M3")
    task = [
        {
            "taskType": "textInference",
            "taskUUID": "6f1c1c1e-8a51-4a4e-9a57-2f3c7d2a0b11",
            "model": "minimax:m3@0",
            "messages": HISTORY,
            "settings": {"systemPrompt": LONG},
            "includeUsage": True,
        }
    ]
    with httpx.Client(timeout=5.0) as client:
        for server in ("vllm", "sglang"):
            url = emulator.self_hosted_base_url(server) + "/chat/completions"
            client.post(url, json=body)
            usage = client.post(url, json=body).json()["usage"]
            assert usage["prompt_tokens_details"]["cached_tokens"] == 0
        client.post(emulator.runware_base_url, json=task)
        answer = client.post(emulator.runware_base_url, json=task).json()["data"][0]
        assert set(answer["usage"]) == {
            "promptTokens",
            "completionTokens",
            "totalTokens",
            "thinkingTokens",
        }
        assert answer["usage"]["promptTokens"] == count_blocks(
            [LONG, *HISTORY]
        )  # the system prompt and messages, all counted


def test_the_official_sdks_read_the_cached_count(emulator: MiniMaxEmulator) -> None:
    body = chat_body(chat_prompt())
    with openai.OpenAI(api_key="k1", base_url=emulator.base_url + "/v1", max_retries=0) as sdk:
        sdk.chat.completions.create(model="MiniMax-M3", messages=body["messages"])
        completion = sdk.chat.completions.create(model="MiniMax-M3", messages=body["messages"])
    assert completion.usage is not None
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == count_blocks(chat_blocks(body))

    request = anthropic_body()
    with anthropic.Anthropic(
        api_key="k1", base_url=emulator.anthropic_base_url, max_retries=0
    ) as sdk_a:
        kwargs = {key: request[key] for key in ("model", "max_tokens", "system", "tools")}
        sdk_a.messages.create(messages=HISTORY, **kwargs)
        message = sdk_a.messages.create(messages=HISTORY, **kwargs)
    assert message.usage.cache_read_input_tokens == count_blocks(messages_blocks(request))
    assert message.usage.input_tokens == 0
    assert MIN_CACHED_PROMPT == 512
