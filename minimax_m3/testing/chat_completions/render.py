"""A Reply as Chat Completions bodies and stream chunks: MiniMax's own shape, mirroring
captured responses with the fields OpenAI lacks, or plain OpenAI for self-hosted servers
and providers that strip MiniMax's extras."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minimax_m3.testing._common import (
    Call,
    Usage,
    estimate_usage,
    finish_reason,
    inline_reasoning,
    pieces,
    resolve_calls,
)
from minimax_m3.testing.chat_completions.checks import markup_key
from minimax_m3.testing.prompt_cache import PromptCount, chat_blocks, count_blocks
from minimax_m3.testing.script import Reply
from minimax_m3.testing.state import IssuedReasoning

SPEAKER = "MiniMax AI"
SENSITIVITY = {
    "input_sensitive": False,
    "output_sensitive": False,
    "input_sensitive_type": 0,
    "output_sensitive_type": 0,
    "output_sensitive_int": 0,
}
# Where the parsers of self-hosted servers put the reasoning they split out.
_SERVER_REASONING_FIELDS = {"vllm": "reasoning", "sglang": "reasoning_content"}


@dataclass(frozen=True)
class Answer:
    """A reply resolved against its request: ids, final content, usage."""

    id: str
    created: int
    model: str
    reasoning: str
    content: str
    inline: bool
    tool_calls: tuple[Call, ...]
    finish_reason: str
    usage: Usage
    # The reasoning exactly as sent (inline: every character between the tags).
    issued: IssuedReasoning
    # content is only the "\n" MiniMax sends on a tool-call turn without text
    filler: bool = False
    # The field structured reasoning goes in (None: the reply's own choice).
    reasoning_field: str | None = None
    # The content deltas exactly, when the reply gave them.
    chunks: tuple[str, ...] | None = None
    # For the replay check: the keys of the calls made (structured or as markup).
    issued_calls: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        reply: Reply,
        body: Mapping[str, Any],
        request_id: str,
        *,
        always_split: bool = False,
        default_model: str | None = None,
        prompt: PromptCount | None = None,
    ) -> Answer:
        server, layout = reply.provider.server, reply.layout
        raw = server == "raw"
        as_markup = layout.xml_tool_calls or raw
        calls = resolve_calls(
            reply, as_markup=as_markup, markup=layout.tool_markup or ("m3" if raw else "m2")
        )
        visible = calls.text
        if raw:
            # No parsers: the model's output as it is. M3 writes <mm:think> with no line
            # breaks; the template wrote the opener itself for thinking_mode "enabled".
            mode = _thinking_mode(body)
            reasoning = "" if mode == "disabled" else reply.reasoning
            tag = _self_hosted_tag(reply, body)
            content = visible
            if reasoning or mode == "enabled":
                opener = "" if mode == "enabled" or layout.omit_think_open else f"<{tag}>"
                content = f"{opener}{reasoning}</{tag}>{visible}"
            inline, issued = True, reasoning
        else:
            # Without reasoning_split the real API inlines the thinking in content; the
            # parsers of self-hosted servers split it.
            split = always_split or server != "minimax" or body.get("reasoning_split") is True
            inline = layout.think_tags or not split
            tag = layout.think_tag if server == "minimax" else _self_hosted_tag(reply, body)
            issued = reply.reasoning
            content = visible or ("\n" if calls.structured else "")
            if inline and reply.reasoning:
                block, issued = inline_reasoning(reply.reasoning, tag, layout.omit_think_open)
                content = block + visible
        chunks = reply.raw_chunks
        if chunks is not None:
            content = "".join(chunks)
        issued_calls = (
            ()
            if chunks is not None
            else tuple(markup_key(call.name) if as_markup else call.id for call in calls.made)
        )
        return cls(
            id=request_id,
            created=int(time.time()),
            model=reply.model or default_model or str(body["model"]),
            reasoning="" if inline else reply.reasoning,
            content=content,
            inline=inline,
            tool_calls=calls.structured,
            finish_reason=finish_reason(reply, calls.structured),
            usage=estimate_usage(
                reply, prompt or PromptCount(count_blocks(chat_blocks(body))), calls.made
            ),
            filler=content == "\n" and bool(calls.structured) and not visible,
            reasoning_field=_SERVER_REASONING_FIELDS.get(server),
            chunks=chunks,
            issued_calls=issued_calls,
            issued=IssuedReasoning(issued, inline=inline, tag=tag, self_hosted=server != "minimax"),
        )


def _self_hosted_tag(reply: Reply, body: Mapping[str, Any]) -> str:
    """The reasoning tag a self-hosted model writes and its template reads back: M3's
    <mm:think>, <think> for an M2 model, or the one the reply names."""
    if reply.layout.think_tag != "think":
        return reply.layout.think_tag
    return "think" if "m2" in str(body.get("model", "")).lower() else "mm:think"


def _thinking_mode(body: Mapping[str, Any]) -> str | None:
    kwargs = body.get("chat_template_kwargs")
    mode = kwargs.get("thinking_mode") if isinstance(kwargs, Mapping) else None
    return mode if isinstance(mode, str) else None


def minimax_usage(usage: Usage) -> dict[str, Any]:
    return {
        "total_tokens": usage.prompt + usage.completion,
        "total_characters": 0,
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "prompt_tokens_details": {"cached_tokens": usage.cached},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning},
    }


def _plain_usage(usage: Usage) -> dict[str, Any]:
    minimax = minimax_usage(usage)
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    details = ("prompt_tokens_details", "completion_tokens_details")
    return {key: minimax[key] for key in (*keys, *details)}


def _reasoning_fields(field: str, text: str) -> dict[str, Any]:
    if field != "reasoning_details":
        return {field: text}
    detail = {
        "type": "reasoning.text",
        "id": "reasoning-text-1",
        "format": "MiniMax-response-v1",
        "index": 0,
        "text": text,
    }
    return {"reasoning_details": [detail]}


def base_resp_body(
    response_id: str, model: str, code: int | str, message: str, kind: str
) -> dict[str, Any]:
    """A failure reported on HTTP 200: no choices, the code in ``base_resp``."""
    return {
        "id": response_id,
        "choices": [],
        "created": int(time.time()),
        "model": model,
        "object": kind,
        "usage": None,
        **SENSITIVITY,
        "base_resp": {"status_code": code, "status_msg": message},
    }


def render_completion(answer: Answer, reply: Reply) -> dict[str, Any]:
    """The non-streamed body, shaped like MiniMax's captured responses."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.content,
        "name": SPEAKER,
        "audio_content": "",
    }
    field_name = reply.layout.reasoning_field
    if not answer.inline:
        if field_name is None:
            message["reasoning_content"] = answer.reasoning
            if answer.reasoning:
                message.update(_reasoning_fields("reasoning_details", answer.reasoning))
        elif answer.reasoning:
            message.update(_reasoning_fields(field_name, answer.reasoning))
    if answer.tool_calls:
        message["tool_calls"] = _message_tool_calls(answer, reply, with_index=True)
    return {
        "id": answer.id,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "created": answer.created,
        "model": answer.model,
        "object": "chat.completion",
        "usage": minimax_usage(answer.usage),
        "input_sensitive": False,
        "output_sensitive": False,
        "base_resp": {"status_code": 0, "status_msg": ""},
        "input_sensitive_type": 0,
        "output_sensitive_type": 0,
        "output_sensitive_int": 0,
    }


