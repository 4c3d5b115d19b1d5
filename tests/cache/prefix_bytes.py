"""The prompt parts of a request body as the raw bytes sent, and their comparison.

The spans are found by walking the body's own text with ``json.JSONDecoder.raw_decode``
(which returns where each value ends), so what is compared is the wire bytes themselves,
never a re-serialisation that would hide a difference in key order or separators.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def members(text: str, start: int) -> dict[str, Span]:
    """The span of each member's value in the object starting at ``start``."""
    index = _skip(text, start)
    if text[index] != "{":
        raise ValueError(f"expected an object at {index}")
    found: dict[str, Span] = {}
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        assert text[index] == ":"
        value_start = _skip(text, index + 1)
        _, value_end = _DECODER.raw_decode(text, value_start)
        found[key] = Span(value_start, value_end)
        index = _skip(text, value_end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return found


def elements(text: str, start: int) -> list[Span]:
    """The span of each element of the array starting at ``start``."""
    index = _skip(text, start)
    if text[index] != "[":
        raise ValueError(f"expected an array at {index}")
    found: list[Span] = []
    index = _skip(text, index + 1)
    while text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        found.append(Span(index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return found


@dataclass(frozen=True)
class PromptBytes:
    """A request's prompt as sent: the tools, the system prompt (None where the format
    keeps it among the messages), each message, and everything else of the body with
    the messages and any per-request ids cut out."""

    tools: str | None
    system: str | None
    messages: list[str]
    rest: str


def _cut(text: str, spans: list[Span]) -> str:
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[last : span.start])
        out.append("<cut>")
        last = span.end
    out.append(text[last:])
    return "".join(out)


def prompt_bytes(body: bytes) -> PromptBytes:
    """Split a Chat Completions, Anthropic Messages or Runware tasks body."""
    text = body.decode()
    start = _skip(text, 0)
    if text[start] == "[":
        return _runware(text)
    top = members(text, start)
    messages = elements(text, top["messages"].start)
    tools = top.get("tools")
    system = top.get("system")
    return PromptBytes(
        tools=None if tools is None else text[tools.start : tools.end],
        system=None if system is None else text[system.start : system.end],
        messages=[text[s.start : s.end] for s in messages],
        rest=_cut(text, [top["messages"]]),
    )


def _runware(text: str) -> PromptBytes:
    # Runware requires a taskUUID unique to each task, so it is the one part of a request
    # that must differ turn to turn; it is not replayed content and is cut out of "rest".
    task_span = next(
        span
        for span in elements(text, _skip(text, 0))
        if json.loads(text[span.start : span.end]).get("taskType") == "textInference"
    )
    task = members(text, task_span.start)
    settings = members(text, task["settings"].start) if "settings" in task else {}
    system = settings.get("systemPrompt")
    tools = task.get("tools")
    return PromptBytes(
        tools=None if tools is None else text[tools.start : tools.end],
        system=None if system is None else text[system.start : system.end],
        messages=[text[s.start : s.end] for s in elements(text, task["messages"].start)],
        rest=_cut(text, [task["messages"], task["taskUUID"]]),
    )


def assert_appends_only(earlier: bytes, later: bytes) -> None:
    """``later`` repeats ``earlier``'s tools, system and messages byte for byte, in place,
    and only adds messages after them."""
    before, after = prompt_bytes(earlier), prompt_bytes(later)
    assert after.tools == before.tools, "the tools changed"
    assert after.system == before.system, "the system prompt changed"
    assert after.rest == before.rest, "the body outside the messages changed"
    assert len(after.messages) > len(before.messages), "no message was appended"
    for position, message in enumerate(before.messages):
        assert after.messages[position] == message, f"message {position} changed"


def model_requests(requests: list[Any]) -> list[bytes]:
    """The bodies of the model calls among an emulator's recorded requests (not Runware's
    polls or anything without a prompt)."""
    bodies = []
    for request in requests:
        parsed = request.json
        chat = isinstance(parsed, dict) and "messages" in parsed
        task = isinstance(parsed, list) and any(
            isinstance(item, dict) and item.get("taskType") == "textInference" for item in parsed
        )
        if chat or task:
            bodies.append(request.body)
    return bodies
