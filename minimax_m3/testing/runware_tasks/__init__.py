"""Runware serving ``minimax:m3@0``: native tasks and its OpenAI-compatible API.

Paths::

    /runware/v1                    a JSON array of task objects (textInference, getResponse)
    /runware/v1/chat/completions   plain Chat Completions, reasoning in reasoning_content

Native answers are ``{"data": [...]}``; failures ``{"errors": [{"code", "message",
"parameter"?, "taskType"?, "taskUUID"?}]}`` with word codes such as ``invalidApiKey``.
A ``textInference`` task is delivered ``sync`` (one JSON body), ``stream`` (server-sent
events) or ``async`` (an acknowledgement now, the result through ``getResponse`` polls).
:mod:`.checks` refuses bad tasks and :mod:`.render` writes results; this module routes,
delivers and reports errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from minimax_m3.testing import chat_completions, plan
from minimax_m3.testing._common import DONE, bearer_ok, split_item, sse_data
from minimax_m3.testing.chat_completions import ChatDialect
from minimax_m3.testing.plan import ResponsePlan, SseStream
from minimax_m3.testing.prompt_cache import caller_of
from minimax_m3.testing.runware_tasks import checks, render
from minimax_m3.testing.runware_tasks.render import TEXT_TASK
from minimax_m3.testing.script import Fault, Reply
from minimax_m3.testing.state import RecordedRequest, ScriptState

PREFIX = "/runware/v1"
CHAT_PATH = PREFIX + "/chat/completions"
POLL_TASK = "getResponse"
AUTH_TASK = "authentication"
TRUNCATED_EVENT = b'data: {"taskUUID": "x", "del\n\n'

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


def error_item(
    code: int | str,
    message: str,
    *,
    parameter: str | None = None,
    task_type: str | None = None,
    task_uuid: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "message": message}
    optional = {"parameter": parameter, "taskType": task_type, "taskUUID": task_uuid}
    item.update({key: value for key, value in optional.items() if value is not None})
    return item


def errors_plan(status: int, items: Iterable[dict[str, Any]]) -> ResponsePlan:
    return plan.json_plan(status, {"errors": list(items)})


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
        by_class = "providerInternalError" if fault.status >= 500 else "invalidParameter"
        code = _CODE_BY_STATUS.get(fault.status, by_class)
    else:
        code = fallback
    message = fault.message or _CODE_MESSAGES.get(str(code), "The task failed.")
    return code, message


def fault_plan(fault: Fault, task_uuid: str | None, task_type: str | None) -> ResponsePlan:
    """A plain Fault in Runware's envelope, at its status (200 included)."""
    status = 200 if fault.base_resp_code is not None else fault.status
    code, message = fault_code_and_message(fault, "providerInternalError")
    item = error_item(code, message, task_type=task_type, task_uuid=task_uuid)
    return plan.plain_fault_plan(fault, fault.headers, status, {"errors": [item]})


def _invalid(problem: checks.Problem, task_uuid: str | None, task_type: str) -> ResponsePlan:
    code, message, parameter = problem
    item = error_item(code, message, parameter=parameter, task_type=task_type, task_uuid=task_uuid)
    return errors_plan(400, [item])


def _unauthorized() -> ResponsePlan:
    return errors_plan(401, [error_item("invalidApiKey", _CODE_MESSAGES["invalidApiKey"])])


def _no_route(request: RecordedRequest) -> ResponsePlan:
    message = f"No route for {request.method} {request.path}."
    return errors_plan(404, [error_item("notFound", message)])


