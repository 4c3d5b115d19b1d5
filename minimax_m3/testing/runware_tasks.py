"""Runware serving ``minimax:m3@0``: native tasks and its OpenAI-compatible API.

Paths::

    /runware/v1                    a JSON array of task objects (textInference, getResponse)
    /runware/v1/chat/completions   plain Chat Completions, reasoning in reasoning_content

Native answers are ``{"data": [...]}``; failures ``{"errors": [{"code", "message",
"parameter"?, "taskType"?, "taskUUID"?}]}`` with word codes such as ``invalidApiKey``.
A ``textInference`` task is delivered ``sync`` (one JSON body), ``stream`` (server-sent
events) or ``async`` (an acknowledgement now, the result through ``getResponse`` polls).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from minimax_m3.testing import anthropic_messages, chat_completions, xml_tools
from minimax_m3.testing.chat_completions import ChatDialect
from minimax_m3.testing.plan import (
    ResponsePlan,
    SseStream,
    body_actions,
    json_bytes,
    json_plan,
    merge_headers,
    sse_data,
    stream_actions,
)
from minimax_m3.testing.script import Fault, IssuedReasoning, RecordedRequest, Reply, ScriptState

PREFIX = "/runware/v1"
CHAT_PATH = PREFIX + "/chat/completions"
TEXT_TASK = "textInference"
POLL_TASK = "getResponse"
AUTH_TASK = "authentication"
DELIVERY_METHODS = ("sync", "async", "stream")
ROLES = ("user", "assistant", "tool")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
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
PING = b": ping\n\n"
TRUNCATED_EVENT = b'data: {"taskUUID": "x", "del\n\n'
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Runware's code for a status when a Fault gives none, and its words for codes.
_CODE_BY_STATUS = {
    400: "invalidParameter",
    401: "invalidApiKey",
    402: "insufficientCredits",
    403: "invalidApiKey",
    404: "modelNotFound",
    408: "timeoutProvider",
    429: "rateLimitExceeded",
    504: "timeoutProvider",
}
_CODE_MESSAGES = {
    "invalidApiKey": "Invalid API key. Make sure the key is correct and active.",
    "insufficientCredits": "Insufficient credits to run this task.",
    "timeoutProvider": "The provider timed out.",
    "rateLimitExceeded": "Rate limit exceeded. Retry later.",
    "providerInternalError": "The provider returned an internal error.",
    "modelNotFound": "The requested model was not found.",
    "invalidParameter": "Invalid parameter.",
    "taskFailedOrNotFound": "The task failed or was not found.",
}


def matches(path: str) -> bool:
    trimmed = path.rstrip("/")
    return trimmed == PREFIX or trimmed.startswith(PREFIX + "/")


# --- errors -------------------------------------------------------------------------


def error_item(
    code: int | str,
    message: str,
    *,
    parameter: str | None = None,
    task_type: str | None = None,
    task_uuid: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "message": message}
    if parameter is not None:
        item["parameter"] = parameter
    if task_type is not None:
        item["taskType"] = task_type
    if task_uuid is not None:
        item["taskUUID"] = task_uuid
    return item


def errors_plan(
    status: int,
    items: Iterable[dict[str, Any]],
    headers: Mapping[str, str] | None = None,
    delay: float = 0.0,
) -> ResponsePlan:
    return json_plan(status, {"errors": list(items)}, headers, delay)


def default_code(status: int) -> str:
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    return "providerInternalError" if status >= 500 else "invalidParameter"


def fault_code_and_message(
    fault: Fault | None, fallback: str, *, by_status: bool = True
) -> tuple[int | str, str]:
    """The code and message a fault reports. Without a code of its own: the usual code for
    its status when ``by_status`` (and the status is an error), else ``fallback``."""
    if fault is None:
        return fallback, _CODE_MESSAGES[fallback]
    code: int | str
    if fault.provider_code is not None:
        code = fault.provider_code
    elif fault.base_resp_code is not None:
        code = fault.base_resp_code
    elif by_status and fault.status != 200:
        code = default_code(fault.status)
    else:
        code = fallback
    message = fault.message or _CODE_MESSAGES.get(str(code), "The task failed.")
    return code, message


def fault_plan(fault: Fault, task_uuid: str | None, task_type: str | None) -> ResponsePlan:
    """A plain Fault in Runware's envelope, at its status (200 included)."""
    if fault.reset_before_response:
        return ResponsePlan(fault.status, delay=fault.delay, reset=True)
    if fault.body is not None:
        return json_plan(fault.status, fault.body, fault.headers, fault.delay)
    status = 200 if fault.base_resp_code is not None else fault.status
    code, message = fault_code_and_message(fault, "providerInternalError")
    item = error_item(code, message, task_type=task_type, task_uuid=task_uuid)
    return errors_plan(status, [item], fault.headers, fault.delay)


