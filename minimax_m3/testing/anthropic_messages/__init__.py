"""Anthropic Messages, as MiniMax (``/anthropic/v1/messages``) and Cloudflare serve M3.

:mod:`.checks` rejects what the endpoint rejects, :mod:`.render` writes the message and
its events; a :class:`Flavour` holds what differs between the providers (error
envelopes, parameter ranges, MiniMax's ``base_resp``). Thinking is off unless the
request asks for it with ``thinking: {"type": "enabled" | "adaptive"}``, as on M3.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from minimax_m3.testing import plan, prompt_cache
from minimax_m3.testing._common import (
    AUTH_FAILED,
    AUTH_MESSAGE,
    INVALID_PARAMS,
    bearer_ok,
    minimax_message,
    split_item,
    sse_event,
    with_code,
)
from minimax_m3.testing.anthropic_messages import checks, render
from minimax_m3.testing.plan import ResponsePlan, SseStream
from minimax_m3.testing.prompt_cache import caller_of
from minimax_m3.testing.script import Fault
from minimax_m3.testing.state import IssuedReasoning, RecordedRequest, ScriptState

PATH = "/anthropic/v1/messages"
COUNT_PATH = PATH + "/count_tokens"
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
TRUNCATED_EVENT = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'


@dataclass(frozen=True)
class Flavour:
    """What one provider's Anthropic endpoint does its own way.

    rules: where its request checks differ.
    base_resp: MiniMax's ``base_resp`` on every success body.
    default_model: the model reported when the Reply names none (None: the request's).
    fault_plan: ``(fault, request_id, model)`` to the response of a plain Fault.
    uncached_models: model id prefixes (lower case) whose prompts this endpoint is
        reported to bill in full, never reading them from its cache.
    """

    rules: checks.Rules
    base_resp: bool
    default_model: str | None
    fault_plan: Callable[[Fault, str, str], ResponsePlan]
    uncached_models: tuple[str, ...] = ()


def matches(path: str) -> bool:
    """MiniMax's Anthropic-compatible endpoint, and its token counter."""
    return path.rstrip("/") in (PATH, COUNT_PATH)


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request to MiniMax's ``/anthropic/v1/messages``."""
    request_id = f"req_{secrets.token_hex(12)}"
    if request.method != "POST":
        return error_plan(405, f"method {request.method} not allowed", request_id)
    if not _minimax_authorized(request.headers, state.api_key):
        return error_plan(401, with_code(AUTH_MESSAGE, AUTH_FAILED), request_id)
    body, problem = checks.parse_body(request.body)
    if body is None:
        return _reject(problem or "request body must be a JSON object", request_id)
    if request.path.rstrip("/") == COUNT_PATH:
        return count_tokens(body, request_id)
    problem = checks.validate(body, state, MINIMAX.rules)
    if problem is not None:
        return _reject(problem, request_id)
    return answer(body, state, request_id, MINIMAX, caller_of(request.headers))


def count_tokens(body: dict[str, Any], request_id: str) -> ResponsePlan:
    """What the request's prompt comes to, counted as the emulator's usage counts it (so a
    count and the next answer's input tokens agree); the queue is left alone."""
    problem = checks.validate_count(body, MINIMAX.rules)
    if problem is not None:
        return _reject(problem, request_id)
    headers = {"request-id": request_id}
    count = prompt_cache.count_blocks(prompt_cache.messages_blocks(body))
    return plan.json_plan(200, {"input_tokens": count}, headers)


def _minimax_authorized(headers: Mapping[str, str], api_key: str | None) -> bool:
    # The Anthropic SDK sends x-api-key; MiniMax documents ANTHROPIC_API_KEY for it.
    return bearer_ok(headers, api_key) or (
        api_key is not None and headers.get("x-api-key", "").strip() == api_key
    )


def answer(
    body: dict[str, Any], state: ScriptState, request_id: str, flavour: Flavour, caller: str = ""
) -> ResponsePlan:
    """Consume the next scripted item for a valid request and render it; ``caller`` is
    whose prompt cache the request reads."""
    reply, fault = split_item(state.take(body), body["messages"])
    if fault is not None and not fault.breaks_reply:
        return flavour.fault_plan(fault, request_id, flavour.default_model or str(body["model"]))
    blocks = prompt_cache.messages_blocks(body)
    model = str(body["model"])
    prompt = state.prompt_cache.count(caller, model, blocks)
    if model.lower().startswith(flavour.uncached_models or ("\0",)):
        prompt = prompt_cache.PromptCount(prompt.tokens)
    message = render.Message.build(reply, body, flavour.default_model, prompt)
    if message.tool_calls:
        signature = message.signature if message.thinking else None
        state.remember_issued(
            (call.id for call in message.tool_calls),
            IssuedReasoning(message.thinking, inline=False, signature=signature),
        )
    headers = (("request-id", request_id),)
    error = error_envelope(_stream_error_status(fault), _fault_message(fault), request_id)
    if body.get("stream") is True:
        stream = SseStream(
            events=list(render.block_events(message, reply)),
            closing=render.closing_events(message),
            done=None,
            error_event=sse_event("error", error),
            event_delay=reply.stream.event_delay,
            truncated_event=TRUNCATED_EVENT,
        )
        return plan.stream_plan(stream, fault, headers, reply.stream.delay)
    rendered = render.render_message(message, flavour.base_resp)
    return plan.body_plan(rendered, error, fault, headers, reply.stream.delay)


def error_kind(status: int) -> str:
    """Anthropic's ``error.type`` for an HTTP status."""
    by_class = "api_error" if status >= 500 or status < 400 else "invalid_request_error"
    return _KIND_BY_STATUS.get(status, by_class)


def error_envelope(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_kind(status), "message": message},
        "request_id": request_id,
    }


