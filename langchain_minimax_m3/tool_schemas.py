"""LangChain tools as OpenAI tool dicts, a ``BaseTool`` converted once while it stays the same.

``convert_to_openai_tool`` reads a tool's ``tool_call_schema``, which langchain-core
builds afresh as a new pydantic model on every read, then asks it for its JSON Schema:
about 1.5 ms a tool. ``create_agent`` binds every tool on every model call, so an agent
with 500 tools spent most of a second per step before anything was sent. What that
conversion gives depends only on the tool's class, name, description, argument schema,
function and metadata, so it is kept per tool object, and converted again when any of these
changes. Dicts, functions and pydantic classes convert cheaply or are keyed by other
means, and are converted every time.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

_Converted = tuple["weakref.ref[BaseTool]", tuple[Any, ...], dict[str, Any]]
_CONVERTED: dict[int, _Converted] = {}


def to_openai_tool(
    tool: dict[str, Any] | type | Callable[..., Any] | BaseTool, *, strict: bool | None
) -> dict[str, Any]:
    """What ``convert_to_openai_tool(tool, strict=strict)`` gives, converted once per tool."""
    if not isinstance(tool, BaseTool):
        return convert_to_openai_tool(tool, strict=strict)
    fingerprint = _fingerprint(tool, strict)
    key = id(tool)
    kept = _CONVERTED.get(key)
    if kept is not None and kept[0]() is tool and kept[1] == fingerprint:
        converted = kept[2]
    else:
        converted = convert_to_openai_tool(tool, strict=strict)
        _CONVERTED[key] = (
            weakref.ref(tool, _forgetting(key)),
            fingerprint,
            converted,
        )
    # A fresh outer dict per bind, so a caller that edits what it bound edits its own copy.
    function = converted.get("function")
    if isinstance(function, dict):
        return {**converted, "function": dict(function)}
    return dict(converted)


def _fingerprint(tool: BaseTool, strict: bool | None) -> tuple[Any, ...]:
    schema = tool.args_schema
    # A schema class is itself the key; a dict schema may be edited in place, so its text is.
    schema_key = schema if isinstance(schema, type) or schema is None else _text(schema)
    function = getattr(tool, "func", None)
    return (
        type(tool),
        tool.name,
        tool.description,
        schema_key,
        function,
        strict,
        _text(tool.metadata),
    )


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _forgetting(key: int) -> Callable[[object], None]:
    def forget(_: object) -> None:
        _CONVERTED.pop(key, None)

    return forget
