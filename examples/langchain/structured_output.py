"""LangChain: answers as a pydantic object, through a forced tool call."""

from __future__ import annotations

from pydantic import BaseModel, Field

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply, ToolCallReply


class CityFacts(BaseModel):
    """Facts about a city."""

    name: str
    country: str
    population_millions: float = Field(description="Population in millions")


SCRIPT = [
    Reply(
        reasoning="Paris, France, about 2.1 million in the city proper.",
        tool_calls=[
            ToolCallReply(
                "CityFacts", {"name": "Paris", "country": "France", "population_millions": 2.1}
            )
        ],
    )
]


def main() -> None:
    with connection(SCRIPT) as settings:
        llm = ChatMiniMaxM3(**settings).with_structured_output(CityFacts)
        facts = llm.invoke("Give me facts about Paris.")
        print(repr(facts))


if __name__ == "__main__":
    main()
