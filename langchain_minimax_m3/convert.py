"""Pure converters between LangChain objects and the transport's neutral types.

Each function does one direction of one thing and never changes its arguments. The
chat model only wires them together:

    LangChain messages -> ``messages_to_neutral`` -> ChatRequest -> Transport
    ChatResult -> ``result_to_ai_message``
    StreamEvent -> ``event_to_generation_chunk`` (in ``langchain_minimax_m3.stream``)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call

from langchain_minimax_m3.tool_schemas import to_openai_tool
from minimax_m3.reasoning import (
    is_thinking_record,
    segments_from_records,
    segments_to_records,
    signed_thinking,
)
from minimax_m3.types import (
    ChatResult,
    ContentPart,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningSegment,
    Role,
    TextPart,
    ToolChoice,
    ToolSpec,
    Usage,
    VideoPart,
)
from minimax_m3.types import ToolCall as NeutralToolCall
from minimax_m3.validation import arguments_json

PROVIDER = "minimax"
"""``response_metadata["model_provider"]``: selects our content-block translator."""

REASONING_CONTENT = "reasoning_content"
REASONING_DETAILS = "reasoning_details"

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "tool": "tool",
}
# Blocks of an assistant message that repeat its tool calls; the calls come from
# ``AIMessage.tool_calls`` instead.
_TOOL_BLOCKS = frozenset(
    {
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "tool_use",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "function_call",
    }
)


# LangChain -> neutral


def messages_to_neutral(messages: Sequence[BaseMessage]) -> list[Message]:
    """A LangChain history as neutral messages; raises ValueError naming what M3 cannot take.

    What a model cannot see (images for M2.x, say) is refused by the transport's checks,
    before anything is sent.
    """
    return [message_to_neutral(message) for message in messages]


def message_to_neutral(message: BaseMessage) -> Message:
    """One LangChain message as a neutral message."""
    if isinstance(message, AIMessage):
        return ai_message_to_neutral(message)
    if isinstance(message, ToolMessage):
        # MiniMax takes only a string as a tool result; a marked one keeps its parts, so
        # the Anthropic format can put the marker on the tool_result.
        content = _text_or_marked_parts(message.content, "tool")
        return Message(role="tool", content=content, tool_call_id=message.tool_call_id)
    if isinstance(message, ChatMessage):
        role = _ROLES.get(message.role)
        if role is None or role in ("assistant", "tool"):
            raise ValueError(
                f"ChatMessage role {message.role!r} is not supported; use 'system', "
                "'developer' or 'user', or AIMessage/ToolMessage"
            )
    elif isinstance(message, SystemMessage | HumanMessage):
        role = "system" if isinstance(message, SystemMessage) else "user"
    else:
        raise ValueError(
            f"{type(message).__name__} is not supported by ChatMiniMaxM3; use SystemMessage, "
            "HumanMessage, AIMessage or ToolMessage"
        )
    if role == "system":
        return Message(role="system", content=_text_or_marked_parts(message.content, "system"))
    return Message(role="user", content=content_to_parts(message.content), name=message.name)


def ai_message_to_neutral(message: AIMessage) -> Message:
    """An assistant turn, with its reasoning to send back verbatim.

    Reasoning comes from ``additional_kwargs["reasoning_details"]`` (the provider's own
    objects), else ``additional_kwargs["reasoning_content"]``, else reasoning or thinking
    blocks in the content (``output_version="v1"`` messages, Anthropic-style histories).
    """
    texts: list[TextPart] = []
    block_reasoning: list[ReasoningSegment] = []
    if isinstance(message.content, str):
        texts.append(TextPart(message.content))
    else:
        for position, block in enumerate(message.content):
            if isinstance(block, str):
                texts.append(TextPart(block))
                continue
            kind = block.get("type")
            if kind == "text":
                texts.append(TextPart(str(block.get("text", "")), block_cache_marker(block)))
            elif kind == "reasoning":
                block_reasoning.extend(_reasoning_block_to_segments(block))
            elif is_thinking_record(block):
                record = {k: v for k, v in block.items() if k != "index"}
                block_reasoning.extend(segments_from_records([record]))
            elif kind == "non_standard" and is_thinking_record(block.get("value")):
                # ChatAnthropic's v1 content carries redacted thinking this way.
                block_reasoning.extend(segments_from_records([block["value"]]))
            elif kind not in _TOOL_BLOCKS:
                raise ValueError(
                    f"AIMessage content block {position} has type {kind!r}; an assistant "
                    "turn sent to MiniMax can hold text, reasoning and tool calls only"
                )
    calls = [
        NeutralToolCall(
            id=call.get("id") or f"call_{index}",
            name=call["name"],
            arguments=arguments_json(call["args"], call["name"]),
        )
        for index, call in enumerate(message.tool_calls)
    ]
    calls += [
        NeutralToolCall(
            id=call.get("id") or f"call_{index}",
            name=call.get("name") or "",
            arguments=call.get("args") or "",
        )
        for index, call in enumerate(message.invalid_tool_calls, start=len(calls))
    ]
    marked = any(part.cache_control is not None for part in texts)
    return Message(
        role="assistant",
        # Parts only when one carries a cache marker, so unmarked turns stay as they were.
        content=texts if marked else "".join(part.text for part in texts),
        tool_calls=tuple(calls),
        reasoning=tuple(_reasoning_of(message.additional_kwargs) or block_reasoning),
        name=message.name,
    )


def _reasoning_block_to_segments(block: Mapping[str, Any]) -> list[ReasoningSegment]:
    """A standard ``reasoning`` block. ChatAnthropic's, and ours, carry a thinking
    block's signature in ``extras``: with one it is that thinking block again, so the
    Anthropic format sends it back signed."""
    text = block.get("reasoning")
    text = text if isinstance(text, str) else ""
    extras = block.get("extras")
    signature = extras.get("signature") if isinstance(extras, Mapping) else None
    if isinstance(signature, str) and signature:
        return [signed_thinking(text, signature)]
    return [ReasoningSegment(text=text)] if text else []


def _reasoning_of(additional_kwargs: Mapping[str, Any]) -> list[ReasoningSegment]:
    details = additional_kwargs.get(REASONING_DETAILS)
    if isinstance(details, list) and details:
        segments = segments_from_records(details)
        if segments:
            return segments
    text = additional_kwargs.get(REASONING_CONTENT)
    if isinstance(text, str) and text:
        return [ReasoningSegment(text=text)]
    return []


def content_to_parts(content: str | list[str | dict[Any, Any]]) -> str | list[ContentPart]:
    """User content: a string stays a string; blocks become text, image and video parts.

    Takes LangChain's standard blocks (``image``/``video`` with ``url`` or ``base64``),
    the older ``source_type`` form, OpenAI's ``image_url``/``video_url`` parts and
    Anthropic's ``image`` blocks with a ``source``.
    """
    if isinstance(content, str):
        return content
    return [content_block_to_part(block, position) for position, block in enumerate(content)]


def content_block_to_part(block: str | Mapping[str, Any], position: int = 0) -> ContentPart:
    if isinstance(block, str):
        return TextPart(block)
    kind = block.get("type")
    if kind == "text":
        return TextPart(str(block.get("text", "")), block_cache_marker(block))
    if kind == "image_url":
        url, detail = _url_and_detail(block.get("image_url"))
        if url:
            detail = detail or _str(block.get("detail"))
            return ImagePart(url=url, detail=detail, cache_control=block_cache_marker(block))
    elif kind == "video_url":
        video = block.get("video_url")
        url, detail = _url_and_detail(video)
        if url:
            fps = video.get("fps") if isinstance(video, Mapping) else None
            marker = block_cache_marker(block)
            return VideoPart(url=url, fps=_number(fps), detail=detail, cache_control=marker)
    elif kind in ("image", "video"):
        url = _media_url(block, "image/png" if kind == "image" else "video/mp4")
        if url:
            extras = block.get("extras") or {}
            detail = _str(block.get("detail")) or _str(extras.get("detail"))
            if kind == "image":
                return ImagePart(url=url, detail=detail, cache_control=block_cache_marker(block))
            fps = _number(block.get("fps", extras.get("fps")))
            marker = block_cache_marker(block)
            return VideoPart(url=url, fps=fps, detail=detail, cache_control=marker)
        raise ValueError(
            f"content block {position}: a {kind} block needs a 'url' or 'base64' data; "
            "MiniMax cannot fetch uploaded file ids"
        )
    else:
        raise ValueError(
            f"content block {position} has type {kind!r}, which MiniMax M3 does not take; "
            "it takes text, images and video"
        )
    raise ValueError(f"content block {position}: the {kind} part has no url")


def _media_url(block: Mapping[str, Any], default_mime: str) -> str | None:
    """The URL (http(s) or ``data:``) of a standard, legacy or Anthropic media block."""
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic
        if source.get("type") == "url":
            return _str(source.get("url"))
        if source.get("type") == "base64" and _str(source.get("data")):
            mime = _str(source.get("media_type")) or default_mime
            return f"data:{mime};base64,{source['data']}"
        return None
    mime = _str(block.get("mime_type")) or default_mime
    if _str(block.get("url")):
        return str(block["url"])
    if _str(block.get("base64")):
        return f"data:{mime};base64,{block['base64']}"
    # The older form: "url" as above, or its data under "data".
    if block.get("source_type") == "base64" and _str(block.get("data")):
        return f"data:{mime};base64,{block['data']}"
    return None


def _url_and_detail(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return value or None, None
    if isinstance(value, Mapping):
        return _str(value.get("url")), _str(value.get("detail"))
    return None, None


def block_cache_marker(block: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A block's ``cache_control``, where ChatAnthropic reads it: on the block, or in its
    ``extras`` (standard v1 blocks)."""
    marker = block.get("cache_control")
    if marker is None and isinstance(block.get("extras"), Mapping):
        marker = block["extras"].get("cache_control")
    return _marker(marker)


