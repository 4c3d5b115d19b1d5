"""What Runware refuses in a ``textInference`` task, with its word codes, and the
emulator's replay check on the task's messages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.testing._common import carries_inline, first_problem, is_int, is_number
from minimax_m3.testing.state import ScriptState

DELIVERY_METHODS = ("sync", "async", "stream")
ROLES = ("user", "assistant", "tool")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
BUILTIN_TOOLS = ("search", "codeInterpreter")
TASK_FIELDS = frozenset(
    {
        "taskType",
        "taskUUID",
        "model",
        "messages",
        "settings",
        "tools",
        "toolChoice",
        "deliveryMethod",
        "numberResults",
        "includeCost",
        "includeUsage",
        "outputFormat",
        "webhookURL",
    }
)
MAX_TOKENS = 512_000
MAX_SYSTEM_PROMPT = 200_000
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Problem = tuple[str, str, str]  # code, message, parameter


def missing(parameter: str) -> Problem:
    return "missingParameter", f"Missing required parameter '{parameter}'.", parameter


def _bad(parameter: str, why: str) -> Problem:
    return "invalidParameter", f"Invalid value for '{parameter}': {why}.", parameter


def validate_task(task: Mapping[str, Any]) -> Problem | None:
    """Why Runware would refuse this textInference task, or None."""
    uuid = task.get("taskUUID")
    if uuid is None:
        return missing("taskUUID")
    if not isinstance(uuid, str) or not _UUID4.match(uuid):
        return _bad("taskUUID", "must be a UUID v4")
    for key in task:
        if key not in TASK_FIELDS:
            where = " (put sampling settings inside 'settings')" if key != "settings" else ""
            message = f"Unsupported parameter '{key}' for this model{where}."
            return "unsupportedParameter", message, key
    return first_problem((_check_options, _check_settings, _check_tools, _check_messages), task)


def _check_options(task: Mapping[str, Any]) -> Problem | None:
    model = task.get("model")
    if model is None:
        return missing("model")
    if not isinstance(model, str) or not model:
        return _bad("model", "must be a non-empty string")
    method = task.get("deliveryMethod", "sync")
    if method not in DELIVERY_METHODS:
        return _bad("deliveryMethod", f"must be one of {list(DELIVERY_METHODS)}")
    results = task.get("numberResults", 1)
    if not is_int(results) or not 1 <= results <= 4:
        return _bad("numberResults", "must be an integer from 1 to 4")
    if method == "stream" and results != 1:
        return _bad("numberResults", "must be 1 when deliveryMethod is 'stream'")
    for flag in ("includeCost", "includeUsage"):
        if flag in task and not isinstance(task[flag], bool):
            return _bad(flag, "must be a boolean")
    if task.get("outputFormat", "TEXT") != "TEXT":
        return _bad("outputFormat", "must be 'TEXT'")
    webhook = task.get("webhookURL")
    if webhook is not None and (
        not isinstance(webhook, str) or not re.match(r"^https?://[^/\s]+", webhook)
    ):
        return _bad("webhookURL", "must be a URI")
    return None


def _check_settings(task: Mapping[str, Any]) -> Problem | None:
    settings = task.get("settings", {})
    if not isinstance(settings, dict):
        return _bad("settings", "must be an object")
    for name, high in (("temperature", 2.0), ("topP", 1.0)):
        value = settings.get(name)
        if value is not None and (not is_number(value) or not 0 <= value <= high):
            return _bad(f"settings.{name}", f"must be a number from 0 to {high:g}")
    tokens = settings.get("maxTokens")
    if tokens is not None and (not is_int(tokens) or not 1 <= tokens <= MAX_TOKENS):
        return _bad("settings.maxTokens", f"must be an integer from 1 to {MAX_TOKENS}")
    prompt = settings.get("systemPrompt")
    if prompt is not None and (
        not isinstance(prompt, str) or not 1 <= len(prompt) <= MAX_SYSTEM_PROMPT
    ):
        return _bad("settings.systemPrompt", f"must be a string of 1 to {MAX_SYSTEM_PROMPT} chars")
    top_k = settings.get("topK")
    if top_k is not None and (not is_int(top_k) or top_k < 1):
        return _bad("settings.topK", "must be a positive integer")
    if "splitThinking" in settings and not isinstance(settings["splitThinking"], bool):
        return _bad("settings.splitThinking", "must be a boolean")
    return None


def _check_tools(task: Mapping[str, Any]) -> Problem | None:
    tools = task.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            return _bad("tools", "must be an array")
        for index, tool in enumerate(tools):
            at = f"tools[{index}]"
            if not isinstance(tool, dict):
                return _bad(at, "must be an object")
            if tool.get("type") in BUILTIN_TOOLS:
                # Seed 003: built-in tools are their type alone, run by the provider.
                continue
            if tool.get("type") != "function":
                return _bad(f"{at}.type", f"must be one of {['function', *BUILTIN_TOOLS]}")
            for key in ("name", "description", "schema"):
                if key not in tool:
                    return missing(f"{at}.{key}")
            if not isinstance(tool["name"], str) or not _TOOL_NAME.match(tool["name"]):
                return _bad(f"{at}.name", "must be 1-64 letters, digits, '_' or '-'")
            if not isinstance(tool["description"], str):
                return _bad(f"{at}.description", "must be a string")
            if not isinstance(tool["schema"], dict):
                return _bad(f"{at}.schema", "must be a JSON Schema object")
    choice = task.get("toolChoice")
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICE_TYPES:
            return _bad("toolChoice.type", f"must be one of {list(TOOL_CHOICE_TYPES)}")
        if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
            return missing("toolChoice.name")
    return None


def _check_content(where: str, message: Mapping[str, Any], required: bool) -> Problem | None:
    if "content" not in message:
        return missing(f"{where}.content") if required else None
    content = message["content"]
    if not isinstance(content, str) or not content:
        return _bad(f"{where}.content", "must be a non-empty string")
    return None


def _check_messages(task: Mapping[str, Any]) -> Problem | None:
    messages = task.get("messages")
    if messages is None:
        return missing("messages")
    if not isinstance(messages, list) or not messages:
        return _bad("messages", "must be a non-empty array")
    open_ids: set[str] = set()  # tool call ids of the assistant turn just before
    unanswered: set[str] = set()
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            return _bad(where, "must be an object")
        role = message.get("role")
        if role not in ROLES:
            hint = "; put the system prompt in settings.systemPrompt" if role == "system" else ""
            text = f"Invalid message role {role!r}: use user, assistant or tool{hint}."
            return "invalidMessageRole", text, f"{where}.role"
        if role == "tool":
            call_id = message.get("id")
            if call_id not in open_ids or call_id not in unanswered:
                why = "must answer a tool call of the assistant turn right before it, once"
                return _bad(f"{where}.id", why)
            unanswered.discard(call_id)
            problem = _check_content(where, message, required=True)
            if problem is not None:
                return problem
            continue
        if unanswered:
            return _bad(where, f"tool calls {sorted(unanswered)} are unanswered before it")
        open_ids = set()
        calls = message.get("tools") if role == "assistant" else None
        if calls is not None:
            ids, problem = _check_calls(where, calls)
            if problem is not None:
                return problem
            open_ids, unanswered = set(ids), set(ids)
        problem = _check_content(where, message, required=calls is None)
        if problem is not None:
            return problem
    if unanswered:
        return _bad("messages", f"tool calls {sorted(unanswered)} have no tool result")
    return None


def _check_calls(where: str, calls: Any) -> tuple[list[str], Problem | None]:
    if not isinstance(calls, list) or not calls:
        return [], _bad(f"{where}.tools", "must be a non-empty array")
    ids: list[str] = []
    for index, call in enumerate(calls):
        at = f"{where}.tools[{index}]"
        if (
            not isinstance(call, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(call.get("name"), str)
            or not isinstance(call.get("input"), dict)
        ):
            return ids, _bad(at, "must be {id, name, input} with an object input")
        ids.append(call["id"])
    return ids, None


def check_reasoning_replay(messages: Sequence[Any], state: ScriptState) -> Problem | None:
    """The task's messages have no reasoning field, so an assistant turn keeps its
    reasoning the way MiniMax keeps it in plain text: a leading <think> block."""
    for index, message in enumerate(messages):
        calls = message.get("tools") if message.get("role") == "assistant" else None
        if not isinstance(calls, list):
            continue
        ids = [call.get("id") for call in calls if isinstance(call, dict)]
        issued = state.issued(str(i) for i in ids)
        if issued is None or not issued.text:
            continue
        # Byte for byte: every character between the tags as it was sent.
        if carries_inline(message.get("content"), issued.text, (issued.tag,)):
            continue
        return (
            "invalidParameter",
            f"messages[{index}]: the assistant turn with tools {ids} does not replay its "
            "reasoning as a <think> block in its content (emulator require_reasoning_replay)",
            f"messages[{index}].content",
        )
    return None
