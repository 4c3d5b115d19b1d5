"""Conversions between LlamaIndex's chat types and the transport's neutral types.

Module-level functions, each named for its direction; none of them changes the objects
it is given. Results become LlamaIndex's types in :mod:`llama_index_minimax_m3.results`,
stream events become responses in :mod:`llama_index_minimax_m3.stream`.

Reasoning travels in a :class:`ThinkingBlock`: ``content`` holds the text and
``additional_information["reasoning_details"]`` the provider's own objects (MiniMax's
``reasoning_details`` items, or Anthropic thinking blocks with their signatures). When an
assistant message goes back into the history those objects are sent back verbatim.

A signed Anthropic thinking block gets a ThinkingBlock of its own, with the signature also
in ``additional_information["signature"]``, where llama-index-llms-anthropic keeps it; a
ThinkingBlock of theirs (text and signature, no ``reasoning_details``) is read as that
thinking block. So a history moves between the two integrations, either way, signed.
"""

from __future__ import annotations

import base64
import json
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from io import IOBase
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ContentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)
from llama_index.core.tools.types import ToolMetadata

from minimax_m3.reasoning import segments_from_records, signed_thinking
from minimax_m3.types import (
    ContentPart,
    ImagePart,
    Message,
    NamedToolChoice,
    ReasoningSegment,
    Role,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
    VideoPart,
)
from minimax_m3.validation import arguments_json

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

REASONING_KEY = "reasoning_details"
"""Key of ``ThinkingBlock.additional_information`` that holds the provider's reasoning."""

SIGNATURE_KEY = "signature"
"""Key of ``ThinkingBlock.additional_information`` that holds an Anthropic thinking block's
signature, as llama-index-llms-anthropic writes and reads it."""

THINKING_DELTA_KEY = "thinking_delta"
"""Key of ``ChatResponse.additional_kwargs`` that holds new reasoning text while streaming."""

REASONING_TEXT_KEY = "reasoning_content"
"""Key of ``CompletionResponse.additional_kwargs`` (and ``raw``) that holds the reasoning
text; the provider's objects are under ``reasoning_details`` beside it."""

_ROLES: dict[MessageRole, Role] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}
_TOOL_CHOICES = ("auto", "none", "required")


# LlamaIndex -> neutral


def chat_messages_to_neutral(messages: Iterable[ChatMessage]) -> list[Message]:
    return [chat_message_to_neutral(message) for message in messages]


def chat_message_to_neutral(message: ChatMessage) -> Message:
    """One ChatMessage as a neutral message; assistant turns keep reasoning and tool calls."""
    role = _ROLES.get(message.role)
    if role is None:
        raise ValueError(f"message role {message.role.value!r} is not supported by MiniMax")
    blocks = message.blocks
    if role == "assistant":
        return _assistant_to_neutral(blocks, message.additional_kwargs)
    # An agent's history is mostly tool results and user turns of one text block each;
    # they skip the part-by-part walk (the same text comes out of either).
    if len(blocks) == 1 and type(blocks[0]) is TextBlock:
        content: str | list[ContentPart] = blocks[0].text
    else:
        for block in blocks:
            if isinstance(block, (ThinkingBlock, ToolCallBlock)):
                raise ValueError(
                    f"a {role} message cannot carry a {block.block_type} block; only "
                    "assistant messages hold reasoning and tool calls"
                )
        if any(isinstance(block, CachePoint) for block in blocks):
            content = _marked_content(blocks, keep_media=role != "system")
        else:
            content = _joined_text(blocks) if role == "system" else _content(blocks)
    if role == "tool":
        tool_call_id = message.additional_kwargs.get("tool_call_id")
        return Message(
            role="tool",
            content=content,
            tool_call_id=tool_call_id if isinstance(tool_call_id, str) else None,
        )
    return Message(role=role, content=content)


