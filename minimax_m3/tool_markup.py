"""MiniMax tool-call markup left in the text, turned into tool calls: M2's and M3's.

A server without a tool parser (self-hosted vLLM or SGLang started without
``--tool-call-parser``, some gateways, now and then MiniMax's own endpoints) passes the
model's calls through as text. M2 writes::

    <minimax:tool_call>
    <invoke name="get_weather">
    <parameter name="city">Paris</parameter>
    </invoke>
    </minimax:tool_call>

M3 puts its namespace marker ``]<]minimax[>[`` (one special token) before every
structural tag and names each argument's element after the parameter; objects nest and
arrays repeat ``<item>``::

    ]<]minimax[>[<tool_call>
    ]<]minimax[>[<invoke name="get_weather">
    ]<]minimax[>[<city>Paris]<]minimax[>[</city>
    ]<]minimax[>[</invoke>
    ]<]minimax[>[</tool_call>

A stack that strips special tokens yields the same M3 markup without the marker.

Values are text, typed by the tool's JSON Schema (``minimax_m3.tool_values``), so
``"018956"`` stays a string where the schema wants one.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from minimax_m3.tool_values import (
    STRING_ONLY,
    ToolSchemas,
    convert_text,
    items_schema,
    property_schema,
    schema_types,
)
from minimax_m3.types import ToolCall, ToolSpec

MARKER = "]<]minimax[>["
M2_OPEN = "<minimax:tool_call>"
M2_CLOSE = "</minimax:tool_call>"
M3_OPEN = "<tool_call>"
M3_CLOSE = "</tool_call>"
INVOKE_CLOSE = "</invoke>"

# SGLang drops white space between the marker and the tag; so do we.
_MARKED_TAG = re.compile(r"\]<\]minimax\[>\[\s*<(/?)([^\s<>/=\"']+)((?:\s[^<>]*)?)(/?)>")
_BARE_TAG = re.compile(r"<(/?)([A-Za-z_][\w.\-:]*)((?:\s[^<>]*)?)(/?)>")
_NAME_ATTRIBUTE = re.compile(r"""(?:^|\s)name\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_M2_INVOKE = re.compile(r"<invoke\s+name\s*=\s*\"([^\"]*)\"\s*>(.*?)</invoke>", re.S)
_M2_PARAMETER_OPEN = re.compile(r"<parameter\s+name\s*=\s*\"([^\"]*)\"\s*>")
_M3_BLOCK_OPEN = re.compile(r"(?:\]<\]minimax\[>\[\s*)?<tool_call>")
# Closing tags, by grammar: M2's; M3's with the marker (white space allowed after it);
# M3's without markers.
_CLOSERS = {
    "m2": (re.compile(re.escape(INVOKE_CLOSE)), re.compile(re.escape(M2_CLOSE))),
    "m3": (
        re.compile(r"\]<\]minimax\[>\[\s*</invoke>"),
        re.compile(r"\]<\]minimax\[>\[\s*</tool_call>"),
    ),
    "m3-bare": (re.compile(re.escape(INVOKE_CLOSE)), re.compile(re.escape(M3_CLOSE))),
}
# What may follow a marker-less <tool_call> for it to be M3's: an invoke, marked or not.
_INVOKE_AHEAD = ("<invoke", MARKER)

# Longest text at the end of a piece that may still grow into a block's opening.
_OPENINGS = (M2_OPEN, MARKER + M3_OPEN, M3_OPEN)
_LONGEST_OPENING = max(len(opening) for opening in _OPENINGS) - 1
# Closing tags are searched for in each new piece plus this much of what came before.
_CLOSE_OVERLAP = len(MARKER) + len(M2_CLOSE) + 8


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


# M3 elements


@dataclass(slots=True)
class _Element:
    name: str
    attributes: str = ""
    texts: list[str] = field(default_factory=list)
    children: list[_Element] = field(default_factory=list)
    raw: str | None = None


class _Malformed(Exception):
    """An element never closed, or closed by another's tag: the call cannot be read."""


