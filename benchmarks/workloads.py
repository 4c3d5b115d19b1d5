"""The work of the scaling series, at the sizes M3 is used at, for every contender.

Each series grows one dimension of a request or an answer, at 1x, 4x and 16x:

- ``stream``: an answer of N chunks, reasoning then text (per chunk);
- ``tool_args``: one tool call whose arguments stream in N fragments (per fragment);
- ``history``: an agent history of N turns, each an assistant turn with reasoning and two
  tool calls and the two results, sent with one more question (per turn, per invoke);
- ``prompt``: one user message of N MB (per MB, per invoke);
- ``tools``: N tools bound for one call, bound afresh each call as agents do (per tool):
  ``StructuredTool``s and ``FunctionTool``s with pydantic argument schemas, the shapes
  ``@tool`` and ``FunctionTool.from_defaults`` make.

A workload is a function of no arguments that does one unit of the series' work once:
built before timing, so that building a 16 MB prompt or 500 schemas is not measured.
Answers come from memory (:mod:`benchmarks.replay`), so only the client's work is
measured. The floors are the lowest-level paths: ``httpx floor`` sends the request's
wire JSON to the transport directly (no client) and parses with ``pydantic_core``, the
fastest parser the project uses; each framework's floor is a model of that framework
that answers from memory, given the same messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from benchmarks.contenders import MODEL, PROMPT, model_for
from benchmarks.httpx_floor import HttpxFloor
from benchmarks.replay import BASE, ReplayTransport
from benchmarks.replay import client as replay_client

Workload = Callable[[], object]

HTTPX_FLOOR = "httpx floor"
TRANSPORT = "minimax_m3 Transport"
CHAT_OPENAI, CHAT_MINIMAX, LC_FLOOR = "ChatOpenAI", "ChatMiniMaxM3", "LangChain floor"
OPENAI_LIKE, MINIMAX_LLM, LI_FLOOR = "OpenAILike", "MiniMaxM3", "LlamaIndex floor"
LANGCHAIN = (CHAT_OPENAI, CHAT_MINIMAX, LC_FLOOR)
LLAMA_INDEX = (OPENAI_LIKE, MINIMAX_LLM, LI_FLOOR)
FLOORS = (HTTPX_FLOOR, LC_FLOOR, LI_FLOOR)

REASONING = (
    "The user wants the weather in two cities, so I call the forecast tool for each of "
    "them in parallel, then compare the results and answer briefly with both forecasts, "
    "noting anything unusual such as storms, heat or heavy rain in either place today. "
)
RESULT = json.dumps({"city": "Paris", "forecast": ["sunny", 21, "light wind"] * 6})


def _arguments(turn: int, call: int) -> dict[str, Any]:
    return {"city": f"City {turn}-{call}", "days": 3, "units": "metric"}


def _call_id(turn: int, call: int) -> str:
    return f"call_function_{turn:05}_{call}"


# ---- what each series sends, in each contender's own types --------------------------


def wire_history(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a weather assistant."},
        {"role": "user", "content": "What is the weather in these cities?"},
    ]
    for turn in range(turns):
        calls = [
            {
                "id": _call_id(turn, call),
                "type": "function",
                "function": {"name": "forecast", "arguments": json.dumps(_arguments(turn, call))},
            }
            for call in (0, 1)
        ]
        messages.append(
            {
                "role": "assistant",
                "content": "",
                "reasoning_content": REASONING,
                "tool_calls": calls,
            }
        )
        for call in (0, 1):
            messages.append(
                {"role": "tool", "tool_call_id": _call_id(turn, call), "content": RESULT}
            )
    messages.append({"role": "user", "content": PROMPT})
    return messages


def langchain_history(turns: int) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    messages: list[Any] = [
        SystemMessage("You are a weather assistant."),
        HumanMessage("What is the weather in these cities?"),
    ]
    for turn in range(turns):
        calls = [
            {"id": _call_id(turn, call), "name": "forecast", "args": _arguments(turn, call)}
            for call in (0, 1)
        ]
        messages.append(
            AIMessage(
                content="", additional_kwargs={"reasoning_content": REASONING}, tool_calls=calls
            )
        )
        messages += [ToolMessage(RESULT, tool_call_id=_call_id(turn, call)) for call in (0, 1)]
    messages.append(HumanMessage(PROMPT))
    return messages


def llama_index_history(turns: int) -> list[Any]:
    from llama_index.core.base.llms.types import (
        ChatMessage,
        TextBlock,
        ThinkingBlock,
        ToolCallBlock,
    )

    messages = [
        ChatMessage(role="system", content="You are a weather assistant."),
        ChatMessage(role="user", content="What is the weather in these cities?"),
    ]
    for turn in range(turns):
        blocks: list[Any] = [ThinkingBlock(content=REASONING), TextBlock(text="")]
        blocks += [
            ToolCallBlock(
                tool_call_id=_call_id(turn, call),
                tool_name="forecast",
                tool_kwargs=_arguments(turn, call),
            )
            for call in (0, 1)
        ]
        messages.append(ChatMessage(role="assistant", blocks=blocks))
        messages += [
            ChatMessage(
                role="tool",
                content=RESULT,
                additional_kwargs={"tool_call_id": _call_id(turn, call)},
            )
            for call in (0, 1)
        ]
    messages.append(ChatMessage(role="user", content=PROMPT))
    return messages


def neutral_history(turns: int) -> list[Any]:
    from minimax_m3 import Message, ReasoningSegment, ToolCall

    messages = [
        Message("system", "You are a weather assistant."),
        Message("user", "What is the weather in these cities?"),
    ]
    for turn in range(turns):
        calls = [
            ToolCall(_call_id(turn, call), "forecast", json.dumps(_arguments(turn, call)))
            for call in (0, 1)
        ]
        messages.append(
            Message("assistant", "", tool_calls=calls, reasoning=[ReasoningSegment(REASONING)])
        )
        messages += [Message("tool", RESULT, tool_call_id=_call_id(turn, call)) for call in (0, 1)]
    messages.append(Message("user", PROMPT))
    return messages


def prompt_text(megabytes: float) -> str:
    line = "Summarise the following log line by line, noting every failure you find. "
    size = int(megabytes * 1_000_000)
    return (line * (size // len(line) + 1))[:size]


def tool_schema(index: int) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": f"tool_{index:03}",
            "description": f"Look up record kind {index} by its id and return its fields.",
            "parameters": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "The record's id."},
                    "fields": {"type": "array", "items": {"type": "string"}},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                "required": ["id"],
            },
        },
    }


def _argument_schema(index: int) -> Any:
    from pydantic import Field, create_model

    return create_model(
        f"Tool{index:03}",
        id=(str, Field(description="The record's id.")),
        fields=(list[str] | None, None),
        limit=(int, Field(10, ge=1, le=100)),
    )


def _lookup(id: str, fields: list[str] | None = None, limit: int = 10) -> str:
    return id


def langchain_tools(count: int) -> list[Any]:
    """Tools as agents bind them: ``StructuredTool``s with a pydantic argument schema."""
    from langchain_core.tools import StructuredTool

    tools = []
    for index in range(count):
        spec = tool_schema(index)["function"]
        tools.append(
            StructuredTool.from_function(
                func=_lookup,
                name=spec["name"],
                description=spec["description"],
                args_schema=_argument_schema(index),
            )
        )
    return tools


def llama_index_tools(count: int) -> list[Any]:
    from llama_index.core.tools import FunctionTool

    tools = []
    for index in range(count):
        schema = _argument_schema(index)
        spec = tool_schema(index)["function"]
        tools.append(
            FunctionTool.from_defaults(
                fn=_lookup, name=spec["name"], description=spec["description"], fn_schema=schema
            )
        )
    return tools


def neutral_tools(count: int) -> list[Any]:
    from minimax_m3 import ToolSpec

    specs = [tool_schema(index)["function"] for index in range(count)]
    return [ToolSpec(s["name"], s["description"], s["parameters"]) for s in specs]


# ---- one unit of work per contender --------------------------------------------------


def build(series: str, name: str, size: int) -> Workload | None:
    """The workload of ``series`` at ``size`` for contender ``name``, answered from memory
    (:mod:`benchmarks.replay`); None if it has none (LlamaIndex's floor streams no tool
    calls, and neither floor binds tools)."""
    if series == "stream":
        return _streamed(name, f"{BASE}/sse/{size}", size)
    if series == "tool_args":
        if name == LI_FLOOR:
            return None
        if name == LC_FLOOR:
            return _floor_call_fragments(size)
        return _streamed(name, f"{BASE}/tool/{size}", 0)
    if series == "history":
        return _asked(name, history=size)
    if series == "prompt":
        return _asked(name, prompt=prompt_text(size))
    if series == "tools":
        return None if name in (LC_FLOOR, LI_FLOOR) else _with_tools(name, size)
    raise ValueError(f"no such series {series!r}")


def _model(name: str, base: str, tokens: tuple[str, ...] = ()) -> Any:
    if name == HTTPX_FLOOR:
        return HttpxFloor(base, ReplayTransport())
    if name in (LC_FLOOR, LI_FLOOR):
        return model_for(name, base, tokens)
    return model_for(name, base, http_client=replay_client())


def _streamed(name: str, base: str, chunks: int) -> Workload:
    from benchmarks.floors import floor_tokens

    model = _model(name, base, floor_tokens(chunks))
    if name == HTTPX_FLOOR:
        body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
        return lambda: model.stream({**body, "stream_options": {"include_usage": True}})
    if name == TRANSPORT:
        from minimax_m3 import ChatRequest, Message

        messages = [Message("user", PROMPT)]
        return lambda: sum(1 for _ in model.stream(ChatRequest(model=MODEL, messages=messages)))
    if name in LANGCHAIN:
        return lambda: sum(1 for _ in model.stream(PROMPT))
    from llama_index.core.base.llms.types import ChatMessage

    chat = [ChatMessage(role="user", content=PROMPT)]
    return lambda: sum(1 for _ in model.stream_chat(chat))


def _floor_call_fragments(fragments: int) -> Workload:
    """LangChain's floor streaming one call's arguments in ``fragments`` pieces."""
    from benchmarks.floors import FloorChatModel

    pieces = ['{"query": "', *(f"w{i % 1000:06} long words " for i in range(fragments - 2)), '"}']
    model = FloorChatModel(tokens=tuple(pieces), call_fragments=True)
    return lambda: sum(1 for _ in model.stream(PROMPT))


def _asked(name: str, *, history: int = 0, prompt: str = "") -> Workload:
    model = _model(name, f"{BASE}/json")
    if name == HTTPX_FLOOR:
        wire = wire_history(history) if history else [{"role": "user", "content": prompt}]
        body = {"model": MODEL, "messages": wire}
        return lambda: model.call(body)
    if name == TRANSPORT:
        from minimax_m3 import ChatRequest, Message

        neutral = neutral_history(history) if history else [Message("user", prompt)]
        return lambda: model.complete(ChatRequest(model=MODEL, messages=neutral))
    if name in LANGCHAIN:
        from langchain_core.messages import HumanMessage

        messages = langchain_history(history) if history else [HumanMessage(prompt)]
        return lambda: model.invoke(messages)
    from llama_index.core.base.llms.types import ChatMessage

    chat = llama_index_history(history) if history else [ChatMessage(role="user", content=prompt)]
    return lambda: model.chat(chat)


def _with_tools(name: str, count: int) -> Workload:
    model = _model(name, f"{BASE}/json")
    if name == HTTPX_FLOOR:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "tools": [tool_schema(index) for index in range(count)],
        }
        return lambda: model.call(body)
    if name == TRANSPORT:
        from minimax_m3 import ChatRequest, Message

        specs = neutral_tools(count)
        messages = [Message("user", PROMPT)]
        return lambda: model.complete(ChatRequest(model=MODEL, messages=messages, tools=specs))
    if name in LANGCHAIN:
        tools = langchain_tools(count)
        return lambda: model.bind_tools(tools).invoke(PROMPT)
    tools = llama_index_tools(count)
    return lambda: model.chat_with_tools(tools, user_msg=PROMPT)
