"""Runware's native tasks: several results (numberResults), every tool-choice form, and
the built-in tools the provider runs itself (seed 003, reference/cloudflare-runware.md B).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from llama_index.core.tools import FunctionTool

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.providers import PROVIDERS
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply
from minimax_m3.transport import Transport
from minimax_m3.types import BuiltinTool, ChatRequest, Message, ToolSpec
from minimax_m3.wire import Poll
from minimax_m3.wire.runware_tasks import RunwareTasksExchange

KEY = "rw-key"


def runware(emulator: MiniMaxEmulator, **settings: Any) -> dict[str, Any]:
    return {
        "provider": "runware",
        "base_url": emulator.runware_base_url,
        "api_key": KEY,
        "max_retries": 0,
        "poll_interval": 0.01,
        **settings,
    }


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny in {city}"


@tool
def get_time(city: str) -> str:
    """Get the local time in a city."""
    return f"Noon in {city}"


def weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny in {city}"


WEATHER_LI = FunctionTool.from_defaults(fn=weather, name="get_weather")


# --- n as numberResults ------------------------------------------------------------


def test_n_gives_one_langchain_generation_per_result(emulator: MiniMaxEmulator) -> None:
    llm = ChatMiniMaxM3(**runware(emulator, n=3))
    emulator.queue(Reply(text="one"), Reply(text="two"), Reply(text="three"))

    result = llm.generate([[HumanMessage("A haiku")]])

    assert [g.text for g in result.generations[0]] == ["one", "two", "three"]
    [request] = emulator.requests
    assert request.json[0]["numberResults"] == 3


def test_n_with_async_delivery_polls_until_every_result_is_in(emulator: MiniMaxEmulator) -> None:
    llm = ChatMiniMaxM3(**runware(emulator, n=2, delivery_method="async"))
    emulator.queue(
        Reply(text="first", provider=ProviderOptions(poll_pending=2)), Reply(text="second")
    )

    result = asyncio.run(llm.agenerate([[HumanMessage("A haiku")]]))

    assert [g.text for g in result.generations[0]] == ["first", "second"]
    kinds = [request.json[0]["taskType"] for request in emulator.requests]
    assert kinds == ["textInference", "getResponse", "getResponse", "getResponse"]


def test_cumulative_polls_are_deduped_by_result_index_and_awaited_until_terminal() -> None:
    # Runware's Python SDK (_AsyncCollector, reference B.3): polls return cumulative state,
    # one item per result with resultIndex; a result is done when it has text.
    request = ChatRequest(
        model="minimax:m3@0",
        messages=[Message(role="user", content="Hi")],
        n=2,
        delivery_method="async",
    )
    exchange = RunwareTasksExchange(request, PROVIDERS["runware"], False)
    uuid = exchange.task_uuid
    ack = {"data": [{"taskUUID": uuid, "status": "processing"}]}
    half = {"data": [{"taskUUID": uuid, "resultIndex": 0, "text": "a", "status": "success"}]}
    both = {
        "data": [
            {"taskUUID": uuid, "resultIndex": 0, "text": "a", "status": "success"},
            {"taskUUID": uuid, "resultIndex": 1, "status": "processing"},
            {"taskUUID": uuid, "resultIndex": 0, "text": "a", "status": "success"},
            {"taskUUID": uuid, "resultIndex": 1, "text": "b", "status": "success"},
        ]
    }

    assert isinstance(exchange.parse_results(ack, request_id=None), Poll)
    assert isinstance(exchange.parse_results(half, request_id=None), Poll)
    outcome = exchange.parse_results(both, request_id=None)

    assert not isinstance(outcome, Poll)
    assert [[delta.content for delta in deltas] for deltas in outcome] == [["a"], ["b"]]


def test_complete_all_is_the_transport_s_way_to_several_answers(
    emulator: MiniMaxEmulator,
) -> None:
    transport = Transport(**runware(emulator))
    request = ChatRequest(model="minimax:m3@0", messages=[Message(role="user", content="Hi")], n=2)
    emulator.queue(Reply(text="x"), Reply(text="y"))

    assert [result.text for result in transport.complete_all(request)] == ["x", "y"]
    with pytest.raises(ValueError, match=r"complete\(\) cannot return; use complete_all"):
        transport.complete(request)
    assert len(emulator.requests) == 1


@pytest.mark.parametrize(
    ("api", "call", "n", "said"),
    [
        ("runware_tasks", "invoke", 5, "n must be an integer from 1 to 4 with api='runware_tasks'"),
        ("runware_tasks", "stream", 5, "n must be an integer from 1 to 4 with api='runware_tasks'"),
        (
            "chat_completions",
            "invoke",
            2,
            "n must be 1 on provider 'runware' with api='chat_completions'",
        ),
    ],
)
def test_n_out_of_range_is_refused_before_sending(
    api: str, call: str, n: int, said: str, emulator: MiniMaxEmulator
) -> None:
    llm = ChatMiniMaxM3(**runware(emulator, api=api))
    ask = (
        (lambda: list(llm.stream("Hi", n=n))) if call == "stream" else lambda: llm.invoke("Hi", n=n)
    )
    with pytest.raises(ValueError, match=re.escape(said)):
        ask()
    assert emulator.requests == []


def test_llama_index_refuses_several_answers_naming_the_langchain_class(
    emulator: MiniMaxEmulator,
) -> None:
    with pytest.raises(ValueError, match=r"n must be 1 for MiniMaxM3.*ChatMiniMaxM3"):
        MiniMaxM3(**runware(emulator, n=2))
    llm = MiniMaxM3(**runware(emulator))
    with pytest.raises(ValueError, match=r"n must be 1 for MiniMaxM3.*ChatMiniMaxM3"):
        llm.complete("Hi", n=3)
    assert emulator.requests == []


# --- tool choice ---------------------------------------------------------------------

LC_CHOICES = [
    ("auto", [get_weather], {"type": "auto"}),
    ("none", [get_weather], {"type": "none"}),
    ("any", [get_weather, get_time], {"type": "any"}),
    ("required", [get_weather, get_time], {"type": "any"}),
    (True, [get_weather, get_time], {"type": "any"}),
    (True, [get_weather], {"type": "tool", "name": "get_weather"}),
    ("get_time", [get_weather, get_time], {"type": "tool", "name": "get_time"}),
    (
        {"type": "function", "function": {"name": "get_time"}},
        [get_weather, get_time],
        {"type": "tool", "name": "get_time"},
    ),
    (
        {"type": "tool", "name": "get_time"},
        [get_weather, get_time],
        {"type": "tool", "name": "get_time"},
    ),
    ({"type": "any"}, [get_weather, get_time], {"type": "any"}),
]


@pytest.mark.parametrize(
    ("choice", "tools", "sent"),
    LC_CHOICES,
    ids=[f"{choice!r}-{len(tools)}-tools" for choice, tools, _ in LC_CHOICES],
)
def test_every_langchain_tool_choice_form_reaches_runware(
    choice: Any, tools: list[Any], sent: dict[str, Any], emulator: MiniMaxEmulator
) -> None:
    llm = ChatMiniMaxM3(**runware(emulator)).bind_tools(tools, tool_choice=choice)
    emulator.queue(Reply(text="ok"))

    assert llm.invoke("Weather in Paris?").content == "ok"

    task = emulator.requests[0].json[0]
    assert task["toolChoice"] == sent
    # Every tool is still offered: Runware takes a named choice, unlike MiniMax.
    assert [t["name"] for t in task["tools"]] == [t.name for t in tools]


LI_CHOICES = [
    ({"tool_required": True}, {"type": "any"}),
    ({}, {"type": "auto"}),
    ({"tool_choice": "auto"}, {"type": "auto"}),
    ({"tool_choice": "none"}, {"type": "none"}),
    ({"tool_choice": "required"}, {"type": "any"}),
    ({"tool_choice": "get_weather"}, {"type": "tool", "name": "get_weather"}),
    (
        {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"type": "tool", "name": "get_weather"},
    ),
    (
        {"tool_choice": {"type": "tool", "name": "get_weather"}},
        {"type": "tool", "name": "get_weather"},
    ),
]


@pytest.mark.parametrize(("kwargs", "sent"), LI_CHOICES, ids=repr)
def test_every_llama_index_tool_choice_form_reaches_runware(
    kwargs: dict[str, Any], sent: dict[str, Any], emulator: MiniMaxEmulator
) -> None:
    llm = MiniMaxM3(**runware(emulator))
    emulator.queue(Reply(text="ok"))

    response = llm.chat_with_tools([WEATHER_LI], user_msg="Weather in Paris?", **kwargs)

    assert response.message.content == "ok"
    assert emulator.requests[0].json[0]["toolChoice"] == sent


# --- built-in tools --------------------------------------------------------------------

# What search did, in the shape reference B.5 allows for a tool entry (no sample of
# Runware's real report exists): an entry of the tool field naming the built-in tool.
SEARCH_ACTIVITY = {
    "id": "srv_search_1",
    "type": "search",
    "name": "search",
    "input": {"query": "weather Paris today"},
    "output": "Paris: 21 C, clear",
}


def searched_then_called(**fields: Any) -> Reply:
    return Reply(
        text="",
        tool_calls=[ToolCallReply("get_weather", {"city": "Paris"}, id="call_w1")],
        provider=ProviderOptions(runware_server_tools=(SEARCH_ACTIVITY,)),
        **fields,
    )


def test_langchain_built_in_tools_are_offered_beside_functions_and_never_run_by_the_client(
    emulator: MiniMaxEmulator,
) -> None:
    llm = ChatMiniMaxM3(**runware(emulator)).bind_tools([get_weather, {"type": "search"}])
    emulator.queue(searched_then_called())

    message = llm.invoke("Weather in Paris?")

    tools = emulator.requests[0].json[0]["tools"]
    assert [t.get("name", t["type"]) for t in tools] == ["get_weather", "search"]
    assert tools[1] == {"type": "search"}
    assert [call["name"] for call in message.tool_calls] == ["get_weather"]
    assert message.response_metadata["server_tool_calls"] == [SEARCH_ACTIVITY]
    # langchain-core's v1 standard blocks: the provider's call and result, then ours.
    kinds = [(block["type"], block.get("name")) for block in message.content_blocks]
    assert kinds == [
        ("server_tool_call", "search"),
        ("server_tool_result", None),
        ("tool_call", "get_weather"),
    ]
    assert message.content_blocks[1]["output"] == "Paris: 21 C, clear"


def test_several_results_each_keep_server_tool_activity_out_of_the_tool_calls(
    emulator: MiniMaxEmulator,
) -> None:
    # n=2 reads each result on its own; each must sort the provider's search out.
    llm = ChatMiniMaxM3(**runware(emulator, n=2)).bind_tools([get_weather, {"type": "search"}])
    emulator.queue(searched_then_called(), searched_then_called())

    [generations] = llm.generate([[HumanMessage("Weather in Paris?")]]).generations

    assert len(generations) == 2
    for generation in generations:
        message = generation.message
        assert isinstance(message, AIMessage)
        assert [call["name"] for call in message.tool_calls] == ["get_weather"]
        assert message.response_metadata["server_tool_calls"] == [SEARCH_ACTIVITY]


def test_langchain_stream_keeps_server_tool_activity_out_of_the_tool_calls(
    emulator: MiniMaxEmulator,
) -> None:
    llm = ChatMiniMaxM3(**runware(emulator)).bind_tools([get_weather, {"type": "search"}])
    emulator.queue(searched_then_called())

    chunks = list(llm.stream("Weather in Paris?"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk

    assert [call["name"] for call in merged.tool_calls] == ["get_weather"]
    assert merged.response_metadata["server_tool_calls"] == [SEARCH_ACTIVITY]


def test_a_langchain_agent_runs_its_function_and_leaves_search_to_the_provider(
    emulator: MiniMaxEmulator,
) -> None:
    from langchain.agents import create_agent

    agent = create_agent(
        ChatMiniMaxM3(**runware(emulator)), tools=[get_weather, {"type": "search"}]
    )
    emulator.queue(searched_then_called(), Reply(text="Sunny, 21 C."))

    state = agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})

    kinds = [type(m).__name__ for m in state["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    tool_message = state["messages"][2]
    assert isinstance(tool_message, ToolMessage)
    assert (tool_message.name, tool_message.content) == ("get_weather", "Sunny in Paris")
    assert state["messages"][-1].content == "Sunny, 21 C."
    second = emulator.requests[1].json[0]
    assert {"type": "search"} in second["tools"]
    assert second["messages"][-1] == {"role": "tool", "id": "call_w1", "content": "Sunny in Paris"}
    assert isinstance(state["messages"][1], AIMessage)
    assert state["messages"][1].response_metadata["server_tool_calls"] == [SEARCH_ACTIVITY]


def test_llama_index_built_in_tools_are_a_setting_and_a_call_keyword(
    emulator: MiniMaxEmulator,
) -> None:
    llm = MiniMaxM3(**runware(emulator, builtin_tools=["search"]))
    emulator.queue(searched_then_called(), Reply(text="ok"))

    response = llm.chat_with_tools([WEATHER_LI], user_msg="Weather in Paris?")
    selections = llm.get_tool_calls_from_response(response)
    llm.chat_with_tools(
        [WEATHER_LI], user_msg="And the code?", builtin_tools=[{"type": "codeInterpreter"}]
    )

    assert [s.tool_name for s in selections] == ["get_weather"]
    assert response.raw["provider_metadata"]["server_tool_calls"] == [SEARCH_ACTIVITY]
    first, second = (request.json[0]["tools"] for request in emulator.requests)
    assert first[1:] == [{"type": "search"}]
    # The call's own built-in tools replace the setting's, as any call option does.
    assert second[1:] == [{"type": "codeInterpreter"}]


def test_a_declared_function_named_search_stays_a_client_call() -> None:
    request = ChatRequest(
        model="minimax:m3@0",
        messages=[Message(role="user", content="Hi")],
        tools=(ToolSpec("search", "Search our docs"),),
        builtin_tools=(BuiltinTool("codeInterpreter"),),
    )
    exchange = RunwareTasksExchange(request, PROVIDERS["runware"], False)
    item = {
        "taskUUID": exchange.task_uuid,
        "text": "",
        "finishReason": "tool_use",
        "toolCalls": [
            {"id": "c1", "name": "search", "input": {"q": "x"}},
            {"id": "c2", "type": "codeInterpreter", "name": "codeInterpreter", "input": {}},
        ],
    }

    [delta] = exchange.parse_response({"data": [item]}, request_id=None)  # type: ignore[misc]

    assert [call.name for call in delta.tool_calls or []] == ["search"]
    assert delta.metadata is not None
    assert [entry["id"] for entry in delta.metadata["server_tool_calls"]] == ["c2"]


def test_built_in_tools_are_refused_off_runware_s_native_tasks(emulator: MiniMaxEmulator) -> None:
    llm = ChatMiniMaxM3(provider="minimax", base_url=emulator.base_url, api_key=KEY)
    bound = llm.bind_tools([get_weather, {"type": "search"}])
    with pytest.raises(ValueError, match=r"^builtin_tools is not available with api="):
        bound.invoke("Weather?")
    assert emulator.requests == []


@pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)
@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_a_llama_index_function_agent_runs_its_function_and_leaves_search_to_the_provider(
    streaming: bool, emulator: MiniMaxEmulator
) -> None:
    from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

    llm = MiniMaxM3(**runware(emulator, builtin_tools=["search"]))
    agent = FunctionAgent(tools=[WEATHER_LI], llm=llm, streaming=streaming)
    emulator.queue(searched_then_called(), Reply(text="Sunny, 21 C."))

    handler = agent.run("Weather in Paris?")
    ran = [e.tool_name async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    result = await handler

    assert str(result) == "Sunny, 21 C."
    assert ran == ["get_weather"]
    second = emulator.requests[1].json[0]
    assert second["tools"][1:] == [{"type": "search"}]
    assert second["messages"][-1]["role"] == "tool"
    assert second["messages"][-1]["content"] == "Sunny in Paris"


async def test_n_inside_a_streaming_context_is_one_call_not_a_refused_stream(
    emulator: MiniMaxEmulator,
) -> None:
    # astream_events (and LangGraph graphs streaming messages) ask the model to stream;
    # several results come in one answer, so the model answers whole instead of refusing.
    llm = ChatMiniMaxM3(**runware(emulator, n=2))
    emulator.queue(Reply(text="one"), Reply(text="two"))

    events = [event async for event in llm.astream_events("A haiku", version="v2")]

    assert events[-1]["event"] == "on_chat_model_end"
    assert events[-1]["data"]["output"].content == "one"
    [request] = emulator.requests
    assert request.json[0]["numberResults"] == 2
    assert request.json[0]["deliveryMethod"] == "sync"
    # stream() itself then gives the first result whole, as invoke() does; generate()
    # is LangChain's way to all of them.
    emulator.queue(Reply(text="three"), Reply(text="four"))
    assert [chunk.content for chunk in llm.stream("Another")] == ["three"]


@pytest.mark.parametrize(
    ("extra_body", "said"),
    [
        ({"numberResults": 3}, "extra_body['numberResults'] is set through the n option"),
        ({"deliveryMethod": "stream"}, "extra_body['deliveryMethod'] = 'stream' needs a"),
    ],
)
def test_extra_body_cannot_ask_behind_an_option_s_back(
    emulator: MiniMaxEmulator, extra_body: dict[str, Any], said: str
) -> None:
    # numberResults through extra_body would be paid for and all but one result dropped;
    # a stream asked of a call read whole would not be read at all.
    llm = ChatMiniMaxM3(**runware(emulator))
    with pytest.raises(ValueError, match=re.escape(said)):
        llm.invoke("Hi", extra_body=extra_body)
    assert emulator.requests == []


def test_a_failed_server_tool_shows_as_an_error_result(emulator: MiniMaxEmulator) -> None:
    failed = {"type": "search", "id": "srv_9", "status": "error", "output": "search timed out"}
    emulator.queue(
        Reply(text="I could not search.", provider=ProviderOptions(runware_server_tools=(failed,)))
    )
    llm = ChatMiniMaxM3(**runware(emulator)).bind_tools([{"type": "search"}])

    message = llm.invoke("News?")

    results = [b for b in message.content_blocks if b["type"] == "server_tool_result"]
    assert [(r["tool_call_id"], r["status"], r["output"]) for r in results] == [
        ("srv_9", "error", "search timed out")
    ]
