"""vLLM's value conversion cases (``rust/src/parser/src/tool/parameters.rs``): one
parameter's text and schema, and the JSON value it must become, written here as the M3
markup the model would emit and read through our tool-markup reader."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parser_cases import FIXTURES

from minimax_m3.tool_markup import MARKER, split_tool_markup
from minimax_m3.types import ToolSpec

# Where our reading differs from vLLM's, by (source test, parameter, input text).
OURS = {
    # unknown-type-is-text: a type name nobody knows keeps the text, also inside oneOf;
    # vLLM reads JSON there.
    ("converts_composite_schemas", "fallback_object", '{"x":1}'): '{"x":1}',
}


def element(name: str, value: dict[str, Any]) -> str:
    if "text" in value:
        inner = value["text"]
    else:
        inner = "".join(element(child, inner_value) for child, inner_value in value["elements"])
    return f"{MARKER}<{name}>{inner}{MARKER}</{name}>"


def conversions() -> list[Any]:
    found = []
    for raw in json.loads((FIXTURES / "vllm_cases.json").read_text()):
        if raw.get("kind") != "param_conversion":
            continue
        test = raw["source"].rpartition("::")[2].removeprefix("tests::")
        schemas = {tool["name"]: tool["parameters"] for tool in raw["tools"]}
        for index, item in enumerate(raw["conversions"]):
            name = item.get("schema") or raw["tools"][0]["name"] or "tool"
            schema = schemas.get(item.get("schema") or raw["tools"][0]["name"])
            found.append(pytest.param(test, name, schema, item, id=f"{test}[{index}]"))
    return found


@pytest.mark.parametrize(("test", "tool", "schema", "item"), conversions())
def test_value_conversion(test: str, tool: str, schema: Any, item: dict[str, Any]) -> None:
    text = (
        f'{MARKER}<tool_call>{MARKER}<invoke name="{tool}">'
        f"{element(item['param'], item['input'])}{MARKER}</invoke>{MARKER}</tool_call>"
    )
    shown, [call] = split_tool_markup(text, [ToolSpec(tool, parameters=schema)])
    assert shown == ""
    value = call.parsed_arguments()[item["param"]]
    key = (test, item["param"], item["input"].get("text"))
    if "expected_json_text" in item:
        # The source checks the JSON spelling: 5.0 stays 5.0, +1 is 1.
        assert json.dumps(value) == item["expected_json_text"]
    else:
        assert value == OURS.get(key, item["expected"])
        assert type(value) is type(OURS.get(key, item["expected"]))


def test_every_difference_named_here_is_a_case() -> None:
    cases = {
        (p.values[0], p.values[3]["param"], p.values[3]["input"].get("text")) for p in conversions()
    }
    assert set(OURS) <= cases
