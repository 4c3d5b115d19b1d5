"""LlamaIndex: structured_predict fills a pydantic model through function calling."""

from __future__ import annotations

from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from examples._offline import connection
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import Reply, ToolCallReply


class Invoice(BaseModel):
    """An invoice's main fields."""

    number: str
    total: float
    currency: str


SCRIPT = [
    Reply(
        reasoning="Number INV-7, total 120.50 EUR.",
        tool_calls=[
            ToolCallReply("Invoice", {"number": "INV-7", "total": 120.5, "currency": "EUR"})
        ],
    )
]


def main() -> None:
    with connection(SCRIPT) as settings:
        llm = MiniMaxM3(**settings)
        invoice = llm.structured_predict(
            Invoice,
            PromptTemplate("Extract the invoice: {text}"),
            text="Invoice INV-7, amount due EUR 120.50.",
        )
        print(repr(invoice))


if __name__ == "__main__":
    main()
