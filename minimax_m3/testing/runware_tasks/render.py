"""A Reply as Runware's ``textInference`` results: the ``data`` items of a JSON answer, or
the events of a streamed one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minimax_m3.testing._common import (
    estimate_usage,
    finish_reason,
    inline_reasoning,
    pieces,
    resolve_calls,
    sse_data,
    tool_input,
)
from minimax_m3.testing.prompt_cache import PromptCount, count_blocks, task_blocks
from minimax_m3.testing.script import Reply
from minimax_m3.testing.state import IssuedReasoning

TEXT_TASK = "textInference"
PING = b": ping\n\n"


@dataclass(frozen=True)
class Result:
    """A reply resolved against its task."""

    task_uuid: str
    text: str
    reasoning: str | None  # None: not split out
    # For the replay check: as sent, split out as it is or every character between the tags.
    issued: IssuedReasoning
    finish_reason: str
    calls: tuple[tuple[str, str, Any], ...]  # id, name, input
    usage: dict[str, int]
    cost: float

    @classmethod
    def build(cls, reply: Reply, task: Mapping[str, Any]) -> Result:
        settings = task.get("settings") or {}
        split = settings.get("splitThinking") is True and not reply.layout.think_tags
        calls = resolve_calls(reply, as_markup=reply.layout.xml_tool_calls)
        text, sent = calls.text, reply.reasoning
        if not split and reply.reasoning:
            block, sent = inline_reasoning(
                reply.reasoning, reply.layout.think_tag, reply.layout.omit_think_open
            )
            text = block + text
        # Runware's task docs give no cached count, so the native tasks report none.
        prompt = PromptCount(count_blocks(task_blocks(task)))
        usage = estimate_usage(reply, prompt, calls.made)
        estimate = round((usage.prompt * 0.3 + usage.completion * 1.2) / 1_000_000, 8)
        cost = reply.provider.cost
        return cls(
            task_uuid=str(task["taskUUID"]),
            text=text,
            reasoning=reply.reasoning if split else None,
            issued=IssuedReasoning(sent, inline=True, tag=reply.layout.think_tag),
            finish_reason=finish_reason(reply, calls.structured),
            calls=tuple((c.id, c.name, tool_input(c.arguments)) for c in calls.structured),
            usage={
                "promptTokens": usage.prompt,
                "completionTokens": usage.completion,
                "totalTokens": usage.prompt + usage.completion,
                "thinkingTokens": usage.reasoning,
            },
            cost=cost if cost is not None else estimate,
        )

    def closing_fields(self, task: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if task.get("includeUsage") is True:
            fields["usage"] = self.usage
        if task.get("includeCost") is True:
            fields["cost"] = self.cost
        server = [dict(entry) for entry in reply.provider.runware_server_tools]
        if self.calls or server:
            omit_id = reply.provider.omit_tool_call_ids
            fields[reply.provider.runware_tool_field] = server + [
                {**({} if omit_id else {"id": call_id}), "name": name, "input": value}
                for call_id, name, value in self.calls
            ]
        return fields


def items(result: Result, task: Mapping[str, Any], reply: Reply) -> list[dict[str, Any]]:
    """The ``data`` of a whole answer: one item, or one per ``numberResults``."""
    item: dict[str, Any] = {
        "taskType": TEXT_TASK,
        "taskUUID": result.task_uuid,
        "text": result.text,
        "finishReason": result.finish_reason,
    }
    if result.reasoning is not None:
        item["reasoningContent"] = result.reasoning
    item.update(result.closing_fields(task, reply))
    count = task.get("numberResults", 1)
    if count == 1:
        return [item]
    return [{**item, "resultIndex": index} for index in range(count)]


def stream_events(
    result: Result, task: Mapping[str, Any], reply: Reply
) -> tuple[list[bytes], bytes]:
    """The events of a streamed answer: reasoning deltas and text deltas, then the final
    event with the finish reason and what the task asked to include."""
    head = {"taskUUID": result.task_uuid, "taskType": TEXT_TASK}
    size = reply.stream.chunk_size
    events = [
        sse_data({**head, "delta": {"reasoningContent": piece}})
        for piece in pieces(result.reasoning or "", size)
    ]
    events += [
        sse_data({**head, "delta": {"text": piece}, "finishReason": None})
        for piece in pieces(result.text, size)
    ]
    # Keep-alive comments between some events; they are not events themselves.
    events = [PING + event if index % 4 == 1 else event for index, event in enumerate(events)]
    fields = result.closing_fields(task, reply)
    final = {**head, "delta": {}, "finishReason": result.finish_reason, **fields}
    return events, sse_data(final)
