"""MiniMax's OpenAI-compatible Chat Completions format, as the emulator speaks it.

:mod:`.checks` rejects what the real API rejects; :mod:`.render` turns a scripted
:class:`~minimax_m3.testing.script.Reply` into a JSON body or server-sent events; this
module routes a request between them and answers errors in MiniMax's envelope.

Providers that serve MiniMax through this format (Cloudflare, Runware's OpenAI-compatible
API) reuse :func:`answer` with a :class:`ChatDialect` saying how they differ.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from minimax_m3.testing import plan, prompt_cache
from minimax_m3.testing._common import (
    AUTH_FAILED,
    AUTH_MESSAGE,
    DONE,
    INVALID_PARAMS,
    bearer_ok,
    minimax_message,
    split_item,
    sse_data,
    with_code,
)
from minimax_m3.testing.chat_completions import checks, render
from minimax_m3.testing.plan import ResponsePlan, SseStream
from minimax_m3.testing.prompt_cache import PromptCount, caller_of
from minimax_m3.testing.script import Fault, Reply, ServerKind
from minimax_m3.testing.state import RecordedRequest, ScriptState

PATH_SUFFIX = "/chat/completions"
_SELF_HOSTED: dict[str, ServerKind] = {"vllm": "vllm", "sglang": "sglang", "raw": "raw"}

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


@dataclass(frozen=True)
class ChatDialect:
    """How a provider serving MiniMax over Chat Completions differs from MiniMax itself.

    always_split: reasoning stays out of ``content`` whatever ``reasoning_split`` says
        (``Layout.think_tags`` still inlines it).
    plain: plain OpenAI bodies without MiniMax's extra fields, reasoning in
        ``reasoning_content`` and ``content: null`` on a tool-call turn without text.
    default_model: the model reported when the Reply names none (None: the request's).
    extra_fields: added to every non-streamed success body.
    wrap_result: honour ``ProviderOptions.cloudflare_wrap_result``.
    fault_plan: renders a plain Fault as ``(fault, request_id, model)`` (None: MiniMax's
        way).
    in_band_error: the body of a mid-stream error event, and of a non-streamed body an
        ``error_after_events`` fault replaces, as ``(fault, answer_id)`` (None: MiniMax's).
    """

    always_split: bool = False
    plain: bool = False
    default_model: str | None = None
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    wrap_result: bool = False
    fault_plan: Callable[[Fault, str, str], ResponsePlan] | None = None
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
    if not bearer_ok(request.headers, state.api_key):
        return error_plan(401, AUTH_MESSAGE, AUTH_FAILED, request_id)
    body, problem = checks.parse_body(request.body)
    if body is None or problem is not None:
        return error_plan(400, problem or "invalid params", INVALID_PARAMS, request_id)
    problem = checks.validate_request(body, state)
    if problem is not None:
        return error_plan(400, problem, INVALID_PARAMS, request_id)
    server = self_hosted_kind(request.path)
    return answer(body, state, request_id, server=server, caller=caller_of(request.headers))


def self_hosted_kind(path: str) -> ServerKind | None:
    """``/vllm/v1/...``, ``/sglang/v1/...`` and ``/raw/v1/...`` stand for self-hosted servers."""
    return _SELF_HOSTED.get(path.lstrip("/").split("/", 1)[0])


def answer(
    body: dict[str, Any],
    state: ScriptState,
    request_id: str,
    dialect: ChatDialect = MINIMAX,
    server: ServerKind | None = None,
    caller: str = "",
) -> ResponsePlan:
    """Consume the next scripted item for a valid request and render it; ``server`` is
    the self-hosted server kind of the path, for replies that name none; ``caller`` whose
    prompt cache the request reads."""
    reply, fault = split_item(state.take(body), body["messages"])
    if fault is not None and not fault.breaks_reply:
        return (dialect.fault_plan or _fault_plan)(fault, request_id, str(body["model"]))
    if server is not None and reply.provider.server == "minimax":
        reply = replace(reply, provider=replace(reply.provider, server=server))
    if reply.provider.server != "minimax":
        # Self-hosted servers answer in plain OpenAI bodies.
        dialect = replace(dialect, plain=True, always_split=False)
    resolved = render.Answer.build(
        reply,
        body,
        request_id,
        always_split=dialect.always_split,
        default_model=dialect.default_model,
        prompt=_prompt_count(body, state, caller, reply.provider.server),
    )
    if resolved.issued_calls:
        state.remember_issued(resolved.issued_calls, resolved.issued)
    return _answer_plan(resolved, reply, fault, body, dialect)


def _prompt_count(
    body: Mapping[str, Any], state: ScriptState, caller: str, server: ServerKind
) -> PromptCount:
    """The prompt's tokens and what MiniMax's passive cache read of them. Self-hosted
    servers report no cached part: vLLM fills ``prompt_tokens_details`` only with
    ``--enable-prompt-tokens-details`` and SGLang only with ``--enable-cache-report``,
    both off by default."""
    blocks = prompt_cache.chat_blocks(body)
    if server != "minimax":
        return PromptCount(prompt_cache.count_blocks(blocks))
    return state.prompt_cache.count(caller, str(body["model"]), blocks)


def _answer_plan(
    answer: render.Answer,
    reply: Reply,
    fault: Fault | None,
    body: Mapping[str, Any],
    dialect: ChatDialect,
) -> ResponsePlan:
    headers = (("trace-id", answer.id),)
    streamed = body.get("stream") is True
    error = _in_band_error(answer, fault, dialect, streamed)
    if streamed:
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        closing = render.closing_chunks(answer, include_usage, dialect.plain)
        stream = SseStream(
            events=[sse_data(chunk) for chunk in render.delta_chunks(answer, reply, dialect.plain)],
            closing=[sse_data(chunk) for chunk in closing],
            done=DONE if reply.stream.send_done else None,
            error_event=sse_data(error),
            event_delay=reply.stream.event_delay,
        )
        return plan.stream_plan(stream, fault, headers, reply.stream.delay)
    rendered: dict[str, Any]
    if dialect.plain:
        rendered = render.render_plain_completion(answer, reply)
    else:
        rendered = {**render.render_completion(answer, reply), **dialect.extra_fields}
    if dialect.wrap_result and reply.provider.cloudflare_wrap_result:
        rendered = {"result": rendered, "success": True, "errors": [], "messages": []}
    return plan.body_plan(rendered, error, fault, headers, reply.stream.delay)


def _in_band_error(
    answer: render.Answer, fault: Fault | None, dialect: ChatDialect, streamed: bool
) -> Any:
    """What an ``error_after_events`` fault sends in place of the rest of the answer:
    MiniMax's ``base_resp`` chunk or body, or with ``error_shape="error"`` on a stream its
    error envelope."""
    if dialect.in_band_error is not None:
        return dialect.in_band_error(fault, answer.id)
    status, message = 500, ""
    code: int | str = 1000
    if fault is not None:
        status, message = fault.status, fault.message
        code = fault.provider_code if fault.provider_code is not None else 1000
    message = message or minimax_message(status, code)
    if streamed and fault is not None and fault.error_shape == "error":
        return error_envelope(fault.status, message, code, answer.id)
    kind = "chat.completion.chunk" if streamed else "chat.completion"
    return render.base_resp_body(answer.id, answer.model, code, message, kind)


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
        "error": {"type": kind, "message": with_code(message, code), "http_code": str(status)},
        "request_id": request_id,
    }


def error_plan(status: int, message: str, code: int | str | None, request_id: str) -> ResponsePlan:
    envelope = error_envelope(status, message, code, request_id)
    return plan.json_plan(status, envelope, {"trace-id": request_id})


def _fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
    headers = dict(plan.merge_headers((("trace-id", request_id),), fault.headers))
    if fault.base_resp_code is not None:
        message = fault.message or minimax_message(200, fault.base_resp_code)
        kind = "chat.completion"
        body = render.base_resp_body(request_id, model, fault.base_resp_code, message, kind)
        return plan.plain_fault_plan(fault, headers, 200, body)
    message = fault.message or minimax_message(fault.status, fault.provider_code)
    envelope = error_envelope(fault.status, message, fault.provider_code, request_id)
    return plan.plain_fault_plan(fault, headers, fault.status, envelope)
