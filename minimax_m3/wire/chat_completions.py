"""The OpenAI-style Chat Completions wire format, as MiniMax and its hosts speak it.

Pure functions only: neutral request -> JSON body, JSON body -> neutral result, one SSE
event -> one ``WireDelta``. No I/O and no framework here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from minimax_m3.errors import ProtocolError, error_from_payload
from minimax_m3.models import takes_thinking_switch, think_tag
from minimax_m3.providers import ProviderProfile
from minimax_m3.reasoning import minimax_reasoning_item
from minimax_m3.sse import SSEEvent
from minimax_m3.types import (
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningFragment,
    ReasoningSegment,
    ReasoningStart,
    TextPart,
    ToolCall,
    ToolCallFragment,
    ToolSpec,
    Usage,
    WireDelta,
)
from minimax_m3.wire._common import answer_object, event_object, text_or_none

WIRE = "chat_completions"

ReasoningReplay: TypeAlias = Literal["details", "details_and_content", "inline"]

# Top-level response fields that are MiniMax's own evidence rather than the answer.
METADATA_KEYS = (
    "base_resp",
    "input_sensitive",
    "output_sensitive",
    "input_sensitive_type",
    "output_sensitive_type",
    "output_sensitive_int",
)


class ChatCompletionsExchange:
    """One call in the Chat Completions format."""

    def __init__(self, request: ChatRequest, profile: ProviderProfile, stream: bool) -> None:
        self.body = build_request_body(request, profile=profile, stream=stream)
        self.headers: dict[str, str] = {}
        self.reasoning_start = reasoning_start(self.body, profile)
        self._provider = profile.name

    def parse_response(self, payload: Any, *, request_id: str | None) -> list[WireDelta]:
        return parse_response(payload, request_id=request_id, provider=self._provider)

    def decode_stream_event(self, event: SSEEvent) -> WireDelta:
        return decode_stream_event(event, provider=self._provider)


# Request


def build_request_body(
    request: ChatRequest, *, profile: ProviderProfile, stream: bool
) -> dict[str, Any]:
    """The JSON body for ``POST .../chat/completions``. Validate the request first."""
    replay: ReasoningReplay = (
        "inline"
        if profile.replays_reasoning_inline
        else "details"
        if profile.sends_reasoning_split
        else "details_and_content"
    )
    # A model id that names no MiniMax model is taken for the provider's default one.
    inline_tag = think_tag(request.model, profile.default_model)
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [
            message_to_dict(message, replay=replay, inline_tag=inline_tag)
            for message in request.messages
        ],
    }
    if profile.sends_reasoning_split:
        # Without it MiniMax inlines <think> in the content (and may mirror it again
        # into the reasoning fields).
        body["reasoning_split"] = True
    if request.thinking is not None and takes_thinking_switch(request.model, profile.default_model):
        if profile.thinking_in_template_kwargs:
            # M3's chat template reads thinking_mode; saying it also tells vLLM's and
            # SGLang's parsers, and us, whether the template wrote the opening tag. (M2's
            # templates take no such switch and always write the opener.)
            body["chat_template_kwargs"] = {"thinking_mode": request.thinking}
        else:
            body["thinking"] = {"type": request.thinking}
    if request.max_tokens is not None:
        body[profile.max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    tools, tool_choice = _tools_and_choice(request, profile)
    if tools:
        body["tools"] = tools
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
        if request.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.response_format is not None:
        body["response_format"] = dict(request.response_format)
    if request.top_k is not None:
        body["top_k"] = request.top_k
    if request.service_tier is not None:
        body["service_tier"] = request.service_tier
    if request.mask_sensitive_info is not None:
        body["mask_sensitive_info"] = request.mask_sensitive_info
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if request.extra_body:
        extra = dict(request.extra_body)
        kwargs = extra.get("chat_template_kwargs")
        if isinstance(kwargs, Mapping) and "chat_template_kwargs" in body:
            # The caller's template settings join ours; theirs win where both set a key.
            extra["chat_template_kwargs"] = {**body["chat_template_kwargs"], **kwargs}
        body.update(extra)
    return body


def reasoning_start(body: Mapping[str, Any], profile: ProviderProfile) -> ReasoningStart:
    """Where the answer to ``body`` starts: inside reasoning, outside, or not known.

    Only a self-hosted chat template can write the opening tag into the prompt. M3's does
    for ``thinking_mode: enabled``, and for ``adaptive`` or ``disabled`` it does not; with
    no mode sent, the template's own default decides (M2's templates always prefill), so
    the answer itself has to tell.
    """
    if not profile.template_may_prefill_reasoning:
        return "outside"
    kwargs = body.get("chat_template_kwargs")
    mode = kwargs.get("thinking_mode") if isinstance(kwargs, Mapping) else None
    if mode == "enabled":
        return "inside"
    if mode in ("adaptive", "disabled"):
        return "outside"
    return "unknown"


def _tools_and_choice(
    request: ChatRequest, profile: ProviderProfile
) -> tuple[list[dict[str, Any]], str | None]:
    specs = list(request.tools)
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        # No named tool_choice on these servers: offer that tool alone, and require a call
        # where "required" exists (Cloudflare's schema has only "none" and "auto").
        specs = [spec for spec in specs if spec.name == choice.name]
        forced = "required" if profile.supports_required_tool_choice else "auto"
        return [tool_spec_to_dict(spec) for spec in specs], forced
    if choice == "required" and not profile.supports_required_tool_choice:
        # Validation let this through only with a single tool: the same as naming it.
        choice = "auto"
    return [tool_spec_to_dict(spec) for spec in specs], choice


def tool_spec_to_dict(spec: ToolSpec) -> dict[str, Any]:
    function: dict[str, Any] = {"name": spec.name, "parameters": dict(spec.parameters)}
    if spec.description:
        function["description"] = spec.description
    return {"type": "function", "function": function}


def message_to_dict(
    message: Message, *, replay: ReasoningReplay = "details", inline_tag: str = "mm:think"
) -> dict[str, Any]:
    """One message as Chat Completions JSON.

    ``replay`` says how an assistant turn carries its reasoning back: ``details``
    (MiniMax's ``reasoning_details``), ``details_and_content`` (``reasoning_content`` too,
    for hosts whose templates are not known), or ``inline``: ``<mm:think>...</mm:think>``
    before the text in ``content``, the form M3's chat template renders (vLLM is reported
    to ignore ``reasoning_content`` on incoming messages), and nothing beside it.
    """
    role = message.role
    if role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
    out: dict[str, Any]
    if role == "assistant":
        out = {"role": "assistant", "content": message.text}
        if message.tool_calls:
            out["tool_calls"] = [tool_call_to_dict(call) for call in message.tool_calls]
        if message.reasoning and replay == "inline":
            reasoning = "".join(segment.text for segment in message.reasoning)
            if reasoning:
                # M3 writes its answer straight after </mm:think>; M2 leaves a blank line.
                separator = "\n\n" if message.text and inline_tag == "think" else ""
                out["content"] = (
                    f"<{inline_tag}>{reasoning}</{inline_tag}>{separator}{message.text}"
                )
        elif message.reasoning:
            out["reasoning_details"] = reasoning_to_details(message.reasoning)
            if replay == "details_and_content":
                out["reasoning_content"] = "".join(s.text for s in message.reasoning)
    elif isinstance(message.content, str) or role == "system":
        out = {"role": role, "content": message.text}
    else:
        out = {"role": role, "content": [content_part_to_dict(part) for part in message.content]}
    if message.name:
        out["name"] = message.name
    return out


def content_part_to_dict(part: ContentPart) -> dict[str, Any]:
    """One part in OpenAI's shape. A part's (or a tool's) ``cache_control`` is not sent:
    the format has no such field, and MiniMax caches repeated prefixes here by itself
    (minimax-api.md §3.4), so a marker written for the Anthropic format costs nothing."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": part.url}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    video: dict[str, Any] = {"url": part.url}
    if part.fps is not None:
        video["fps"] = part.fps
    if part.detail is not None:
        video["detail"] = part.detail
    return {"type": "video_url", "video_url": video}


