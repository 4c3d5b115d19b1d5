"""vLLM's and SGLang's MiniMax parser cases through both framework classes.

The emulator answers as a self-hosted server without parsers (``server="raw"``),
sending each case's model output exactly, as one piece, at the source's split points,
or one character per event. ``ChatMiniMaxM3`` and ``MiniMaxM3`` must each give the
answer ``parser_cases`` states: content, reasoning and tool calls as their users read
them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from parser_cases import CASES, Case, assert_matches

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply
from minimax_m3.types import ToolSpec

# How the answer arrives: whole (not streamed), or streamed in these pieces.
SHAPES = ("whole", "source-chunks", "characters", "random")


@pytest.fixture(scope="module")
def server() -> Iterator[MiniMaxEmulator]:
    with MiniMaxEmulator() as emulator:
        yield emulator


def request_options(case: Case) -> dict[str, Any]:
    """What the client sends so that it knows what the source's server knew."""
    if case.start == "inside":
        return {"extra_body": {"chat_template_kwargs": {"thinking_mode": "enabled"}}}
    if case.start == "outside":
        return {"thinking": "adaptive"}
    return {}


def pieces(case: Case, shape: str) -> tuple[str, ...] | None:
    if shape == "source-chunks":
        return tuple(case.chunks) if case.chunks else None
    if shape == "characters":
        return tuple(case.output)
    if shape == "random":
        # Split points drawn afresh for each case, the same on every run.
        rng = random.Random(case.id)
        text = case.output
        points = sorted(rng.sample(range(1, len(text)), min(max(len(text) - 1, 0), 8)))
        cuts = [0, *points, len(text)]
        return tuple(text[a:b] for a, b in itertools.pairwise(cuts) if b > a) or (text,)
    return (case.output,)


def tool_dicts(case: Case) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t["name"], "parameters": t["parameters"] or {}}}
        for t in case.tools
        if t["name"]
    ]


def ask_langchain(base_url: str, case: Case, shape: str) -> dict[str, Any]:
    model = ChatMiniMaxM3(provider="openai-compatible", base_url=base_url, max_retries=0)
    options = request_options(case)
    thinking = options.pop("thinking", None)
    if thinking:
        model = model.model_copy(update={"thinking": thinking})
    bound = model.bind_tools(tool_dicts(case)) if case.tools else model
    message: AIMessage
    if shape == "whole":
        message = bound.invoke("Go.", **options)  # type: ignore[assignment]
    elif shape in ("characters", "random"):

        async def collect() -> list[AIMessageChunk]:
            return [chunk async for chunk in bound.astream("Go.", **options)]  # type: ignore[misc]

        message = merged(asyncio.run(collect()))
    else:
        message = merged(list(bound.stream("Go.", **options)))  # type: ignore[arg-type]
    assert not message.invalid_tool_calls
    return {
        "content": message.text,
        "reasoning": message.additional_kwargs.get("reasoning_content", ""),
        "tool_calls": [{"name": c["name"], "arguments": c["args"]} for c in message.tool_calls],
    }


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def ask_llama_index(base_url: str, case: Case, shape: str) -> dict[str, Any]:
    llm = MiniMaxM3(provider="openai-compatible", base_url=base_url, max_retries=0)
    options = request_options(case)
    if case.tools:
        options["tools"] = [
            ToolSpec(t["name"], parameters=t["parameters"] or {}) for t in case.tools if t["name"]
        ]
    messages = [ChatMessage(role="user", content="Go.")]
    if shape == "whole":
        response = llm.chat(messages, **options)
    elif shape in ("characters", "random"):

        async def last() -> Any:
            return [r async for r in await llm.astream_chat(messages, **options)][-1]

        response = asyncio.run(last())
    else:
        response = list(llm.stream_chat(messages, **options))[-1]
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    thinking = "".join(
        block.content or "" for block in response.message.blocks if isinstance(block, ThinkingBlock)
    )
    return {
        "content": response.message.content or "",
        "reasoning": thinking,
        "tool_calls": [{"name": c.tool_name, "arguments": c.tool_kwargs} for c in calls],
    }


FRAMEWORKS = {"langchain": ask_langchain, "llama_index": ask_llama_index}


RUNS = [
    pytest.param(case, shape, id=f"{case.id}-{shape}")
    for case in CASES
    if not case.mid_stream
    for shape in SHAPES
    if pieces(case, shape) is not None
]


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize(("case", "shape"), RUNS)
def test_each_case_through_each_framework(
    case: Case, shape: str, framework: str, server: MiniMaxEmulator
) -> None:
    server.queue(Reply(raw_chunks=pieces(case, shape), provider=ProviderOptions(server="raw")))
    got = FRAMEWORKS[framework](server.self_hosted_base_url("raw"), case, shape)
    assert_matches(case, got, how=f"{framework}, {shape}")
    sent = server.requests[-1].json
    assert (
        sent.get("chat_template_kwargs", {}).get("thinking_mode")
        == {
            "inside": "enabled",
            "outside": "adaptive",
            "unknown": None,
        }[case.start]
    )
