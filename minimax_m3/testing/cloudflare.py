"""Cloudflare's REST API serving ``minimax/m3``: Chat Completions and Anthropic Messages.

Paths, under ``/client/v4``::

    /accounts/{account_id}/ai/v1/chat/completions
    /accounts/{account_id}/ai/v1/messages

Successes are MiniMax's own bodies passed through (plus ``gatewayMetadata`` on Chat
Completions); everything Cloudflare itself refuses, and every scripted Fault, comes in
Cloudflare's envelope ``{"result": null, "success": false, "errors": [{"code",
"message"}], "messages": []}``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from minimax_m3.testing import anthropic_messages, chat_completions
from minimax_m3.testing._common import bearer_ok, is_number, status_phrase
from minimax_m3.testing.anthropic_messages.checks import Rules
from minimax_m3.testing.chat_completions import ChatDialect
from minimax_m3.testing.plan import ResponsePlan, json_plan, plain_fault_plan
from minimax_m3.testing.prompt_cache import caller_of
from minimax_m3.testing.script import Fault
from minimax_m3.testing.state import RecordedRequest, ScriptState

PREFIX = "/client/v4"
_ROUTE = re.compile(r"^/client/v4/accounts/([^/]+)/ai/v1/(chat/completions|messages)/?$")

AUTH_ERROR = 10000
BAD_INPUT = 5006
NO_ROUTE = 7003
CHAT_TOOL_CHOICES = ("none", "auto")

# Cloudflare's code for a status, when a Fault gives none.
_CODE_BY_STATUS = {
    400: BAD_INPUT,
    401: AUTH_ERROR,
    402: 2021,
    403: AUTH_ERROR,
    404: NO_ROUTE,
    408: 3007,
    413: 3006,
    429: 3040,
}
_UPSTREAM_UNAVAILABLE = 7009
_CODE_MESSAGES: dict[int | str, str] = {
    BAD_INPUT: "AiError: Bad input",
    AUTH_ERROR: "Authentication error",
    2021: "Insufficient balance; add money to your gateway or use BYOK",
    3006: "Request too large",
    3007: "Timeout",
    3040: "Capacity temporarily exceeded, please try again.",
    _UPSTREAM_UNAVAILABLE: "Upstream service unavailable",
}
GATEWAY_METADATA = {"gatewayMetadata": {"keySource": "Unified"}}
UPSTREAM_MODEL = "MiniMax-M3"


def matches(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def envelope(code: int | str, message: str) -> dict[str, Any]:
    """Cloudflare's v4 failure envelope."""
    return {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }


def error_plan(status: int, code: int | str, message: str) -> ResponsePlan:
    return json_plan(status, envelope(code, message))


def route_error(path: str) -> ResponsePlan:
    message = f"Could not route to {path}, perhaps your object identifier is invalid?"
    return error_plan(404, NO_ROUTE, message)


def bad_input(problem: str) -> ResponsePlan:
    return error_plan(400, BAD_INPUT, f"AiError: Bad input: {problem}")


def fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
    """A plain Fault in Cloudflare's envelope; ``status`` 200 gives ``success: false`` on 200.
    The envelope names no model, whichever format the fault came in."""
    headers = {"cf-ray": request_id[:16], **fault.headers}
    status = 200 if fault.base_resp_code is not None else fault.status
    code: int | str
    if fault.base_resp_code is not None:
        code = fault.base_resp_code
    elif fault.provider_code is not None:
        code = fault.provider_code
    else:
        code = _CODE_BY_STATUS.get(status, _UPSTREAM_UNAVAILABLE if status >= 500 else BAD_INPUT)
    message = fault.message or _CODE_MESSAGES.get(code) or status_phrase(status)
    return plain_fault_plan(fault, headers, status, envelope(code, message))


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request under ``/client/v4``."""
    request_id = secrets.token_hex(16)
    if not bearer_ok(request.headers, state.api_key):
        return error_plan(401, AUTH_ERROR, "Authentication error")
    route = _ROUTE.match(request.path)
    if route is None or request.method != "POST":
        return route_error(request.path)
    account, endpoint = route.groups()
    caller = caller_of(request.headers)
    if state.cloudflare_account_id is not None and account != state.cloudflare_account_id:
        return route_error(request.path)
    body, problem = anthropic_messages.checks.parse_body(request.body)
    if body is None:
        return bad_input(problem or "request body must be a JSON object")
    if endpoint == "messages":
        problem = anthropic_messages.checks.validate(body, state, MESSAGES.rules)
        if problem is not None:
            return bad_input(problem)
        return anthropic_messages.answer(body, state, request_id, MESSAGES, caller)
    problem = validate_chat(body, state)
    if problem is not None:
        return bad_input(problem)
    return chat_completions.answer(body, state, request_id, CHAT, caller=caller)


def validate_chat(body: Mapping[str, Any], state: ScriptState) -> str | None:
    """Cloudflare's schema for minimax/m3, then what MiniMax itself would refuse."""
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and (not is_number(value) or not 0 <= value <= 1):
            return f"{name} must be a number in [0, 1], got {value!r}"
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (not is_number(value) or value <= 0):
            return f"{name} must be a number > 0, got {value!r}"
    # Seed 000's Chat Completions schema: mask_sensitive_info is a boolean and
    # response_format an object.
    mask = body.get("mask_sensitive_info")
    if mask is not None and not isinstance(mask, bool):
        return f"mask_sensitive_info must be a boolean, got {mask!r}"
    response_format = body.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        return f"response_format must be an object, got {response_format!r}"
    choice = body.get("tool_choice")
    if choice is not None and choice not in CHAT_TOOL_CHOICES:
        return f"tool_choice must be one of {list(CHAT_TOOL_CHOICES)}, got {choice!r}"
    messages = body.get("messages")
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue
            role, content = message.get("role"), message.get("content")
            if role in ("assistant", "tool") and not isinstance(content, str):
                kind = type(content).__name__
                return f"messages[{index}]: {role} content must be a string, got {kind}"
    return chat_completions.checks.validate_request(body, state)


CHAT = ChatDialect(
    always_split=True,
    default_model=UPSTREAM_MODEL,
    extra_fields=GATEWAY_METADATA,
    wrap_result=True,
    fault_plan=fault_plan,
)


MESSAGES = anthropic_messages.Flavour(
    rules=Rules(temperature_max=1.0, system_blocks=False, check_top_k=True),
    base_resp=False,
    default_model=UPSTREAM_MODEL,
    fault_plan=fault_plan,
)
