"""What more than one dialect of the emulator needs, written once.

JSON and server-sent-event framing, key checks, tool calls with their ids, text cut into
deltas, inline reasoning, usage estimates, the default echo answer, and MiniMax's words
for its codes (its Chat Completions and Anthropic endpoints share them).
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ParamSpec, TypeVar

from minimax_m3.testing import xml_tools
from minimax_m3.testing.prompt_cache import PromptCount
from minimax_m3.testing.script import Fault, Reply, ToolCallReply, ToolMarkup

P = ParamSpec("P")
R = TypeVar("R")

SSE_HEADERS = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
JSON_HEADERS = (("content-type", "application/json; charset=utf-8"),)
DONE = b"data: [DONE]\n\n"

INVALID_PARAMS = 2013
AUTH_FAILED = 1004
AUTH_MESSAGE = (
    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
)
# Documented meanings of MiniMax's status codes; an empty Fault.message takes these.
_MINIMAX_CODE_MESSAGES = {
    1000: "unknown error",
    1001: "request timeout",
    1002: "rate limit",
    1004: AUTH_MESSAGE,
    1008: "insufficient balance",
    1013: "internal service error",
    1024: "internal error",
    1026: "input new_sensitive",
    1027: "output new_sensitive",
    1033: "system error",
    1039: "token limit",
    1041: "conn limit",
    1042: "invisible character ratio limit",
    2013: "invalid params",
    2045: "rate growth limit",
    2049: "invalid api key",
    2056: "usage limit exceeded",
}
_ID_ALPHABET = string.ascii_lowercase + string.digits


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def sse_data(obj: Any) -> bytes:
    """One server-sent event with only a ``data:`` line."""
    return b"data: " + json_bytes(obj) + b"\n\n"


def sse_event(name: str, obj: Any) -> bytes:
    """One server-sent event with an ``event:`` name and a ``data:`` line."""
    return b"event: " + name.encode() + b"\ndata: " + json_bytes(obj) + b"\n\n"


def bearer_ok(headers: Mapping[str, str], api_key: str | None) -> bool:
    """True when no key is required or ``Authorization: Bearer <api_key>`` is sent."""
    if api_key is None:
        return True
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() == api_key


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def first_problem(
    checks: Iterable[Callable[P, R | None]], *args: P.args, **kwargs: P.kwargs
) -> R | None:
    """What the first of ``checks`` that finds fault with the request says, or None."""
    for check in checks:
        problem = check(*args, **kwargs)
        if problem is not None:
            return problem
    return None


def carries_inline(content: Any, reasoning: str, tags: Iterable[str]) -> bool:
    """Whether ``content`` holds ``reasoning`` between one of ``tags``, byte for byte."""
    return isinstance(content, str) and any(
        f"<{tag}>{reasoning}</{tag}>" in content for tag in tags
    )


@dataclass(frozen=True)
class Call:
    """A scripted call with its id and its arguments as JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Calls:
    """A reply's calls: all it makes, those sent as structured calls (none when they are
    written as markup), and its text with that markup appended."""

    made: tuple[Call, ...]
    structured: tuple[Call, ...]
    text: str


def resolve_calls(reply: Reply, *, as_markup: bool, markup: ToolMarkup = "m2") -> Calls:
    made = tuple(_resolve_call(call, n) for n, call in enumerate(reply.tool_calls, 1))
    if not as_markup:
        return Calls(made, made, reply.text)
    text = reply.text
    if made:
        text = xml_tools.append_to_text(text, ((c.name, c.arguments) for c in made), markup)
    return Calls(made, (), text)


def _resolve_call(call: ToolCallReply, number: int) -> Call:
    # MiniMax's id shape when the script sets none.
    token = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
    arguments = call.arguments
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return Call(call.id or f"call_function_{token}_{number}", call.name, arguments)


def finish_reason(reply: Reply, structured: Sequence[Call]) -> str:
    return reply.finish_reason or ("tool_calls" if structured else "stop")


def tool_input(arguments: str) -> Any:
    """A call's ``input`` object: the parsed arguments, or their raw text when they are
    not a JSON object."""
    parsed = xml_tools.json_object(arguments)
    return arguments if parsed is None else parsed


def pieces(text: str, size: int, cumulative: bool = False) -> list[str]:
    """``text`` cut into ``size``-character deltas (or growing snapshots when cumulative)."""
    return [
        text[: k + size] if cumulative else text[k : k + size] for k in range(0, len(text), size)
    ]


def inline_reasoning(reasoning: str, tag: str, omit_open: bool) -> tuple[str, str]:
    """Reasoning written before the text as ``<tag>\\n...\\n</tag>\\n\\n``, and what it
    sends between the tags (what a replay must carry back)."""
    opener = "" if omit_open else f"<{tag}>\n"
    sent = f"{'' if omit_open else chr(10)}{reasoning}\n"
    return f"{opener}{reasoning}\n</{tag}>\n\n", sent


@dataclass(frozen=True)
class Usage:
    prompt: int
    completion: int
    cached: int
    reasoning: int


def estimate_usage(reply: Reply, prompt: PromptCount, calls: Sequence[Call]) -> Usage:
    """The reply's scripted token counts, and for the rest the prompt's count (with what
    the cache model read) and rough estimates of the output."""
    given = reply.usage or {}
    written = len(reply.text) + len(reply.reasoning)
    written += sum(len(call.name) + len(call.arguments) for call in calls)
    total = given.get("prompt_tokens", prompt.tokens)
    return Usage(
        prompt=total,
        completion=given.get("completion_tokens", max(1, written // 4)),
        # A scripted prompt size may be smaller than the modelled cached part.
        cached=given.get("cached_tokens", min(prompt.cached, total)),
        reasoning=given.get("reasoning_tokens", (len(reply.reasoning) + 3) // 4),
    )


def split_item(item: Reply | Fault | None, messages: Sequence[Any]) -> tuple[Reply, Fault | None]:
    """The reply to render and the fault that damages it, for an item that is not a plain
    error: a Fault without ``reply`` damages the default echo reply."""
    if isinstance(item, Reply):
        return item, None
    if item is not None and item.reply is not None:
        return item.reply, item
    return default_reply(messages), item


def default_reply(messages: Sequence[Any]) -> Reply:
    """What the emulator says when nothing is queued: an echo of the last user text."""
    said = _last_user_text(messages)
    return Reply(text=f"Emulated reply to: {said}", reasoning=f"The user wrote: {said}.")


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            parts = [p.get("text") for p in content if isinstance(p, dict)]
            return " ".join(p for p in parts if isinstance(p, str))
    return ""


def status_phrase(status: int, unknown: str = "Error") -> str:
    """The reason phrase of an HTTP status; ``unknown`` for a status without one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return unknown


def minimax_message(status: int, code: int | str | None) -> str:
    if isinstance(code, int) and code in _MINIMAX_CODE_MESSAGES:
        return _MINIMAX_CODE_MESSAGES[code]
    return status_phrase(status).lower()


def with_code(message: str, code: int | str | None) -> str:
    """MiniMax's way of giving its code: inside the message."""
    return message if code is None else f"{message} ({code})"