def _invalid(
    code: str, message: str, parameter: str | None, task_uuid: str | None, task_type: str
) -> ResponsePlan:
    item = error_item(code, message, parameter=parameter, task_type=task_type, task_uuid=task_uuid)
    return errors_plan(400, [item])


def _unauthorized() -> ResponsePlan:
    return errors_plan(401, [error_item("invalidApiKey", _CODE_MESSAGES["invalidApiKey"])])


# --- routing ------------------------------------------------------------------------


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request under ``/runware/v1``."""
    path = request.path.rstrip("/")
    if path == CHAT_PATH:
        return _handle_chat(request, state)
    if path != PREFIX or request.method != "POST":
        message = f"No route for {request.method} {request.path}."
        return errors_plan(404, [error_item("notFound", message)])
    return _handle_tasks(request, state)


def _handle_tasks(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    parsed = request.json
    if request.body and parsed is None:
        if not chat_completions.bearer_ok(request.headers, state.api_key):
            return _unauthorized()
        return errors_plan(400, [error_item("invalidPayload", "The body is not valid JSON.")])
    tasks = parsed if isinstance(parsed, list) else None
    auth_keys = [
        task.get("apiKey")
        for task in tasks or []
        if isinstance(task, dict) and task.get("taskType") == AUTH_TASK
    ]
    authorized = chat_completions.bearer_ok(request.headers, state.api_key) or (
        state.api_key is not None and state.api_key in auth_keys
    )
    if not authorized:
        return _unauthorized()
    if tasks is None:
        message = "The request body must be a JSON array of task objects."
        return errors_plan(400, [error_item("invalidPayload", message)])
    work = [t for t in tasks if not (isinstance(t, dict) and t.get("taskType") == AUTH_TASK)]
    if len(work) != 1 or not isinstance(work[0], dict):
        message = "Send exactly one textInference task, or one getResponse task, per request."
        return errors_plan(400, [error_item("invalidParameter", message, parameter="taskType")])
    task: dict[str, Any] = work[0]
    kind = task.get("taskType")
    if kind == POLL_TASK:
        return _poll(task, state)
    if kind != TEXT_TASK:
        message = f"Unsupported taskType {kind!r}; expected textInference or getResponse."
        item = error_item("invalidTaskType", message, parameter="taskType")
        return errors_plan(400, [item])
    invalid = validate_task(task)
    if invalid is None and state.require_reasoning_replay:
        invalid = _check_reasoning_replay(task["messages"], state)
    if invalid is not None:
        code, message, parameter = invalid
        uuid = task.get("taskUUID") if isinstance(task.get("taskUUID"), str) else None
        return _invalid(code, message, parameter, uuid, TEXT_TASK)
    return _answer(task, state)


def _check_reasoning_replay(messages: Sequence[Any], state: ScriptState) -> Problem | None:
    """The task's messages have no reasoning field, so an assistant turn keeps its
    reasoning the way MiniMax keeps it in plain text: a leading <think> block."""
    for index, message in enumerate(messages):
        calls = message.get("tools") if message.get("role") == "assistant" else None
        if not isinstance(calls, list):
            continue
        ids = [call.get("id") for call in calls if isinstance(call, dict)]
        issued = next((found for i in ids if (found := state.issued(str(i))) is not None), None)
        if issued is None or not issued.text:
            continue
        content = message.get("content")
        # Byte for byte: every character between the tags as it was sent.
        if isinstance(content, str) and f"<{issued.tag}>{issued.text}</{issued.tag}>" in content:
            continue
        return (
            "invalidParameter",
            f"messages[{index}]: the assistant turn with tools {ids} does not replay its "
            "reasoning as a <think> block in its content (emulator require_reasoning_replay)",
            f"messages[{index}].content",
        )
    return None


# --- validation ---------------------------------------------------------------------

Problem = tuple[str, str, str]  # code, message, parameter


def _missing(parameter: str) -> Problem:
    return "missingParameter", f"Missing required parameter '{parameter}'.", parameter


def _bad(parameter: str, why: str) -> Problem:
    return "invalidParameter", f"Invalid value for '{parameter}': {why}.", parameter


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_task(task: Mapping[str, Any]) -> Problem | None:
    """Why Runware would refuse this textInference task, or None."""
    uuid = task.get("taskUUID")
    if uuid is None:
        return _missing("taskUUID")
    if not isinstance(uuid, str) or not _UUID4.match(uuid):
        return _bad("taskUUID", "must be a UUID v4")
    for key in task:
        if key not in TASK_FIELDS:
            where = " (put sampling settings inside 'settings')" if key != "settings" else ""
            message = f"Unsupported parameter '{key}' for this model{where}."
            return "unsupportedParameter", message, key
    for check in (_check_options, _check_settings, _check_tools, _check_messages):
        problem = check(task)
        if problem is not None:
            return problem
    return None


def _check_options(task: Mapping[str, Any]) -> Problem | None:
    model = task.get("model")
    if model is None:
        return _missing("model")
    if not isinstance(model, str) or not model:
        return _bad("model", "must be a non-empty string")
    method = task.get("deliveryMethod", "sync")
    if method not in DELIVERY_METHODS:
        return _bad("deliveryMethod", f"must be one of {list(DELIVERY_METHODS)}")
    results = task.get("numberResults", 1)
    if not _is_int(results) or not 1 <= results <= 4:
        return _bad("numberResults", "must be an integer from 1 to 4")
    if method == "stream" and results != 1:
        return _bad("numberResults", "must be 1 when deliveryMethod is 'stream'")
    for flag in ("includeCost", "includeUsage"):
        if flag in task and not isinstance(task[flag], bool):
            return _bad(flag, "must be a boolean")
    if task.get("outputFormat", "TEXT") != "TEXT":
        return _bad("outputFormat", "must be 'TEXT'")
    if "webhookURL" in task and not isinstance(task["webhookURL"], str):
        return _bad("webhookURL", "must be a URI")
    return None


def _check_settings(task: Mapping[str, Any]) -> Problem | None:
    settings = task.get("settings", {})
    if not isinstance(settings, dict):
        return _bad("settings", "must be an object")
    for name, high in (("temperature", 2.0), ("topP", 1.0)):
        value = settings.get(name)
        if value is not None and (not _is_number(value) or not 0 <= value <= high):
            return _bad(f"settings.{name}", f"must be a number from 0 to {high:g}")
    tokens = settings.get("maxTokens")
    if tokens is not None and (not _is_int(tokens) or not 1 <= tokens <= MAX_TOKENS):
        return _bad("settings.maxTokens", f"must be an integer from 1 to {MAX_TOKENS}")
    prompt = settings.get("systemPrompt")
    if prompt is not None and (
        not isinstance(prompt, str) or not 1 <= len(prompt) <= MAX_SYSTEM_PROMPT
    ):
        return _bad("settings.systemPrompt", f"must be a string of 1 to {MAX_SYSTEM_PROMPT} chars")
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
            if tool.get("type") != "function":
                return _bad(f"{at}.type", "must be 'function'")
            for key in ("name", "description", "schema"):
                if key not in tool:
                    return _missing(f"{at}.{key}")
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
            return _missing("toolChoice.name")
    return None


def _check_content(where: str, message: Mapping[str, Any], required: bool) -> Problem | None:
    if "content" not in message:
        return _missing(f"{where}.content") if required else None
    content = message["content"]
    if not isinstance(content, str) or not content:
        return _bad(f"{where}.content", "must be a non-empty string")
    return None


def _check_messages(task: Mapping[str, Any]) -> Problem | None:
    messages = task.get("messages")
    if messages is None:
        return _missing("messages")
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


# --- answering ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    """A reply resolved against its task."""

    task_uuid: str
    text: str
    reasoning: str | None  # None: not split out
    finish_reason: str
    calls: tuple[tuple[str, str, Any], ...]  # id, name, input
    usage: dict[str, int]
    cost: float

    @classmethod
    def build(cls, reply: Reply, task: Mapping[str, Any]) -> _Result:
        settings = task.get("settings") or {}
        split = settings.get("splitThinking") is True and not reply.think_tags
        resolved = tuple(
            chat_completions.resolve_call(call, n) for n, call in enumerate(reply.tool_calls, 1)
        )
        structured = () if reply.xml_tool_calls else resolved
        text = reply.text
        if reply.xml_tool_calls and resolved:
            text = xml_tools.append_to_text(text, ((c.name, c.arguments) for c in resolved))
        if not split and reply.reasoning:
            tag = reply.think_tag
            opener = "" if reply.omit_think_open else f"<{tag}>\n"
            text = f"{opener}{reply.reasoning}\n</{tag}>\n\n{text}"
        usage = chat_completions.estimate_usage(reply, task, resolved)
        prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
        estimate = round((prompt * 0.3 + completion * 1.2) / 1_000_000, 8)
        return cls(
            task_uuid=str(task["taskUUID"]),
            text=text,
            reasoning=reply.reasoning if split else None,
            finish_reason=reply.finish_reason or ("tool_calls" if structured else "stop"),
            calls=tuple(
                (c.id, c.name, anthropic_messages.tool_input(c.arguments)) for c in structured
            ),
            usage={
                "promptTokens": prompt,
                "completionTokens": completion,
                "totalTokens": prompt + completion,
                "thinkingTokens": usage["completion_tokens_details"]["reasoning_tokens"],
            },
            cost=reply.cost if reply.cost is not None else estimate,
        )

    def closing_fields(self, task: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if task.get("includeUsage") is True:
            fields["usage"] = self.usage
        if task.get("includeCost") is True:
            fields["cost"] = self.cost
        if self.calls:
            fields[reply.runware_tool_field] = [
                {"id": call_id, "name": name, "input": value} for call_id, name, value in self.calls
            ]
        return fields

    def item(self, task: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
        item: dict[str, Any] = {
            "taskType": TEXT_TASK,
            "taskUUID": self.task_uuid,
            "text": self.text,
            "finishReason": self.finish_reason,
        }
        if self.reasoning is not None:
            item["reasoningContent"] = self.reasoning
        item.update(self.closing_fields(task, reply))
        return item


def _items(result: _Result, task: Mapping[str, Any], reply: Reply) -> list[dict[str, Any]]:
    count = task.get("numberResults", 1)
    item = result.item(task, reply)
    if count == 1:
        return [item]
    return [{**item, "resultIndex": index} for index in range(count)]


def _built(reply: Reply, task: Mapping[str, Any], state: ScriptState) -> _Result:
    """The answer to a task, with its tool calls remembered for the replay check."""
    result = _Result.build(reply, task)
    if result.calls:
        # The reasoning as sent: split out as it is, or every character between the tags.
        sent = reply.reasoning
        if result.reasoning is None and reply.reasoning:
            sent = f"{'' if reply.omit_think_open else chr(10)}{reply.reasoning}\n"
        state.remember_issued(
            (call_id for call_id, _, _ in result.calls),
            IssuedReasoning(sent, inline=True, tag=reply.think_tag),
        )
    return result


def _answer(task: dict[str, Any], state: ScriptState) -> ResponsePlan:
    method = task.get("deliveryMethod", "sync")
    task_uuid = str(task["taskUUID"])
    item = state.take(task)
    if method == "async":
        return _submit_async(task, state, item)
    if isinstance(item, Fault) and not item.breaks_reply:
        return fault_plan(item, task_uuid, TEXT_TASK)
    reply, fault = chat_completions.split_item(item, task["messages"])
    result = _built(reply, task, state)
    delay = reply.delay + (fault.delay if fault is not None else 0.0)
    headers = merge_headers((), fault.headers if fault is not None else {})
    if method == "stream":
        return _stream_plan(result, task, reply, fault, headers, delay)
    return _sync_plan(result, task, reply, fault, headers, delay)


def _error_for(fault: Fault | None, task_uuid: str) -> dict[str, Any]:
    # An error inside an answer (mid-stream, or beside the data): a provider timeout
    # unless the fault names its code.
    code, message = fault_code_and_message(fault, "timeoutProvider", by_status=False)
    return error_item(code, message, task_type=TEXT_TASK, task_uuid=task_uuid)


def _sync_plan(
    result: _Result,
    task: Mapping[str, Any],
    reply: Reply,
    fault: Fault | None,
    headers: Sequence[tuple[str, str]],
    delay: float,
    status: str | None = None,
) -> ResponsePlan:
    items = _items(result, task, reply)
    if status is not None:
        items = [{**item, "status": status} for item in items]
    # An error_after_events fault on a JSON body: the errors arrive alongside the data.
    error_body = {"data": items, "errors": [_error_for(fault, result.task_uuid)]}
    actions, length = body_actions(json_bytes({"data": items}), fault, json_bytes(error_body))
    base = (("content-type", "application/json; charset=utf-8"),)
    return ResponsePlan(200, merge_headers(base, dict(headers)), actions, length, delay)


def _stream_plan(
    result: _Result,
    task: Mapping[str, Any],
    reply: Reply,
    fault: Fault | None,
    headers: Sequence[tuple[str, str]],
    delay: float,
) -> ResponsePlan:
    head = {"taskUUID": result.task_uuid, "taskType": TEXT_TASK}
    events = [
        sse_data({**head, "delta": {"reasoningContent": piece}})
        for piece in chat_completions.pieces(result.reasoning or "", reply.chunk_size)
    ]
    events += [
        sse_data({**head, "delta": {"text": piece}, "finishReason": None})
        for piece in chat_completions.pieces(result.text, reply.chunk_size)
    ]
    # Keep-alive comments between some events; they are not events themselves.
    events = [PING + event if index % 4 == 1 else event for index, event in enumerate(events)]
    final = {
        **head,
        "delta": {},
        "finishReason": result.finish_reason,
        **result.closing_fields(task, reply),
    }
    stream = SseStream(
        events=events,
        closing=[sse_data(final)],
        done=b"data: [DONE]\n\n" if reply.send_done else None,
        error_event=sse_data({"errors": [_error_for(fault, result.task_uuid)]}),
        event_delay=reply.event_delay,
        truncated_event=TRUNCATED_EVENT,
    )
    base = (("content-type", "text/event-stream"), ("cache-control", "no-cache"))
    return ResponsePlan(
        200, merge_headers(base, dict(headers)), stream_actions(stream, fault), None, delay
    )


def _submit_async(
    task: dict[str, Any], state: ScriptState, item: Reply | Fault | None
) -> ResponsePlan:
    """Acknowledge now; park the final poll's answer, decided by the scripted item."""
    task_uuid = str(task["taskUUID"])
    final: ResponsePlan
    if isinstance(item, Fault) and not item.breaks_reply:
        final = _async_fault_plan(item, task_uuid)
        pending = Reply().poll_pending
    else:
        reply, fault = chat_completions.split_item(item, task["messages"])
        result = _built(reply, task, state)
        delay = reply.delay + (fault.delay if fault is not None else 0.0)
        headers = merge_headers((), fault.headers if fault is not None else {})
        final = _sync_plan(result, task, reply, fault, headers, delay, status="success")
        pending = reply.poll_pending
    state.park_task(task_uuid, final, pending)
    ack = {"taskType": TEXT_TASK, "taskUUID": task_uuid, "status": "processing"}
    return json_plan(200, {"data": [ack]})


