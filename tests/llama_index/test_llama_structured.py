"""Structured output through function calling: structured_predict and friends."""

from __future__ import annotations

import json

from llama_helpers import Mode, user
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply


class Invoice(BaseModel):
    """An invoice's number and total."""

    number: str
    total: float


PROMPT = PromptTemplate("Extract the invoice from: {text}")
INVOICE = {"number": "A-17", "total": 99.5}


def invoice_call(**kwargs: object) -> Reply:
    return Reply(
        reasoning="The invoice number is A-17 and the total 99.50.",
        tool_calls=[ToolCallReply("Invoice", INVOICE)],
        **kwargs,
    )


async def test_structured_predict_fills_the_model(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(invoice_call())
    invoice = await mode.call(
        lambda: llm.structured_predict(Invoice, PROMPT, text="Invoice A-17, total $99.50"),
        lambda: llm.astructured_predict(Invoice, PROMPT, text="Invoice A-17, total $99.50"),
    )
    assert invoice == Invoice(number="A-17", total=99.5)

    body = emulator.requests[0].json
    [tool] = body["tools"]
    assert tool["function"]["name"] == "Invoice"
    assert set(tool["function"]["parameters"]["properties"]) == {"number", "total"}
    assert body["tool_choice"] == "required"
    assert body["messages"][-1]["content"] == "Extract the invoice from: Invoice A-17, total $99.50"


async def test_stream_structured_predict_yields_growing_objects(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(invoice_call(stream=StreamShape(tool_args_chunk=4)))

    async def run_async() -> list[object]:
        stream = await llm.astream_structured_predict(Invoice, PROMPT, text="Invoice A-17")
        return [item async for item in stream]

    partials = await mode.call(
        lambda: list(llm.stream_structured_predict(Invoice, PROMPT, text="Invoice A-17")),
        run_async,
    )
    assert len(partials) > 2
    assert any(getattr(p, "number", None) and getattr(p, "total", None) is None for p in partials)
    last = partials[-1]
    assert isinstance(last, Invoice)
    assert last == Invoice(**INVOICE)


async def test_as_structured_llm(mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3) -> None:
    emulator.queue(invoice_call())
    sllm = llm.as_structured_llm(Invoice)
    response = await mode.call(
        lambda: sllm.chat(user("Invoice A-17, total $99.50")),
        lambda: sllm.achat(user("Invoice A-17, total $99.50")),
    )
    assert response.raw == Invoice(**INVOICE)
    assert json.loads(response.message.content or "") == INVOICE