def _assistant_to_neutral(blocks: Sequence[ContentBlock], extra: Mapping[str, Any]) -> Message:
    # One walk over the blocks sorts them (a long history holds thousands of these).
    texts: list[str] = []
    calls: list[ToolCallBlock] = []
    thinking: list[ThinkingBlock] = []
    marked = False
    for block in blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, CachePoint):
            marked = True
        elif isinstance(block, ToolCallBlock):
            calls.append(block)
        elif isinstance(block, ThinkingBlock):
            thinking.append(block)
    return Message(
        role="assistant",
        # The same joining as ChatMessage.content, so the model sees what the user sees.
        content=_marked_content(blocks, keep_media=False) if marked else "\n".join(texts),
        tool_calls=tuple(_tool_calls(calls, extra)),
        reasoning=tuple(thinking_blocks_to_segments(thinking)) if thinking else (),
    )


def _joined_text(blocks: Iterable[ContentBlock]) -> str:
    # The same joining as ChatMessage.content, so the model sees what the user sees.
    return "\n".join(block.text for block in blocks if isinstance(block, TextBlock))


def _content(blocks: Sequence[ContentBlock]) -> str | list[ContentPart]:
    """Plain text when there is only text, else the parts in order."""
    parts = [
        part
        for block in blocks
        if not isinstance(block, (ThinkingBlock, ToolCallBlock))
        and (part := content_block_to_part(block)) is not None
    ]
    if all(isinstance(part, TextPart) for part in parts):
        return "\n".join(part.text for part in parts if isinstance(part, TextPart))
    return parts


def _marked_content(blocks: Sequence[ContentBlock], *, keep_media: bool) -> list[ContentPart]:
    """Parts of a message holding a ``CachePoint``, each point's ``cache_control`` on the
    part before it, as llama-index-llms-anthropic places it.

    Text alone becomes runs of text cut after each marked part, the texts newline-joined
    as ``ChatMessage.content`` joins them, so the formats that send a message's text as
    one string (Chat Completions, Runware) send the text they sent without the marker.
    System and assistant messages keep their text only, as without a marker.
    """
    parts: list[ContentPart] = []
    for position, block in enumerate(blocks):
        if isinstance(block, CachePoint):
            previous = parts[-1] if parts else None
            if previous is None:
                raise ValueError(
                    f"message block {position}: a CachePoint marks the text, image or video "
                    "block right before it; there is none"
                )
            parts[-1] = replace(previous, cache_control=block.cache_control.model_dump())
        elif not isinstance(block, (ThinkingBlock, ToolCallBlock)):
            part = content_block_to_part(block)
            if part is not None and (keep_media or isinstance(part, TextPart)):
                parts.append(part)
    texts = [part for part in parts if isinstance(part, TextPart)]
    return _text_runs(texts) if len(texts) == len(parts) else parts


def _text_runs(parts: Sequence[TextPart]) -> list[ContentPart]:
    runs: list[ContentPart] = []
    pending: list[str] = []
    for part in parts:
        pending.append(part.text)
        if part.cache_control is not None:
            runs.append(TextPart(("\n" if runs else "") + "\n".join(pending), part.cache_control))
            pending = []
    if pending:
        runs.append(TextPart(("\n" if runs else "") + "\n".join(pending)))
    return runs


def content_block_to_part(block: ContentBlock) -> ContentPart | None:
    """A text, image or video block as a content part; None for a cache hint."""
    if isinstance(block, TextBlock):
        return TextPart(block.text)
    if isinstance(block, ImageBlock):
        return image_block_to_part(block)
    if isinstance(block, VideoBlock):
        return video_block_to_part(block)
    if isinstance(block, CachePoint):
        # MiniMax's Chat Completions endpoint caches prompts by itself.
        return None
    raise ValueError(
        f"MiniMax does not accept {block.block_type} blocks; send text, images or videos"
    )


