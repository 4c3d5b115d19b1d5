"""The cache-hit share of each agent turn, read where a user reads it.

MiniMax caches prompt prefixes of 512 tokens or more on its own; an agent that resends
the same system prompt, tools and history each turn gets them read from the cache (a
fifth of the price of fresh input at list price). These read the figures from what each
framework hands back: LangChain's ``usage_metadata`` and LlamaIndex's ``raw["usage"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def cache_line(turn: int, cached: int, total: int) -> str:
    share = round(100 * cached / total) if total else 0
    return f"turn {turn}: {cached:,} of {total:,} input tokens read from cache ({share}%)"


def langchain_turns(messages: Iterable[Any]) -> list[tuple[int, int]]:
    """(cache reads, input tokens) of each model turn of a LangChain agent's state."""
    # Imported here: the LlamaIndex examples use this module with only their extra.
    from langchain_core.messages import AIMessage

    turns = []
    for message in messages:
        if isinstance(message, AIMessage) and message.usage_metadata is not None:
            usage = message.usage_metadata
            details: Mapping[str, Any] = usage.get("input_token_details") or {}
            turns.append((int(details.get("cache_read") or 0), usage["input_tokens"]))
    return turns


def llama_index_turn(raw: Any) -> tuple[int, int] | None:
    """(cached tokens, prompt tokens) of one LlamaIndex ChatResponse's ``raw``."""
    usage = raw.get("usage") if isinstance(raw, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    return int(usage.get("cached_tokens") or 0), int(usage.get("prompt_tokens") or 0)


def print_turns(turns: Iterable[tuple[int, int]], indent: str = "") -> None:
    for number, (cached, total) in enumerate(turns, 1):
        print(f"{indent}{cache_line(number, cached, total)}")
