"""Conversions from the transport's neutral results to LlamaIndex's chat types.

The other direction, and the keys both share, are in :mod:`llama_index_minimax_m3.convert`.
An answer's reasoning becomes ThinkingBlocks: the text, with the provider's own objects in
``additional_information["reasoning_details"]`` (and a signed Anthropic thinking block's
signature also in ``additional_information["signature"]``), so it goes back verbatim.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ContentBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection

from llama_index_minimax_m3.convert import (
    REASONING_KEY,
    REASONING_TEXT_KEY,
    SIGNATURE_KEY,
    tool_call_dicts,
    tool_calls_from_chat_message,
)
from minimax_m3.reasoning import segments_to_records
from minimax_m3.types import ChatResult, ReasoningSegment, ToolCall, Usage

logger = logging.getLogger("llama_index_minimax_m3")


def usage_to_dict(usage: Usage | None) -> dict[str, int]:
    """Token counts under the names LlamaIndex's TokenCountingHandler reads.

    Cache and reasoning counts appear only when the provider reported them.
    """
    if usage is None:
        return {}
    counts = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    optional = {
        "cached_tokens": usage.cache_read_tokens,
        "cache_creation_tokens": usage.cache_creation_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    counts.update({key: value for key, value in optional.items() if value is not None})
    return counts


def result_to_raw(result: ChatResult) -> dict[str, Any]:
    """What ``ChatResponse.raw`` holds: ids, finish reason, usage and provider metadata,
    and the price in USD (``cost``) where the provider reported one (Runware's tasks)."""
    raw: dict[str, Any] = {
        "id": result.response_id,
        "model": result.model,
        "request_id": result.request_id,
        "finish_reason": result.finish_reason,
        "usage": usage_to_dict(result.usage) if result.usage is not None else None,
        "provider_metadata": dict(result.provider_metadata),
    }
    cost = cost_of(result)
    if cost is not None:
        raw["cost"] = cost
    return raw


def cost_of(result: ChatResult) -> float | None:
    cost = result.provider_metadata.get("cost")
    return cost if isinstance(cost, float) else None


def tool_call_to_dict(call_id: str | None, name: str, arguments: str) -> dict[str, Any]:
    """OpenAI's shape, kept in ``additional_kwargs["tool_calls"]`` for LlamaIndex helpers."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_call_to_block(call: ToolCall) -> ToolCallBlock:
    """A finished call; arguments that are not a JSON object stay as the model's text."""
    try:
        arguments: dict[str, Any] | str = call.parsed_arguments()
    except ValueError:
        logger.warning(
            "tool call %s (%s) has arguments that are not a JSON object: %r",
            call.id,
            call.name,
            call.arguments,
        )
        arguments = call.arguments
    return ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=arguments)


def segments_to_thinking_blocks(
    segments: Sequence[ReasoningSegment], *, reasoning_tokens: int | None = None
) -> list[ThinkingBlock]:
    """The reasoning as ThinkingBlocks: one for all of it, or one per signed segment.

    A signature is over one thinking block's text, and llama-index-llms-anthropic sends
    each ThinkingBlock as one thinking block with ``content`` as its text, so signed
    segments are not run together. ``reasoning_tokens`` (the answer's total) goes on the
    block only when there is one.
    """
    records = segments_to_records(segments)
    signatures = [record.get(SIGNATURE_KEY) for record in records]
    if not any(isinstance(signature, str) and signature for signature in signatures):
        return [
            ThinkingBlock(
                content="".join(segment.text for segment in segments),
                num_tokens=reasoning_tokens,
                additional_information={REASONING_KEY: records},
            )
        ]
    blocks = []
    for segment, record, signature in zip(segments, records, signatures, strict=True):
        information: dict[str, Any] = {REASONING_KEY: [record]}
        if isinstance(signature, str) and signature:
            information[SIGNATURE_KEY] = signature
        blocks.append(
            ThinkingBlock(
                content=segment.text,
                num_tokens=reasoning_tokens if len(segments) == 1 else None,
                additional_information=information,
            )
        )
    return blocks


