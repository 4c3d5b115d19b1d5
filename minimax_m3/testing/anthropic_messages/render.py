"""A Reply as an Anthropic message: the whole body, or its stream of content-block events."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from minimax_m3.testing._common import (
    Call,
    Usage,
    estimate_usage,
    finish_reason,
    pieces,
    resolve_calls,
    sse_event,
    tool_input,
)
from minimax_m3.testing.prompt_cache import PromptCount, count_blocks, messages_blocks
from minimax_m3.testing.script import Reply

_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def thinking_on(body: Mapping[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


@dataclass(frozen=True)
class Message:
    """A reply resolved against its request."""

    id: str
    model: str
    thinking: str
    signature: str
    text: str
    text_block: bool
    tool_calls: tuple[Call, ...]
    stop_reason: str
    usage: dict[str, int]

    @classmethod
    def build(
        cls,
        reply: Reply,
        body: Mapping[str, Any],
        default_model: str | None,
        prompt: PromptCount | None = None,
    ) -> Message:
        calls = resolve_calls(reply, as_markup=reply.layout.xml_tool_calls)
        finish = finish_reason(reply, calls.structured)
        prompt = prompt or PromptCount(count_blocks(messages_blocks(body)))
        usage = estimate_usage(reply, prompt, calls.made)
        signature = reply.provider.signature
        return cls(
            id=f"msg_{secrets.token_hex(12)}",
            model=reply.model or default_model or str(body["model"]),
            thinking=reply.reasoning if thinking_on(body) else "",
            signature=signature if signature is not None else secrets.token_hex(32),
            text=calls.text,
            text_block=bool(calls.text) or not calls.structured,
            tool_calls=calls.structured,
            stop_reason=_STOP_REASONS.get(finish, finish),
            usage=usage_block(_uncached(reply, usage), usage.completion, usage.cached),
        )


def _uncached(reply: Reply, usage: Usage) -> int:
    """``input_tokens``: Anthropic counts it without the part read from the cache; a
    scripted ``prompt_tokens`` is sent as given."""
    if reply.usage is not None and "prompt_tokens" in reply.usage:
        return usage.prompt
    return usage.prompt - usage.cached


def usage_block(prompt: int, completion: int, cached: int) -> dict[str, int]:
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def render_message(message: Message, base_resp: bool) -> dict[str, Any]:
    """The non-streamed body; ``base_resp`` adds MiniMax's success marker."""
    content: list[dict[str, Any]] = []
    if message.thinking:
        content.append(
            {"type": "thinking", "thinking": message.thinking, "signature": message.signature}
        )
    if message.text_block:
        content.append({"type": "text", "text": message.text})
    content += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)}
        for call in message.tool_calls
    ]
    body = message_body(message.id, message.model, content, message.stop_reason, message.usage)
    if base_resp:
        body["base_resp"] = {"status_code": 0, "status_msg": ""}
    return body


def message_body(
    message_id: str, model: str, content: list[Any], stop_reason: str | None, usage: Any
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def closing_events(message: Message) -> list[bytes]:
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": message.stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": message.usage["output_tokens"]},
    }
    return [sse_event("message_delta", delta), sse_event("message_stop", {"type": "message_stop"})]


def block_events(message: Message, reply: Reply) -> Iterator[bytes]:
    """message_start, ping, then start/deltas/stop for each content block in order."""
    start_usage = {**message.usage, "output_tokens": 0, "service_tier": "standard"}
    start = message_body(message.id, message.model, [], None, start_usage)
    yield sse_event("message_start", {"type": "message_start", "message": start})
    yield sse_event("ping", {"type": "ping"})
    shape = reply.stream
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if message.thinking:
        cumulative = shape.reasoning_mode == "cumulative"
        thoughts = pieces(message.thinking, shape.chunk_size, cumulative)
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in thoughts]
        deltas.append({"type": "signature_delta", "signature": message.signature})
        blocks.append(({"type": "thinking", "thinking": "", "signature": ""}, deltas))
    if message.text_block:
        texts = pieces(message.text, shape.chunk_size)
        deltas = [{"type": "text_delta", "text": piece} for piece in texts]
        blocks.append(({"type": "text", "text": ""}, deltas))
    for call in message.tool_calls:
        start = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        if reply.provider.tool_input_whole:
            blocks.append(({**start, "input": tool_input(call.arguments)}, []))
        else:
            fragments = pieces(call.arguments, shape.tool_args_chunk)
            deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in fragments]
            blocks.append((start, deltas))
    for index, (block, deltas) in enumerate(blocks):
        yield from _block(index, block, deltas)


def _block(index: int, start: dict[str, Any], deltas: Sequence[dict[str, Any]]) -> Iterator[bytes]:
    yield sse_event(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    for delta in deltas:
        yield sse_event(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        )
    yield sse_event("content_block_stop", {"type": "content_block_stop", "index": index})