def _parse_children(
    text: str,
    pos: int,
    parent: _Element,
    schema: Mapping[str, Any] | None,
    tag: re.Pattern[str],
    marked: bool,
) -> int:
    """Fill ``parent`` from ``text[pos:]`` up to its closing tag; return the position after."""
    while True:
        match = tag.search(text, pos)
        if match is None:
            raise _Malformed(f"<{parent.name}> is never closed")
        parent.texts.append(text[pos : match.start()])
        pos = match.end()
        closing, name, attributes, self_closing = match.groups()
        if closing:
            if name == parent.name:
                return pos
            raise _Malformed(f"<{parent.name}> is closed by </{name}>")
        child = _Element(name, attributes)
        parent.children.append(child)
        if self_closing:
            continue
        child_schema = _child_schema(schema, name)
        if not marked and schema_types(child_schema) == STRING_ONLY:
            # Without markers any "<" may be the value's own text (HTML, code): a string
            # runs to its own closing tag, whatever it holds.
            end = text.find(f"</{name}>", pos)
            if end >= 0:
                child.raw = text[pos:end]
                pos = end + len(name) + 3
                continue
        pos = _parse_children(text, pos, child, child_schema, tag, marked)


def _child_schema(schema: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if name == "item" and "array" in (schema_types(schema) or ()):
        return items_schema(schema)
    return property_schema(schema, name)


def _element_value(element: _Element, schema: Mapping[str, Any] | None, *, declared: bool) -> Any:
    if element.raw is not None:
        return convert_text(element.raw, schema, declared=declared)
    if not element.children:
        return convert_text("".join(element.texts), schema, declared=declared)
    types = schema_types(schema)
    if declared and types == STRING_ONLY:
        # An object where a string was wanted: hand on the text the model wrote.
        return _element_source(element)
    if (types is not None and "array" in types and "object" not in types) or (
        types is None and all(child.name == "item" for child in element.children)
    ):
        items = items_schema(schema)
        return [_element_value(child, items, declared=declared) for child in element.children]
    return _children_object(element, schema, declared=declared)


def _children_object(
    element: _Element, schema: Mapping[str, Any] | None, *, declared: bool
) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for child in element.children:
        child_schema = property_schema(schema, child.name)
        known = declared and (schema is None or child_schema is not None)
        item = _element_value(child, child_schema, declared=known)
        if child.name in value:
            # The same element twice: the template writes a list that way.
            previous = value[child.name]
            if isinstance(previous, list) and child.name in _repeated(element):
                previous.append(item)
            else:
                value[child.name] = [previous, item]
        else:
            value[child.name] = item
    text = "".join(element.texts).strip()
    if text:
        # Text beside child elements, under a key no child has (vLLM's way).
        key = "$text"
        while key in value:
            key = "$" + key
        value[key] = text
    return value


def _repeated(element: _Element) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for child in element.children:
        (repeated if child.name in seen else seen).add(child.name)
    return repeated


def _element_source(element: _Element) -> str:
    parts = list(element.texts[:1])
    for index, child in enumerate(element.children):
        inner = child.raw if child.raw is not None else _element_source(child)
        parts.append(f"<{child.name}>{inner}</{child.name}>")
        parts.extend(element.texts[index + 1 : index + 2])
    return "".join(parts)


# Invokes


def parse_m3_invoke(
    invoke: str, schemas: ToolSchemas, *, marked: bool | None = None
) -> ToolCall | None:
    """One M3 ``<invoke name="...">...</invoke>`` as a call, or None when it cannot be read.

    ``marked`` says whether its tags carry the marker (by default: whether it holds one).
    """
    if marked is None:
        marked = MARKER in invoke
    try:
        return _read_m3_invoke(invoke, schemas, marked)
    except (_Malformed, RecursionError):
        # Nested deeper than Python recurses, or broken: the text stays text.
        return None


def _read_m3_invoke(invoke: str, schemas: ToolSchemas, marked: bool) -> ToolCall | None:
    tag = _MARKED_TAG if marked else _BARE_TAG
    opening = tag.search(invoke)
    if opening is None or opening.group(1) or opening.group(2) != "invoke":
        return None
    name = _attribute_name(opening.group(3))
    if name is None:
        return None
    schema = schemas.get(name)
    root = _Element("invoke")
    if not opening.group(4):
        _parse_children(invoke, opening.end(), root, schema, tag, marked)
    arguments = _children_object(root, schema, declared=schema is not None)
    arguments.pop("$text", None)  # white space or prose between arguments is no argument
    return ToolCall(new_call_id(), name, json.dumps(arguments, ensure_ascii=False))


def parse_m2_invokes(block: str, schemas: ToolSchemas) -> list[ToolCall]:
    """The calls inside one ``<minimax:tool_call>`` block."""
    calls = []
    for name, body in _M2_INVOKE.findall(block):
        schema = schemas.get(name)
        arguments: dict[str, Any] = {}
        for key, raw in _m2_parameters(body):
            key_schema = property_schema(schema, key)
            declared = schema is not None and key_schema is not None
            # M2 writes each value on its own line inside the element.
            value = convert_text(raw.strip("\n"), key_schema, declared=declared)
            if key not in arguments:
                arguments[key] = value
            elif isinstance(arguments[key], list):
                arguments[key].append(value)
            else:
                arguments[key] = [arguments[key], value]
        calls.append(ToolCall(new_call_id(), name, json.dumps(arguments, ensure_ascii=False)))
    return calls


def _m2_parameters(body: str) -> list[tuple[str, str]]:
    """``(name, value)`` of each ``<parameter>``; a value runs to the last
    ``</parameter>`` before the next parameter, so a value may itself hold that tag."""
    openings = list(_M2_PARAMETER_OPEN.finditer(body))
    found = []
    for index, opening in enumerate(openings):
        end = openings[index + 1].start() if index + 1 < len(openings) else len(body)
        close = body.rfind("</parameter>", opening.end(), end)
        if close >= 0:
            found.append((opening.group(1), body[opening.end() : close]))
    return found


def _attribute_name(attributes: str) -> str | None:
    match = _NAME_ATTRIBUTE.search(attributes)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


# Streaming


@dataclass(slots=True)
class _Block:
    grammar: str  # "m2", "m3" (with markers) or "m3-bare" (a stack dropped them)
    opening: str  # the text that opened it, given back if it never closes
    # What the block holds past its last whole invoke, in pieces joined only when a
    # closing tag may be among them: a long call then costs linear time, not quadratic.
    parts: list[str] = field(default_factory=list)
    tail: str = ""
    calls: int = 0
    # Everything handled so far, and the text of invokes that could not be read: a block
    # that gives no call at all is given back whole, as the model wrote it.
    handled: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""


class ToolMarkupReader:
    """Text in, pieces out: ``("text", str)`` to show and ``("call", ToolCall)``.

    Text that may still grow into a block's opening is held back (a partial marker at the
    very end is text after all); a call is handed on as soon as its invoke closes. Text
    before, between and after blocks is text. A block that never closes gives its text
    back, less the calls already handed on.
    """

    __slots__ = ("_block", "_held", "_schemas")

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._schemas = ToolSchemas(tools)
        self._held = ""
        self._block: _Block | None = None

    @property
    def idle(self) -> bool:
        """Nothing held back and no block open."""
        return self._block is None and not self._held

    def feed(self, piece: str) -> list[tuple[str, Any]]:
        # Text with no "<" cannot hold markup, unless it ends in what may begin a marker.
        if self._block is None and not self._held and "<" not in piece and piece[-1:] != "]":
            return [("text", piece)] if piece else []
        out: list[tuple[str, Any]] = []
        buffer, self._held = self._held + piece, ""
        while buffer:
            if self._block is not None:
                buffer = self._feed_block(self._block, buffer, out)
            else:
                buffer = self._feed_outside(buffer, out)
        return out

    def finish(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        held, self._held = self._held, ""
        block, self._block = self._block, None
        if block is not None:
            rest = block.text()
            if block.calls == 0:
                out.append(("text", block.opening + "".join(block.handled) + rest))
            else:
                rest = "".join(block.unread) + ("" if _is_markup_only(rest) else rest)
                if rest:
                    out.append(("text", rest))
        if held:
            out.append(("text", held))
        return out

    def _feed_outside(self, buffer: str, out: list[tuple[str, Any]]) -> str:
        start = _block_start(buffer)
        if start is None:
            keep = _opening_suffix(buffer)
            shown = buffer[: len(buffer) - keep]
            if shown:
                out.append(("text", shown))
            self._held = buffer[len(buffer) - keep :]
            return ""
        at, end, grammar = start
        if at:
            out.append(("text", buffer[:at]))
        if end < 0:  # a marker-less <tool_call> not yet known to be M3's
            self._held = buffer[at:]
            return ""
        self._block = _Block(grammar, buffer[at:end])
        return buffer[end:]

    def _feed_block(self, block: _Block, piece: str, out: list[tuple[str, Any]]) -> str:
        invoke_close, block_close = _CLOSERS[block.grammar]
        window = block.tail + piece
        block.parts.append(piece)
        block.tail = window[-_CLOSE_OVERLAP:]
        # Only a closing tag in the new piece (or across its start) can end anything, so
        # the block's text is joined only then: a long call stays linear.
        if invoke_close.search(window) is None and block_close.search(window) is None:
            return ""
        text = block.text()
        # Positions, not slices, and the block's end searched for once: a block of many
        # invokes costs linear time.
        pos = 0
        close = block_close.search(text)
        while True:
            invoke_end = invoke_close.search(text, pos)
            if close is not None and (invoke_end is None or close.start() < invoke_end.start()):
                leftover = text[pos : close.start()]
                self._block = None
                handled = "".join(block.handled)
                if block.calls == 0 and not _is_markup_only(handled + leftover):
                    closed = text[pos : close.end()]
                    out.append(("text", block.opening + handled + closed))
                elif block.calls:
                    unread = "".join(block.unread)
                    if not _is_markup_only(leftover):
                        unread += leftover
                    if unread:
                        out.append(("text", unread))
                return text[close.end() :]
            if invoke_end is None:
                rest = text[pos:]
                block.parts[:] = [rest] if rest else []
                block.tail = rest[-_CLOSE_OVERLAP:]
                return ""
            invoke = text[pos : invoke_end.end()]
            block.handled.append(invoke)
            self._take_invoke(block, invoke, out)
            pos = invoke_end.end()

    def _take_invoke(self, block: _Block, invoke: str, out: list[tuple[str, Any]]) -> None:
        if block.grammar == "m2":
            calls = parse_m2_invokes(invoke, self._schemas)
        else:
            call = parse_m3_invoke(invoke, self._schemas, marked=block.grammar == "m3")
            calls = [call] if call is not None else []
        if not calls:
            # Held until the block ends: if it gives no call at all, it goes back whole.
            block.unread.append(invoke)
            return
        at = invoke.find("<invoke")
        if block.grammar == "m3" and invoke[:at].rstrip().endswith(MARKER):
            at = invoke[:at].rstrip().rfind(MARKER)
        before = invoke[: max(at, 0)]
        if not _is_markup_only(before):
            out.append(("text", before))
        for call in calls:
            out.append(("call", call))
            block.calls += 1


def split_tool_markup(text: str, tools: Sequence[ToolSpec]) -> tuple[str, list[ToolCall]]:
    """A whole text's tool-call markup taken out: the text left and the calls."""
    reader = ToolMarkupReader(tools)
    pieces = reader.feed(text) + reader.finish()
    shown = "".join(value for kind, value in pieces if kind == "text")
    return shown, [value for kind, value in pieces if kind == "call"]


def _is_markup_only(text: str) -> bool:
    return not text.replace(MARKER, "").strip()


def _block_start(buffer: str) -> tuple[int, int, str] | None:
    """Where a block opens: (start, end of the opening, grammar); end -1 = undecided."""
    best: tuple[int, int, str] | None = None
    m2 = buffer.find(M2_OPEN)
    if m2 >= 0:
        best = (m2, m2 + len(M2_OPEN), "m2")
    pos = 0
    while True:
        match = _M3_BLOCK_OPEN.search(buffer, pos)
        if match is None or (best is not None and match.start() > best[0]):
            break
        if match.group(0).startswith(MARKER):
            return (match.start(), match.end(), "m3")
        ahead = buffer[match.end() :].lstrip()
        if ahead.startswith(MARKER):
            return (match.start(), match.end(), "m3")
        if ahead.startswith("<invoke"):
            return (match.start(), match.end(), "m3-bare")
        if not ahead or any(word.startswith(ahead) for word in _INVOKE_AHEAD):
            return (match.start(), -1, "m3")
        pos = match.end()
    return best


def _opening_suffix(text: str) -> int:
    """How many characters at the end of ``text`` may begin a block's opening."""
    # A whole marker, then white space and perhaps the start of <tool_call>: the rest of
    # the tag may still follow.
    at = text.rfind(MARKER, max(0, len(text) - len(MARKER) - 64))
    if at >= 0:
        after = text[at + len(MARKER) :].lstrip()
        if M3_OPEN.startswith(after) and after != M3_OPEN:
            return len(text) - at
    # Every opening starts with "<" or "]": only from one of those can a suffix match.
    tail = text[-_LONGEST_OPENING:]
    for at, char in enumerate(tail):
        if char in "<]":
            rest = tail[at:]
            if any(opening.startswith(rest) for opening in _OPENINGS):
                return len(rest)
    return 0
