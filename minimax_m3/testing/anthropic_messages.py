"""Anthropic Messages, as MiniMax (``/anthropic/v1/messages``) and Cloudflare serve M3.

One renderer for both; a :class:`Flavour` holds what differs (error envelopes,
parameter ranges, MiniMax's ``base_resp``). Thinking is off unless the request asks for
it with ``thinking: {"type": "enabled" | "adaptive"}``, as on MiniMax's M3.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from minimax_m3.testing import chat_completions, xml_tools
from minimax_m3.testing.plan import (
    ResponsePlan,
    SseStream,
    body_actions,
    json_bytes,
    json_plan,
    merge_headers,
    sse_event,
    stream_actions,
)
from minimax_m3.testing.script import (
    Fault,
    IssuedReasoning,
    RecordedRequest,
    Reply,
    ScriptState,
)

PATH = "/anthropic/v1/messages"
M3_MAX_TOKENS = 524_288
ROLES = ("user", "assistant")
THINKING_TYPES = ("enabled", "adaptive", "disabled")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
# Which content blocks each role may send (MiniMax's list; document is not supported).
_BLOCKS_BY_ROLE = {
    "user": frozenset({"text", "image", "video", "tool_result", "mid_conv_system"}),
    "assistant": frozenset({"text", "thinking", "redacted_thinking", "tool_use"}),
}
_KIND_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
TRUNCATED_EVENT = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

_SSE_HEADERS = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
_JSON_HEADERS = (("content-type", "application/json; charset=utf-8"),)

Rejecter = Callable[[int, str, str], ResponsePlan]
FaultRenderer = Callable[[Fault, str, str], ResponsePlan]


@dataclass(frozen=True)
class Flavour:
    """What one provider's Anthropic endpoint does its own way.

    reject: ``(status, problem, request_id)`` to an error response.
    fault_plan: ``(fault, request_id, model)`` to the response of a plain Fault.
    """

    name: str
    temperature_max: float
    system_blocks: bool
    base_resp: bool
    default_model: str | None
    check_top_k: bool
    reject: Rejecter
    fault_plan: FaultRenderer


def matches(path: str) -> bool:
    """MiniMax's Anthropic-compatible endpoint."""
    return path.rstrip("/") == PATH


def new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request to MiniMax's ``/anthropic/v1/messages``."""
    request_id = new_request_id()
    if request.method != "POST":
        return error_plan(405, f"method {request.method} not allowed", request_id)
    if not _minimax_authorized(request.headers, state.api_key):
        message = f"{chat_completions.AUTH_MESSAGE} ({chat_completions.AUTH_FAILED})"
        return error_plan(401, message, request_id)
    body, problem = parse_body(request.body)
    if body is None:
        return MINIMAX.reject(400, problem or "request body must be a JSON object", request_id)
    problem = validate(body, state, MINIMAX)
    if problem is not None:
        return MINIMAX.reject(400, problem, request_id)
    return answer(body, state, request_id, MINIMAX)


def _minimax_authorized(headers: Mapping[str, str], api_key: str | None) -> bool:
    # The Anthropic SDK sends x-api-key; MiniMax documents ANTHROPIC_API_KEY for it.
    return chat_completions.bearer_ok(headers, api_key) or (
        api_key is not None and headers.get("x-api-key", "").strip() == api_key
    )


# --- errors -------------------------------------------------------------------------


def error_kind(status: int) -> str:
    """Anthropic's ``error.type`` for an HTTP status."""
    if status in _KIND_BY_STATUS:
        return _KIND_BY_STATUS[status]
    return "api_error" if status >= 500 or status < 400 else "invalid_request_error"


def error_envelope(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_kind(status), "message": message},
        "request_id": request_id,
    }


