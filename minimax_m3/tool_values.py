"""Tool-call argument values: what a tool's JSON Schema says a text value is.

The model writes every value as text; the schema tells which are numbers, booleans, null,
arrays or objects. A value that does not read as its declared type is kept as the text
the model wrote: nothing is invented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.types import ToolSpec

STRING_ONLY = ("string",)
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


# Type names tools use besides JSON Schema's own (the same aliases vLLM's parser reads).
_TYPE_ALIASES = {
    **dict.fromkeys(("str", "text", "varchar", "char"), "string"),
    **dict.fromkeys(("int", "uint", "long", "short", "unsigned", "unsigned_int"), "integer"),
    **dict.fromkeys(("int32", "int64", "uint32", "uint64"), "integer"),
    **dict.fromkeys(("float", "double", "float32", "float64", "decimal", "num"), "number"),
    **dict.fromkeys(("bool", "binary"), "boolean"),
    **dict.fromkeys(("map", "dict", "dictionary"), "object"),
    **dict.fromkeys(("list", "sequence", "tuple"), "array"),
}
_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


def _known_types(names: list[Any]) -> tuple[str, ...]:
    """Type names as JSON Schema's, in the order given (a union is tried in its order); a
    name nobody knows reads as a string, so the text stays as written."""
    types: list[str] = []
    for name in names:
        if isinstance(name, str):
            known = _TYPE_ALIASES.get(name.lower(), name.lower())
            if known not in types:
                types.append(known)
    found = tuple(t for t in types if t in _JSON_TYPES)
    return found if found or not types else STRING_ONLY


def schema_types(schema: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The JSON types a schema allows, in order; None when it says nothing (guess)."""
    if schema is None:
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return _known_types([declared])
    if isinstance(declared, list):
        return _known_types(declared)
    values = schema["enum"] if isinstance(schema.get("enum"), list) else []
    if "const" in schema:
        values = [*values, schema["const"]]
    names: list[str] = [_json_type(value) for value in values]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list):
            for option in options:
                if isinstance(option, Mapping):
                    names.extend(schema_types(option) or ())
    if names:
        return _known_types(names)
    if isinstance(schema.get("properties"), Mapping):
        return ("object",)
    if isinstance(schema.get("items"), Mapping):
        return ("array",)
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def property_schema(schema: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    """The schema of property ``name``: declared, in a branch, or ``additionalProperties``."""
    if schema is None:
        return None
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        child = properties.get(name)
        if isinstance(child, Mapping):
            return child
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list):
            for option in options:
                if isinstance(option, Mapping):
                    found = property_schema(option, name)
                    if found is not None:
                        return found
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else None


def inline_refs(schema: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """``schema`` with local ``$ref``s (``#/$defs/X``, ``#/definitions/X``) replaced by
    what they name, so properties can be looked up; a cycle stops at a few levels."""
    if isinstance(schema, list):
        return [inline_refs(item, defs, depth) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and depth < 8:
        target = defs.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/") else None
        if isinstance(target, Mapping):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return inline_refs({**target, **rest}, defs, depth + 1)
    return {key: inline_refs(value, defs, depth) for key, value in schema.items()}


def items_schema(schema: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if schema is None:
        return None
    items = schema.get("items")
    return items if isinstance(items, Mapping) else None


# Leaf values


def convert_text(text: str, schema: Mapping[str, Any] | None, *, declared: bool) -> Any:
    """One text value as the type its schema declares.

    ``declared`` is False for a parameter the tool does not declare, or a tool that is not
    known at all: its value stays the text written (``null`` aside). A declared parameter
    with no type is read as JSON where it is JSON (a number, a boolean, null, an object),
    else as text.
    """
    stripped = text.strip()
    if not declared:
        # Nothing says it is a string, so a written null is no value (as vLLM reads it).
        return None if stripped.lower() == "null" else text
    types = schema_types(schema)
    if types is None:
        return _json_value(stripped, text)
    if types == STRING_ONLY:
        return text
    lowered = stripped.lower()
    # The model writes null for no value: read so wherever a string is not wanted (a
    # string-typed "null" is the word); "none" and "nil" only where null is declared.
    if lowered == "null" and ("null" in types or "string" not in types):
        return None
    if lowered in ("none", "nil") and "null" in types and "string" not in types:
        return None
    if not stripped and "null" in types and "string" not in types:
        return None
    for kind in types:  # a union is tried in the order it is written
        if kind == "string":
            return text
        if kind == "integer" and re.fullmatch(r"[-+]?\d+", stripped):
            return int(stripped)
        if kind == "number":
            number = _number(stripped)
            if number is not None:
                return number
        if kind == "boolean" and lowered in _TRUE:
            return True
        if kind == "boolean" and lowered in _FALSE:
            return False
        if kind in ("object", "array"):
            value = _json_value(stripped, None)
            if isinstance(value, dict if kind == "object" else list):
                return value
    return text


def _number(text: str) -> int | float | None:
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        value = float(text)
        if value == value and value not in (float("inf"), float("-inf")):
            return value
    return None


def _json_value(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text if default is None else default


class ToolSchemas:
    """The schemas of the tools offered with a request, by tool name, ``$ref``s inlined
    when first asked for."""

    __slots__ = ("_by_name", "_resolved")

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._by_name = {tool.name: tool.parameters for tool in tools}
        self._resolved: dict[str, Mapping[str, Any]] = {}

    def get(self, name: str) -> Mapping[str, Any] | None:
        resolved = self._resolved.get(name)
        if resolved is None:
            schema = self._by_name.get(name)
            if schema is None:
                return None
            defs = {**_mapping(schema.get("definitions")), **_mapping(schema.get("$defs"))}
            resolved = self._resolved[name] = inline_refs(schema, defs) if defs else schema
        return resolved


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
