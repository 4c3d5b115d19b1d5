"""Runware's native task API: one ``textInference`` task per call, POSTed as a JSON array.

Delivery is ``sync`` (the answer in the response), ``stream`` (SSE) or ``async`` (an
acknowledgement, then ``getResponse`` polls until the task is done). Answers come in
``{"data": [...]}`` and failures in ``{"errors": [...]}``, possibly both in one HTTP 200,
so everything is matched to our task by its ``taskUUID``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.errors import ProtocolError, error_from_payload
from minimax_m3.providers import ProviderProfile
from minimax_m3.sse import SSEEvent
from minimax_m3.types import (
    ChatRequest,
    Message,
    ReasoningFragment,
    ReasoningStart,
    ToolCall,
    ToolCallFragment,
    Usage,
    WireDelta,
)
from minimax_m3.wire import Poll
from minimax_m3.wire._common import anthropic_style_tool_choice, arguments_object, event_object

WIRE = "runware_tasks"
PROVIDER = "runware"
_TOOL_FIELDS = ("tools", "toolCalls", "tool_calls")
_TERMINAL_OK = ("success", "completed")
_FINISH = {"tool_use": "tool_calls"}


class RunwareTasksExchange:
    """One ``textInference`` task."""

    def __init__(self, request: ChatRequest, profile: ProviderProfile, stream: bool) -> None:
        self.task_uuid = str(uuid.uuid4())
        self.body = build_request_body(request, task_uuid=self.task_uuid, stream=stream)
        self.headers: dict[str, str] = {}
        self.reasoning_start: ReasoningStart = "outside"
        self._results = request.n
        self._polled = self.body[0]["deliveryMethod"] == "async"
        # Entries naming a built-in tool (not one of the request's own functions) are the
        # provider's work, kept apart so that no one runs "search" as a client tool.
        self._server_tools = ServerTools(
            builtin=profile.builtin_tool_types.get("runware_tasks", ()),
            functions=frozenset(spec.name for spec in request.tools),
        )

    def parse_response(self, payload: Any, *, request_id: str | None) -> list[WireDelta] | Poll:
        item = self._our_item(payload, request_id)
        status = item.get("status")
        if status == "error" or isinstance(item.get("error"), Mapping):
            raise _item_error(item, request_id)
        if _is_pending(item):
            return Poll([{"taskType": "getResponse", "taskUUID": self.task_uuid}])
        return [
            delta_from_item(
                item,
                request_id=request_id or self.task_uuid,
                server_tools=self._server_tools.fresh(),
            )
        ]

    def parse_results(
        self, payload: Any, *, request_id: str | None
    ) -> list[list[WireDelta]] | Poll:
        """Each result of a task that asked for ``numberResults`` of them, in index order.

        Polls return cumulative state, so the latest item of each ``resultIndex`` counts
        (Runware's Python SDK dedupes the same way); an async task is polled until every
        result is finished. A sync answer is taken as it came.
        """
        items = self._our_items(payload, request_id)
        latest: dict[int | None, dict[str, Any]] = {}
        for item in items:
            index = item.get("resultIndex")
            latest[index if isinstance(index, int) and not isinstance(index, bool) else None] = item
        if len(latest) > 1 and None in latest and _is_pending(latest[None]):
            del latest[None]  # the acknowledgement, or a status with no result in it
        for item in latest.values():
            if item.get("status") == "error" or isinstance(item.get("error"), Mapping):
                raise _item_error(item, request_id)
        pending = any(_is_pending(item) for item in latest.values())
        if pending or (self._polled and len(latest) < self._results):
            return Poll([{"taskType": "getResponse", "taskUUID": self.task_uuid}])
        ordered = sorted(latest.items(), key=lambda pair: -1 if pair[0] is None else pair[0])
        return [
            [
                delta_from_item(
                    item,
                    request_id=request_id or self.task_uuid,
                    server_tools=self._server_tools.fresh(),
                )
            ]
            for _, item in ordered
        ]

    def decode_stream_event(self, event: SSEEvent) -> WireDelta:
        if event.data == "[DONE]":
            return WireDelta(done=True)
        payload = event_object(event.data)
        error = error_from_payload(payload, provider=PROVIDER, request_id=self.task_uuid)
        if error is not None:
            raise error
        # Older deployments wrap each chunk as {"data": {...}}.
        if isinstance(payload.get("data"), dict):
            payload = payload["data"]
        out = WireDelta()
        delta = payload.get("delta")
        if isinstance(delta, dict):
            text = delta.get("text")
            if isinstance(text, str) and text:
                out.content = text
            reasoning = _reasoning_text(delta.get("reasoningContent"))
            if reasoning:
                out.reasoning = [ReasoningFragment(text=reasoning, wire=WIRE)]
            calls = _tool_calls(delta, self._server_tools)
            if calls:
                out.tool_calls = _fragments(calls)
        calls = _tool_calls(payload, self._server_tools)
        if calls:
            out.tool_calls = (out.tool_calls or []) + _fragments(calls)
        finish = payload.get("finishReason")
        if isinstance(finish, str) and finish:
            out.finish_reason = _FINISH.get(finish, finish)
        usage = parse_usage(payload.get("usage"))
        if usage is not None:
            out.usage = usage
        cost = cost_from(payload)
        if cost is not None:
            out.metadata = {"cost": cost}
        if self._server_tools.seen_new():
            out.metadata = {**(out.metadata or {}), **self._server_tools.metadata()}
        return out

    def _our_item(self, payload: Any, request_id: str | None) -> dict[str, Any]:
        return self._our_items(payload, request_id)[-1]

    def _our_items(self, payload: Any, request_id: str | None) -> list[dict[str, Any]]:
        if not isinstance(payload, dict):
            raise ProtocolError(
                f"expected a JSON object, got {type(payload).__name__}", request_id=request_id
            )
        data = payload.get("data")
        items = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
        ours = [item for item in items if item.get("taskUUID") in (None, self.task_uuid)]
        errors = payload.get("errors")
        if isinstance(errors, list):
            # Errors for other tasks of the same request are not ours to raise.
            for error in errors:
                if isinstance(error, dict) and error.get("taskUUID") in (None, self.task_uuid):
                    failure = error_from_payload(
                        {"errors": [error]}, request_id=request_id, provider=PROVIDER
                    )
                    if failure is not None:
                        raise failure
        if not ours:
            raise ProtocolError(
                f"no result for task {self.task_uuid} in the response",
                request_id=request_id,
                body=payload,
            )
        return ours


def _is_pending(item: Mapping[str, Any]) -> bool:
    status = item.get("status")
    if isinstance(status, str) and status in _TERMINAL_OK:
        return False
    has_output = isinstance(item.get("text"), str) or any(
        isinstance(item.get(field), list) for field in _TOOL_FIELDS
    )
    return not has_output


def _item_error(item: Mapping[str, Any], request_id: str | None) -> Exception:
    error = item.get("error")
    payload = {"errors": [error]} if isinstance(error, Mapping) else {"error": "task failed"}
    return error_from_payload(payload, request_id=request_id, provider=PROVIDER) or ProtocolError(
        "task failed", request_id=request_id, body=dict(item)
    )


# Request


def build_request_body(
    request: ChatRequest, *, task_uuid: str, stream: bool
) -> list[dict[str, Any]]:
    system, messages = messages_to_runware(request.messages)
    # splitThinking is what makes Runware return reasoningContent apart from the text.
    settings: dict[str, Any] = {"splitThinking": True}
    if system:
        settings["systemPrompt"] = system
    if request.temperature is not None:
        settings["temperature"] = request.temperature
    if request.top_p is not None:
        settings["topP"] = request.top_p
    if request.max_tokens is not None:
        settings["maxTokens"] = request.max_tokens
    task: dict[str, Any] = {
        "taskType": "textInference",
        "taskUUID": task_uuid,
        "model": request.model,
        "deliveryMethod": "stream" if stream else request.delivery_method or "sync",
        "messages": messages,
        "settings": settings,
        "includeUsage": True,
        # The task's price in USD comes back as "cost" only when asked (seed 003);
        # extra_body={"includeCost": False} merges over this to leave it out.
        "includeCost": True,
    }
    if request.tools or request.builtin_tools:
        task["tools"] = [
            {
                "type": "function",
                "name": s.name,
                "description": s.description,
                "schema": dict(s.parameters),
            }
            for s in request.tools
        ]
        # Seed 003: built-in tools go in the same list, by type alone; Runware runs them.
        task["tools"].extend({"type": tool.type} for tool in request.builtin_tools)
        if request.tool_choice is not None:
            task["toolChoice"] = anthropic_style_tool_choice(request.tool_choice)
    if request.n != 1:
        task["numberResults"] = request.n
    if request.webhook_url is not None:
        task["webhookURL"] = request.webhook_url
    if request.extra_body:
        # e.g. {"includeCost": True} or {"deliveryMethod": "async"}
        task.update(request.extra_body)
        if stream:
            task["deliveryMethod"] = "stream"
    return [task]


def messages_to_runware(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Neutral messages as ``(systemPrompt, messages)`` in Runware's shapes."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system.append(message.text)
        elif message.role == "tool":
            out.append({"role": "tool", "id": message.tool_call_id, "content": message.text})
        elif message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant"}
            content = _assistant_content(message)
            if content:
                entry["content"] = content
            if message.tool_calls:
                entry["tools"] = [
                    {"id": call.id, "name": call.name, "input": arguments_object(call)}
                    for call in message.tool_calls
                ]
            out.append(entry)
        else:
            out.append({"role": "user", "content": message.text})
    return "\n\n".join(system), out


def _assistant_content(message: Message) -> str:
    # The task's messages carry no reasoning field; MiniMax's own way to keep reasoning
    # in a plain-text history is the <think> block at the start of the content. The
    # reasoning goes in byte for byte (inline reasoning keeps its own line breaks).
    reasoning = "".join(segment.text for segment in message.reasoning)
    if reasoning:
        return f"<think>{reasoning}</think>\n\n{message.text}"
    return message.text


# Response


class ServerTools:
    """The built-in tools' activity one answer reported, in the order it arrived.

    How Runware reports what search and codeInterpreter did is UNKNOWN (no sample exists;
    reference B.5 says tool calls come as ``tools``, ``toolCalls`` or ``tool_calls``
    entries), so an entry is taken for the provider's own when its ``type`` or ``name`` is
    a built-in tool's and no function of the request has that name.
    """

    def __init__(self, builtin: Sequence[str], functions: frozenset[str]) -> None:
        self.builtin = frozenset(builtin)
        self.functions = functions
        self.entries: list[dict[str, Any]] = []
        self._reported = 0

    def fresh(self) -> ServerTools:
        """An empty record with the same rules, for another result of the same task."""
        return ServerTools(tuple(self.builtin), self.functions)

    def claims(self, entry: Any) -> bool:
        """Whether ``entry`` is the provider's tool activity; if so it is recorded."""
        if not isinstance(entry, dict):
            return False
        function = entry.get("function")
        name = entry.get("name") or (function.get("name") if isinstance(function, dict) else None)
        if name in self.functions:
            return False
        if entry.get("type") in self.builtin or name in self.builtin:
            self.entries.append(dict(entry))
            return True
        return False

    def seen_new(self) -> bool:
        new = len(self.entries) > self._reported
        self._reported = len(self.entries)
        return new

    def metadata(self) -> dict[str, Any]:
        # Cumulative: a stream's later metadata replaces the earlier under the same key.
        return {"server_tool_calls": list(self.entries)} if self.entries else {}


def delta_from_item(
    item: Mapping[str, Any],
    *,
    request_id: str | None,
    server_tools: ServerTools | None = None,
) -> WireDelta:
    """A finished task's result as the one delta it holds."""
    raw_text = item.get("text")
    reasoning_text = _reasoning_text(item.get("reasoningContent"))
    finish = item.get("finishReason")
    metadata: dict[str, Any] = {"task_uuid": item.get("taskUUID")}
    cost = cost_from(item)
    if cost is not None:
        metadata["cost"] = cost
    calls = _tool_calls(item, server_tools)
    if server_tools is not None:
        metadata.update(server_tools.metadata())
    return WireDelta(
        content=raw_text if isinstance(raw_text, str) and raw_text else None,
        reasoning=[ReasoningFragment(text=reasoning_text, wire=WIRE)] if reasoning_text else None,
        tool_calls=_fragments(calls) if calls else None,
        finish_reason=_FINISH.get(finish, finish) if isinstance(finish, str) and finish else None,
        usage=parse_usage(item.get("usage")),
        model=item.get("model") if isinstance(item.get("model"), str) else None,
        response_id=item.get("taskUUID") if isinstance(item.get("taskUUID"), str) else None,
        request_id=request_id,
        metadata=metadata,
    )


def cost_from(item: Mapping[str, Any]) -> float | None:
    """The task's ``cost`` in USD as a float; None when absent or not a number."""
    value = item.get("cost")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _reasoning_text(value: Any) -> str:
    # Typed as a string for M3, as a list of strings by older SDKs.
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def _tool_calls(
    container: Mapping[str, Any], server_tools: ServerTools | None = None
) -> list[ToolCall]:
    for field in _TOOL_FIELDS:
        raw = container.get(field)
        if isinstance(raw, list):
            ours = [item for item in raw if server_tools is None or not server_tools.claims(item)]
            return [call for call in (_tool_call(item, i) for i, item in enumerate(ours)) if call]
    return []


def _tool_call(item: Any, position: int) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    raw_function = item.get("function")
    function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
    name = item.get("name") or function.get("name")
    if not isinstance(name, str) or not name:
        return None
    arguments: Any = item.get("input", item.get("arguments", function.get("arguments", {})))
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)
    call_id = item.get("id")
    return ToolCall(
        # No id: left empty, for the stream state to name the call once.
        id=call_id if isinstance(call_id, str) and call_id else "",
        name=name,
        arguments=arguments,
    )


def _fragments(calls: list[ToolCall]) -> list[ToolCallFragment]:
    return [
        ToolCallFragment(index=i, id=c.id, name=c.name, arguments=c.arguments)
        for i, c in enumerate(calls)
    ]


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None

    def number(*keys: str) -> int | None:
        for key in keys:
            value = raw.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None

    prompt = number("promptTokens", "inputTokens") or 0
    completion = number("completionTokens", "outputTokens") or 0
    total = number("totalTokens")
    details = raw.get("completionTokensDetails")
    reasoning = number("thinkingTokens")
    if reasoning is None and isinstance(details, dict):
        value = details.get("reasoningTokens")
        reasoning = value if isinstance(value, int) else None
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=total if total is not None else prompt + completion,
        reasoning_tokens=reasoning,
    )
