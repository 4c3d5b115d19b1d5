"""Scripted emulator replies for the prompts of langchain-tests' integration suite.

These are SCRIPTED answers written for this repository, not recordings of MiniMax: a
tiny deterministic "model" that reads each request the suite sends and answers the way
M3 would be expected to (call the offered tool with the arguments the prompt asks for,
answer after a tool result, return the JSON a structured-output request wants). Every
reply carries reasoning, so the suite also exercises reasoning round trips.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from minimax_m3.testing import Reply, ToolCallReply

JOKE = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse.",
}

# Arguments for the tools the suite binds, by tool name.
_SCRIPTED_ARGS: dict[str, Any] = {
    "magic_function": {"input": 3},
    "magic_function_no_args": {},
    "greeting_generator": {"answer_style": "pirate"},
    "get_weather": {"location": "San Francisco, CA"},
    "color_picker": {"fav_color": "purple"},
    "random_image": {},
    "random_pdf": {},
    "Joke": JOKE,
    "JokeDict": JOKE,
}
_QUOTED = re.compile(r"'([^']+)'")
_SUM = re.compile(r"(\d+)\s*\+\s*(\d+)")


def reply_to(request: dict[str, Any]) -> Reply | None:
    """The scripted answer to one request, or None for the emulator's default echo."""
    messages = request.get("messages") or []
    last = messages[-1] if messages else {}
    tools = [t["function"] for t in request.get("tools") or () if isinstance(t, dict)]
    if last.get("role") == "tool":
        result = last.get("content", "")
        return Reply(
            reasoning="The tool answered; I can reply to the user now.",
            text=f"The tool returned {result}.",
        )
    if tools and request.get("tool_choice") != "none" and last.get("role") == "user":
        tool = _pick_tool(tools, _text(last))
        return Reply(
            reasoning=f"I should call {tool['name']} to answer this.",
            tool_calls=[ToolCallReply(tool["name"], _arguments(tool, _text(last)))],
        )
    response_format = request.get("response_format")
    if isinstance(response_format, Mapping):
        body = json.dumps(JOKE)
        if response_format.get("type") == "json_object":
            # Reasoning models often fence JSON; the adapter must read it anyway.
            body = f"```json\n{body}\n```"
        return Reply(reasoning="The user wants a joke as JSON.", text=body)
    return None


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _pick_tool(tools: list[dict[str, Any]], prompt: str) -> dict[str, Any]:
    for tool in tools:
        if tool["name"] in prompt:
            return tool
    return tools[0]


def _arguments(tool: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    name = tool["name"]
    if name in _SCRIPTED_ARGS:
        return dict(_SCRIPTED_ARGS[name])
    if name == "unicode_customer":
        quoted = _QUOTED.search(prompt)
        return {
            "customer_name": quoted.group(1) if quoted else "",
            "description": "A company created from the user's request.",
        }
    if name == "my_adder_tool":
        numbers = _SUM.search(prompt)
        a, b = (int(numbers.group(1)), int(numbers.group(2))) if numbers else (1, 2)
        return {"a": a, "b": b}
    return _arguments_from_schema(tool.get("parameters") or {})


def _arguments_from_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Plausible values for the required properties of a schema the script does not know."""
    samples = {"string": "example", "integer": 1, "number": 1.0, "boolean": True}
    properties = schema.get("properties") or {}
    return {
        name: samples.get(spec.get("type"), "example") if isinstance(spec, dict) else "example"
        for name, spec in properties.items()
        if name in (schema.get("required") or properties)
    }
