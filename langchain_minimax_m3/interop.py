"""Histories for ChatAnthropic: our answers in the shape it writes its own.

ChatAnthropic sends back thinking blocks only from the ``content`` list, as it stores
them (``{"type": "thinking", "thinking": ..., "signature": ...}``), and drops standard
``reasoning`` blocks of any message another provider wrote. Our answers keep reasoning in
``additional_kwargs["reasoning_details"]``, so an agent moved from M3 to ChatAnthropic
would replay its turns unsigned. ``to_anthropic_message`` gives the same turn in
ChatAnthropic's shape. The other way needs nothing: ChatMiniMaxM3 reads ChatAnthropic's
messages as they are.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from langchain_minimax_m3.convert import REASONING_DETAILS
from minimax_m3.reasoning import is_thinking_record

__all__ = ["to_anthropic_message", "to_anthropic_messages"]


def to_anthropic_message(message: AIMessage) -> AIMessage:
    """``message`` with its thinking blocks, text and tool calls as ChatAnthropic's
    content list; a message holding no thinking block is returned unchanged."""
    details = message.additional_kwargs.get(REASONING_DETAILS)
    thinking = [dict(item) for item in details or () if is_thinking_record(item)]
    if not thinking:
        return message
    content: list[str | dict[str, Any]] = [*thinking]
    # .text reads a plain string and output_version="v1" content blocks alike.
    if message.text:
        content.append({"type": "text", "text": message.text})
    content.extend(
        {"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["args"]}
        for call in message.tool_calls
    )
    kwargs = {k: v for k, v in message.additional_kwargs.items() if k != REASONING_DETAILS}
    # Content in ChatAnthropic's own shape, not v1 blocks for it to translate again.
    metadata = {k: v for k, v in message.response_metadata.items() if k != "output_version"}
    return message.model_copy(
        update={"content": content, "additional_kwargs": kwargs, "response_metadata": metadata}
    )


def to_anthropic_messages(messages: list[BaseMessage]) -> list[BaseMessage]:
    """A whole history, each of our answers through ``to_anthropic_message``."""
    return [to_anthropic_message(m) if isinstance(m, AIMessage) else m for m in messages]
