"""What an Anthropic Messages endpoint serving M3 rejects, and the emulator's replay
check: an assistant turn must carry back each thinking block, text and signature, sent
with the tool calls it replays."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from minimax_m3.testing._common import first_problem, is_number
from minimax_m3.testing.state import ScriptState

M3_MAX_TOKENS = 524_288
ROLES = ("user", "assistant")
THINKING_TYPES = ("enabled", "adaptive", "disabled")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
# Which content blocks each role may send (MiniMax's list; document is not supported).
_BLOCKS_BY_ROLE = {
    "user": frozenset({"text", "image", "video", "tool_result", "mid_conv_system"}),
    "assistant": frozenset({"text", "thinking", "redacted_thinking", "tool_use"}),
}


@dataclass(frozen=True)
class Rules:
    """Where one provider's checks differ: the temperature ceiling, whether ``system``
    may be a list of text blocks, and whether ``top_k`` is checked."""

    temperature_max: float
    system_blocks: bool
    check_top_k: bool


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return None, f"request body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return None, "request body must be a JSON object"
    return body, None


def _missing(name: str) -> str:
    return f"binding: expr_path={name}, cause=missing required parameter"


def is_m3(model: str) -> bool:
    lowered = model.lower()
    return lowered.startswith("minimax-m3") or lowered in ("minimax/m3", "minimax:m3@0")


def validate(body: Mapping[str, Any], state: ScriptState, rules: Rules) -> str | None:
    """Why the provider would reject ``body``, or None when it is acceptable."""
    checks = (_check_model_and_limits, _check_sampling, _check_system, _check_tools)
    problem = first_problem(checks, body, rules) or _check_messages(body)
    problem = problem or check_cache_markers(body)
    if problem is None and state.require_reasoning_replay:
        problem = _check_thinking_replay(body["messages"], state)
    return problem


# count_tokens takes the prompt alone, as Anthropic's does; anything else is refused.
COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})


def validate_count(body: Mapping[str, Any], rules: Rules) -> str | None:
    """Why ``/v1/messages/count_tokens`` would reject ``body``, or None."""
    extra = sorted(set(body) - COUNT_FIELDS)
    if extra:
        return f"{extra[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _missing("model")
    checks = (_check_system, _check_tools)
    return first_problem(checks, body, rules) or _check_messages(body) or check_cache_markers(body)


def _check_model_and_limits(body: Mapping[str, Any], rules: Rules) -> str | None:
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


def _check_sampling(body: Mapping[str, Any], rules: Rules) -> str | None:
    for name, high in (("temperature", rules.temperature_max), ("top_p", 1.0)):
        value = body.get(name)
        if value is not None and (not is_number(value) or not 0.0 <= value <= high):
            return f"{name} must be a number in [0, {high:g}], got {value!r}"
    top_k = body.get("top_k")
    if rules.check_top_k and top_k is not None and (not is_number(top_k) or top_k <= 0):
        return f"top_k must be a number > 0, got {top_k!r}"
    return _check_metadata_and_tier(body)


SERVICE_TIERS = ("standard", "priority")


def _check_metadata_and_tier(body: Mapping[str, Any]) -> str | None:
    # metadata holds user_id alone (MiniMax's Anthropic OpenAPI, Anthropic's own schema).
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            return f"metadata must be an object, got {metadata!r}"
        extra = sorted(set(metadata) - {"user_id"})
        if extra:
            return f"metadata.{extra[0]}: Extra inputs are not permitted"
        user_id = metadata.get("user_id")
        if user_id is not None and not isinstance(user_id, str):
            return f"metadata.user_id must be a string, got {user_id!r}"
    tier = body.get("service_tier")
    if tier is not None and tier not in SERVICE_TIERS:
        return f"service_tier must be one of {list(SERVICE_TIERS)}, got {tier!r}"
    return None


def _check_system(body: Mapping[str, Any], rules: Rules) -> str | None:
    system = body.get("system")
    if system is None or isinstance(system, str):
        return None
    if not rules.system_blocks:
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


def _check_tools(body: Mapping[str, Any], rules: Rules) -> str | None:
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
        if role == "assistant":
            if unanswered:
                return f"tool_use ids {sorted(unanswered)} have no tool_result before {where}"
            ids = [block["id"] for block in blocks if block["type"] == "tool_use"]
            open_ids, unanswered = set(ids), set(ids)
            continue
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
        if unanswered:
            return f"tool_use ids {sorted(unanswered)} have no tool_result in {where}"
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
        issued = state.issued(ids)
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


# Explicit cache breakpoints, as Anthropic documents them (and MiniMax for M2.x, "up to 4
# breakpoints"): on tool definitions, system text blocks and content blocks, not on
# thinking blocks; type "ephemeral" with an optional ttl of "5m" or "1h".
MAX_CACHE_MARKERS = 4
CACHE_TTLS = ("5m", "1h")
_UNMARKABLE = frozenset({"thinking", "redacted_thinking"})


def _marked_places(body: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(where, block type, marker)`` for every block that carries ``cache_control``."""
    places: list[tuple[str, Any, Any]] = []

    def visit(where: str, blocks: Any) -> None:
        if not isinstance(blocks, list):
            return
        for index, block in enumerate(blocks):
            if not isinstance(block, dict):
                continue
            at = f"{where}[{index}]"
            if "cache_control" in block:
                places.append((at, block.get("type"), block["cache_control"]))
            if block.get("type") == "tool_result":
                visit(f"{at}.content", block.get("content"))

    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            if isinstance(tool, dict) and "cache_control" in tool:
                places.append((f"tools[{index}]", "tool", tool["cache_control"]))
    visit("system", body.get("system"))
    messages = body.get("messages")
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            if isinstance(message, dict):
                visit(f"messages[{index}].content", message.get("content"))
    return places


def check_cache_markers(body: Mapping[str, Any]) -> str | None:
    """Why the markers in ``body`` would be refused, in Anthropic's words, or None."""
    places = _marked_places(body)
    for where, kind, marker in places:
        if kind in _UNMARKABLE:
            return f"{where}.cache_control: {kind} blocks cannot be marked with cache_control"
        if not isinstance(marker, dict) or marker.get("type") != "ephemeral":
            return f"{where}.cache_control.type: Input should be 'ephemeral'"
        if "ttl" in marker and marker["ttl"] not in CACHE_TTLS:
            return f"{where}.cache_control.ttl: Input should be '5m' or '1h'"
    if len(places) > MAX_CACHE_MARKERS:
        return (
            f"A maximum of {MAX_CACHE_MARKERS} blocks with cache_control may be provided. "
            f"Found {len(places)}."
        )
    return None