def _text_or_marked_parts(
    content: str | list[str | dict[Any, Any]], role: str
) -> str | list[ContentPart]:
    """Text only: one string, or its text parts when one of them carries a cache marker."""
    text = _plain_text(content, role)
    if isinstance(content, str) or not any(
        isinstance(block, Mapping) and block_cache_marker(block) is not None for block in content
    ):
        return text
    return [
        TextPart(block)
        if isinstance(block, str)
        else TextPart(str(block.get("text", "")), block_cache_marker(block))
        for block in content
    ]


def with_last_block_marked(messages: Sequence[Message], marker: Any) -> list[Message]:
    """The history with ``marker`` on its last text or media part, as ChatAnthropic places
    a call's ``cache_control=`` keyword for transports without a request-level one: the
    newest message with content, a string becoming one text part."""
    checked = _marker(marker)
    out = list(messages)
    for index in range(len(out) - 1, -1, -1):
        message = out[index]
        content = message.content
        if isinstance(content, str):
            if not content:
                continue
            parts: list[ContentPart] = [TextPart(content, checked)]
        elif content:
            parts = [*content[:-1], replace(content[-1], cache_control=checked)]
        else:
            continue
        out[index] = replace(message, content=parts)
        return out
    raise ValueError("cache_control: no message has content for the marker to follow")


