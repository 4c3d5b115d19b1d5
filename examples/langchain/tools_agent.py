"""LangChain: an agent that calls two tools in turn; M3's reasoning is kept between calls."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.tools import tool

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply, ToolCallReply

SCRIPT = [
    Reply(
        reasoning="I need Lisbon's weather first.",
        tool_calls=[ToolCallReply("get_weather", {"city": "Lisbon"})],
    ),
    Reply(
        reasoning="24°C; now convert to Fahrenheit with the tool.",
        tool_calls=[ToolCallReply("celsius_to_fahrenheit", {"celsius": 24})],
    ),
    Reply(reasoning="Both tools answered.", text="Lisbon is sunny: 24°C, which is 75.2°F."),
]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city, in Celsius."""
    return f"{city}: sunny, 24°C"


@tool
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return celsius * 9 / 5 + 32


def main() -> None:
    with connection(SCRIPT) as settings:
        agent = create_agent(
            model=ChatMiniMaxM3(**settings),
            tools=[get_weather, celsius_to_fahrenheit],
            system_prompt="Use the tools; answer in one sentence.",
        )
        state = agent.invoke({"messages": [("user", "How warm is Lisbon, in Fahrenheit?")]})
        for message in state["messages"]:
            thinking = message.additional_kwargs.get("reasoning_content")
            if thinking:
                print(f"  (thinking) {thinking}")
            for call in getattr(message, "tool_calls", []):
                print(f"  tool call: {call['name']}({call['args']})")
        print("answer:", state["messages"][-1].content)


if __name__ == "__main__":
    main()