def tool_call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def reasoning_to_details(segments: Sequence[ReasoningSegment]) -> list[dict[str, Any]]:
    """Segments as ``reasoning_details``: verbatim when they came from this format."""
    return [
        dict(segment.data)
        if segment.wire == WIRE and segment.data is not None
        else minimax_reasoning_item(segment.text, index)
        for index, segment in enumerate(segments)
    ]


# Response


def parse_response(
    payload: Any, *, request_id: str | None = None, provider: str = "minimax"
) -> list[WireDelta]:
    """A whole (non-streamed) response body, already decoded from JSON, as the deltas it
    holds; ``minimax_m3.stream.StreamState`` makes the answer of them, as of a stream's.

    ``provider`` names whose error codes a failure envelope carries (Cloudflare's codes
    are not MiniMax's)."""
    payload = answer_object(payload, request_id=request_id, provider=provider)
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProtocolError("response has no choices", request_id=request_id, body=payload)
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise ProtocolError("response choice has no message", request_id=request_id, body=payload)
    calls = message.get("tool_calls")
    return [
        WireDelta(
            content=_content_text(message.get("content")) or None,
            reasoning=_reasoning_fragments(message),
            tool_calls=_tool_fragments(calls) if isinstance(calls, list) and calls else None,
            finish_reason=text_or_none(choice.get("finish_reason")),
            usage=parse_usage(payload.get("usage")),
            model=text_or_none(payload.get("model")),
            response_id=text_or_none(payload.get("id")),
            metadata=_metadata(payload),
        )
    ]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def parse_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = _int(raw.get("prompt_tokens")) or 0
    completion = _int(raw.get("completion_tokens")) or 0
    total = _int(raw.get("total_tokens"))
    prompt_details = raw.get("prompt_tokens_details")
    if not isinstance(prompt_details, dict):
        prompt_details = {}
    completion_details = raw.get("completion_tokens_details")
    if not isinstance(completion_details, dict):
        completion_details = {}
    # With explicit cache_control MiniMax reports cache reads under Anthropic-style names,
    # inside prompt_tokens_details or at the top level.
    cache_read = _first_int(
        prompt_details.get("cached_tokens"),
        prompt_details.get("cache_read_input_tokens"),
        raw.get("cache_read_input_tokens"),
    )
    cache_creation = _first_int(
        prompt_details.get("cache_creation_input_tokens"),
        raw.get("cache_creation_input_tokens"),
    )
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=total if total is not None else prompt + completion,
        cache_read_tokens=cache_read,
        cache_creation_tokens=cache_creation,
        reasoning_tokens=_int(completion_details.get("reasoning_tokens")),
    )


