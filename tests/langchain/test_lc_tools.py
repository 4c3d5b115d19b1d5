"""Tool binding, tool_choice, streamed tool calls, and reasoning replay in tool loops."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from lc_helpers import Driver, merge
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply, StreamShape, ToolCallReply

MakeModel = Callable[..., ChatMiniMaxM3]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}, 21 C."


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    return f"It is 14:05 in {city}."


class Multiply(BaseModel):
    """Multiply two integers."""

    a: int = Field(description="first factor")
    b: int = Field(description="second factor")


class Lookup(TypedDict):
    """Look a word up in the dictionary."""

    word: str


def add(x: int, y: int) -> int:
    """Add two integers."""
    return x + y


OPENAI_DICT = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}
ANTHROPIC_DICT = {
    "name": "color_picker",
    "description": "Pick a color.",
    "input_schema": {"type": "object", "properties": {"color": {"type": "string"}}},
}


def sent_tools(emulator: MiniMaxEmulator, request: int = -1) -> list[dict[str, Any]]:
    return [t["function"] for t in emulator.requests[request].json.get("tools", [])]


async def test_bind_tools_takes_every_form_of_tool(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    tools: list[Any] = [get_weather, Multiply, Lookup, add, OPENAI_DICT, ANTHROPIC_DICT]
    await driver.invoke(make_model().bind_tools(tools), "hi")

    functions = {f["name"]: f for f in sent_tools(emulator)}
    assert list(functions) == ["get_weather", "Multiply", "Lookup", "add", "search", "color_picker"]
    assert functions["get_weather"]["parameters"]["properties"]["city"]["type"] == "string"
    assert functions["Multiply"]["description"] == "Multiply two integers."
    assert set(functions["Multiply"]["parameters"]["properties"]) == {"a", "b"}
    assert functions["Lookup"]["parameters"]["required"] == ["word"]
    assert functions["add"]["parameters"]["properties"]["x"]["type"] == "integer"
    assert functions["search"]["parameters"] == OPENAI_DICT["function"]["parameters"]  # type: ignore[index]
    assert functions["color_picker"]["parameters"] == ANTHROPIC_DICT["input_schema"]
    # Schemas are sent as JSON objects, never as strings.
    assert all(isinstance(f["parameters"], dict) for f in functions.values())


@pytest.mark.parametrize(
    ("tool_choice", "sent_choice", "sent_names"),
    [
        ("auto", "auto", ["get_weather", "get_time"]),
        ("none", "none", ["get_weather", "get_time"]),
        ("any", "required", ["get_weather", "get_time"]),
        ("required", "required", ["get_weather", "get_time"]),
        (True, "required", ["get_weather", "get_time"]),
        # MiniMax has no named choice: the named tool goes alone, with "required".
        ("get_time", "required", ["get_time"]),
        ({"type": "function", "function": {"name": "get_time"}}, "required", ["get_time"]),
        (None, None, ["get_weather", "get_time"]),
    ],
)
async def test_tool_choice_forms_on_the_wire(
    emulator: MiniMaxEmulator,
    make_model: MakeModel,
    tool_choice: Any,
    sent_choice: str | None,
    sent_names: list[str],
) -> None:
    await make_model().bind_tools([get_weather, get_time], tool_choice=tool_choice).ainvoke("hi")
    body = emulator.requests[-1].json
    assert body.get("tool_choice") == sent_choice
    assert [t["name"] for t in sent_tools(emulator)] == sent_names


async def test_true_with_a_single_tool_forces_that_tool(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    await make_model().bind_tools([get_weather], tool_choice=True).ainvoke("hi")
    body = emulator.requests[-1].json
    assert body["tool_choice"] == "required"
    assert [t["name"] for t in sent_tools(emulator)] == ["get_weather"]


def test_an_unknown_tool_choice_fails_where_it_is_written(make_model: MakeModel) -> None:
    with pytest.raises(ValueError, match="tool_choice") as caught:
        make_model().bind_tools([get_weather], tool_choice="get_wether")
    assert "get_wether" in str(caught.value)
    assert "get_weather" in str(caught.value)


async def test_tool_choice_without_tools_is_refused_before_sending(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    with pytest.raises(ValueError, match="tool"):
        await make_model().ainvoke("hi", tool_choice="any")
    assert emulator.requests == []


async def test_tool_calls_on_invoke_with_reasoning(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            reasoning="I need the weather.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Paris"}, id="call_1")],
        )
    )
    message = await driver.invoke(make_model().bind_tools([get_weather]), "Weather in Paris?")

    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert message.content == ""
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert [b["type"] for b in message.content_blocks] == ["reasoning", "tool_call"]


async def test_parallel_tool_calls_interleaved_in_one_stream(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            reasoning="Both at once.",
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}, id="call_a"),
                ToolCallReply("get_time", {"city": "Tokyo"}, id="call_b"),
            ],
            stream=StreamShape(interleave_tool_calls=True, split_tool_name=True, tool_args_chunk=3),
        )
    )
    chunks = await driver.stream(
        make_model().bind_tools([get_weather, get_time]), "Weather in Paris, time in Tokyo?"
    )

    fragments = [f for c in chunks for f in c.tool_call_chunks]
    assert len(fragments) > 4, "tool-call arguments must stream in fragments"
    assert all(len(c.tool_call_chunks) <= 1 for c in chunks)
    indexes = [f["index"] for f in fragments]
    assert set(indexes) == {0, 1}
    assert indexes != sorted(indexes), "the two calls' fragments arrive interleaved"

    full = merge(chunks)
    assert full.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a", "type": "tool_call"},
        {"name": "get_time", "args": {"city": "Tokyo"}, "id": "call_b", "type": "tool_call"},
    ]
    assert full.invalid_tool_calls == []
    assert [b["type"] for b in full.content_blocks if b["type"] != "text"] == [
        "reasoning",
        "tool_call",
        "tool_call",
    ]


async def test_parallel_tool_calls_in_v1_stream_keep_their_own_blocks(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            reasoning="Both.",
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Oslo"}, id="call_a"),
                ToolCallReply("get_time", {"city": "Lima"}, id="call_b"),
            ],
            stream=StreamShape(interleave_tool_calls=True, tool_args_chunk=4),
        )
    )
    model = make_model(output_version="v1").bind_tools([get_weather, get_time])
    full = merge(await driver.stream(model, "go"))

    blocks = [b for b in full.content if isinstance(b, dict) and b["type"] != "text"]
    assert blocks[0] == {"type": "reasoning", "reasoning": "Both.", "index": 0}
    calls = [(b["type"], b.get("name"), b.get("args")) for b in blocks[1:]]
    assert calls == [
        ("tool_call", "get_weather", {"city": "Oslo"}),
        ("tool_call", "get_time", {"city": "Lima"}),
    ]


async def test_malformed_arguments_become_invalid_tool_calls(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    broken = ToolCallReply("get_weather", '{"city": Paris}', id="call_bad")
    emulator.queue(Reply(tool_calls=[broken]), Reply(tool_calls=[broken]))
    model = make_model().bind_tools([get_weather])
    invoked = await driver.invoke(model, "weather?")
    streamed = merge(await driver.stream(model, "weather?"))

    for message in (invoked, streamed):
        assert message.tool_calls == []
        [invalid] = message.invalid_tool_calls
        assert invalid["name"] == "get_weather"
        assert invalid["id"] == "call_bad"
        assert invalid["args"] == '{"city": Paris}'


async def test_truncated_arguments_are_invalid_on_invoke(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    """Cut off by max_tokens: invoke reports it instead of guessing the rest.

    (A merged stream does the same since issue 14, although langchain-core parses its
    arguments as partial JSON: see tests/reliability/test_rel_tool_calls.py.)
    """
    emulator.queue(
        Reply(
            tool_calls=[ToolCallReply("get_weather", '{"city": "Par', id="call_cut")],
            finish_reason="length",
        )
    )
    message = await driver.invoke(make_model().bind_tools([get_weather]), "weather?")
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["args"] == '{"city": "Par'
    assert message.response_metadata["finish_reason"] == "length"


async def test_a_tool_call_without_arguments_has_empty_args(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(tool_calls=[ToolCallReply("ping", "")]))

    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    message = await driver.invoke(make_model().bind_tools([ping]), "ping")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("ping", {})]


async def test_tool_loop_replays_reasoning_verbatim_invoke_and_stream(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    """Each assistant turn goes back with its reasoning_details, also after streaming."""
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="Weather first.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Rome"})],
        ),
        Reply(
            reasoning="Now the time.",
            tool_calls=[ToolCallReply("get_time", {"city": "Rome"})],
            stream=StreamShape(chunk_size=3),
        ),
        Reply(reasoning="I have both.", text="Sunny, 14:05."),
    )
    model = make_model().bind_tools([get_weather, get_time])
    history: list[Any] = [HumanMessage("Weather and time in Rome?")]

    first = await driver.invoke(model, history)
    history += [first, get_weather.invoke(first.tool_calls[0])]
    second = merge(await driver.stream(model, history))  # streamed, then merged
    history += [second, get_time.invoke(second.tool_calls[0])]
    final = await driver.invoke(model, history)

    assert final.content == "Sunny, 14:05."
    sent = emulator.requests[-1].json["messages"]
    assistant_turns = [m for m in sent if m["role"] == "assistant"]
    assert [t["reasoning_details"][0]["text"] for t in assistant_turns] == [
        "Weather first.",
        "Now the time.",
    ]
    assert [t["tool_calls"][0]["function"]["name"] for t in assistant_turns] == [
        "get_weather",
        "get_time",
    ]
    assert json.loads(assistant_turns[1]["tool_calls"][0]["function"]["arguments"]) == {
        "city": "Rome"
    }
    # The caller's messages were not changed by being sent.
    assert first.additional_kwargs["reasoning_content"] == "Weather first."
    assert isinstance(history[3], AIMessage)


async def test_a_history_without_our_reasoning_objects_still_replays_the_text(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    """A turn that only has reasoning_content (e.g. saved by another tool) or v1
    reasoning blocks is sent back as a MiniMax reasoning item."""
    call = {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1", "type": "tool_call"}
    histories = [
        AIMessage("", tool_calls=[call], additional_kwargs={"reasoning_content": "kw text"}),
        AIMessage(
            [{"type": "reasoning", "reasoning": "block text"}, {"type": "tool_call", **call}],
            tool_calls=[call],
        ),
    ]
    model = make_model().bind_tools([get_weather])
    for turn in histories:
        await model.ainvoke([HumanMessage("Oslo?"), turn, ToolMessage("Sunny", tool_call_id="c1")])
    texts = [r.json["messages"][1]["reasoning_details"][0]["text"] for r in emulator.requests]
    assert texts == ["kw text", "block text"]


async def test_create_agent_multi_turn_tool_loop_replays_every_turns_reasoning(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="Look up Paris.", tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})]
        ),
        Reply(
            reasoning="Now Tokyo, and the time there.",
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Tokyo"}),
                ToolCallReply("get_time", {"city": "Tokyo"}),
            ],
            stream=StreamShape(interleave_tool_calls=True),
        ),
        Reply(reasoning="All gathered.", text="Paris sunny; Tokyo sunny at 14:05."),
    )
    agent = create_agent(make_model(), tools=[get_weather, get_time])
    state = await driver.invoke(agent, {"messages": [HumanMessage("Paris and Tokyo?")]})

    assert state["messages"][-1].content == "Paris sunny; Tokyo sunny at 14:05."
    assert len(emulator.requests) == 3
    assert all(r.json is not None for r in emulator.requests)
    last_sent = emulator.requests[-1].json["messages"]
    replayed = [m["reasoning_details"][0]["text"] for m in last_sent if m["role"] == "assistant"]
    assert replayed == ["Look up Paris.", "Now Tokyo, and the time there."]
    tool_results = [m["content"] for m in last_sent if m["role"] == "tool"]
    assert tool_results == [
        "Sunny in Paris, 21 C.",
        "Sunny in Tokyo, 21 C.",
        "It is 14:05 in Tokyo.",
    ]


async def test_langgraph_streamed_agent_replays_merged_reasoning(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    """A LangGraph graph streamed in "messages" mode: the model streams, LangGraph merges
    the chunks into the state, and the merged turn must still replay its reasoning."""
    emulator.require_reasoning_replay = True
    emulator.queue(
        Reply(
            reasoning="Need the weather in Lima.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Lima"})],
            stream=StreamShape(chunk_size=4),
        ),
        Reply(reasoning="Done.", text="Lima is sunny.", stream=StreamShape(chunk_size=4)),
    )
    model = make_model().bind_tools([get_weather])

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    async def acall_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("model", call_model if driver.mode == "sync" else acall_model)
    graph.add_node("tools", ToolNode([get_weather]))
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", tools_condition, ["tools", END])
    graph.add_edge("tools", "model")
    app = graph.compile()

    streamed = await driver.stream(
        app, {"messages": [HumanMessage("Lima?")]}, stream_mode="messages"
    )
    tokens = [message.content for message, _ in streamed if message.content]
    assert "".join(tokens).endswith("Lima is sunny.")
    assert all(r.json["stream"] is True for r in emulator.requests), "the graph streamed"
    replayed = emulator.requests[-1].json["messages"][1]
    assert replayed["reasoning_details"][0]["text"] == "Need the weather in Lima."


def _lookup_tool(name: str = "lookup") -> Any:
    from langchain_core.tools import StructuredTool

    class LookupArgs(BaseModel):
        record: str = Field(description="The record's id.")
        limit: int = Field(10, ge=1, le=100)

    return StructuredTool.from_function(
        func=lambda record, limit=10: record,
        name=name,
        description="Look a record up.",
        args_schema=LookupArgs,
    )


def test_a_tool_is_converted_once_however_often_it_is_bound(
    emulator: MiniMaxEmulator, make_model: MakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # langchain-core builds a tool's call schema as a new pydantic model on every read
    # (about 1.5 ms a tool), and create_agent binds every tool on every model call.
    from langchain_core.tools import BaseTool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    lookup, fetch = _lookup_tool(), _lookup_tool("fetch")
    expected = convert_to_openai_tool(lookup)
    reads: list[str] = []
    schema = BaseTool.tool_call_schema

    def counted(self: BaseTool) -> Any:
        reads.append(self.name)
        return schema.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(BaseTool, "tool_call_schema", property(counted))
    model = make_model()
    read_after = []
    for _ in range(3):
        emulator.queue(Reply(text="ok"))
        model.bind_tools([lookup, fetch]).invoke("Find record 7.")
        read_after.append(len(reads))

    # The first bind converts each tool (langchain-core reads the schema a few times).
    assert set(reads) == {"lookup", "fetch"}
    assert read_after[0] == read_after[1] == read_after[2]
    for request in emulator.requests[-3:]:
        assert request.json["tools"][0] == expected


def test_a_tool_changed_after_binding_is_converted_again(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    lookup = _lookup_tool()
    model = make_model()
    emulator.queue(Reply(text="ok"), Reply(text="ok"), Reply(text="ok"))
    bound = model.bind_tools([lookup])
    bound.invoke("a")
    lookup.description = "Look a record up, by id."
    model.bind_tools([lookup]).invoke("b")
    # What a caller does to what it bound stays its own.
    bound.kwargs["tools"][0]["function"]["name"] = "renamed"  # type: ignore[attr-defined]
    model.bind_tools([lookup]).invoke("c")

    sent = [request.json["tools"][0]["function"] for request in emulator.requests[-3:]]
    assert [function["description"] for function in sent] == [
        "Look a record up.",
        "Look a record up, by id.",
        "Look a record up, by id.",
    ]
    assert sent[2]["name"] == "lookup"


def test_a_tool_with_a_dict_schema_edited_in_place_is_converted_again(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    from langchain_core.tools import StructuredTool

    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    forecast = StructuredTool.from_function(
        func=lambda **kw: "", name="forecast", description="Forecast.", args_schema=schema
    )
    model = make_model()
    emulator.queue(Reply(text="ok"), Reply(text="ok"))
    model.bind_tools([forecast]).invoke("a")
    schema["properties"]["days"] = {"type": "integer"}
    model.bind_tools([forecast]).invoke("b")

    sent = [request.json["tools"][0]["function"]["parameters"] for request in emulator.requests]
    assert [list(parameters["properties"]) for parameters in sent[-2:]] == [
        ["city"],
        ["city", "days"],
    ]


def test_calls_without_ids_are_named_once_uniquely_on_invoke_and_stream(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    # Cloudflare may send tool calls without "id" (cloudflare-runware.md: for other
    # Cloudflare models "a local id is fabricated since Cloudflare doesn't return one",
    # so be ready for a missing tool_calls[].id). Each call is then named once, when it
    # is first seen: the merged stream carries the name (or LangGraph's ToolNode cannot
    # answer it), and no two calls of a conversation share one (positional call_0 ids
    # did, turn after turn).
    calls = [
        ToolCallReply("get_weather", {"city": "Paris"}),
        ToolCallReply("get_time", {"city": "Oslo"}),
    ]
    no_ids = ProviderOptions(omit_tool_call_ids=True)
    llm = make_model().bind_tools([get_weather, get_time])
    emulator.queue(
        Reply(tool_calls=calls, provider=no_ids), Reply(tool_calls=calls, provider=no_ids)
    )
    invoked = llm.invoke("Weather in Paris, time in Oslo?")
    streamed = merge(list(llm.stream("Weather in Paris, time in Oslo?")))
    ids = [call["id"] for call in (*invoked.tool_calls, *streamed.tool_calls)]
    assert all(isinstance(call_id, str) and call_id.startswith("call_") for call_id in ids)
    assert len(set(ids)) == 4
    assert [call["args"] for call in streamed.tool_calls] == [{"city": "Paris"}, {"city": "Oslo"}]
