"""What MiniMax's Chat Completions endpoint rejects (with its code 2013), and the
emulator's own replay check: an assistant turn must carry back the reasoning sent with
the tool calls it replays."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.testing._common import carries_inline, first_problem, is_number
from minimax_m3.testing.state import IssuedReasoning, ScriptState

# "root" is accepted by the real API (MiniMax's Provider Verifier, case 11_01).
ROLES = frozenset({"system", "user", "assistant", "tool", "root"})
NOT_FOLLOW = "invalid params, tool call result does not follow tool call"
_REASONING_KEYS = ("reasoning_content", "reasoning", "reasoning_details")


SERVICE_TIERS = ("standard", "priority")


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
    checks = (_check_model, _check_parameters, _check_messages_shape, _check_tool_history)
    problem = first_problem(checks, body)
    if problem is None and state.require_reasoning_replay:
        return _check_reasoning_replay(body["messages"], state)
    return problem


def markup_key(name: str) -> str:
    """How a call written as markup is found again in a later request: its id is the
    client's invention, and its arguments are typed by the client's schema, so by name."""
    return f"markup:{name}"


def _missing(name: str) -> str:
    return f"invalid params, binding: expr_path={name}, cause=missing required parameter"


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
    # minimax-api.md: service_tier is "standard" (the default) or "priority".
    tier = body.get("service_tier")
    if tier is not None and tier not in SERVICE_TIERS:
        return f"invalid params, service_tier must be one of {list(SERVICE_TIERS)}, got {tier!r}"
    for name, high in (("temperature", 2.0), ("top_p", 1.0)):
        value = body.get(name)
        if value is not None and (not is_number(value) or not 0.0 <= value <= high):
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
        issued = state.issued([*ids, *(_markup_key_of(call) for call in calls)])
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
    return markup_key(str(function.get("name"))) if isinstance(function, dict) else ""


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
    in_content = carries_inline(content, issued.text, tags) or (
        isinstance(content, str)
        and any(content.startswith(f"{issued.text}</{tag}>") for tag in tags)
    )
    if issued.self_hosted:
        return in_content and not any(message.get(key) for key in _REASONING_KEYS)
    if issued.inline:
        return in_content or message.get("reasoning_content") == issued.text
    details = message.get("reasoning_details")
    if not isinstance(details, list):
        return False
    texts = [d.get("text") for d in details if isinstance(d, dict)]
    return "".join(t for t in texts if isinstance(t, str)) == issued.text