def image_block_to_part(block: ImageBlock) -> ImagePart:
    """An image by URL, or as a ``data:`` URL built from its bytes or file."""
    if block.url is not None:
        return ImagePart(url=str(block.url), detail=block.detail)
    data = _inline_data(block.image, block.path, "ImageBlock", "image")
    return ImagePart(
        url=_data_url(data, block.image_mimetype, "ImageBlock.image_mimetype"),
        detail=block.detail,
    )


def video_block_to_part(block: VideoBlock) -> VideoPart:
    """A video by URL (including ``mm_file://`` uploads), or inline as a ``data:`` URL."""
    if block.url is not None:
        url = str(block.url)
    else:
        data = _inline_data(block.video, block.path, "VideoBlock", "video")
        url = _data_url(data, block.video_mimetype, "VideoBlock.video_mimetype")
    return VideoPart(
        url=url, fps=float(block.fps) if block.fps is not None else None, detail=block.detail
    )


def _inline_data(raw: bytes | IOBase | None, path: Any, owner: str, kind: str) -> bytes:
    """The raw bytes of an inline image or video; the block is left as it was."""
    if isinstance(raw, IOBase):
        position = raw.tell()
        raw.seek(0)
        data = raw.read()
        raw.seek(position)
        return data if isinstance(data, bytes) else str(data).encode()
    if isinstance(raw, bytes):
        # The block's validator stores bytes base64-encoded; raw bytes are accepted too.
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            return raw
    if path is not None:
        with open(path, "rb") as file:
            return file.read()
    raise ValueError(f"{owner} needs a url, a path or {kind} data")


def _data_url(data: bytes, mimetype: str | None, name: str) -> str:
    if not mimetype:
        raise ValueError(f"{name} must be set: the media type could not be told from the data")
    return f"data:{mimetype};base64,{base64.b64encode(data).decode('ascii')}"


def thinking_blocks_to_segments(blocks: Iterable[ContentBlock]) -> list[ReasoningSegment]:
    """Reasoning to replay: the provider's objects when a block kept them, else a thinking
    block rebuilt from a signature kept beside the text (llama-index-llms-anthropic's
    ThinkingBlocks), else the text alone."""
    segments: list[ReasoningSegment] = []
    for block in blocks:
        if not isinstance(block, ThinkingBlock):
            continue
        records = block.additional_information.get(REASONING_KEY)
        signature = block.additional_information.get(SIGNATURE_KEY)
        if isinstance(records, list) and records:
            segments.extend(segments_from_records(records))
        elif isinstance(signature, str) and signature and block.content:
            # Signed over exactly this text, so it goes back as the block it came as.
            segments.append(signed_thinking(block.content, signature))
        elif block.content:
            segments.append(ReasoningSegment(text=block.content))
    return segments


def tool_calls_from_chat_message(message: ChatMessage) -> list[ToolCall]:
    """The tool calls of an assistant message, from its ToolCallBlocks.

    A message without ToolCallBlocks may still carry OpenAI-style
    ``additional_kwargs["tool_calls"]`` (older integrations); those are read instead.
    """
    blocks = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    return _tool_calls(blocks, message.additional_kwargs)


def _tool_calls(blocks: Sequence[ToolCallBlock], extra: Mapping[str, Any]) -> list[ToolCall]:
    raw = extra.get("tool_calls")
    if blocks:
        sent = _raw_arguments_by_id(raw) if raw else {}
        return [
            ToolCall(
                id=block.tool_call_id or f"call_{position}",
                name=block.tool_name,
                arguments=_arguments_text(
                    block.tool_kwargs, sent.get(block.tool_call_id or ""), block.tool_name
                ),
            )
            for position, block in enumerate(blocks)
        ]
    calls = []
    for position, item in enumerate(tool_call_dicts(raw)):
        function = item.get("function")
        if not isinstance(function, Mapping):
            continue
        arguments = function.get("arguments")
        name = str(function.get("name") or "")
        calls.append(
            ToolCall(
                id=str(item.get("id") or f"call_{position}"),
                name=name,
                arguments=_arguments_text(arguments if arguments is not None else {}, None, name),
            )
        )
    return calls