def _marker(value: Any) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    raise ValueError(
        "cache_control must be a dict such as {'type': 'ephemeral'} (optionally with "
        f"'ttl': '5m' or '1h'); got {value!r}"
    )


def _plain_text(content: str | list[str | dict[Any, Any]], role: str) -> str:
    if isinstance(content, str):
        return content
    texts = []
    for position, block in enumerate(content):
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        else:
            raise ValueError(
                f"{role} message content block {position} has type {block.get('type')!r}; "
                f"a {role} message sent to MiniMax can hold text only"
            )
    return "".join(texts)


def tool_to_spec(tool: Any, *, strict: bool | None = None) -> ToolSpec:
    """Any tool LangChain can describe (BaseTool, function, pydantic model, TypedDict,
    OpenAI or Anthropic dict) as a neutral tool spec."""
    function = to_openai_tool(tool, strict=strict)["function"]
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return ToolSpec(
        name=function["name"],
        description=function.get("description") or "",
        parameters=parameters,
        cache_control=tool_cache_marker(tool),
    )


def tool_cache_marker(tool: Any) -> Mapping[str, Any] | None:
    """A tool's ``cache_control``, as ChatAnthropic takes it: a key of a tool dict, or in a
    ``BaseTool``'s ``extras`` (``@tool(extras={"cache_control": {"type": "ephemeral"}})``)."""
    if isinstance(tool, Mapping):
        marker = tool.get("cache_control")
    else:
        extras = getattr(tool, "extras", None)
        marker = extras.get("cache_control") if isinstance(extras, Mapping) else None
    return _marker(marker)