def handle(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    """Answer one request under ``/runware/v1``."""
    path = request.path.rstrip("/")
    if path == CHAT_PATH:
        return _handle_chat(request, state)
    if path != PREFIX or request.method != "POST":
        return _no_route(request)
    return _handle_tasks(request, state)


def _handle_tasks(request: RecordedRequest, state: ScriptState) -> ResponsePlan:
    parsed = request.json
    tasks = parsed if isinstance(parsed, list) else None
    auth_keys = [
        task.get("apiKey")
        for task in tasks or []
        if isinstance(task, dict) and task.get("taskType") == AUTH_TASK
    ]
    authorized = bearer_ok(request.headers, state.api_key) or (
        state.api_key is not None and state.api_key in auth_keys
    )
    if not authorized:
        return _unauthorized()
    if request.body and parsed is None:
        return errors_plan(400, [error_item("invalidPayload", "The body is not valid JSON.")])
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
    invalid = checks.validate_task(task)
    if invalid is None and state.require_reasoning_replay:
        invalid = checks.check_reasoning_replay(task["messages"], state)
    if invalid is not None:
        uuid = task.get("taskUUID") if isinstance(task.get("taskUUID"), str) else None
        return _invalid(invalid, uuid, TEXT_TASK)
    return _answer(task, state)


def _built(reply: Reply, task: Mapping[str, Any], state: ScriptState) -> render.Result:
    """The answer to a task, with its tool calls remembered for the replay check."""
    result = render.Result.build(reply, task)
    if result.calls:
        state.remember_issued((call_id for call_id, _, _ in result.calls), result.issued)
    return result


def _answer(task: dict[str, Any], state: ScriptState) -> ResponsePlan:
    method = task.get("deliveryMethod", "sync")
    reply, fault = split_item(state.take(task), task["messages"])
    others = _other_replies(task, state)
    if method == "async":
        return _submit_async(task, state, reply, fault, others)
    if fault is not None and not fault.breaks_reply:
        return fault_plan(fault, str(task["taskUUID"]), TEXT_TASK)
    result = _built(reply, task, state)
    if method == "stream":
        return _stream_plan(result, task, reply, fault)
    return _sync_plan(result, task, reply, fault, state=state, others=others)


def _other_replies(task: dict[str, Any], state: ScriptState) -> list[Reply]:
    """With numberResults n, results 2..n take the next queued replies, one each, while
    any are queued (each result has its own seed, so its own answer); past the queue's
    end they repeat the first."""
    others: list[Reply] = []
    for _ in range(int(task.get("numberResults", 1)) - 1):
        if state.pending == 0:
            break
        reply, _fault = split_item(state.take(task), task["messages"])
        others.append(reply)
    return others


def _result_items(
    result: render.Result,
    task: Mapping[str, Any],
    reply: Reply,
    state: ScriptState,
    others: list[Reply],
) -> list[dict[str, Any]]:
    items = render.items(result, task, reply)
    single = {**task, "numberResults": 1}
    for index, other in enumerate(others, start=1):
        if index < len(items):
            item = render.items(_built(other, task, state), single, other)[0]
            items[index] = {**item, "resultIndex": index}
    return items


def _error_for(fault: Fault | None, task_uuid: str) -> dict[str, Any]:
    # An error inside an answer (mid-stream, or beside the data): a provider timeout
    # unless the fault names its code.
    code, message = fault_code_and_message(fault, "timeoutProvider", by_status=False)
    return error_item(code, message, task_type=TEXT_TASK, task_uuid=task_uuid)


def _sync_plan(
    result: render.Result,
    task: Mapping[str, Any],
    reply: Reply,
    fault: Fault | None,
    status: str | None = None,
    *,
    state: ScriptState | None = None,
    others: list[Reply] | None = None,
) -> ResponsePlan:
    items = (
        _result_items(result, task, reply, state, others)
        if state is not None and others
        else render.items(result, task, reply)
    )
    if status is not None:
        items = [{**item, "status": status} for item in items]
    # An error_after_events fault on a JSON body: the errors arrive alongside the data.
    error_body = {"data": items, "errors": [_error_for(fault, result.task_uuid)]}
    return plan.body_plan({"data": items}, error_body, fault, delay=reply.stream.delay)


def _stream_plan(
    result: render.Result, task: Mapping[str, Any], reply: Reply, fault: Fault | None
) -> ResponsePlan:
    events, final = render.stream_events(result, task, reply)
    stream = SseStream(
        events=events,
        closing=[final],
        done=DONE if reply.stream.send_done else None,
        error_event=sse_data({"errors": [_error_for(fault, result.task_uuid)]}),
        event_delay=reply.stream.event_delay,
        truncated_event=TRUNCATED_EVENT,
    )
    return plan.stream_plan(stream, fault, delay=reply.stream.delay)


def _submit_async(
    task: dict[str, Any],
    state: ScriptState,
    reply: Reply,
    fault: Fault | None,
    others: list[Reply] | None = None,
) -> ResponsePlan:
    """Acknowledge now; park the final poll's answer, decided by the scripted item."""
    task_uuid = str(task["taskUUID"])
    if fault is not None and not fault.breaks_reply:
        final = _async_fault_plan(fault, task_uuid)
    else:
        final = _sync_plan(
            _built(reply, task, state),
            task,
            reply,
            fault,
            status="success",
            state=state,
            others=others,
        )
    # A plain fault comes with the default reply, whose options are the defaults.
    state.park_task(task_uuid, final, reply.provider.poll_pending)
    ack = {"taskType": TEXT_TASK, "taskUUID": task_uuid, "status": "processing"}
    return plan.json_plan(200, {"data": [ack]})


def _async_fault_plan(fault: Fault, task_uuid: str) -> ResponsePlan:
    """The final poll of a failed async task: an error item, or (error_shape "error") an
    ``errors`` array, on HTTP 200."""
    code, message = fault_code_and_message(fault, "providerInternalError")
    if fault.error_shape == "error":
        item = error_item(code, message, task_type=TEXT_TASK, task_uuid=task_uuid)
        return plan.plain_fault_plan(fault, fault.headers, 200, {"errors": [item]})
    failed = {"taskUUID": task_uuid, "status": "error", "error": {"code": code, "message": message}}
    return plan.plain_fault_plan(fault, fault.headers, 200, {"data": [failed]})


def _poll(task: Mapping[str, Any], state: ScriptState) -> ResponsePlan:
    task_uuid = task.get("taskUUID")
    if not isinstance(task_uuid, str) or not task_uuid:
        return _invalid(checks.missing("taskUUID"), None, POLL_TASK)
    parked = state.poll_task(task_uuid)
    if parked is None:
        code = "taskFailedOrNotFound"
        item = error_item(code, _CODE_MESSAGES[code], task_type=POLL_TASK, task_uuid=task_uuid)
        return errors_plan(404, [item])
    if parked.pending_polls > 0:
        return plan.json_plan(200, {"data": [{"taskUUID": task_uuid, "status": "processing"}]})
    return parked.final


def _chat_fault_plan(fault: Fault, request_id: str, model: str) -> ResponsePlan:
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
    if not bearer_ok(request.headers, state.api_key):
        return _unauthorized()
    if request.method != "POST":
        return _no_route(request)
    body, problem = chat_completions.checks.parse_body(request.body)
    if body is None or problem is not None:
        message = problem or "The body must be a JSON object."
        return errors_plan(400, [error_item("invalidParameter", message)])
    problem = chat_completions.checks.validate_request(body, state)
    if problem is not None:
        return errors_plan(400, [error_item("invalidParameter", problem)])
    return chat_completions.answer(body, state, request_id, CHAT, caller=caller_of(request.headers))
