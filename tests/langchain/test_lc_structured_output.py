"""with_structured_output: function_calling, json_schema and json_mode, with include_raw."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from lc_helpers import Driver
from pydantic import BaseModel
from typing_extensions import TypedDict

from langchain_minimax_m3 import ChatMiniMaxM3
from langchain_minimax_m3.structured_output import json_text
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape, ToolCallReply

MakeModel = Callable[..., ChatMiniMaxM3]
JOKE = {
    "setup": "Why did the cat sit on the keyboard?",
    "punchline": "To keep an eye on the mouse.",
}


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


class JokeDict(TypedDict):
    """A joke."""

    setup: str
    punchline: str


async def test_function_calling_forces_the_schema_tool(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(reasoning="A cat joke.", tool_calls=[ToolCallReply("Joke", JOKE)]))
    joke = await driver.invoke(make_model().with_structured_output(Joke), "Tell a cat joke")

    assert joke == Joke(**JOKE)
    body = emulator.requests[0].json
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["Joke"]
    assert "response_format" not in body


@pytest.mark.parametrize("schema", [JokeDict, Joke.model_json_schema()])
async def test_function_calling_with_dict_schemas_returns_dicts(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel, schema: Any
) -> None:
    name = "JokeDict" if schema is JokeDict else "Joke"
    emulator.queue(Reply(tool_calls=[ToolCallReply(name, JOKE)]))
    result = await driver.invoke(make_model().with_structured_output(schema), "joke")
    assert result == JOKE


async def test_json_schema_sends_response_format_and_reads_wrapped_json(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    wrapped = f"Here is your joke:\n```json\n{json.dumps(JOKE)}\n```\nEnjoy!"
    emulator.queue(Reply(reasoning="Format as JSON.", text=wrapped))
    runnable = make_model().with_structured_output(Joke, method="json_schema", strict=True)
    joke = await driver.invoke(runnable, "joke")

    assert joke == Joke(**JOKE)
    response_format = emulator.requests[0].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Joke"
    assert response_format["json_schema"]["strict"] is True
    assert set(response_format["json_schema"]["schema"]["properties"]) == {"setup", "punchline"}
    assert "tools" not in emulator.requests[0].json


async def test_json_mode_reads_json_after_prose_and_streams_partial_objects(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    text = f"Sure! {json.dumps(JOKE)} Hope you like it."
    emulator.queue(Reply(text=text), Reply(text=json.dumps(JOKE), stream=StreamShape(chunk_size=6)))
    runnable = make_model().with_structured_output(method="json_mode")
    result = await driver.invoke(runnable, "Return a joke as JSON with setup and punchline.")
    partials = await driver.stream(runnable, "Return a joke as JSON.")

    assert result == JOKE
    assert emulator.requests[0].json["response_format"] == {"type": "json_object"}
    assert len(partials) > 1, "partial objects stream as the JSON arrives"
    assert partials[-1] == JOKE


async def test_include_raw_returns_raw_parsed_and_the_parsing_error(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(reasoning="ok", tool_calls=[ToolCallReply("Joke", JOKE)]),
        Reply(tool_calls=[ToolCallReply("Joke", {"setup": "only a setup"})]),
    )
    runnable = make_model().with_structured_output(Joke, include_raw=True)
    good = await driver.invoke(runnable, "joke")
    bad = await driver.invoke(runnable, "joke")

    assert isinstance(good["raw"], AIMessage)
    assert good["raw"].additional_kwargs["reasoning_content"] == "ok"
    assert good["parsed"] == Joke(**JOKE)
    assert good["parsing_error"] is None
    assert bad["parsed"] is None
    assert bad["parsing_error"] is not None
    assert "punchline" in str(bad["parsing_error"])


def test_bad_structured_output_arguments_are_named(make_model: MakeModel) -> None:
    model = make_model()
    with pytest.raises(ValueError, match="method"):
        model.with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="schema is required"):
        model.with_structured_output(None)
    with pytest.raises(ValueError, match="unexpected arguments"):
        model.with_structured_output(Joke, foo=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', '{"a": 1}'),
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('Sure: {"a": [1, 2]} -- done', '{"a": [1, 2]}'),
        ('Result:\n```\n[{"a": 1}]\n```', '[{"a": 1}]'),
        ('Thinking out loud {"a": "b', '{"a": "b'),  # unfinished: left for partial parsing
        ("no json here", "no json here"),
    ],
)
def test_json_text_finds_the_json_in_an_answer(text: str, expected: str) -> None:
    assert json_text(text) == expected