def error_plan(status: int, message: str, request_id: str) -> ResponsePlan:
    envelope = error_envelope(status, message, request_id)
    return plan.json_plan(status, envelope, {"request-id": request_id})


def default_message(status: int, code: int | str | None) -> str:
    """MiniMax's words for a code, with a reset time for 2056 as its Token Plan sends."""
    if code == 2056:
        resets = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        resets += timedelta(hours=1)
        return (
            "usage limit exceeded, 5-hour usage limit reached for Token Plan, "
            f"resets at {resets.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
    return minimax_message(status, code)


def _reject(problem: str, request_id: str) -> ResponsePlan:
    return error_plan(400, with_code(f"invalid params, {problem}", INVALID_PARAMS), request_id)


def _minimax_fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
    headers = dict(plan.merge_headers((("request-id", request_id),), fault.headers))
    if fault.base_resp_code is not None:
        message = fault.message or default_message(200, fault.base_resp_code)
        body = failed_message(request_id, model, fault.base_resp_code, message)
        return plan.plain_fault_plan(fault, headers, 200, body)
    envelope = error_envelope(fault.status, _fault_message(fault), request_id)
    return plan.plain_fault_plan(fault, headers, fault.status, envelope)


def failed_message(request_id: str, model: str, code: int | str, message: str) -> dict[str, Any]:
    """An HTTP 200 message with no content and the failure in MiniMax's ``base_resp``."""
    message_id = f"msg_{request_id.removeprefix('req_')}"
    body = render.message_body(message_id, model, [], None, render.usage_block(0, 0, 0))
    return {**body, "base_resp": {"status_code": code, "status_msg": message}}


def _stream_error_status(fault: Fault | None) -> int:
    return 529 if fault is not None and fault.status == 529 else 500


def _fault_message(fault: Fault | None) -> str:
    if fault is None:
        return "unknown error"
    message = fault.message or default_message(fault.status, fault.provider_code)
    return with_code(message, fault.provider_code)


MINIMAX = Flavour(
    rules=checks.Rules(temperature_max=2.0, system_blocks=True, check_top_k=False),
    base_resp=True,
    default_model=None,
    fault_plan=_minimax_fault_plan,
    # M3 here ignores cache_control and bills the whole input, cache reads 0
    # (earendil-works/pi#5605); hermes-agent#83678 saw reads instead, so it is a report.
    uncached_models=("minimax-m3",),
)