def tool_call_dicts(raw: object) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list):
        return []
    items: list[Mapping[str, Any]] = []
    for item in raw:
        if isinstance(item, Mapping):
            items.append(item)
        elif hasattr(item, "model_dump"):  # an OpenAI SDK object
            dumped = item.model_dump()
            if isinstance(dumped, Mapping):
                items.append(dumped)
    return items


def _raw_arguments_by_id(raw: object) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in tool_call_dicts(raw):
        function = item.get("function")
        call_id = item.get("id")
        if isinstance(call_id, str) and isinstance(function, Mapping):
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                found[call_id] = arguments
    return found


def _arguments_text(arguments: object, sent: str | None, tool: str) -> str:
    """JSON text for a call's arguments: the model's own text when it still matches."""
    if isinstance(arguments, str):
        return arguments
    if sent is not None:
        try:
            if json.loads(sent) == arguments:
                return sent
        except ValueError:
            pass
    return arguments_json(arguments, tool)


def tool_to_spec(tool: BaseTool | ToolSpec) -> ToolSpec:
    """A LlamaIndex tool as a neutral function spec (name, description, JSON Schema)."""
    if isinstance(tool, ToolSpec):
        return tool
    metadata = getattr(tool, "metadata", None)
    if metadata is None:
        raise TypeError(
            f"tools must be LlamaIndex tools (FunctionTool, QueryEngineTool, ...) or "
            f"minimax_m3 ToolSpecs; got {type(tool).__name__}"
        )
    return ToolSpec(
        name=metadata.get_name(),
        description=metadata.description,
        parameters=_parameters(metadata),
    )


# LlamaIndex builds a tool's JSON Schema afresh (pydantic's model_json_schema) each time it
# is asked, about 0.4 ms a tool, and an agent asks for every tool on every step: 500 tools
# cost 200 ms a step before anything was sent. A schema class does not change, so what it
# gives is kept, by class. A ToolMetadata subclass may compute it another way, and is
# asked every time.
_PARAMETERS: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()


def _parameters(metadata: ToolMetadata) -> dict[str, Any]:
    schema = metadata.fn_schema
    if type(metadata) is not ToolMetadata or not isinstance(schema, type):
        return metadata.get_parameters_dict()
    parameters = _PARAMETERS.get(schema)
    if parameters is None:
        parameters = _PARAMETERS[schema] = metadata.get_parameters_dict()
    return parameters


def tool_choice_to_neutral(
    choice: object, *, tool_required: bool = False, tool_names: Sequence[str] = ()
) -> ToolChoice | None:
    """LlamaIndex's ``tool_choice`` forms as the transport's; None when there are no tools.

    Accepts ``"auto"``, ``"none"``, ``"required"`` (``"any"`` too), a tool's name, and the
    OpenAI and Anthropic dict forms. Without a choice, ``tool_required`` picks "required".
    """
    if not tool_names:
        return None
    if choice is None:
        return "required" if tool_required else "auto"
    if isinstance(choice, NamedToolChoice):
        return choice
    if isinstance(choice, str):
        if choice in _TOOL_CHOICES:
            return choice  # type: ignore[return-value]
        if choice == "any":
            return "required"
        if choice in tool_names:
            return NamedToolChoice(choice)
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        name = choice.get("name") or (
            function.get("name") if isinstance(function, Mapping) else None
        )
        if isinstance(name, str) and name:
            return NamedToolChoice(name)
        kind = choice.get("type")
        if kind in _TOOL_CHOICES:
            return kind  # type: ignore[no-any-return]
        if kind == "any":
            return "required"
    raise ValueError(
        f"tool_choice must be 'auto', 'none', 'required' or the name of one of the tools "
        f"{list(tool_names)}; got {choice!r}"
    )
