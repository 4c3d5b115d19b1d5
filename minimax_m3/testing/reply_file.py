"""Replies for the emulator read from JSON, for ``python -m minimax_m3.testing --replies``.

The file holds a list, answered in order (then the default echo), or an object with that
list under ``"replies"``. Each entry is a :class:`Reply` written as an object of its
fields, or ``{"fault": {...}}`` for a :class:`Fault`::

    [
      {"text": "Hi!", "reasoning": "The user greets me."},
      {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Lisbon"}}],
       "stream": {"chunk_size": 4}},
      {"fault": {"status": 429, "headers": {"Retry-After": "1"}}},
      {"fault": {"reply": {"text": "cut short"}, "drop_after_events": 2}}
    ]

Field names and values are the dataclasses' own (``stream``, ``layout`` and ``provider``
hold :class:`StreamShape`, :class:`Layout` and :class:`ProviderOptions` fields). A name
that is not a field, or a value the dataclass refuses, is an error naming where it is.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

from minimax_m3.testing.script import (
    Fault,
    Layout,
    ProviderOptions,
    Reply,
    StreamShape,
    ToolCallReply,
)

ScriptItem = Reply | Fault


class ReplyFileError(ValueError):
    """A reply file that cannot be read as replies; the message says where and why."""


def read_reply_file(path: str | Path) -> list[ScriptItem]:
    """The replies and faults a JSON file describes, in order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplyFileError(f"cannot read the reply file {str(path)!r}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReplyFileError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return replies_from_json(document, source=str(path))


def replies_from_json(document: object, *, source: str = "replies") -> list[ScriptItem]:
    """The replies and faults of an already-decoded reply document."""
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"replies"})
        if unknown:
            raise ReplyFileError(f"{source}: unknown key(s) {unknown}; the object holds 'replies'")
        document = document.get("replies", [])
    if not isinstance(document, list):
        raise ReplyFileError(
            f'{source}: expected a list of replies (or {{"replies": [...]}}), '
            f"got {type(document).__name__}"
        )
    return [_item(entry, f"{source}[{index}]") for index, entry in enumerate(document)]


def _item(entry: object, where: str) -> ScriptItem:
    fields = _object(entry, where)
    if "fault" in fields:
        if len(fields) != 1:
            raise ReplyFileError(f"{where}: a fault entry holds only 'fault', got {sorted(fields)}")
        return _fault(fields["fault"], f"{where}.fault")
    return _reply(fields, where)


def _reply(entry: object, where: str) -> Reply:
    fields = dict(_object(entry, where))
    for name, kind in (("stream", StreamShape), ("layout", Layout), ("provider", ProviderOptions)):
        if name in fields:
            fields[name] = _plain(kind, fields[name], f"{where}.{name}")
    if "tool_calls" in fields:
        calls = fields["tool_calls"]
        if not isinstance(calls, list):
            raise ReplyFileError(f"{where}.tool_calls: expected a list, got {_kind(calls)}")
        fields["tool_calls"] = [
            _plain(ToolCallReply, call, f"{where}.tool_calls[{index}]")
            for index, call in enumerate(calls)
        ]
    if isinstance(fields.get("raw_chunks"), list):
        fields["raw_chunks"] = tuple(fields["raw_chunks"])
    return _plain(Reply, fields, where)


def _fault(entry: object, where: str) -> Fault:
    fields = dict(_object(entry, where))
    if "reply" in fields and fields["reply"] is not None:
        fields["reply"] = _reply(fields["reply"], f"{where}.reply")
    if isinstance(fields.get("body"), str):
        fields["body"] = fields["body"].encode("utf-8")
    return _plain(Fault, fields, where)


_Built = TypeVar("_Built")


def _plain(kind: type[_Built], entry: object, where: str) -> _Built:
    fields = _object(entry, where)
    allowed = {spec.name for spec in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ReplyFileError(
            f"{where}: unknown field(s) {unknown} for {kind.__name__}; allowed: {sorted(allowed)}"
        )
    try:
        return kind(**fields)
    except (TypeError, ValueError) as exc:
        raise ReplyFileError(f"{where}: {exc}") from None


def _object(entry: object, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ReplyFileError(f"{where}: expected an object, got {_kind(entry)}")
    return entry


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), repr(value))