def error_plan(
    status: int,
    message: str,
    request_id: str,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> ResponsePlan:
    extra = dict(merge_headers((("request-id", request_id),), headers or {}))
    return json_plan(status, error_envelope(status, message, request_id), extra, delay)


def default_message(status: int, code: int | str | None) -> str:
    """MiniMax's words for a code, with a reset time for 2056 as its Token Plan sends."""
    if code == 2056:
        resets = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        resets += timedelta(hours=1)
        return (
            "usage limit exceeded, 5-hour usage limit reached for Token Plan, "
            f"resets at {resets.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
    return chat_completions.default_message(status, code)


def with_code(message: str, code: int | str | None) -> str:
    return message if code is None else f"{message} ({code})"


def _minimax_reject(status: int, problem: str, request_id: str) -> ResponsePlan:
    message = f"invalid params, {problem} ({chat_completions.INVALID_PARAMS})"
    return error_plan(status, message, request_id)


def _minimax_fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
    headers = dict(merge_headers((("request-id", request_id),), fault.headers))
    if fault.reset_before_response:
        return ResponsePlan(fault.status, delay=fault.delay, reset=True)
    if fault.body is not None:
        return json_plan(fault.status, fault.body, headers, fault.delay)
    if fault.base_resp_code is not None:
        message = fault.message or default_message(200, fault.base_resp_code)
        body = failed_message(request_id, model, fault.base_resp_code, message)
        return json_plan(200, body, headers, fault.delay)
    message = with_code(
        fault.message or default_message(fault.status, fault.provider_code), fault.provider_code
    )
    return error_plan(fault.status, message, request_id, fault.headers, fault.delay)


def failed_message(request_id: str, model: str, code: int | str, message: str) -> dict[str, Any]:
    """An HTTP 200 message with no content and the failure in MiniMax's ``base_resp``."""
    return {
        "id": f"msg_{request_id.removeprefix('req_')}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage_block(0, 0, 0),
        "base_resp": {"status_code": code, "status_msg": message},
    }


MINIMAX = Flavour(
    name="minimax",
    temperature_max=2.0,
    system_blocks=True,
    base_resp=True,
    default_model=None,
    check_top_k=False,
    reject=_minimax_reject,
    fault_plan=_minimax_fault_plan,
)


# --- validation ---------------------------------------------------------------------


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return None, f"request body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return None, "request body must be a JSON object"
    return body, None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _missing(name: str) -> str:
    return f"binding: expr_path={name}, cause=missing required parameter"


def is_m3(model: str) -> bool:
    lowered = model.lower()
    return lowered.startswith("minimax-m3") or lowered in ("minimax/m3", "minimax:m3@0")


def validate(body: Mapping[str, Any], state: ScriptState, flavour: Flavour) -> str | None:
    """Why the provider would reject ``body``, or None when it is acceptable."""
    for check in (_check_model_and_limits, _check_sampling, _check_system, _check_tools):
        problem = check(body, flavour)
        if problem is not None:
            return problem
    problem = _check_messages(body)
    if problem is None and state.require_reasoning_replay:
        problem = _check_thinking_replay(body["messages"], state)
    return problem


def _check_model_and_limits(body: Mapping[str, Any], flavour: Flavour) -> str | None:
    model = body.get("model")
    if model is None:
        return _missing("model")
    if not isinstance(model, str) or not model:
        return "model must be a non-empty string"
    if "max_tokens" not in body:
        return _missing("max_tokens")
    value = body["max_tokens"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return f"max_tokens must be a positive integer, got {value!r}"
    if is_m3(model) and value > M3_MAX_TOKENS:
        return f"model[{model}] does not support max tokens > {M3_MAX_TOKENS}"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream must be a boolean"
    thinking = body.get("thinking")
    if thinking is not None and (
        not isinstance(thinking, dict) or thinking.get("type") not in THINKING_TYPES
    ):
        return f"thinking must be an object with type in {list(THINKING_TYPES)}, got {thinking!r}"
    return None


def _check_sampling(body: Mapping[str, Any], flavour: Flavour) -> str | None:
    for name, high in (("temperature", flavour.temperature_max), ("top_p", 1.0)):
        value = body.get(name)
        if value is not None and (not _is_number(value) or not 0.0 <= value <= high):
            return f"{name} must be a number in [0, {high:g}], got {value!r}"
    top_k = body.get("top_k")
    if flavour.check_top_k and top_k is not None and (not _is_number(top_k) or top_k <= 0):
        return f"top_k must be a number > 0, got {top_k!r}"
    return None


def _check_system(body: Mapping[str, Any], flavour: Flavour) -> str | None:
    system = body.get("system")
    if system is None or isinstance(system, str):
        return None
    if not flavour.system_blocks:
        return "system must be a string"
    if not isinstance(system, list):
        return "system must be a string or an array of text blocks"
    for index, block in enumerate(system):
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            return f"system[{index}] must be a text block"
    return None


def _check_tools(body: Mapping[str, Any], flavour: Flavour) -> str | None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return "tools must be an array"
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
                return f"tools[{index}].name is required"
            if not isinstance(tool.get("input_schema"), dict):
                return f"tools[{index}].input_schema must be an object"
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICE_TYPES:
            return f"tool_choice must be an object with type in {list(TOOL_CHOICE_TYPES)}"
        if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
            return "tool_choice.name is required when tool_choice.type is 'tool'"
    return None


def _blocks(content: Any) -> list[Any] | None:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else None


def _check_messages(body: Mapping[str, Any]) -> str | None:
    if "messages" not in body:
        return _missing("messages")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    open_ids: set[str] = set()  # tool_use ids of the assistant turn just before
    unanswered: set[str] = set()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            return f"{where} must be an object"
        role = message.get("role")
        if role not in ROLES:
            hint = "; put it in the top-level system field" if role == "system" else ""
            return f"{where}: role must be 'user' or 'assistant', got {role!r}{hint}"
        blocks = _blocks(message.get("content"))
        if blocks is None:
            return f"{where}.content must be a string or an array of content blocks"
        problem = _check_blocks(where, role, blocks)
        if problem is not None:
            return problem
        if role == "user":
            for position, block in enumerate(blocks):
                if block["type"] != "tool_result":
                    continue
                call_id = block.get("tool_use_id")
                if call_id not in open_ids:
                    return (
                        f"{where}.content[{position}]: tool_result {call_id!r} does not answer "
                        "a tool_use of the assistant turn right before it"
                    )
                if call_id not in unanswered:
                    return f"{where}.content[{position}]: tool_use {call_id!r} answered twice"
                unanswered.discard(call_id)
        elif unanswered:
            return f"tool_use ids {sorted(unanswered)} have no tool_result before {where}"
        if role == "user" and unanswered:
            return f"tool_use ids {sorted(unanswered)} have no tool_result in {where}"
        if role == "assistant":
            ids = [block["id"] for block in blocks if block["type"] == "tool_use"]
            open_ids, unanswered = set(ids), set(ids)
        else:
            open_ids = set()
    return None


def _check_blocks(where: str, role: str, blocks: Sequence[Any]) -> str | None:
    allowed = _BLOCKS_BY_ROLE[role]
    for position, block in enumerate(blocks):
        at = f"{where}.content[{position}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in allowed:
            return f"{at}: block type {kind!r} is not allowed in a {role} message"
        if kind == "text" and not isinstance(block.get("text"), str):
            return f"{at}.text must be a string"
        if kind == "thinking" and not isinstance(block.get("thinking"), str):
            return f"{at}.thinking must be a string"
        if kind == "tool_use" and (
            not isinstance(block.get("id"), str)
            or not isinstance(block.get("name"), str)
            or not isinstance(block.get("input"), dict)
        ):
            return f"{at}: tool_use needs a string id and name and an object input"
        if kind == "tool_result":
            content = block.get("content")
            if content is not None and not isinstance(content, str | list):
                return f"{at}.content must be a string or an array of blocks"
    return None


def _check_thinking_replay(messages: Sequence[Any], state: ScriptState) -> str | None:
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        blocks = _blocks(message["content"]) or []
        ids = [block["id"] for block in blocks if block["type"] == "tool_use"]
        issued = next((found for i in ids if (found := state.issued(i)) is not None), None)
        if issued is None or not issued.text:
            continue
        replayed = any(
            block["type"] == "thinking"
            and block.get("thinking") == issued.text
            and (issued.signature is None or block.get("signature") == issued.signature)
            for block in blocks
        )
        if not replayed:
            return (
                f"messages[{index}]: the assistant turn with tool_use ids {ids} does not "
                "replay its thinking block verbatim, text and signature "
                "(emulator require_reasoning_replay)"
            )
    return None


# --- answering ----------------------------------------------------------------------


def thinking_on(body: Mapping[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def answer(
    body: dict[str, Any], state: ScriptState, request_id: str, flavour: Flavour
) -> ResponsePlan:
    """Consume the next scripted item for a valid request and render it."""
    item = state.take(body)
    model = flavour.default_model or str(body["model"])
    if isinstance(item, Fault) and not item.breaks_reply:
        return flavour.fault_plan(item, request_id, model)
    reply, fault = chat_completions.split_item(item, body["messages"])
    message = _Message.build(reply, body, flavour)
    if message.tool_calls:
        signature = message.signature if message.thinking else None
        state.remember_issued(
            (call.id for call in message.tool_calls),
            IssuedReasoning(message.thinking, inline=False, signature=signature),
        )
    delay = reply.delay + (fault.delay if fault is not None else 0.0)
    headers = merge_headers(
        (("request-id", request_id),), fault.headers if fault is not None else {}
    )
    error = error_envelope(_stream_error_status(fault), _fault_message(fault), request_id)
    if body.get("stream") is True:
        stream = SseStream(
            events=list(_block_events(message, reply)),
            closing=[
                sse_event("message_delta", _message_delta(message)),
                sse_event("message_stop", {"type": "message_stop"}),
            ],
            done=None,
            error_event=sse_event("error", error),
            event_delay=reply.event_delay,
            truncated_event=TRUNCATED_EVENT,
        )
        sse_headers = merge_headers(_SSE_HEADERS, dict(headers))
        return ResponsePlan(200, sse_headers, stream_actions(stream, fault), None, delay)
    rendered = render_message(message, flavour)
    actions, length = body_actions(json_bytes(rendered), fault, json_bytes(error))
    return ResponsePlan(200, merge_headers(_JSON_HEADERS, dict(headers)), actions, length, delay)


def _stream_error_status(fault: Fault | None) -> int:
    return 529 if fault is not None and fault.status == 529 else 500


def _fault_message(fault: Fault | None) -> str:
    if fault is None:
        return "unknown error"
    message = fault.message or default_message(fault.status, fault.provider_code)
    return with_code(message, fault.provider_code)


@dataclass(frozen=True)
class _Message:
    """A reply resolved against its request."""

    id: str
    model: str
    thinking: str
    signature: str
    text: str
    text_block: bool
    tool_calls: tuple[chat_completions._Call, ...]
    stop_reason: str
    usage: dict[str, int]

    @classmethod
    def build(cls, reply: Reply, body: Mapping[str, Any], flavour: Flavour) -> _Message:
        calls = tuple(
            chat_completions.resolve_call(call, n) for n, call in enumerate(reply.tool_calls, 1)
        )
        structured = () if reply.xml_tool_calls else calls
        text = reply.text
        if reply.xml_tool_calls and calls:
            text = xml_tools.append_to_text(text, ((c.name, c.arguments) for c in calls))
        finish = reply.finish_reason or ("tool_calls" if structured else "stop")
        minimax_usage = chat_completions.estimate_usage(reply, body, calls)
        return cls(
            id=f"msg_{secrets.token_hex(12)}",
            model=reply.model or flavour.default_model or str(body["model"]),
            thinking=reply.reasoning if thinking_on(body) else "",
            signature=reply.signature if reply.signature is not None else secrets.token_hex(32),
            text=text,
            text_block=bool(text) or not structured,
            tool_calls=structured,
            stop_reason=_STOP_REASONS.get(finish, finish),
            usage=_usage_block(
                minimax_usage["prompt_tokens"],
                minimax_usage["completion_tokens"],
                minimax_usage["prompt_tokens_details"]["cached_tokens"],
            ),
        )


def _usage_block(prompt: int, completion: int, cached: int) -> dict[str, int]:
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def tool_input(arguments: str) -> Any:
    """A call's ``input``: the parsed object, or the raw text when it is not one."""
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return arguments
    return parsed if isinstance(parsed, dict) else arguments


def render_message(message: _Message, flavour: Flavour) -> dict[str, Any]:
    """The non-streamed body."""
    content: list[dict[str, Any]] = []
    if message.thinking:
        content.append(
            {"type": "thinking", "thinking": message.thinking, "signature": message.signature}
        )
    if message.text_block:
        content.append({"type": "text", "text": message.text})
    content += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)}
        for call in message.tool_calls
    ]
    body: dict[str, Any] = {
        "id": message.id,
        "type": "message",
        "role": "assistant",
        "model": message.model,
        "content": content,
        "stop_reason": message.stop_reason,
        "stop_sequence": None,
        "usage": message.usage,
    }
    if flavour.base_resp:
        body["base_resp"] = {"status_code": 0, "status_msg": ""}
    return body


def _message_delta(message: _Message) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": message.stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": message.usage["output_tokens"]},
    }


