"""LlamaIndex's agents with MiniMaxM3: FunctionAgent, AgentWorkflow and ReActAgent."""

from __future__ import annotations

import pytest
from llama_index.core.agent.workflow import (
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply

# llama-index's workflows inspect the agent's attributes, which touches pydantic's
# deprecated ones; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)


def get_temperature(city: str) -> float:
    """Current temperature in Celsius for a city."""
    return 21.0


def to_fahrenheit(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return celsius * 9 / 5 + 32


TWO_ROUNDS = (
    Reply(
        reasoning="First I need the temperature in Paris.",
        tool_calls=[ToolCallReply("get_temperature", {"city": "Paris"})],
        stream=StreamShape(chunk_size=5),
    ),
    Reply(
        reasoning="21 C; now convert it to Fahrenheit.",
        tool_calls=[ToolCallReply("to_fahrenheit", {"celsius": 21.0})],
        stream=StreamShape(chunk_size=5),
    ),
    Reply(
        text="It is 69.8 F in Paris.",
        reasoning="I have everything.",
        stream=StreamShape(chunk_size=5),
    ),
)


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_function_agent_two_tool_rounds_replays_reasoning(
    streaming: bool, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.require_reasoning_replay = True
    emulator.queue(*TWO_ROUNDS)
    agent = FunctionAgent(tools=[get_temperature, to_fahrenheit], llm=llm, streaming=streaming)

    handler = agent.run("How warm is it in Paris, in Fahrenheit?")
    tool_results: list[ToolCallResult] = []
    thinking: list[str] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            tool_results.append(event)
        elif isinstance(event, AgentStream) and event.thinking_delta:
            thinking.append(event.thinking_delta)
    result = await handler

    assert str(result) == "It is 69.8 F in Paris."
    assert [(r.tool_name, r.tool_output.raw_output) for r in tool_results] == [
        ("get_temperature", 21.0),
        ("to_fahrenheit", 69.8),
    ]
    if streaming:
        assert "".join(thinking).startswith("First I need the temperature in Paris.")

    # The emulator refused any assistant turn that lost its reasoning; check it by eye too.
    assert len(emulator.requests) == 3
    last = emulator.requests[2].json["messages"]
    assistants = [m for m in last if m["role"] == "assistant"]
    assert [a["reasoning_details"][0]["text"] for a in assistants] == [
        "First I need the temperature in Paris.",
        "21 C; now convert it to Fahrenheit.",
    ]
    assert [m["role"] for m in last] == ["user", "assistant", "tool", "assistant", "tool"]


async def test_agent_workflow_picks_function_agent(
    emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    workflow = AgentWorkflow.from_tools_or_functions([get_temperature, to_fahrenheit], llm=llm)
    [agent] = workflow.agents.values()
    assert isinstance(agent, FunctionAgent)

    emulator.require_reasoning_replay = True
    emulator.queue(*TWO_ROUNDS)
    result = await workflow.run(user_msg="How warm is it in Paris, in Fahrenheit?")
    assert "69.8 F" in str(result)
    assert len(emulator.requests) == 3


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "not-streaming"])
async def test_react_agent_works_from_text(
    streaming: bool, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(
            reasoning="The user wants a temperature.",
            text="Thought: I need the temperature.\nAction: get_temperature\n"
            'Action Input: {"city": "Paris"}',
        ),
        Reply(text="Thought: I can answer now.\nAnswer: It is 21 C in Paris."),
    )
    agent = ReActAgent(tools=[get_temperature], llm=llm, streaming=streaming)
    result = await agent.run("How warm is it in Paris?")
    assert str(result) == "It is 21 C in Paris."
    second = emulator.requests[1].json["messages"]
    assert any("21.0" in str(m.get("content")) for m in second)
    # ReAct talks in text: no tools are sent, and no reasoning tags leak into its parsing.
    assert "tools" not in emulator.requests[0].json
