"""Reasoning segments as plain dicts, for framework messages, and back again.

Adapters store the provider's own reasoning objects in their messages (LangChain's
``additional_kwargs["reasoning_details"]``, LlamaIndex's ``ThinkingBlock``), so a message
that comes back in the history can be replayed verbatim. These two functions are the
only place that knows which dict belongs to which wire format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from minimax_m3.types import ReasoningSegment

# Anthropic-format thinking blocks; everything else is a Chat Completions reasoning item.
_ANTHROPIC_TYPES = frozenset({"thinking", "redacted_thinking"})
_ANTHROPIC_WIRE = "anthropic_messages"
_CHAT_WIRE = "chat_completions"


def minimax_reasoning_item(text: str, index: int) -> dict[str, Any]:
    """MiniMax's own ``reasoning_details`` item, for reasoning that arrived as plain text."""
    return {
        "type": "reasoning.text",
        "id": f"reasoning-text-{index + 1}",
        "format": "MiniMax-response-v1",
        "index": index,
        "text": text,
    }


def is_thinking_record(record: object) -> bool:
    """Whether ``record`` is an Anthropic-format thinking block (signed or redacted)."""
    return isinstance(record, Mapping) and record.get("type") in _ANTHROPIC_TYPES


def signed_thinking(text: str, signature: str) -> ReasoningSegment:
    """A thinking block rebuilt from its text and the signature kept beside it (as other
    integrations keep them), to go back on the Anthropic format as it came."""
    record = {"type": "thinking", "thinking": text, "signature": signature}
    return ReasoningSegment(text=text, wire=_ANTHROPIC_WIRE, data=record)


def segments_to_records(segments: Iterable[ReasoningSegment]) -> list[dict[str, Any]]:
    """The provider's objects as received; plain-text reasoning as a MiniMax item."""
    records: list[dict[str, Any]] = []
    for index, segment in enumerate(segments):
        if segment.data is not None:
            records.append(dict(segment.data))
        else:
            records.append(minimax_reasoning_item(segment.text, index))
    return records


def segments_from_records(records: Sequence[Mapping[str, Any]] | None) -> list[ReasoningSegment]:
    """Records written by ``segments_to_records`` (or by hand) back into segments."""
    segments: list[ReasoningSegment] = []
    for record in records or ():
        if not isinstance(record, Mapping):
            continue
        if record.get("type") in _ANTHROPIC_TYPES:
            text = record.get("thinking")
            wire = _ANTHROPIC_WIRE
        else:
            text = record.get("text")
            wire = _CHAT_WIRE
        segments.append(
            ReasoningSegment(
                text=text if isinstance(text, str) else "", wire=wire, data=dict(record)
            )
        )
    return segments
