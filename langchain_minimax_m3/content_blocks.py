"""The ``content_blocks`` translator for messages whose ``model_provider`` is "minimax".

A reasoning block comes first when the model thought (never an empty one), then the
text, then the tool calls. Importing this module registers the translator.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator

from langchain_minimax_m3.convert import PROVIDER, REASONING_CONTENT, REASONING_DETAILS
from minimax_m3.reasoning import is_thinking_record

__all__ = ["translate_content", "translate_content_chunk"]


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    """Standard blocks for a finished message."""
    blocks = _reasoning_and_text(message, details_too=True)
    blocks.extend(_server_tool_blocks(message))
    blocks.extend(_tool_call_blocks(message))
    return blocks


def translate_content_chunk(chunk: AIMessageChunk) -> list[types.ContentBlock]:
    """Standard blocks for a streamed chunk, or for chunks merged so far.

    Only ``reasoning_content`` counts here: the last chunk's ``reasoning_details`` repeat
    the deltas already streamed. Tool-call fragments get a string ``index`` of their own
    ("lc_tc_<n>"), so merging v1 content never folds a tool call into the reasoning or
    text block that LangChain numbers 0, 1, ...
    """
    blocks = _reasoning_and_text(chunk, details_too=False)
    if chunk.chunk_position == "last":
        blocks.extend(_server_tool_blocks(chunk))
        blocks.extend(_tool_call_blocks(chunk))
    else:
        for fragment in chunk.tool_call_chunks:
            block = types.ToolCallChunk(
                type="tool_call_chunk",
                id=fragment.get("id"),
                name=fragment.get("name"),
                args=fragment.get("args"),
            )
            index = fragment.get("index")
            if index is not None:
                block["index"] = f"lc_tc_{index}"
            blocks.append(block)
    return blocks


def _reasoning_and_text(message: AIMessage, *, details_too: bool) -> list[types.ContentBlock]:
    """The reasoning block, when there is reasoning, then the text block, when there is text."""
    if not isinstance(message.content, str):
        # Not a shape this package produces: let LangChain parse it generically.
        raise NotImplementedError
    kwargs = message.additional_kwargs
    blocks = _signed_reasoning_blocks(kwargs) if details_too else []
    reasoning = "" if blocks else _reasoning_text(kwargs, details_too=details_too)
    if reasoning:
        blocks.append(types.ReasoningContentBlock(type="reasoning", reasoning=reasoning))
    if message.content:
        blocks.append(types.TextContentBlock(type="text", text=message.content))
    return blocks


def _signed_reasoning_blocks(additional_kwargs: dict[str, Any]) -> list[types.ContentBlock]:
    """The Anthropic format's thinking blocks as ChatAnthropic's v1 content has them: a
    reasoning block each, its signature in ``extras``, and redacted thinking as a
    ``non_standard`` block, so a v1 history taken to ChatAnthropic, or brought back,
    replays signed and whole; empty when none is signed or redacted."""
    details = additional_kwargs.get(REASONING_DETAILS)
    if not isinstance(details, list):
        return []
    thinking = [item for item in details if isinstance(item, dict) and is_thinking_record(item)]
    if not any(item.get("signature") or item["type"] != "thinking" for item in thinking):
        return []
    blocks: list[types.ContentBlock] = []
    for item in thinking:
        if item["type"] != "thinking":
            blocks.append(types.NonStandardContentBlock(type="non_standard", value=dict(item)))
            continue
        block = types.ReasoningContentBlock(
            type="reasoning", reasoning=str(item.get("thinking") or "")
        )
        if item.get("signature"):
            block["extras"] = {"signature": item["signature"]}
        blocks.append(block)
    return blocks


# Where a built-in tool's entry may hold what it found: Runware documents no shape.
_SERVER_OUTPUT_KEYS = ("output", "result", "results", "content")


def _server_tool_blocks(message: AIMessage) -> list[types.ContentBlock]:
    """What the provider's own tools did (Runware's search, codeInterpreter): a
    ``server_tool_call`` each, and its ``server_tool_result`` where the entry holds one."""
    entries = message.response_metadata.get("server_tool_calls")
    blocks: list[types.ContentBlock] = []
    for position, entry in enumerate(entries if isinstance(entries, list) else ()):
        if not isinstance(entry, dict):
            continue
        call_id = str(entry.get("id") or f"server_tool_{position}")
        arguments = entry.get("input", entry.get("arguments"))
        blocks.append(
            types.ServerToolCall(
                type="server_tool_call",
                id=call_id,
                name=str(entry.get("name") or entry.get("type")),
                args=arguments if isinstance(arguments, dict) else {},
                extras={"provider_entry": entry},
            )
        )
        for key in _SERVER_OUTPUT_KEYS:
            if key in entry:
                blocks.append(
                    types.ServerToolResult(
                        type="server_tool_result",
                        tool_call_id=call_id,
                        # An entry that names an error (its shape is undocumented) failed.
                        status="error"
                        if entry.get("error") or entry.get("status") == "error"
                        else "success",
                        output=entry[key],
                    )
                )
                break
    return blocks


def _tool_call_blocks(message: AIMessage) -> list[types.ContentBlock]:
    return [
        types.ToolCall(type="tool_call", id=call.get("id"), name=call["name"], args=call["args"])
        for call in message.tool_calls
    ]


def _reasoning_text(additional_kwargs: dict[str, Any], *, details_too: bool) -> str:
    text = additional_kwargs.get(REASONING_CONTENT)
    if isinstance(text, str) and text:
        return text
    if not details_too:
        return ""
    details = additional_kwargs.get(REASONING_DETAILS)
    if not isinstance(details, list):
        return ""
    pieces = []
    for item in details:
        if isinstance(item, dict):
            piece = item.get("thinking") if item.get("type") == "thinking" else item.get("text")
            if isinstance(piece, str):
                pieces.append(piece)
    return "".join(pieces)


register_translator(PROVIDER, translate_content, translate_content_chunk)