def _block_events(message: _Message, reply: Reply) -> Iterator[bytes]:
    """message_start, ping, then start/deltas/stop for each content block in order."""
    start_usage = {**message.usage, "output_tokens": 0, "service_tier": "standard"}
    yield sse_event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message.id,
                "type": "message",
                "role": "assistant",
                "model": message.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
    )
    yield sse_event("ping", {"type": "ping"})
    index = 0
    if message.thinking:
        cumulative = reply.reasoning_mode == "cumulative"
        pieces = chat_completions.pieces(message.thinking, reply.chunk_size, cumulative)
        yield from _block(
            index,
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": piece} for piece in pieces]
            + [{"type": "signature_delta", "signature": message.signature}],
        )
        index += 1
    if message.text_block:
        pieces = chat_completions.pieces(message.text, reply.chunk_size)
        yield from _block(
            index,
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": piece} for piece in pieces],
        )
        index += 1
    size = reply.tool_args_chunk or chat_completions.DEFAULT_TOOL_ARGS_CHUNK
    for call in message.tool_calls:
        start = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        if reply.tool_input_whole:
            yield from _block(index, {**start, "input": tool_input(call.arguments)}, [])
        else:
            fragments = chat_completions.pieces(call.arguments, size)
            yield from _block(
                index,
                start,
                [{"type": "input_json_delta", "partial_json": piece} for piece in fragments],
            )
        index += 1


def _block(index: int, start: dict[str, Any], deltas: Sequence[dict[str, Any]]) -> Iterator[bytes]:
    yield sse_event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    for delta in deltas:
        yield sse_event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
    yield sse_event("content_block_stop", {"type": "content_block_stop", "index": index})
