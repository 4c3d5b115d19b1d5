"""Function calling: chat_with_tools and its forms, tool choice, streaming tool calls, replay."""

from __future__ import annotations

import pytest
from llama_helpers import Mode, user
from llama_index.core.base.llms.types import ChatMessage, TextBlock, ThinkingBlock, ToolCallBlock
from llama_index.core.tools import FunctionTool

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.errors import BadRequestError
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"21 C and sunny in {city}"


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


WEATHER = FunctionTool.from_defaults(get_weather)
MULTIPLY = FunctionTool.from_defaults(multiply)


def tool_result(content: str, call_id: str) -> ChatMessage:
    return ChatMessage(role="tool", content=content, additional_kwargs={"tool_call_id": call_id})


def weather_call(city: str = "Paris", **kwargs: object) -> Reply:
    return Reply(
        reasoning=f"I should look up the weather in {city}.",
        tool_calls=[ToolCallReply("get_weather", {"city": city})],
        **kwargs,
    )


async def test_chat_with_tools_returns_tool_calls(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(weather_call())
    response = await mode.chat_with_tools(llm, [WEATHER], user_msg="Weather in Paris?")

    [selection] = llm.get_tool_calls_from_response(response)
    assert selection.tool_name == "get_weather"
    assert selection.tool_kwargs == {"city": "Paris"}
    assert selection.tool_id.startswith("call_")
    thinking, text, call = response.message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert isinstance(text, TextBlock)
    assert isinstance(call, ToolCallBlock)
    assert call.tool_kwargs == {"city": "Paris"}
    assert response.raw["finish_reason"] == "tool_calls"

    body = emulator.requests[0].json
    [tool] = body["tools"]
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "get_weather"
    assert "weather for a city" in tool["function"]["description"]
    assert tool["function"]["parameters"]["properties"]["city"]["type"] == "string"
    assert body["tool_choice"] == "auto"
    assert "parallel_tool_calls" not in body
    assert body["messages"] == [{"role": "user", "content": "Weather in Paris?"}]


@pytest.mark.parametrize(
    ("kwargs", "choice", "tool_names"),
    [
        ({"tool_required": True}, "required", ["get_weather", "multiply"]),
        ({"tool_choice": "none"}, "none", ["get_weather", "multiply"]),
        ({"tool_choice": "multiply"}, "required", ["multiply"]),
        (
            {"tool_choice": {"type": "function", "function": {"name": "multiply"}}},
            "required",
            ["multiply"],
        ),
    ],
    ids=["tool-required", "none", "by-name", "openai-dict"],
)
async def test_tool_choice_reaches_the_wire(
    kwargs: dict[str, object],
    choice: str,
    tool_names: list[str],
    mode: Mode,
    emulator: MiniMaxEmulator,
    llm: MiniMaxM3,
) -> None:
    await mode.chat_with_tools(llm, [WEATHER, MULTIPLY], user_msg="Go", **kwargs)
    body = emulator.requests[0].json
    assert body["tool_choice"] == choice
    assert [tool["function"]["name"] for tool in body["tools"]] == tool_names


async def test_unknown_tool_choice_is_refused(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    with pytest.raises(ValueError, match="tool_choice"):
        await mode.chat_with_tools(llm, [WEATHER], user_msg="Go", tool_choice="get_time")
    assert emulator.requests == []


@pytest.mark.parametrize("parallel", [False, True])
async def test_allow_parallel_tool_calls(
    parallel: bool, mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(
            tool_calls=[
                ToolCallReply("get_weather", {"city": "Paris"}),
                ToolCallReply("get_weather", {"city": "Rome"}),
            ]
        )
    )
    response = await mode.chat_with_tools(
        llm, [WEATHER], user_msg="Paris and Rome?", allow_parallel_tool_calls=parallel
    )
    cities = [s.tool_kwargs["city"] for s in llm.get_tool_calls_from_response(response)]
    assert cities == (["Paris", "Rome"] if parallel else ["Paris"])
    assert len(response.message.additional_kwargs["tool_calls"]) == len(cities)


async def test_tools_must_be_llama_index_tools(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    with pytest.raises(TypeError, match="dict"):
        await mode.chat(llm, user("Hi"), tools=[{"type": "function", "function": {"name": "x"}}])
    assert emulator.requests == []


async def test_no_tool_call(mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3) -> None:
    emulator.queue(Reply(text="No tool needed."))
    response = await mode.chat_with_tools(llm, [WEATHER], user_msg="Hello")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="No tool needed"):
        llm.get_tool_calls_from_response(response)


async def test_predict_and_call_runs_the_tool(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(tool_calls=[ToolCallReply("multiply", {"a": 6, "b": 7})]))
    result = await mode.call(
        lambda: llm.predict_and_call([MULTIPLY], user_msg="6 times 7?"),
        lambda: llm.apredict_and_call([MULTIPLY], user_msg="6 times 7?"),
    )
    assert result.response == "42"
    assert result.sources[0].tool_name == "multiply"


async def test_streamed_tool_calls_carry_the_arguments_parsed_so_far(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    arguments = {"city": "San Francisco", "unit": "celsius"}
    emulator.queue(
        Reply(
            reasoning="Weather lookup.",
            tool_calls=[ToolCallReply("get_weather", arguments)],
            stream=StreamShape(tool_args_chunk=3),
        )
    )
    chunks = await mode.stream_chat_with_tools(llm, [WEATHER], user_msg="Weather in SF?")

    seen = [
        block.tool_kwargs
        for chunk in chunks
        for block in chunk.message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    assert all(isinstance(kwargs, dict) for kwargs in seen)
    # A string still arriving shows as far as it has come.
    assert any(0 < len(kwargs.get("city", "")) < len("San Francisco") for kwargs in seen)
    assert {"city": "San Francisco"} in seen
    assert seen[-1] == arguments
    # LlamaIndex reads tool calls from every chunk while streaming.
    partial = [llm.get_tool_calls_from_response(c, error_on_no_tool_call=False) for c in chunks]
    assert partial[0] == []
    assert partial[-1][0].tool_kwargs == arguments


async def test_reasoning_is_replayed_on_the_tool_turn(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(weather_call(), Reply(text="It is sunny in Paris.", reasoning="Answer now."))
    response = await mode.chat_with_tools(llm, [WEATHER], user_msg="Weather in Paris?")
    [selection] = llm.get_tool_calls_from_response(response)
    history = [
        *user("Weather in Paris?"),
        response.message,
        ChatMessage(
            role="tool",
            content=get_weather(**selection.tool_kwargs),
            additional_kwargs={"tool_call_id": selection.tool_id},
        ),
    ]
    final = await mode.chat_with_tools(llm, [WEATHER], chat_history=history)
    assert final.message.content == "It is sunny in Paris."

    assistant, tool = emulator.requests[1].json["messages"][1:]
    assert assistant["reasoning_details"][0]["text"] == "I should look up the weather in Paris."
    assert assistant["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert tool == {
        "role": "tool",
        "tool_call_id": selection.tool_id,
        "content": "21 C and sunny in Paris",
    }


async def test_streamed_tool_turn_replays_its_reasoning(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(
        weather_call(stream=StreamShape(chunk_size=3, reasoning_mode="cumulative")),
        Reply(text="Sunny."),
    )
    chunks = await mode.stream_chat_with_tools(llm, [WEATHER], user_msg="Weather in Paris?")
    message = chunks[-1].message
    [selection] = llm.get_tool_calls_from_response(chunks[-1])
    history = [
        *user("Weather in Paris?"),
        message,
        ChatMessage(
            role="tool", content="sunny", additional_kwargs={"tool_call_id": selection.tool_id}
        ),
    ]
    final = await mode.stream_chat_with_tools(llm, [WEATHER], chat_history=history)
    assert final[-1].message.content == "Sunny."


async def test_the_emulator_rejects_a_tool_turn_without_its_reasoning(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    # The control for the two tests above: dropping the ThinkingBlock is caught.
    emulator.require_reasoning_replay = True
    emulator.queue(weather_call())
    response = await mode.chat_with_tools(llm, [WEATHER], user_msg="Weather in Paris?")
    [selection] = llm.get_tool_calls_from_response(response)
    stripped = ChatMessage(
        role="assistant",
        blocks=[b for b in response.message.blocks if not isinstance(b, ThinkingBlock)],
    )
    history = [
        *user("Weather in Paris?"),
        stripped,
        ChatMessage(
            role="tool", content="sunny", additional_kwargs={"tool_call_id": selection.tool_id}
        ),
    ]
    with pytest.raises(BadRequestError, match="reasoning"):
        await mode.chat_with_tools(llm, [WEATHER], chat_history=history)


async def test_history_with_openai_style_tool_calls_is_accepted(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "multiply", "arguments": '{"a":2,"b":3}'},
    }
    history = [
        *user("2 times 3?"),
        ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]}),
        ChatMessage(role="tool", content="6", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    await mode.chat(llm, history)
    assistant = emulator.requests[0].json["messages"][1]
    assert assistant["tool_calls"] == [call]


async def test_a_tools_schema_is_built_once_not_on_every_step(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3, monkeypatch: pytest.MonkeyPatch
) -> None:
    # LlamaIndex rebuilds a tool's JSON Schema (pydantic's model_json_schema, ~0.4 ms) each
    # time it is asked; an agent asks for every tool on every step.
    from pydantic import BaseModel, Field

    class LookupArgs(BaseModel):
        record: str = Field(description="The record's id.")
        limit: int = Field(10, ge=1, le=100)

    built: list[type] = []
    original = LookupArgs.model_json_schema

    def counted(cls: type[BaseModel], *args: object, **kwargs: object) -> dict[str, object]:
        built.append(cls)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LookupArgs, "model_json_schema", classmethod(counted))
    lookup = FunctionTool.from_defaults(
        fn=lambda record, limit=10: record, name="lookup", fn_schema=LookupArgs
    )
    expected = lookup.metadata.get_parameters_dict()
    built.clear()

    for _ in range(3):
        emulator.queue(Reply(text="ok"))
        await mode.chat_with_tools(llm, [lookup], user_msg="Find record 7.")

    assert len(built) == 1
    sent = [request.json["tools"][0]["function"] for request in emulator.requests[-3:]]
    assert all(function["parameters"] == expected for function in sent)
    assert expected["properties"]["limit"]["maximum"] == 100


async def test_a_new_schema_class_for_a_tool_name_is_read_afresh(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    from pydantic import BaseModel

    class First(BaseModel):
        city: str

    class Second(BaseModel):
        city: str
        days: int

    for schema, fields in ((First, ["city"]), (Second, ["city", "days"])):
        tool = FunctionTool.from_defaults(fn=lambda **kw: "", name="forecast", fn_schema=schema)
        emulator.queue(Reply(text="ok"))
        await mode.chat_with_tools(llm, [tool], user_msg="Weather?")
        parameters = emulator.requests[-1].json["tools"][0]["function"]["parameters"]
        assert list(parameters["properties"]) == fields
