"""LlamaIndex: a FunctionAgent taking two tool rounds; reasoning is replayed between them."""

from __future__ import annotations

import asyncio

from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import FunctionTool

from examples._offline import connection
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import Reply, ToolCallReply

SCRIPT = [
    Reply(
        reasoning="First the price.", tool_calls=[ToolCallReply("unit_price", {"item": "coffee"})]
    ),
    Reply(
        reasoning="3.5 each; multiply by 4.",
        tool_calls=[ToolCallReply("multiply", {"a": 3.5, "b": 4})],
    ),
    Reply(reasoning="Done.", text="Four coffees cost 14.0."),
]


def unit_price(item: str) -> float:
    """The price of one item."""
    return 3.5


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


async def ask(llm: MiniMaxM3) -> str:
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(unit_price), FunctionTool.from_defaults(multiply)],
        llm=llm,
        system_prompt="Use the tools for prices and arithmetic.",
    )
    # An in-process memory: the default one keeps an sqlite connection open.
    memory = ChatMemoryBuffer.from_defaults()
    return str(await agent.run("How much are four coffees?", memory=memory))


def main() -> None:
    with connection(SCRIPT) as settings:
        print("answer:", asyncio.run(ask(MiniMaxM3(**settings))))


if __name__ == "__main__":
    main()
