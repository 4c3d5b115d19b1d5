"""MiniMax's raw tool-call XML, turned into tool calls.

A self-hosted server without a tool parser (and, now and then, MiniMax's Anthropic
endpoint) leaves the model's tool calls in the text::

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    </invoke>
    </minimax:tool_call>

Parameter values are text; the tool's JSON Schema says which ones are numbers, booleans,
arrays or objects, so "123" stays a string where the schema wants a string.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.types import ToolCall, ToolSpec

OPEN = "<minimax:tool_call>"
CLOSE = "</minimax:tool_call>"
_INVOKE = re.compile(r'<invoke\s+name="([^"]*)"\s*>(.*?)</invoke>', re.S)
_PARAMETER = re.compile(r'<parameter\s+name="([^"]*)"\s*>(.*?)</parameter>', re.S)


def _schema_types(tools: Sequence[ToolSpec]) -> dict[str, dict[str, Any]]:
    types: dict[str, dict[str, Any]] = {}
    for tool in tools:
        properties = tool.parameters.get("properties")
        if isinstance(properties, Mapping):
            types[tool.name] = {
                key: schema.get("type")
                for key, schema in properties.items()
                if isinstance(schema, Mapping)
            }
    return types


def _convert(value: str, declared: Any) -> Any:
    if declared == "string" or (isinstance(declared, list) and "string" in declared):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def parse_invokes(block: str, tools: Sequence[ToolSpec]) -> list[ToolCall]:
    """The calls inside one ``<minimax:tool_call>`` block."""
    types = _schema_types(tools)
    calls = []
    for name, body in _INVOKE.findall(block):
        declared = types.get(name, {})
        arguments = {
            key: _convert(raw.strip("\n"), declared.get(key))
            for key, raw in _PARAMETER.findall(body)
        }
        calls.append(
            ToolCall(
                id=f"call_{uuid.uuid4().hex[:24]}",
                name=name,
                arguments=json.dumps(arguments, ensure_ascii=False),
            )
        )
    return calls


def split_tool_xml(text: str, tools: Sequence[ToolSpec]) -> tuple[str, list[ToolCall]]:
    """Remove every tool-call block from ``text``; return the rest and the calls."""
    extractor = ToolXmlExtractor(tools)
    visible, calls = extractor.feed(text)
    tail, more = extractor.finish()
    return visible + tail, calls + more


class ToolXmlExtractor:
    """The streaming form: text in, visible text and finished calls out."""

    __slots__ = ("_buffer", "_inside", "_tools")

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._buffer = ""
        self._inside = False

    def feed(self, piece: str) -> tuple[str, list[ToolCall]]:
        if not self._inside and not self._buffer and "<" not in piece:
            return piece, []
        buffer, self._buffer = self._buffer + piece, ""
        visible: list[str] = []
        calls: list[ToolCall] = []
        while buffer:
            if self._inside:
                at = buffer.find(CLOSE)
                if at < 0:
                    self._buffer = buffer
                    break
                calls.extend(parse_invokes(buffer[:at], self._tools))
                buffer = buffer[at + len(CLOSE) :]
                self._inside = False
                continue
            at = buffer.find(OPEN)
            if at >= 0:
                visible.append(buffer[:at])
                buffer = buffer[at + len(OPEN) :]
                self._inside = True
                continue
            held = _held_prefix(buffer)
            visible.append(buffer[: len(buffer) - held])
            self._buffer = buffer[len(buffer) - held :]
            break
        return "".join(visible), calls

    def finish(self) -> tuple[str, list[ToolCall]]:
        """End of text: a block never closed is left as text rather than dropped."""
        buffer, self._buffer = self._buffer, ""
        if self._inside:
            self._inside = False
            calls = parse_invokes(buffer, self._tools)
            return ("", calls) if calls else (OPEN + buffer, [])
        return buffer, []


def _held_prefix(text: str) -> int:
    for size in range(min(len(OPEN) - 1, len(text)), 0, -1):
        if text.endswith(OPEN[:size]):
            return size
    return 0