def result_to_chat_message(result: ChatResult) -> ChatMessage:
    """The assistant message: ThinkingBlock(s), then TextBlock, then ToolCallBlocks."""
    blocks: list[ContentBlock] = []
    if result.reasoning:
        blocks.extend(
            segments_to_thinking_blocks(
                result.reasoning,
                reasoning_tokens=result.usage.reasoning_tokens if result.usage else None,
            )
        )
    blocks.append(TextBlock(text=result.text))
    blocks.extend(tool_call_to_block(call) for call in result.tool_calls)
    additional: dict[str, Any] = {}
    if result.tool_calls:
        additional["tool_calls"] = [
            tool_call_to_dict(call.id, call.name, call.arguments) for call in result.tool_calls
        ]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=additional)


def result_to_chat_response(result: ChatResult, *, delta: str | None = None) -> ChatResponse:
    """A whole answer as a ChatResponse, usage in ``raw["usage"]`` and ``additional_kwargs``."""
    additional: dict[str, Any] = dict(usage_to_dict(result.usage))
    cost = cost_of(result)
    if cost is not None:
        additional["cost"] = cost
    return ChatResponse(
        message=result_to_chat_message(result),
        raw=result_to_raw(result),
        delta=delta,
        additional_kwargs=additional,
    )


def chat_response_to_completion_response(response: ChatResponse) -> CompletionResponse:
    """A chat response (or a chunk of a stream) as what ``complete()`` returns.

    As LlamaIndex's own conversion, the message's and the response's ``additional_kwargs``
    merged (tool calls, usage, ``thinking_delta``), without changing either; and the
    reasoning, which a completion has no blocks to hold: its text so far under
    ``reasoning_content`` and, once the answer is whole, the provider's objects under
    ``reasoning_details``, in ``additional_kwargs`` and in ``raw``.
    """
    message = response.message
    additional = {**message.additional_kwargs, **response.additional_kwargs}
    raw = response.raw
    thinking = [block for block in message.blocks if isinstance(block, ThinkingBlock)]
    if thinking:
        reasoning: dict[str, Any] = {
            REASONING_TEXT_KEY: "".join(block.content or "" for block in thinking)
        }
        records = [
            record
            for block in thinking
            for record in block.additional_information.get(REASONING_KEY) or ()
        ]
        if records:
            reasoning[REASONING_KEY] = records
        additional.update(reasoning)
        if isinstance(raw, Mapping):
            raw = {**raw, **reasoning}
    return CompletionResponse(
        text=message.content or "", additional_kwargs=additional, raw=raw, delta=response.delta
    )


def chat_response_to_tool_selections(response: ChatResponse) -> list[ToolSelection]:
    """The tool calls of a response (or of a chunk of a stream) for LlamaIndex to run."""
    message = response.message
    blocks = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if not blocks:
        return [
            ToolSelection(
                tool_id=call.id,
                tool_name=call.name,
                tool_kwargs=_arguments_dict(call.arguments, call.name, call.id),
            )
            for call in tool_calls_from_chat_message(message)
        ]
    return [
        ToolSelection(
            tool_id=block.tool_call_id or "",
            tool_name=block.tool_name,
            tool_kwargs=(
                dict(block.tool_kwargs)
                if isinstance(block.tool_kwargs, dict)
                else _arguments_dict(block.tool_kwargs, block.tool_name, block.tool_call_id)
            ),
        )
        for block in blocks
    ]


def _arguments_dict(arguments: str, tool: str, call_id: str | None) -> dict[str, Any]:
    """A call's arguments to run it with; a tool is never run on arguments the model did
    not send, so text that is no JSON object (cut off, say) raises, naming the tool."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except (ValueError, RecursionError):  # RecursionError: nested beyond the stack
        value = None
    if isinstance(value, dict):
        return value
    raise ValueError(
        f"tool call {tool!r} ({call_id}): the model's arguments are not a JSON object "
        f"(cut off?), so the tool is not run: {arguments[:200]!r}"
    )


def chat_response_with_first_tool_call(response: ChatResponse) -> ChatResponse:
    """A copy of ``response`` that keeps only its first tool call."""
    message = response.message
    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if len(calls) <= 1:
        return response
    first = calls[0]
    blocks = [
        block for block in message.blocks if not isinstance(block, ToolCallBlock) or block is first
    ]
    additional = dict(message.additional_kwargs)
    if isinstance(additional.get("tool_calls"), list):
        additional["tool_calls"] = [
            item
            for item in tool_call_dicts(additional["tool_calls"])
            if item.get("id") == first.tool_call_id
        ]
    trimmed = message.model_copy(update={"blocks": blocks, "additional_kwargs": additional})
    return response.model_copy(update={"message": trimmed})