def _async_fault_plan(fault: Fault, task_uuid: str) -> ResponsePlan:
    """The final poll of a failed async task: an error item, or (error_shape "error") an
    ``errors`` array, on HTTP 200."""
    if fault.reset_before_response:
        return ResponsePlan(fault.status, delay=fault.delay, reset=True)
    if fault.body is not None:
        return json_plan(fault.status, fault.body, fault.headers, fault.delay)
    code, message = fault_code_and_message(fault, "providerInternalError")
    if fault.error_shape == "error":
        item = error_item(code, message, task_type=TEXT_TASK, task_uuid=task_uuid)
        return errors_plan(200, [item], fault.headers, fault.delay)
    failed = {"taskUUID": task_uuid, "status": "error", "error": {"code": code, "message": message}}
    return json_plan(200, {"data": [failed]}, fault.headers, fault.delay)


def _poll(task: Mapping[str, Any], state: ScriptState) -> ResponsePlan:
    task_uuid = task.get("taskUUID")
    if not isinstance(task_uuid, str) or not task_uuid:
        code, message, parameter = _missing("taskUUID")
        return _invalid(code, message, parameter, None, POLL_TASK)
    parked = state.poll_task(task_uuid)
    if parked is None:
        item = error_item(
            "taskFailedOrNotFound",
            _CODE_MESSAGES["taskFailedOrNotFound"],
            task_type=POLL_TASK,
            task_uuid=task_uuid,
        )
        return errors_plan(404, [item])
    if parked.pending_polls > 0:
        return json_plan(200, {"data": [{"taskUUID": task_uuid, "status": "processing"}]})
    if not isinstance(parked.final, ResponsePlan):
        raise TypeError(f"parked task {task_uuid} holds {type(parked.final).__name__}")
    return parked.final


