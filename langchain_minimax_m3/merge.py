"""Merging a long stream's chunks in linear time, with langchain-core's own merge.

At the end of ``stream()``, ``invoke()`` with streaming and their async twins,
langchain-core merges every chunk of the answer in one call, ``chunks[0] + chunks[1:]``.
That merge folds from the left, and grows each string it joins inside a dict
(``merged[key] += value``: reasoning in ``additional_kwargs``, tool-call arguments, the
text of v1 content blocks), which CPython cannot grow in place: each chunk copies
everything before it, so 160,000 reasoning chunks took 2.7 s to merge after the last one
arrived, and four times as many would take sixteen times as long.

Our chunks are a subclass whose list ``+`` does the same merge in batches: langchain-core
merges each run of ``BATCH`` chunks, then each run of those results, and so on, so every
string is copied about ``BATCH / 2`` times per level, whatever the answer's length; text
and call fragments are set apart first where that changes nothing (see ``_merged``).
The merge is langchain-core's own, so the result is the one it would give; a property
test holds the two equal over the chunk sequences our streams produce.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.utils._merge import merge_dicts

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
    """What ``chunks[0] + chunks[1:]`` gives, merged a batch at a time.

    That sum is a ``ChatGenerationChunk`` of the messages' sum and of the generation
    infos merged in one call; the messages are summed here.
    """
    first = chunks[0]
    infos = [chunk.generation_info for chunk in chunks[1:] if chunk.generation_info]
    generation_info = merge_dicts(first.generation_info or {}, *infos)
    message = _merged([chunk.message for chunk in chunks])
    return ChatGenerationChunk(message=message, generation_info=generation_info or None)


def _merged(messages: list[Any]) -> Any:
    """``messages[0] + messages[1:]``, with the same result in linear work.

    Chunks that hold only text, or only one fragment of a tool call (nothing else of
    their own: no reasoning, no usage, the same id and metadata), change nothing in the
    merge but the text and the calls. Provided no other chunk adds text (or, for the
    calls, a fragment), they are merged apart and after the rest, in order: text in one
    left fold (langchain-core grows a plain string in place there, so it is linear, and
    the big answer is not copied once more per level), the calls' argument fragments
    joined into the fragment before them (each batch is a message, and making one
    parses its calls' arguments so far, 1.5 us a character, so batching a long call
    parsed it once per level). The rest, where langchain-core grows strings inside
    dicts (the reasoning), is merged in batches.
    """
    head, rest = messages[0], messages[1:]
    kinds = [_set_apart(message, head) for message in rest]
    kept = [message for message, kind in zip(rest, kinds, strict=True) if kind is None]
    move_texts = not any(message.content for message in kept)
    move_calls = not any(message.tool_call_chunks for message in kept)
    texts, calls, others = [], [], []
    for message, kind in zip(rest, kinds, strict=True):
        if kind == "text" and move_texts:
            texts.append(message)
        elif kind == "call" and move_calls:
            calls.append(message)
        else:
            others.append(message)
    tail = []
    if texts:
        tail.append(texts[0] + texts[1:] if len(texts) > 1 else texts[0])
    tail += _joined_fragments(calls)
    merged = _batched([head, *others])
    return merged + tail if tail else merged


def _batched(messages: list[Any]) -> Any:
    while len(messages) > 1:
        messages = [
            messages[at] + messages[at + 1 : at + BATCH] if at + 1 < len(messages) else messages[at]
            for at in range(0, len(messages), BATCH)
        ]
    return messages[0]


def _set_apart(message: Any, head: Any) -> str | None:
    """ "text" or "call" for a chunk holding nothing but text or one call fragment."""
    if not (
        isinstance(message, AIMessageChunk)
        and not message.additional_kwargs
        and message.usage_metadata is None
        and message.id == head.id
        and message.response_metadata == head.response_metadata
        and message.chunk_position is None
    ):
        return None
    if isinstance(message.content, str) and not message.tool_call_chunks:
        return "text"
    if message.content == "" and len(message.tool_call_chunks) == 1:
        return "call"
    return None


def _joined_fragments(calls: list[Any]) -> list[Any]:
    """Each fragment with the fragments after it that only add arguments to its call
    (same index, no id, no name) joined into it, as merging them would."""
    runs: list[tuple[Any, list[str]]] = []
    for message in calls:
        [fragment] = message.tool_call_chunks
        if runs and fragment.get("id") is None and fragment.get("name") is None:
            head, pieces = runs[-1]
            if fragment.get("index") == head.tool_call_chunks[0].get("index"):
                pieces.append(fragment.get("args") or "")
                continue
        runs.append((message, [fragment.get("args") or ""]))
    joined = []
    for head, pieces in runs:
        if len(pieces) > 1:
            [fragment] = head.tool_call_chunks
            update = {"tool_call_chunks": [{**fragment, "args": "".join(pieces)}]}
            head = head.model_copy(update=update)
        joined.append(head)
    return joined