def tool_choice_to_neutral(choice: Any, tool_names: Sequence[str]) -> ToolChoice | None:
    """LangChain's ``tool_choice`` forms as the transport's.

    ``"any"`` and ``"required"`` require some call; ``True`` forces the only tool (or
    requires a call when there are several); a tool's name, or an OpenAI-style
    ``{"type": "function", "function": {"name": ...}}``, forces that tool (the transport
    sends it alone with ``"required"``, since MiniMax takes no named choice).
    """
    if choice is None or choice == "auto":
        return "auto" if choice == "auto" else None
    if choice == "none" or choice is False:
        return "none"
    if isinstance(choice, Mapping) and set(choice) == {"type"}:
        # ChatAnthropic's dict forms without a name: {"type": "any"}, "auto", "none".
        choice = choice["type"]
        if choice in ("auto", "none"):
            return choice  # type: ignore[no-any-return]
    if choice in ("any", "required"):
        return "required"
    if choice is True:
        return NamedToolChoice(tool_names[0]) if len(tool_names) == 1 else "required"
    name: str | None = None
    if isinstance(choice, str):
        name = choice
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        name = _str(function.get("name")) if isinstance(function, Mapping) else None
        name = name or (_str(choice.get("name")) if choice.get("type") == "tool" else None)
    if name is not None and name in tool_names:
        return NamedToolChoice(name)
    raise ValueError(
        "tool_choice must be 'auto', 'none', 'any', 'required', True or the name of a "
        f"bound tool {list(tool_names)}; got {choice!r}"
    )


# neutral -> LangChain


def tool_calls_to_langchain(
    calls: Sequence[NeutralToolCall],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parsed tool calls, and the ones whose arguments are not a JSON object."""
    valid: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        try:
            args = call.parsed_arguments()
        except ValueError as exc:  # JSONDecodeError is a ValueError
            invalid.append(
                invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=f"{exc}")
            )
            continue
        valid.append(tool_call(name=call.name, args=args, id=call.id))
    return valid, invalid


def usage_to_metadata(usage: Usage | None) -> UsageMetadata | None:
    if usage is None:
        return None
    metadata = UsageMetadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )
    input_details = InputTokenDetails()
    if usage.cache_read_tokens is not None:
        input_details["cache_read"] = usage.cache_read_tokens
    if usage.cache_creation_tokens is not None:
        input_details["cache_creation"] = usage.cache_creation_tokens
    if input_details:
        metadata["input_token_details"] = input_details
    if usage.reasoning_tokens is not None:
        metadata["output_token_details"] = OutputTokenDetails(reasoning=usage.reasoning_tokens)
    return metadata


def result_to_response_metadata(result: ChatResult, *, model: str) -> dict[str, Any]:
    """Model, provider, finish reason, ids, then MiniMax's own fields (base_resp, ...)."""
    metadata: dict[str, Any] = {
        "model_name": result.model or model,
        "model_provider": PROVIDER,
    }
    for key, value in (
        ("finish_reason", result.finish_reason),
        ("id", result.response_id),
        ("request_id", result.request_id),
    ):
        if value is not None:
            metadata[key] = value
    for key, value in result.provider_metadata.items():
        if key == "base_resp" and _is_success_marker(value):
            # MiniMax marks success in whole bodies but not in stream chunks, so it is
            # left out of both: invoke and stream then report the same keys, and a
            # failure is never reported this way (it is raised).
            continue
        metadata.setdefault(key, value)
    return metadata


def _is_success_marker(base_resp: Any) -> bool:
    return isinstance(base_resp, Mapping) and base_resp.get("status_code") in (0, None)


def reasoning_kwargs(result: ChatResult) -> dict[str, Any]:
    """``additional_kwargs`` for a finished answer: empty when the model did not think."""
    if not result.reasoning_text:
        return {}
    return {
        REASONING_CONTENT: result.reasoning_text,
        REASONING_DETAILS: segments_to_records(result.reasoning),
    }


def result_to_ai_message(result: ChatResult, *, model: str) -> AIMessage:
    """A whole answer as an AIMessage."""
    valid, invalid = tool_calls_to_langchain(result.tool_calls)
    return AIMessage(
        content=result.text,
        additional_kwargs=reasoning_kwargs(result),
        tool_calls=valid,
        invalid_tool_calls=invalid,
        usage_metadata=usage_to_metadata(result.usage),
        response_metadata=result_to_response_metadata(result, model=model),
        id=result.response_id,
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
