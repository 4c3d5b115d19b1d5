"""MiniMax's passive prompt cache, as the emulator models it.

MiniMax caches prompt prefixes on its own, for calls of 512 input tokens or more, matched
in the order tools, system, history (minimax-api.md §3.4, "Passive-cache rules", from
platform.minimaxi.com/docs/api-reference/text-prompt-caching). The model here cuts a
prompt into whole blocks (the tools, the system prompt, then each message) and counts as
cached the longest run of leading blocks whose chain an earlier request with the same
key and model already sent. Blocks are compared by their parsed value dumped with sorted
keys: the real cache works on the rendered prompt, where JSON key order does not show,
but every value (argument strings, ids, reasoning text) does.

Counts are the emulator's estimate, a token per four bytes of each block's JSON, so a
request's prompt tokens are the sum of its blocks and a replayed prefix is cached whole.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The documented floor: below it MiniMax neither reads nor writes the cache.
MIN_CACHED_PROMPT = 512


@dataclass(frozen=True)
class PromptCount:
    """A prompt's estimated tokens and the part of them read from the cache."""

    tokens: int
    cached: int = 0


def block_tokens(block: Any) -> int:
    """The emulator's rough count of one block: a token per four bytes of its JSON."""
    return len(json.dumps(block, ensure_ascii=False, separators=(",", ":")).encode()) // 4


def count_blocks(blocks: Sequence[Any]) -> int:
    """A whole prompt's estimate (at least 1, as an empty prompt still costs a token)."""
    return max(1, sum(block_tokens(block) for block in blocks))


def chat_blocks(body: Mapping[str, Any]) -> list[Any]:
    """A Chat Completions prompt as blocks: the tools, then each message (the system
    prompt is the first message there)."""
    return _present(body.get("tools"), *_list(body.get("messages")))


def messages_blocks(body: Mapping[str, Any]) -> list[Any]:
    """An Anthropic Messages prompt as blocks: the tools, the system, each message."""
    return _present(body.get("tools"), body.get("system"), *_list(body.get("messages")))


def task_blocks(task: Mapping[str, Any]) -> list[Any]:
    """A Runware task's prompt as blocks: the tools, the system prompt in its settings,
    each message."""
    settings = task.get("settings")
    system = settings.get("systemPrompt") if isinstance(settings, Mapping) else None
    return _present(task.get("tools"), system, *_list(task.get("messages")))


def caller_of(headers: Mapping[str, str]) -> str:
    """Whose cache a request reads: a digest of the key it carries, so that no secret is
    kept in the emulator's memory."""
    key = headers.get("authorization") or headers.get("x-api-key") or ""
    return hashlib.sha256(key.strip().encode()).hexdigest()


class PromptCache:
    """The prefixes each key has sent per model; thread-safe, as the server's loop thread
    writes and a test's thread resets."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str, str]] = set()

    def count(self, caller: str, model: str, blocks: Sequence[Any]) -> PromptCount:
        """The prompt's tokens and its cached part; the prefixes are remembered for the
        next request when the prompt reaches the cache's floor."""
        tokens = count_blocks(blocks)
        if not self.enabled or tokens < MIN_CACHED_PROMPT:
            return PromptCount(tokens)
        chain = list(_chain(blocks))
        with self._lock:
            cached = 0
            for digest, block in zip(chain, blocks, strict=True):
                if (caller, model, digest) not in self._seen:
                    break
                cached += block_tokens(block)
            self._seen.update((caller, model, digest) for digest in chain)
        # Hook for explicit markers: a block carrying cache_control that was not seen
        # before would count as a cache write; passive caching bills none.
        return PromptCount(tokens, cached)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def _chain(blocks: Iterable[Any]) -> Iterable[str]:
    """One digest per block, of that block and every block before it."""
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(json.dumps(block, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\x00")
        yield digest.copy().hexdigest()


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _present(*blocks: Any) -> list[Any]:
    return [block for block in blocks if block is not None and block != [] and block != ""]
