"""The Anthropic Messages wire format, as MiniMax (``/anthropic/v1/messages``) and
Cloudflare (``/ai/v1/messages``) serve M3.

Thinking blocks come with a signature and go back verbatim; tool calls are ``tool_use``
blocks answered by ``tool_result`` blocks in the next user turn.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from minimax_m3.errors import ProtocolError, error_from_payload
from minimax_m3.models import default_max_tokens, takes_thinking_switch
from minimax_m3.providers import ProviderProfile
from minimax_m3.sse import SSEEvent
from minimax_m3.types import (
    KEEP_ALIVE,
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningFragment,
    ReasoningStart,
    TextPart,
    ToolCallFragment,
    ToolSpec,
    Usage,
    WireDelta,
)
from minimax_m3.wire._common import (
    answer_object,
    anthropic_style_tool_choice,
    arguments_object,
    event_object,
    text_or_none,
)

WIRE = "anthropic_messages"
ANTHROPIC_VERSION = "2023-06-01"
# Every request of the format carries these (count_tokens too).
FORMAT_HEADERS = {"anthropic-version": ANTHROPIC_VERSION}


# Anthropic stop reasons in the vocabulary the rest of the package uses.
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}
_THINKING_FIELDS = {"type": "thinking"}


class AnthropicMessagesExchange:
    """One call in the Anthropic Messages format."""

    def __init__(self, request: ChatRequest, profile: ProviderProfile, stream: bool) -> None:
        self.body = build_request_body(
            request, stream=stream, system_blocks=profile.anthropic_system_blocks
        )
        self.headers = FORMAT_HEADERS
        self._input_usage: dict[str, int] = {}
        self._provider = profile.name
        self.reasoning_start: ReasoningStart = "outside"

    def parse_response(self, payload: Any, *, request_id: str | None) -> list[WireDelta]:
        return parse_response(payload, request_id=request_id, provider=self._provider)

    def decode_stream_event(self, event: SSEEvent) -> WireDelta:
        payload = event_object(event.data)
        kind = payload.get("type") or event.event
        if kind == "error" or event.event == "error":
            error = error_from_payload(payload, provider=self._provider)
            raise error or ProtocolError(f"stream error event: {event.data[:200]!r}")
        if kind == "message_start":
            message = payload.get("message")
            if not isinstance(message, dict):
                return WireDelta()
            self._input_usage = _usage_numbers(message.get("usage"))
            return WireDelta(
                response_id=text_or_none(message.get("id")),
                model=text_or_none(message.get("model")),
                usage=_usage(self._input_usage),
            )
        if kind == "content_block_start":
            return _block_start(payload)
        if kind == "content_block_delta":
            return _block_delta(payload)
        if kind == "message_delta":
            delta = payload.get("delta")
            stop = delta.get("stop_reason") if isinstance(delta, dict) else None
            numbers = {**self._input_usage, **_usage_numbers(payload.get("usage"))}
            return WireDelta(
                finish_reason=_finish(stop),
                usage=_usage(numbers) if numbers else None,
                metadata={"stop_reason": stop} if stop else None,
            )
        if kind == "message_stop":
            return WireDelta(done=True)
        if kind == "ping":
            return KEEP_ALIVE
        # ping, content_block_stop and event types added later carry nothing we need.
        return WireDelta()


# Request


def max_tokens_sent(model: str, max_tokens: int | None) -> int:
    """The output cap a request goes with: its own, or the model's default (the format
    requires one, unlike Chat Completions)."""
    return max_tokens if max_tokens is not None else default_max_tokens(model)


def build_request_body(
    request: ChatRequest, *, stream: bool, system_blocks: bool = True
) -> dict[str, Any]:
    """The body of one call. Cache markers go on the blocks they follow; where ``system``
    must be a string (``system_blocks`` False), a marker on it cannot travel, and the
    next marker in the messages covers the system prompt as part of its prefix."""
    system, messages = messages_to_anthropic(request.messages, system_blocks=system_blocks)
    body: dict[str, Any] = {
        "model": request.model,
        # Messages requires max_tokens.
        "max_tokens": max_tokens_sent(request.model, request.max_tokens),
        "messages": messages,
    }
    if system:
        body["system"] = system
    if takes_thinking_switch(request.model):
        # The Anthropic endpoint's default is no thinking, unlike Chat Completions: say so
        # explicitly, so M3 thinks the same way on both formats.
        body["thinking"] = {"type": request.thinking or "adaptive"}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.tools:
        specs = list(request.tools)
        choice = request.tool_choice
        if isinstance(choice, NamedToolChoice):
            # Offer the named tool alone as well: MiniMax documents only auto and none.
            specs = [spec for spec in specs if spec.name == choice.name]
        body["tools"] = [tool_spec_to_anthropic(spec) for spec in specs]
        if choice is not None:
            body["tool_choice"] = anthropic_style_tool_choice(choice)
    _add_options(body, request)
    if stream:
        body["stream"] = True
    if request.extra_body:
        body.update(request.extra_body)
    return body


def _add_options(body: dict[str, Any], request: ChatRequest) -> None:
    """The options only some providers take, where validation let them through."""
    if request.top_k is not None:
        body["top_k"] = request.top_k
    if request.user_id is not None:
        body["metadata"] = {"user_id": request.user_id}
    if request.service_tier is not None:
        body["service_tier"] = request.service_tier


# What count_tokens takes, as Anthropic's does: the prompt alone. It refuses what only a
# reply needs, and extra_body fields meant for a chat call (top_k, mask_sensitive_info).
_COUNTED = ("model", "messages", "system", "tools", "tool_choice", "thinking")


def count_tokens_body(request: ChatRequest) -> dict[str, Any]:
    """The body of ``/v1/messages/count_tokens``: the request's prompt, tools and thinking."""
    body = build_request_body(request, stream=False)
    return {key: body[key] for key in _COUNTED if key in body}


