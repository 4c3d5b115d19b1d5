"""Merging a long stream's chunks in linear time, with langchain-core's own merge.

At the end of ``stream()``, ``invoke()`` with streaming and their async twins,
langchain-core merges every chunk of the answer in one call, ``chunks[0] + chunks[1:]``.
That merge folds from the left, and grows each string it joins inside a dict
(``merged[key] += value``: reasoning in ``additional_kwargs``, tool-call arguments, the
text of v1 content blocks), which CPython cannot grow in place: each chunk copies
everything before it, so 160,000 reasoning chunks took 2.7 s to merge after the last one
arrived, and four times as many would take sixteen times as long.

Our chunks are a subclass whose list ``+`` does the same merge in batches: langchain-core
merges each run of ``BATCH`` chunks, then each run of those results, and so on. Every
string is then copied about ``BATCH / 2`` times per level, whatever the answer's length.
The merge is langchain-core's own, so the result is the one it would give; a property
test holds the two equal over the chunk sequences our streams produce.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

BATCH = 64


class BatchMergedChunk(ChatGenerationChunk):
    """A ``ChatGenerationChunk`` whose list ``+`` merges in batches of :data:`BATCH`."""

    @classmethod
    def lc_id(cls) -> list[str]:
        # Serialised as the class it stands for, so that loading it needs no import of ours.
        return ChatGenerationChunk.lc_id()

    def __add__(self, other: Any) -> ChatGenerationChunk:
        if isinstance(other, list) and len(other) >= BATCH:
            return merge_in_batches([self, *other])
        return super().__add__(other)


def merge_in_batches(chunks: list[ChatGenerationChunk]) -> ChatGenerationChunk:
    """What ``chunks[0] + chunks[1:]`` gives, merged a batch at a time."""
    first, rest = chunks[0], chunks[1:]
    calls = [chunk for chunk in rest if _only_a_call_fragment(chunk, first)]
    if calls and not any(
        chunk.message.tool_call_chunks  # type: ignore[attr-defined]
        for chunk in rest
        if not _only_a_call_fragment(chunk, first)
    ):
        # Each merge of a batch builds a message, and building one parses its tool
        # calls' arguments so far: batching a long call parsed its arguments once per
        # level, 1.5 us a character. Chunks that hold nothing but a call's fragment
        # (no text, no reasoning, no usage, the same metadata) change nothing else in
        # the merge, so they are merged last, in order, their runs joined first.
        plain = [first, *(chunk for chunk in rest if not _only_a_call_fragment(chunk, first))]
        merged = _batched(plain)
        return ChatGenerationChunk.__add__(merged, _joined_fragments(calls))
    return _batched(chunks)


def _batched(chunks: list[ChatGenerationChunk]) -> ChatGenerationChunk:
    merge = ChatGenerationChunk.__add__
    while len(chunks) > 1:
        chunks = [
            merge(chunks[at], chunks[at + 1 : at + BATCH]) if at + 1 < len(chunks) else chunks[at]
            for at in range(0, len(chunks), BATCH)
        ]
    return chunks[0]


def _only_a_call_fragment(chunk: ChatGenerationChunk, first: ChatGenerationChunk) -> bool:
    message = chunk.message
    return (
        isinstance(message, AIMessageChunk)
        and message.content == ""
        and len(message.tool_call_chunks) == 1
        and not message.additional_kwargs
        and message.usage_metadata is None
        and not chunk.generation_info
        and message.id == first.message.id
        and message.response_metadata == first.message.response_metadata
        and message.chunk_position is None
    )


def _joined_fragments(calls: list[ChatGenerationChunk]) -> list[ChatGenerationChunk]:
    """Each fragment with the fragments after it that only add arguments to its call
    (same index, no id, no name) joined into it, as merging them would."""
    runs: list[tuple[ChatGenerationChunk, list[str]]] = []
    for chunk in calls:
        [fragment] = chunk.message.tool_call_chunks  # type: ignore[attr-defined]
        if runs and fragment.get("id") is None and fragment.get("name") is None:
            head, pieces = runs[-1]
            if fragment.get("index") == head.message.tool_call_chunks[0].get("index"):  # type: ignore[attr-defined]
                pieces.append(fragment.get("args") or "")
                continue
        runs.append((chunk, [fragment.get("args") or ""]))
    joined = []
    for head, pieces in runs:
        if len(pieces) > 1:
            [fragment] = head.message.tool_call_chunks  # type: ignore[attr-defined]
            update = {"tool_call_chunks": [{**fragment, "args": "".join(pieces)}]}
            head = head.model_copy(update={"message": head.message.model_copy(update=update)})
        joined.append(head)
    return joined
