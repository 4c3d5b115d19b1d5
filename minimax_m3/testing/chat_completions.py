"""MiniMax's OpenAI-compatible Chat Completions format, as the emulator speaks it.

Validates a request the way the real API does, then renders a scripted
:class:`~minimax_m3.testing.script.Reply` or :class:`~minimax_m3.testing.script.Fault`
as a plain JSON body or as server-sent events. Every body mirrors captured MiniMax
responses, including the fields OpenAI does not have.

Providers that serve MiniMax through this format (Cloudflare, Runware's OpenAI-compatible
API) reuse :func:`answer` with a :class:`ChatDialect` saying how they differ.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from minimax_m3.testing import xml_tools
from minimax_m3.testing.plan import (
    ResponsePlan,
    SseStream,
    body_actions,
    json_bytes,
    json_plan,
    merge_headers,
    stream_actions,
)
from minimax_m3.testing.script import (
    Fault,
    IssuedReasoning,
    RecordedRequest,
    Reply,
    ScriptState,
    ServerKind,
    ToolCallReply,
)

PATH_SUFFIX = "/chat/completions"
# "root" is accepted by the real API (MiniMax's Provider Verifier, case 11_01).
ROLES = frozenset({"system", "user", "assistant", "tool", "root"})
INVALID_PARAMS = 2013
AUTH_FAILED = 1004
AUTH_MESSAGE = (
    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
)
NOT_FOLLOW = "invalid params, tool call result does not follow tool call"
DEFAULT_TOOL_ARGS_CHUNK = 10
SPEAKER = "MiniMax AI"

# Documented meanings of MiniMax's status codes; an empty Fault.message takes these.
_CODE_MESSAGES = {
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
# Only bad_request_error, authorized_error and insufficient_balance_error have been seen
# on this endpoint; the others follow MiniMax's Anthropic-endpoint names.
_ERROR_TYPES_BY_CODE = {
    1002: "rate_limit_error",
    1004: "authorized_error",
    1008: "insufficient_balance_error",
    1039: "rate_limit_error",
    1041: "rate_limit_error",
    2013: "bad_request_error",
    2045: "rate_limit_error",
    2049: "authorized_error",
    2056: "rate_limit_error",
}
_ERROR_TYPES_BY_STATUS = {
    401: "authorized_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_SENSITIVITY = {
    "input_sensitive": False,
    "output_sensitive": False,
    "input_sensitive_type": 0,
    "output_sensitive_type": 0,
    "output_sensitive_int": 0,
}
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class ChatDialect:
    """How a provider serving MiniMax over Chat Completions differs from MiniMax itself.

    always_split: reasoning stays out of ``content`` whatever ``reasoning_split`` says
        (``Reply.think_tags`` still inlines it).
    plain: plain OpenAI bodies without MiniMax's extra fields, reasoning in
        ``reasoning_content`` and ``content: null`` on a tool-call turn without text.
    default_model: the model reported when the Reply names none (None: the request's).
    extra_fields: added to every non-streamed success body.
    wrap_result: honour ``Reply.cloudflare_wrap_result``.
    fault_plan: renders a plain Fault as ``(fault, request_id)`` (None: MiniMax's way).
    in_band_error: the body of a mid-stream error event, and of a non-streamed body an
        ``error_after_events`` fault replaces, as ``(fault, answer_id)`` (None: MiniMax's).
    """

    always_split: bool = False
    plain: bool = False
    default_model: str | None = None
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    wrap_result: bool = False
    fault_plan: Callable[[Fault, str], ResponsePlan] | None = None
    in_band_error: Callable[[Fault | None, str], Any] | None = None


MINIMAX = ChatDialect()


def matches(path: str) -> bool:
    """Any path ending in ``/chat/completions``: MiniMax's ``/v1/...`` and self-hosted roots."""
    return path.rstrip("/").endswith(PATH_SUFFIX)


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request: reject it, or consume the next scripted item."""
    request_id = secrets.token_hex(16)
    if request.method != "POST":
        return error_plan(405, f"method {request.method} not allowed", None, request_id)
    if not _authorized(request.headers, state.api_key):
        return error_plan(401, AUTH_MESSAGE, AUTH_FAILED, request_id)
    body, problem = parse_body(request.body)
    if body is None or problem is not None:
        return error_plan(400, problem or "invalid params", INVALID_PARAMS, request_id)
    problem = validate_request(body, state)
    if problem is not None:
        return error_plan(400, problem, INVALID_PARAMS, request_id)
    return answer(body, state, request_id, server=self_hosted_kind(request.path))


def self_hosted_kind(path: str) -> ServerKind | None:
    """``/vllm/v1/...``, ``/sglang/v1/...`` and ``/raw/v1/...`` stand for self-hosted servers."""
    head = path.lstrip("/").split("/", 1)[0]
    if head == "vllm":
        return "vllm"
    if head == "sglang":
        return "sglang"
    if head == "raw":
        return "raw"
    return None


def split_item(item: Reply | Fault | None, messages: Sequence[Any]) -> tuple[Reply, Fault | None]:
    """The reply to render and the fault that damages it, for an item that is not a plain
    error: a Fault without ``reply`` damages the default echo reply."""
    fault = item if isinstance(item, Fault) else None
    if isinstance(item, Reply):
        return item, None
    if fault is not None and fault.reply is not None:
        return fault.reply, fault
    return default_reply(messages), fault


def answer(
    body: dict[str, Any],
    state: ScriptState,
    request_id: str,
    dialect: ChatDialect = MINIMAX,
    server: ServerKind | None = None,
) -> ResponsePlan:
    """Consume the next scripted item for a valid request and render it; ``server`` is
    the self-hosted server kind of the path, for replies that name none."""
    item = state.take(body)
    if isinstance(item, Fault) and not item.breaks_reply:
        if dialect.fault_plan is not None:
            return dialect.fault_plan(item, request_id)
        return _fault_plan(item, request_id, str(body["model"]))
    reply, fault = split_item(item, body["messages"])
    if server is not None and reply.server == "minimax":
        reply = replace(reply, server=server)

    if reply.server != "minimax":
        # Self-hosted servers answer in plain OpenAI bodies.
        dialect = replace(dialect, plain=True, always_split=False)
    resolved = _Answer.build(reply, body, request_id, dialect)
    if resolved.issued_calls:
        state.remember_issued(
            resolved.issued_calls,
            IssuedReasoning(
                resolved.issued_reasoning,
                inline=resolved.inline,
                tag=resolved.tag,
                self_hosted=reply.server != "minimax",
            ),
        )
    delay = reply.delay + (fault.delay if fault is not None else 0.0)
    if body.get("stream") is True:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return _stream_plan(resolved, reply, fault, include_usage, delay, dialect)
    return _completion_plan(resolved, reply, fault, delay, dialect)


def _stream_plan(
    answer: _Answer,
    reply: Reply,
    fault: Fault | None,
    include_usage: bool,
    delay: float,
    dialect: ChatDialect = MINIMAX,
) -> ResponsePlan:
    code, message = _mid_answer_error(fault)
    error_event: Any
    if dialect.in_band_error is not None:
        error_event = dialect.in_band_error(fault, answer.id)
    elif fault is not None and fault.error_shape == "error":
        error_event = error_envelope(fault.status, message, code, answer.id)
    else:
        error_event = _base_resp_body(
            answer.id, answer.model, code, message, "chat.completion.chunk"
        )
    if dialect.plain:
        events = _plain_delta_chunks(answer, reply)
        closing = _plain_closing_chunks(answer, include_usage)
    else:
        events = list(_delta_chunks(answer, reply))
        closing = list(_closing_chunks(answer, include_usage))
    stream = SseStream(
        events=[_sse(chunk) for chunk in events],
        closing=[_sse(chunk) for chunk in closing],
        done=b"data: [DONE]\n\n" if reply.send_done else None,
        error_event=_sse(error_event),
        event_delay=reply.event_delay,
    )
    base = (
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
        ("trace-id", answer.id),
    )
    headers = merge_headers(base, fault.headers if fault is not None else {})
    return ResponsePlan(200, headers, stream_actions(stream, fault), None, delay)


def _completion_plan(
    answer: _Answer,
    reply: Reply,
    fault: Fault | None,
    delay: float,
    dialect: ChatDialect = MINIMAX,
) -> ResponsePlan:
    code, message = _mid_answer_error(fault)
    if dialect.in_band_error is not None:
        error_body = json_bytes(dialect.in_band_error(fault, answer.id))
    else:
        error_body = json_bytes(
            _base_resp_body(answer.id, answer.model, code, message, "chat.completion")
        )
    rendered: dict[str, Any]
    if dialect.plain:
        rendered = render_plain_completion(answer, reply)
    else:
        rendered = {**render_completion(answer, reply), **dialect.extra_fields}
    if dialect.wrap_result and reply.cloudflare_wrap_result:
        rendered = {"result": rendered, "success": True, "errors": [], "messages": []}
    actions, length = body_actions(json_bytes(rendered), fault, error_body)
    base = (("content-type", "application/json; charset=utf-8"), ("trace-id", answer.id))
    headers = merge_headers(base, fault.headers if fault is not None else {})
    return ResponsePlan(200, headers, actions, length, delay)


# --- errors -------------------------------------------------------------------------


def error_envelope(
    status: int, message: str, code: int | str | None, request_id: str
) -> dict[str, Any]:
    """MiniMax's error body: the numeric code only appears inside the message."""
    by_code = _ERROR_TYPES_BY_CODE.get(code) if isinstance(code, int) else None
    kind = by_code or _ERROR_TYPES_BY_STATUS.get(status)
    if kind is None:
        kind = "api_error" if status >= 500 else "bad_request_error"
    return {
        "type": "error",
        "error": {
            "type": kind,
            "message": message if code is None else f"{message} ({code})",
            "http_code": str(status),
        },
        "request_id": request_id,
    }


def error_plan(
    status: int,
    message: str,
    code: int | str | None,
    request_id: str,
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> ResponsePlan:
    envelope = error_envelope(status, message, code, request_id)
    extra = dict(merge_headers((("trace-id", request_id),), headers or {}))
    return json_plan(status, envelope, extra, delay)


def default_message(status: int, code: int | str | None) -> str:
    if isinstance(code, int) and code in _CODE_MESSAGES:
        return _CODE_MESSAGES[code]
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
    headers = dict(merge_headers((("trace-id", request_id),), fault.headers))
    if fault.reset_before_response:
        return ResponsePlan(fault.status, delay=fault.delay, reset=True)
    if fault.body is not None:
        return json_plan(fault.status, fault.body, headers, fault.delay)
    if fault.base_resp_code is not None:
        message = fault.message or default_message(200, fault.base_resp_code)
        body = _base_resp_body(request_id, model, fault.base_resp_code, message, "chat.completion")
        return json_plan(200, body, headers, fault.delay)
    message = fault.message or default_message(fault.status, fault.provider_code)
    return error_plan(
        fault.status, message, fault.provider_code, request_id, fault.headers, fault.delay
    )


def _mid_answer_error(fault: Fault | None) -> tuple[int | str, str]:
    if fault is None:
        return 1000, _CODE_MESSAGES[1000]
    code = fault.provider_code if fault.provider_code is not None else 1000
    return code, fault.message or default_message(fault.status, code)


def _base_resp_body(
    response_id: str, model: str, code: int | str, message: str, kind: str
) -> dict[str, Any]:
    # A failure reported on HTTP 200: no choices, the code in base_resp.
    return {
        "id": response_id,
        "choices": [],
        "created": int(time.time()),
        "model": model,
        "object": kind,
        "usage": None,
        **_SENSITIVITY,
        "base_resp": {"status_code": code, "status_msg": message},
    }


def _authorized(headers: Mapping[str, str], api_key: str | None) -> bool:
    if api_key is None:
        return True
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token.strip() == api_key


def bearer_ok(headers: Mapping[str, str], api_key: str | None) -> bool:
    """True when no key is required or ``Authorization: Bearer <api_key>`` is sent."""
    return _authorized(headers, api_key)


# --- validation ---------------------------------------------------------------------


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        return None, f'invalid params, "Syntax error at index {position}: {exc}"'
    if not isinstance(body, dict):
        return None, "invalid params, request body must be a JSON object"
    return body, None


def validate_request(body: Mapping[str, Any], state: ScriptState) -> str | None:
    """Why the real API would reject ``body`` with 2013, or None when it is acceptable."""
    for check in (_check_model, _check_parameters, _check_messages_shape, _check_tool_history):
        problem = check(body)
        if problem is not None:
            return problem
    if state.require_reasoning_replay:
        return _check_reasoning_replay(body["messages"], state)
    return None


def _missing(name: str) -> str:
    return f"invalid params, binding: expr_path={name}, cause=missing required parameter"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _max_output_tokens(model: str) -> int | None:
    lowered = model.lower()
    if lowered.startswith("minimax-m3"):
        return 524_288
    if lowered.startswith("minimax-m2"):
        return 204_800
    return None


def _check_model(body: Mapping[str, Any]) -> str | None:
    model = body.get("model")
    if model is None:
        return _missing("model")
    if not isinstance(model, str) or not model:
        return "invalid params, model must be a non-empty string"
    thinking = body.get("thinking")
    if thinking is not None and not isinstance(thinking, dict):
        kind = type(thinking).__name__
        return f"invalid params, Mismatch type open_platform_oai.ThinkingConfig with value {kind}"
    return None


def _check_parameters(body: Mapping[str, Any]) -> str | None:
    if "n" in body and body["n"] != 1:
        return f"invalid params, n only supports 1, got {body['n']!r}"
    for name, high in (("temperature", 2.0), ("top_p", 1.0)):
        value = body.get(name)
        if value is None:
            continue
        if not _is_number(value) or not 0.0 <= value <= high:
            return f"invalid params, {name} must be a number in [0, {high:g}], got {value!r}"
    cap = _max_output_tokens(str(body.get("model")))
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"invalid params, {name} must be a positive integer, got {value!r}"
        if cap is not None and value > cap:
            return f"invalid params, model[{body['model']}] does not support max tokens > {cap}"
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return "invalid params, tools must be an array"
        for index, tool in enumerate(tools):
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(function, dict) or tool.get("type") != "function":
                return f"invalid params, tools[{index}]: only function tools are supported"
            if not isinstance(function.get("name"), str) or not function["name"]:
                return f"invalid params, tools[{index}].function.name is required"
    return None


def _check_messages_shape(body: Mapping[str, Any]) -> str | None:
    if "messages" not in body:
        return _missing("messages")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "invalid params, messages must be a non-empty array"
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"invalid params, messages[{index}] must be an object"
        if message.get("role") not in ROLES:
            return f"invalid params, messages[{index}] has unknown role {message.get('role')!r}"
    return None


def _check_tool_history(body: Mapping[str, Any]) -> str | None:
    # Tool results must come straight after the assistant turn that called them, each
    # answering one of its calls, and every call must be answered before anything else.
    turn: set[str] | None = None
    unanswered: set[str] = set()
    for index, message in enumerate(body["messages"]):
        where = f"messages[{index}]"
        if message["role"] == "tool":
            if not isinstance(message.get("content"), str):
                return f"invalid params, {where}: tool message content must be a string"
            call_id = message.get("tool_call_id")
            if turn is None:
                return f"{NOT_FOLLOW}; {where} does not follow an assistant message with tool_calls"
            if call_id not in turn:
                return (
                    f"{NOT_FOLLOW}; {where}: tool_call_id {call_id!r} matches no tool call "
                    "of the preceding assistant message"
                )
            if call_id not in unanswered:
                return f"{NOT_FOLLOW}; {where}: tool call {call_id!r} is answered twice"
            unanswered.discard(call_id)
            continue
        if unanswered:
            return f"{NOT_FOLLOW}; tool calls {sorted(unanswered)} are unanswered before {where}"
        turn = None
        calls = message.get("tool_calls") if message["role"] == "assistant" else None
        if calls:
            ids, problem = _check_calls(where, calls)
            if problem is not None:
                return problem
            turn, unanswered = set(ids), set(ids)
    if unanswered:
        return f"{NOT_FOLLOW}; tool calls {sorted(unanswered)} of the last message are unanswered"
    return None


def _check_calls(where: str, calls: Any) -> tuple[list[str], str | None]:
    if not isinstance(calls, list):
        return [], f"invalid params, {where}.tool_calls must be an array"
    ids: list[str] = []
    for index, call in enumerate(calls):
        at = f"{where}.tool_calls[{index}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(call.get("id"), str):
            return ids, f"invalid params, {at} needs an id and a function"
        if not isinstance(function.get("name"), str):
            return ids, f"invalid params, {at}.function.name must be a string"
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            return ids, f"invalid params, {at}.function.arguments must be a JSON string"
        try:
            json.loads(arguments)
        except ValueError:
            return ids, f"invalid params, {at}.function.arguments is not valid JSON"
        ids.append(call["id"])
    return ids, None


def _check_reasoning_replay(messages: Sequence[Any], state: ScriptState) -> str | None:
    for index, message in enumerate(messages):
        calls = message.get("tool_calls") if message["role"] == "assistant" else None
        if not calls:
            continue
        ids = [call["id"] for call in calls]
        keys = [*ids, *(_markup_key_of(call) for call in calls)]
        issued = next((found for k in keys if (found := state.issued(k)) is not None), None)
        if issued is None or _replayed(message, issued):
            continue
        where = (
            "content, as a <mm:think> block and nowhere else"
            if issued.self_hosted
            else "reasoning_content or a content <think> block"
            if issued.inline
            else "reasoning_details"
        )
        return (
            f"invalid params, messages[{index}]: the assistant turn with tool calls {ids} "
            f"does not replay its reasoning verbatim in {where} "
            "(emulator require_reasoning_replay)"
        )
    return None


def _markup_key_of(call: Mapping[str, Any]) -> str:
    function = call.get("function")
    return _markup_key(str(function.get("name"))) if isinstance(function, dict) else ""


def _replayed(message: Mapping[str, Any], issued: IssuedReasoning) -> bool:
    """Whether an assistant turn carries the reasoning it was sent with, byte for byte.

    Reasoning sent split must come back in ``reasoning_details``, MiniMax's documented
    field. Reasoning sent inline (no ``reasoning_split``) may come back inline, every
    character between the tags as sent, with either tag (``<think>`` or M3's
    ``<mm:think>``), or as ``reasoning_content``. A self-hosted server's must come back
    inline, where M3's chat template reads it, and only there: the same reasoning in
    ``reasoning_content`` as well would be rendered twice.
    """
    if not issued.text:
        return True
    content = message.get("content")
    # With the opening tag, or without it at the very start, as it was sent when the
    # template had written the opener; a self-hosted template reads its own tag only.
    tags = (issued.tag,) if issued.self_hosted else ("think", "mm:think")
    in_content = isinstance(content, str) and any(
        f"<{tag}>{issued.text}</{tag}>" in content or content.startswith(f"{issued.text}</{tag}>")
        for tag in tags
    )
    if issued.self_hosted:
        also_elsewhere = any(
            message.get(key) for key in ("reasoning_content", "reasoning", "reasoning_details")
        )
        return in_content and not also_elsewhere
    if issued.inline:
        return in_content or message.get("reasoning_content") == issued.text
    details = message.get("reasoning_details")
    if not isinstance(details, list):
        return False
    texts = [d.get("text") for d in details if isinstance(d, dict)]
    return "".join(t for t in texts if isinstance(t, str)) == issued.text


# --- rendering ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Call:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class _Answer:
    """A reply resolved against its request: ids, final content, usage."""

    id: str
    created: int
    model: str
    reasoning: str
    content: str
    inline: bool
    tool_calls: tuple[_Call, ...]
    finish_reason: str
    usage: dict[str, Any]
    # content is only the "\n" MiniMax sends on a tool-call turn without text
    filler: bool = False
    # The field structured reasoning goes in (None: the reply's own choice).
    reasoning_field: str | None = None
    # The content deltas exactly, when the reply gave them.
    chunks: tuple[str, ...] | None = None
    # For the replay check: the ids of the calls made (structured or as markup), the
    # reasoning exactly as sent (inline: every character between the tags) and its tag.
    issued_calls: tuple[str, ...] = ()
    issued_reasoning: str = ""
    tag: str = "think"

    @classmethod
    def build(
        cls,
        reply: Reply,
        body: Mapping[str, Any],
        request_id: str,
        dialect: ChatDialect = MINIMAX,
    ) -> _Answer:
        calls = tuple(_resolve_call(call, n) for n, call in enumerate(reply.tool_calls, 1))
        raw = reply.server == "raw"
        as_markup = reply.xml_tool_calls or raw
        markup = reply.tool_markup or ("m3" if raw else "m2")
        structured = () if as_markup else calls
        visible = reply.text
        if as_markup and calls:
            visible = xml_tools.append_to_text(
                reply.text, ((c.name, c.arguments) for c in calls), markup
            )
        text = visible or ("\n" if structured else "")
        field_name: str | None = {"vllm": "reasoning", "sglang": "reasoning_content"}.get(
            reply.server
        )
        if raw:
            # No parsers: the model's output as it is. M3 writes <mm:think> with no line
            # breaks; the template wrote the opener itself for thinking_mode "enabled".
            mode = _thinking_mode(body)
            reasoning = "" if mode == "disabled" else reply.reasoning
            tag = _self_hosted_tag(reply, body)
            content = visible
            if reasoning or mode == "enabled":
                opener = "" if mode == "enabled" or reply.omit_think_open else f"<{tag}>"
                content = f"{opener}{reasoning}</{tag}>{visible}"
            inline, issued = True, reasoning
        else:
            # Without reasoning_split the real API inlines the thinking in content; the
            # parsers of self-hosted servers split it.
            split = (
                dialect.always_split
                or reply.server != "minimax"
                or body.get("reasoning_split") is True
            )
            inline = reply.think_tags or not split
            tag = reply.think_tag if reply.server == "minimax" else _self_hosted_tag(reply, body)
            issued = reply.reasoning
            if inline and reply.reasoning:
                opener = "" if reply.omit_think_open else f"<{tag}>\n"
                content = f"{opener}{reply.reasoning}\n</{tag}>\n\n{visible}"
                issued = f"{'' if reply.omit_think_open else chr(10)}{reply.reasoning}\n"
            else:
                content = text
        chunks = reply.raw_chunks
        if chunks is not None:
            content = "".join(chunks)
        return cls(
            id=request_id,
            created=int(time.time()),
            model=reply.model or dialect.default_model or str(body["model"]),
            reasoning="" if inline else reply.reasoning,
            content=content,
            inline=inline,
            tool_calls=structured,
            finish_reason=reply.finish_reason or ("tool_calls" if structured else "stop"),
            usage=_usage(reply, body, calls),
            filler=content == "\n" and bool(structured) and not visible,
            reasoning_field=field_name,
            chunks=chunks,
            issued_calls=tuple(_issued_key(call, as_markup) for call in calls)
            if chunks is None
            else (),
            issued_reasoning=issued,
            tag=tag,
        )


def _self_hosted_tag(reply: Reply, body: Mapping[str, Any]) -> str:
    """The reasoning tag a self-hosted model writes and its template reads back: M3's
    <mm:think>, <think> for an M2 model, or the one the reply names."""
    if reply.think_tag != "think":
        return reply.think_tag
    return "think" if "m2" in str(body.get("model", "")).lower() else "mm:think"


def _issued_key(call: _Call, as_markup: bool) -> str:
    """How a call is found again in a later request: by its id, or, for a call written as
    markup (whose id the client makes up, and whose arguments it types by its own
    schema), by its name."""
    return _markup_key(call.name) if as_markup else call.id


def _markup_key(name: str) -> str:
    return f"markup:{name}"


def _thinking_mode(body: Mapping[str, Any]) -> str | None:
    kwargs = body.get("chat_template_kwargs")
    mode = kwargs.get("thinking_mode") if isinstance(kwargs, Mapping) else None
    return mode if isinstance(mode, str) else None


def resolve_call(call: ToolCallReply, number: int) -> _Call:
    """A scripted call with its id (MiniMax's shape when unset) and arguments as JSON text."""
    return _resolve_call(call, number)


def _resolve_call(call: ToolCallReply, number: int) -> _Call:
    call_id = call.id or f"call_function_{_random_token(12)}_{number}"
    arguments = (
        call.arguments
        if isinstance(call.arguments, str)
        else json.dumps(call.arguments, ensure_ascii=False)
    )
    return _Call(call_id, call.name, arguments)


def _random_token(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def estimate_usage(reply: Reply, body: Mapping[str, Any], calls: Sequence[_Call]) -> dict[str, Any]:
    """MiniMax's usage object for a reply: scripted counts, estimates for the rest."""
    return _usage(reply, body, calls)


def _usage(reply: Reply, body: Mapping[str, Any], calls: Sequence[_Call]) -> dict[str, Any]:
    given = reply.usage or {}
    written = len(reply.text) + len(reply.reasoning)
    written += sum(len(call.name) + len(call.arguments) for call in calls)
    prompt = given.get("prompt_tokens", max(1, len(json_bytes(body["messages"])) // 4))
    completion = given.get("completion_tokens", max(1, written // 4))
    reasoning = given.get("reasoning_tokens", (len(reply.reasoning) + 3) // 4)
    return {
        "total_tokens": prompt + completion,
        "total_characters": 0,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": given.get("cached_tokens", 0)},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _reasoning_detail(text: str) -> dict[str, Any]:
    return {
        "type": "reasoning.text",
        "id": "reasoning-text-1",
        "format": "MiniMax-response-v1",
        "index": 0,
        "text": text,
    }


def _reasoning_fields(field: str, text: str) -> dict[str, Any]:
    if field == "reasoning_details":
        return {"reasoning_details": [_reasoning_detail(text)]}
    return {field: text}


def render_completion(answer: _Answer, reply: Reply) -> dict[str, Any]:
    """The non-streamed body, shaped like MiniMax's captured responses."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "name": SPEAKER,
        "audio_content": "",
    }
    if not answer.inline:
        if reply.reasoning_field is None:
            message["reasoning_content"] = answer.reasoning
            if answer.reasoning:
                message["reasoning_details"] = [_reasoning_detail(answer.reasoning)]
        elif answer.reasoning:
            message.update(_reasoning_fields(reply.reasoning_field, answer.reasoning))
    if answer.tool_calls:
        message["tool_calls"] = _message_tool_calls(answer, reply)
    return {
        "id": answer.id,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "created": answer.created,
        "model": answer.model,
        "object": "chat.completion",
        "usage": answer.usage,
        "input_sensitive": False,
        "output_sensitive": False,
        "base_resp": {"status_code": 0, "status_msg": ""},
        "input_sensitive_type": 0,
        "output_sensitive_type": 0,
        "output_sensitive_int": 0,
    }


def _message_tool_calls(answer: _Answer, reply: Reply) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for index, call in enumerate(answer.tool_calls):
        item: dict[str, Any] = {} if reply.omit_tool_call_ids else {"id": call.id}
        item["type"] = "function"
        item["function"] = {"name": call.name, "arguments": call.arguments}
        item["index"] = index
        calls.append(item)
    return calls


def _plain_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": usage["total_tokens"],
        "prompt_tokens_details": usage["prompt_tokens_details"],
        "completion_tokens_details": usage["completion_tokens_details"],
    }


def render_plain_completion(answer: _Answer, reply: Reply) -> dict[str, Any]:
    """A plain OpenAI body: no MiniMax extras, reasoning in ``reasoning_content``."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if answer.filler else answer.content,
    }
    if answer.reasoning:
        field_name = reply.reasoning_field or answer.reasoning_field or "reasoning_content"
        message.update(_reasoning_fields(field_name, answer.reasoning))
    if answer.tool_calls:
        message["tool_calls"] = [
            {key: value for key, value in call.items() if key != "index"}
            for call in _message_tool_calls(answer, reply)
        ]
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": _plain_usage(answer.usage),
    }


def _plain_chunk(answer: _Answer, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": answer.created,
        "model": answer.model,
        "choices": choices,
    }


def _plain_delta_chunks(answer: _Answer, reply: Reply) -> list[dict[str, Any]]:
    """Like :func:`_delta_chunks` in plain OpenAI chunks; the role only on the first."""
    field = reply.reasoning_field or answer.reasoning_field or "reasoning_content"
    cumulative = reply.reasoning_mode == "cumulative"
    deltas: list[dict[str, Any]] = [
        _reasoning_fields(field, piece)
        for piece in _pieces(answer.reasoning, reply.chunk_size, cumulative)
    ]
    content = "" if answer.filler else answer.content
    pieces = list(answer.chunks) if answer.chunks is not None else None
    deltas += [{"content": piece} for piece in (pieces or _pieces(content, reply.chunk_size))]
    deltas += [{"tool_calls": [fragment]} for fragment in _tool_fragments(answer, reply)]
    if not deltas:
        deltas.append({"content": ""})
    deltas[0] = {"role": "assistant", **deltas[0]}
    return [
        _plain_chunk(answer, [{"index": 0, "delta": delta, "finish_reason": None}])
        for delta in deltas
    ]


def _plain_closing_chunks(answer: _Answer, include_usage: bool) -> list[dict[str, Any]]:
    closing = [
        _plain_chunk(answer, [{"index": 0, "delta": {}, "finish_reason": answer.finish_reason}])
    ]
    if include_usage:
        closing.append({**_plain_chunk(answer, []), "usage": _plain_usage(answer.usage)})
    return closing


def _sse(obj: Any) -> bytes:
    return b"data: " + json_bytes(obj) + b"\n\n"


def _chunk(
    answer: _Answer, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": answer.id,
        "choices": choices,
        "created": answer.created,
        "model": answer.model,
        "object": "chat.completion.chunk",
        "usage": usage,
        **_SENSITIVITY,
    }


def _delta(answer: _Answer, reply: Reply, fields: Mapping[str, Any]) -> dict[str, Any]:
    role = "" if reply.empty_role else "assistant"
    delta = {**fields, "role": role, "name": SPEAKER, "audio_content": ""}
    return _chunk(answer, [{"index": 0, "delta": delta}])


def pieces(text: str, size: int, cumulative: bool = False) -> list[str]:
    """``text`` cut into ``size``-character deltas (or growing snapshots when cumulative)."""
    return _pieces(text, size, cumulative)


def _pieces(text: str, size: int, cumulative: bool = False) -> list[str]:
    return [
        text[: k + size] if cumulative else text[k : k + size] for k in range(0, len(text), size)
    ]


def _delta_chunks(answer: _Answer, reply: Reply) -> Iterator[dict[str, Any]]:
    """Reasoning deltas, then content deltas, then tool-call fragments."""
    field = reply.reasoning_field or "reasoning_details"
    cumulative = reply.reasoning_mode == "cumulative"
    for piece in _pieces(answer.reasoning, reply.chunk_size, cumulative):
        yield _delta(answer, reply, _reasoning_fields(field, piece))
    pieces = answer.chunks if answer.chunks is not None else None
    for piece in pieces or _pieces(answer.content, reply.chunk_size):
        yield _delta(answer, reply, {"content": piece})
    for fragment in _tool_fragments(answer, reply):
        yield _delta(answer, reply, {"tool_calls": [fragment]})


def _tool_fragments(answer: _Answer, reply: Reply) -> list[dict[str, Any]]:
    size = reply.tool_args_chunk or DEFAULT_TOOL_ARGS_CHUNK
    fragments = [
        _call_fragments(index, call, size, reply.split_tool_name)
        for index, call in enumerate(answer.tool_calls)
    ]
    ordered = _round_robin(fragments) if reply.interleave_tool_calls else _concat(fragments)
    if reply.omit_tool_call_ids:
        ordered = [{k: v for k, v in item.items() if k != "id"} for item in ordered]
    return ordered


def _closing_chunks(answer: _Answer, include_usage: bool) -> Iterator[dict[str, Any]]:
    finish = {"role": "assistant", "name": SPEAKER, "audio_content": ""}
    yield _chunk(answer, [{"index": 0, "delta": finish, "finish_reason": answer.finish_reason}])
    if include_usage:
        yield _chunk(answer, [], answer.usage)


def _call_fragments(index: int, call: _Call, size: int, split_name: bool) -> list[dict[str, Any]]:
    # The id and type travel only with a call's first fragment, as on the real API.
    names = [call.name]
    if split_name and len(call.name) > 1:
        half = len(call.name) // 2
        names = [call.name[:half], call.name[half:]]
    fragments: list[dict[str, Any]] = [
        {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": names[0], "arguments": ""},
        }
    ]
    fragments += [
        {"index": index, "function": {"name": name, "arguments": ""}} for name in names[1:]
    ]
    fragments += [
        {"index": index, "function": {"arguments": piece}}
        for piece in _pieces(call.arguments, size)
    ]
    return fragments


def _concat(groups: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for group in groups for item in group]


def _round_robin(groups: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    longest = max((len(group) for group in groups), default=0)
    return [group[i] for i in range(longest) for group in groups if i < len(group)]