# --- the OpenAI-compatible endpoint -------------------------------------------------


def _chat_fault_plan(fault: Fault, request_id: str) -> ResponsePlan:
    return fault_plan(fault, None, None)


def _chat_in_band_error(fault: Fault | None, answer_id: str) -> dict[str, Any]:
    code, message = fault_code_and_message(fault, "timeoutProvider", by_status=False)
    return {"errors": [error_item(code, message)]}


CHAT = ChatDialect(
    always_split=True,
    plain=True,
    fault_plan=_chat_fault_plan,
    in_band_error=_chat_in_band_error,
)


def _handle_chat(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    request_id = secrets.token_hex(16)
    if not chat_completions.bearer_ok(request.headers, state.api_key):
        return _unauthorized()
    if request.method != "POST":
        message = f"No route for {request.method} {request.path}."
        return errors_plan(404, [error_item("notFound", message)])
    body, problem = chat_completions.parse_body(request.body)
    if body is None or problem is not None:
        message = problem or "The body must be a JSON object."
        return errors_plan(400, [error_item("invalidParameter", message)])
    problem = chat_completions.validate_request(body, state)
    if problem is not None:
        return errors_plan(400, [error_item("invalidParameter", problem)])
    return chat_completions.answer(body, state, request_id, CHAT)