# Keys an in-band error may come under (error_from_payload decides whether it is one).
_ERROR_KEYS = frozenset({"base_resp", "error", "success", "errors"})
# Keys of a delta that may carry reasoning (_reasoning_fragments picks one).
_REASONING_KEYS = frozenset({"reasoning_details", "reasoning_content", "reasoning"})


def _metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    # Read from every stream chunk; a plain loop takes a fifth fewer instructions than
    # the same dict comprehension.
    metadata = {}
    for key in METADATA_KEYS:
        if key in payload:
            metadata[key] = payload[key]
    return metadata


# Stream


def decode_stream_event(
    event: SSEEvent, *, request_id: str | None = None, provider: str = "minimax"
) -> WireDelta:
    """One SSE event of a streamed response; raises the provider's error if it is one."""
    data = event.data
    if data == "[DONE]":
        return WireDelta(done=True)
    payload = event_object(data, request_id=request_id)
    # This runs once per token: a chunk with none of the keys an in-band error comes
    # under is not handed to the error reader at all.
    if not _ERROR_KEYS.isdisjoint(payload):
        error = error_from_payload(payload, request_id=request_id, provider=provider)
        if error is not None:
            raise error
    get = payload.get
    delta = WireDelta(response_id=text_or_none(get("id")), model=text_or_none(get("model")))
    usage = get("usage")
    # Some MiniMax models put an all-zero usage on every chunk; only a real count counts.
    if (
        usage
        and isinstance(usage, dict)
        and (usage.get("total_tokens") or usage.get("prompt_tokens"))
    ):
        delta.usage = parse_usage(usage)
    if "input_sensitive" in payload or "base_resp" in payload:
        delta.metadata = _metadata(payload)
    choices = get("choices")
    if not choices or not isinstance(choices, list):
        return delta
    choice = choices[0]
    if not isinstance(choice, dict):
        raise ProtocolError(f"stream choice is not a JSON object: {data[:200]!r}")
    finish = choice.get("finish_reason")
    if finish and isinstance(finish, str):
        delta.finish_reason = finish
    raw = choice.get("delta")
    if not isinstance(raw, dict):
        return delta
    content = raw.get("content")
    if content and isinstance(content, str):
        delta.content = content
    if not _REASONING_KEYS.isdisjoint(raw):
        delta.reasoning = _reasoning_fragments(raw)
    tool_calls = raw.get("tool_calls")
    if tool_calls and isinstance(tool_calls, list):
        delta.tool_calls = _tool_fragments(tool_calls)
    return delta


def _reasoning_fragments(raw: Mapping[str, Any]) -> list[ReasoningFragment] | None:
    """The reasoning of a delta or a whole message: ``reasoning_details`` (MiniMax),
    ``reasoning_content`` (SGLang, Cloudflare) or ``reasoning`` (vLLM)."""
    # One source per chunk, in this order; adding them up would double the text.
    details = raw.get("reasoning_details")
    if isinstance(details, list) and details:
        fragments = []
        for position, item in enumerate(details):
            if not isinstance(item, dict):
                continue
            text = item.get("text")
            if not isinstance(text, str):
                continue
            key = item.get("index")
            fragments.append(
                ReasoningFragment(
                    text=text,
                    key=key if isinstance(key, int) else position,
                    wire=WIRE,
                    # The item as received: the segment keeps the first one's keys and puts
                    # the whole text in place of this piece, so nothing is copied per chunk.
                    fields=item,
                )
            )
        if fragments:
            return fragments
    for name in ("reasoning_content", "reasoning"):
        value = raw.get(name)
        if isinstance(value, str) and value:
            return [ReasoningFragment(text=value, wire=WIRE)]
    return None


def _tool_fragments(items: list[Any]) -> list[ToolCallFragment]:
    fragments = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        function = item.get("function")
        if not isinstance(function, dict):
            function = {}
        index = item.get("index")
        arguments = function.get("arguments")
        if isinstance(arguments, dict):
            arguments = json.dumps(arguments)
        fragments.append(
            ToolCallFragment(
                index=index if isinstance(index, int) else position,
                id=text_or_none(item.get("id")),
                name=text_or_none(function.get("name")),
                arguments=arguments if isinstance(arguments, str) else "",
            )
        )
    return fragments


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _first_int(*values: Any) -> int | None:
    for value in values:
        number = _int(value)
        if number is not None:
            return number
    return None