def input_tokens_from(payload: Any, *, request_id: str | None, provider: str) -> int:
    """The count in a ``count_tokens`` answer, ``{"input_tokens": N}``."""
    answer = answer_object(payload, request_id=request_id, provider=provider)
    count = answer.get("input_tokens")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ProtocolError(
            "token count answer has no input_tokens that is a whole number of 0 or more",
            request_id=request_id,
            body=answer,
        )
    return count


def tool_spec_to_anthropic(spec: ToolSpec) -> dict[str, Any]:
    tool: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "input_schema": dict(spec.parameters),
    }
    if spec.cache_control is not None:
        tool["cache_control"] = dict(spec.cache_control)
    return tool


def messages_to_anthropic(
    messages: Sequence[Message], *, system_blocks: bool = True
) -> tuple[str | list[dict[str, Any]], list[dict[str, Any]]]:
    """Neutral messages as ``(system, messages)``; tool results become user turns.

    The system prompt is one string, unless a part of it carries a cache marker: then it
    is a list of text blocks, the form in which a marker can go with it.
    """
    system_moved = False
    system: list[Message] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if out and not system_moved:
                system_moved = True
                warnings.warn(
                    "a system message after the conversation began goes into the "
                    "Anthropic format's one system prompt, ahead of every turn; the "
                    "Chat Completions format (api='chat_completions') keeps it in place",
                    UserWarning,
                    stacklevel=2,
                )
            system.append(message)
        elif message.role == "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.text,
            }
            marker = _marker_of(message.content)
            if marker is not None:
                # On the tool_result block itself, as ChatAnthropic puts it: Anthropic
                # documents the marker on the result, not on blocks inside it.
                block["cache_control"] = marker
            previous = out[-1] if out else None
            # Results of one assistant turn's calls travel together in one user turn.
            if previous and previous["role"] == "user" and _is_tool_results(previous["content"]):
                previous["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        elif message.role == "assistant":
            out.append({"role": "assistant", "content": assistant_blocks(message)})
        else:
            out.append({"role": "user", "content": user_content(message.content)})
    return system_prompt(system, as_blocks=system_blocks), out


def system_prompt(
    messages: Sequence[Message], *, as_blocks: bool = True
) -> str | list[dict[str, Any]]:
    """The system messages as one prompt: joined text, or text blocks when one is marked."""
    if not as_blocks or not any(_marker_of(message.content) is not None for message in messages):
        return "\n\n".join(message.text for message in messages)
    blocks: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message.content, str):
            blocks.append({"type": "text", "text": message.content})
        else:
            blocks.extend(
                _text_block(part) for part in message.content if isinstance(part, TextPart)
            )
    return blocks


def _marker_of(content: str | Sequence[ContentPart]) -> dict[str, Any] | None:
    """The last cache marker among a message's parts (a string carries none)."""
    if isinstance(content, str):
        return None
    marker: dict[str, Any] | None = None
    for part in content:
        if part.cache_control is not None:
            marker = dict(part.cache_control)
    return marker


def _text_block(part: TextPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": part.text}
    if part.cache_control is not None:
        block["cache_control"] = dict(part.cache_control)
    return block


def _is_tool_results(content: Any) -> bool:
    return isinstance(content, list) and all(b.get("type") == "tool_result" for b in content)


def assistant_blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for segment in message.reasoning:
        if segment.wire == WIRE and segment.data is not None:
            blocks.append(dict(segment.data))
        elif segment.text:
            # Reasoning from the other format has no signature; MiniMax accepts a
            # thinking block without one.
            blocks.append({"type": "thinking", "thinking": segment.text})
    if isinstance(message.content, str):
        if message.content:
            blocks.append({"type": "text", "text": message.content})
    else:
        # Parts only when one carries a cache marker: each goes as its own text block.
        blocks.extend(_text_block(p) for p in message.content if isinstance(p, TextPart) and p.text)
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments_object(call)}
        )
    return blocks