def render_plain_completion(answer: Answer, reply: Reply) -> dict[str, Any]:
    """A plain OpenAI body: no MiniMax extras, reasoning in ``reasoning_content``."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if answer.filler else answer.content,
    }
    if answer.reasoning:
        message.update(_reasoning_fields(_plain_reasoning_field(answer, reply), answer.reasoning))
    if answer.tool_calls:
        message["tool_calls"] = _message_tool_calls(answer, reply, with_index=False)
    return {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": _plain_usage(answer.usage),
    }


def _plain_reasoning_field(answer: Answer, reply: Reply) -> str:
    return reply.layout.reasoning_field or answer.reasoning_field or "reasoning_content"


def _message_tool_calls(answer: Answer, reply: Reply, with_index: bool) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for index, call in enumerate(answer.tool_calls):
        item: dict[str, Any] = {} if reply.provider.omit_tool_call_ids else {"id": call.id}
        item["type"] = "function"
        item["function"] = {"name": call.name, "arguments": call.arguments}
        calls.append({**item, "index": index} if with_index else item)
    return calls


def delta_chunks(answer: Answer, reply: Reply, plain: bool) -> list[dict[str, Any]]:
    """The chunks before the finish: MiniMax's with the role and speaker on every delta,
    plain OpenAI ones with the role on the first only."""
    if plain:
        content = "" if answer.filler else answer.content
        field_name = _plain_reasoning_field(answer, reply)
        deltas = _deltas(answer, reply, field_name, content) or [{"content": ""}]
        deltas[0] = {"role": "assistant", **deltas[0]}
        return [_chunk(answer, {"delta": delta, "finish_reason": None}, {}) for delta in deltas]
    role = "" if reply.stream.empty_role else "assistant"
    speaker = {"role": role, "name": SPEAKER, "audio_content": ""}
    field_name = reply.layout.reasoning_field or "reasoning_details"
    extra = {"usage": None, **SENSITIVITY}
    return [
        _chunk(answer, {"delta": {**delta, **speaker}}, extra)
        for delta in _deltas(answer, reply, field_name, answer.content)
    ]


def closing_chunks(answer: Answer, include_usage: bool, plain: bool) -> list[dict[str, Any]]:
    """The finish chunk, then the usage chunk when the request asked for it."""
    finish: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    usage = _plain_usage(answer.usage)
    if not plain:
        finish = {"role": "assistant", "name": SPEAKER, "audio_content": ""}
        extra, usage = {"usage": None, **SENSITIVITY}, minimax_usage(answer.usage)
    closing = [_chunk(answer, {"delta": finish, "finish_reason": answer.finish_reason}, extra)]
    if include_usage:
        closing.append(_chunk(answer, None, {**extra, "usage": usage}))
    return closing


def _chunk(answer: Answer, choice: dict[str, Any] | None, extra: dict[str, Any]) -> dict[str, Any]:
    """One chunk with ``choice`` as its only choice (None: no choices)."""
    choices = [] if choice is None else [{"index": 0, **choice}]
    return {
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": answer.created,
        "model": answer.model,
        "choices": choices,
        **extra,
    }


def _deltas(answer: Answer, reply: Reply, field_name: str, content: str) -> list[dict[str, Any]]:
    """The fields of each delta: reasoning, then content, then tool-call fragments."""
    shape = reply.stream
    cumulative = shape.reasoning_mode == "cumulative"
    deltas = [
        _reasoning_fields(field_name, piece)
        for piece in pieces(answer.reasoning, shape.chunk_size, cumulative)
    ]
    deltas += [{"content": piece} for piece in answer.chunks or pieces(content, shape.chunk_size)]
    deltas += [{"tool_calls": [fragment]} for fragment in _tool_fragments(answer, reply)]
    return deltas


def _tool_fragments(answer: Answer, reply: Reply) -> list[dict[str, Any]]:
    shape = reply.stream
    groups = [
        _call_fragments(index, call, shape.tool_args_chunk, shape.split_tool_name)
        for index, call in enumerate(answer.tool_calls)
    ]
    if shape.interleave_tool_calls:
        longest = max((len(group) for group in groups), default=0)
        ordered = [group[i] for i in range(longest) for group in groups if i < len(group)]
    else:
        ordered = [item for group in groups for item in group]
    if reply.provider.omit_tool_call_ids:
        ordered = [{k: v for k, v in item.items() if k != "id"} for item in ordered]
    return ordered


def _call_fragments(index: int, call: Call, size: int, split_name: bool) -> list[dict[str, Any]]:
    # The id and type travel only with a call's first fragment, as on the real API.
    names = [call.name]
    if split_name and len(call.name) > 1:
        half = len(call.name) // 2
        names = [call.name[:half], call.name[half:]]
    first = {"index": index, "id": call.id, "type": "function"}
    fragments: list[dict[str, Any]] = [{**first, "function": {"name": names[0], "arguments": ""}}]
    fragments += [
        {"index": index, "function": {"name": name, "arguments": ""}} for name in names[1:]
    ]
    fragments += [
        {"index": index, "function": {"arguments": piece}} for piece in pieces(call.arguments, size)
    ]
    return fragments