def user_content(content: str | Sequence[ContentPart]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            blocks.append(_text_block(part))
        else:
            kind = "image" if isinstance(part, ImagePart) else "video"
            block: dict[str, Any] = {"type": kind, "source": _source(part.url)}
            if part.cache_control is not None:
                block["cache_control"] = dict(part.cache_control)
            blocks.append(block)
    return blocks


def _source(url: str) -> dict[str, Any]:
    if url.startswith("data:") and ";base64," in url:
        header, data = url[5:].split(";base64,", 1)
        return {"type": "base64", "media_type": header, "data": data}
    return {"type": "url", "url": url}


# Response


def parse_response(
    payload: Any, *, request_id: str | None = None, provider: str = "minimax"
) -> list[WireDelta]:
    """A whole Messages body as the deltas it holds, one per content block, in order."""
    payload = answer_object(payload, request_id=request_id, provider=provider)
    content = payload.get("content")
    if not isinstance(content, list):
        raise ProtocolError("response has no content blocks", request_id=request_id, body=payload)
    stop = payload.get("stop_reason")
    metadata: dict[str, Any] = {"stop_reason": stop} if stop else {}
    if "base_resp" in payload:
        metadata["base_resp"] = payload["base_resp"]
    deltas = [
        WireDelta(
            finish_reason=_finish(stop),
            usage=_usage(_usage_numbers(payload.get("usage"))),
            model=text_or_none(payload.get("model")),
            response_id=text_or_none(payload.get("id")),
            request_id=text_or_none(payload.get("request_id")),
            metadata=metadata,
        )
    ]
    for index, block in enumerate(content):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            deltas.append(WireDelta(content=block["text"]))
        elif kind in ("thinking", "redacted_thinking"):
            # The block as received: it goes back verbatim, signature and all.
            deltas.append(_thinking(index, block, text=block.get("thinking")))
        elif kind == "tool_use":
            call = ToolCallFragment(
                index=index,
                # No id: the stream state names the call once, uniquely.
                id=text_or_none(block.get("id")),
                name=text_or_none(block.get("name")) or "",
                arguments=json.dumps(block.get("input") or {}, ensure_ascii=False),
            )
            deltas.append(WireDelta(tool_calls=[call]))
    return deltas


def _thinking(
    index: int, fields: Mapping[str, Any], *, text: Any = None, signature: Any = None
) -> WireDelta:
    """A thinking block's piece for segment ``index``; ``fields`` are kept to rebuild it."""
    return WireDelta(
        reasoning=[
            ReasoningFragment(
                text=text if isinstance(text, str) else "",
                key=index,
                wire=WIRE,
                fields=fields,
                text_field="thinking",
                signature=text_or_none(signature),
                incremental=True,
            )
        ]
    )


def _block_start(payload: dict[str, Any]) -> WireDelta:
    index = payload.get("index")
    block = payload.get("content_block")
    if not isinstance(index, int) or not isinstance(block, dict):
        return WireDelta()
    kind = block.get("type")
    if kind == "text" and text_or_none(block.get("text")):
        return WireDelta(content=block["text"])
    if kind in ("thinking", "redacted_thinking"):
        # Text and signature come in deltas after this: they are the segment's to add up.
        fields = {k: v for k, v in block.items() if k not in ("thinking", "signature")}
        return _thinking(
            index, fields, text=block.get("thinking"), signature=block.get("signature")
        )
    if kind == "tool_use":
        # MiniMax may put the whole input here instead of streaming input_json_delta.
        whole = block.get("input")
        return WireDelta(
            tool_calls=[
                ToolCallFragment(
                    index=index,
                    id=text_or_none(block.get("id")),
                    name=text_or_none(block.get("name")),
                    arguments=json.dumps(whole, ensure_ascii=False) if whole else "",
                )
            ]
        )
    return WireDelta()


def _block_delta(payload: dict[str, Any]) -> WireDelta:
    index = payload.get("index")
    delta = payload.get("delta")
    if not isinstance(index, int) or not isinstance(delta, dict):
        return WireDelta()
    kind = delta.get("type")
    if kind == "text_delta":
        return WireDelta(content=text_or_none(delta.get("text")))
    if kind == "thinking_delta":
        return _thinking(index, _THINKING_FIELDS, text=delta.get("thinking"))
    if kind == "signature_delta":
        return _thinking(index, _THINKING_FIELDS, signature=delta.get("signature"))
    if kind == "input_json_delta":
        partial = delta.get("partial_json")
        arguments = partial if isinstance(partial, str) else ""
        return WireDelta(tool_calls=[ToolCallFragment(index=index, arguments=arguments)])
    return WireDelta()


def _usage_numbers(raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        return {}
    return {
        key: value
        for key, value in raw.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def _usage(numbers: dict[str, int]) -> Usage | None:
    if not numbers:
        return None
    cache_read = numbers.get("cache_read_input_tokens")
    cache_creation = numbers.get("cache_creation_input_tokens")
    # Anthropic counts cached input apart from input_tokens; the total input is the sum.
    input_tokens = numbers.get("input_tokens", 0) + (cache_read or 0) + (cache_creation or 0)
    output_tokens = numbers.get("output_tokens", 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
    )


def _finish(stop: Any) -> str | None:
    if not isinstance(stop, str) or not stop:
        return None
    return _FINISH.get(stop, stop)
