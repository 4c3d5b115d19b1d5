"""Stream events as LangChain chunks, made as cheaply as a chunk per token needs."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.utils.json import parse_partial_json

from langchain_minimax_m3.convert import (
    PROVIDER,
    REASONING_CONTENT,
    REASONING_DETAILS,
    result_to_response_metadata,
    usage_to_metadata,
)
from langchain_minimax_m3.merge import BatchMergedChunk
from minimax_m3.reasoning import segments_to_records
from minimax_m3.types import ReasoningDelta, StreamEnd, StreamEvent, TextDelta, ToolCallDelta


def event_to_chunk(event: StreamEvent, *, model: str) -> AIMessageChunk:
    """One stream event as one chunk.

    Reasoning deltas go in ``additional_kwargs["reasoning_content"]`` (merging chunks
    concatenates them). Only the last chunk carries usage, the response metadata and
    ``reasoning_details``, so merged chunks hold each of them exactly once.
    """
    if isinstance(event, TextDelta):
        return _copied_chunk(_TEXT_CHUNK, event.text, {}, event.response_id)
    if isinstance(event, ReasoningDelta):
        return _copied_chunk(
            _REASONING_CHUNK, "", {REASONING_CONTENT: event.text}, event.response_id
        )
    if isinstance(event, ToolCallDelta):
        return AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=event.name, args=event.arguments, id=event.id, index=event.index
                )
            ],
            response_metadata={"model_provider": PROVIDER},
            id=event.response_id,
        )
    if isinstance(event, StreamEnd):
        result = event.result
        details = segments_to_records(result.reasoning) if result.reasoning_text else None
        return AIMessageChunk(
            content="",
            additional_kwargs={REASONING_DETAILS: details} if details else {},
            usage_metadata=usage_to_metadata(result.usage),
            response_metadata=result_to_response_metadata(result, model=model),
            id=result.response_id,
            chunk_position="last",
        )
    raise TypeError(f"unknown stream event {type(event).__name__}")


class GenerationChunks:
    """Stream events as generation chunks, for one stream.

    LangChain repairs cut-off JSON when it merges chunks (``parse_partial_json`` closes
    what is open), so arguments the model never finished became a valid call, and a
    tool ran on them; ``invoke`` reports the same answer as an invalid call. So what each
    chunk index's arguments add up to is kept, and the last chunk closes cut-off
    arguments with a bracket that parser refuses: the merged message then holds the call
    in ``invalid_tool_calls``, as ``invoke`` does.

    Every chunk of one answer carries the first chunk's id: the provider's, which every
    format names in its first event. UIs and LangGraph's ``messages`` mode merge chunks
    by id, and an answer split over two ids loses the half that holds what replay needs.
    A server that names the answer only later gets no id on any chunk, and LangChain then
    gives them all the run's.
    """

    __slots__ = ("_arguments", "_id", "_started", "model")

    def __init__(self, model: str) -> None:
        self.model = model
        # What each chunk index's arguments add up to, as LangChain's merge will see them.
        self._arguments: dict[int, list[str]] = {}
        self._id: str | None = None
        self._started = False

    def __call__(self, event: StreamEvent) -> ChatGenerationChunk:
        if isinstance(event, ToolCallDelta):
            self._arguments.setdefault(event.index, []).append(event.arguments)
        generation = event_to_generation_chunk(event, model=self.model)
        message = generation.message
        if not self._started:
            self._started = True
            self._id = message.id
        elif message.id != self._id:
            message.id = self._id
        if isinstance(event, StreamEnd) and self._arguments:
            tails = []
            for index, pieces in self._arguments.items():
                arguments = "".join(pieces)
                if _repaired_by_merging(arguments):
                    tail = _refused_tail(arguments)
                    tails.append(tool_call_chunk(name=None, args=tail, id=None, index=index))
            if tails:
                generation.message.tool_call_chunks = tails  # type: ignore[attr-defined]
        return generation


def _repaired_by_merging(arguments: str) -> bool:
    """Whether LangChain's merge would make a call of arguments that are no JSON object."""
    try:
        if not arguments.strip() or isinstance(json.loads(arguments), dict):
            return False
    except (ValueError, RecursionError):
        pass
    try:
        return isinstance(parse_partial_json(arguments), dict)
    except (ValueError, RecursionError):
        return False


def _refused_tail(arguments: str) -> str:
    """What, appended to ``arguments``, makes ``parse_partial_json`` return None: it
    refuses a closing bracket that does not match the innermost open one."""
    inside = escaped = False
    open_brackets: list[str] = []
    for char in arguments:
        if inside:
            if char == '"' and not escaped:
                inside = False
            elif char == "\\":
                escaped = not escaped
            else:
                escaped = False
        elif char == '"':
            inside, escaped = True, False
        elif char in "{[":
            open_brackets.append("}" if char == "{" else "]")
        elif open_brackets and char == open_brackets[-1]:
            open_brackets.pop()
    # End the string first: after a backslash the first quote is only escaped.
    close_string = ('""' if escaped else '"') if inside else ""
    wrong = "}" if open_brackets and open_brackets[-1] == "]" else "]"
    return close_string + wrong


def event_to_generation_chunk(event: StreamEvent, *, model: str) -> ChatGenerationChunk:
    """One stream event as what ``_stream`` yields; shared by ``_stream`` and ``_astream``.

    The generation's ``text`` is the chunk's content itself. LangChain's validator would
    store a copy of it instead, and since ``stream()`` keeps every generation until the
    end, that copy alone made a long answer take twice its size in memory.
    """
    message = event_to_chunk(event, model=model)
    generation = _GENERATION.__copy__()
    generation.__dict__.update(message=message, text=message.content)
    return generation


# A stream makes a chunk per token, and building one through LangChain's validators costs
# more than everything else the adapter does for that token. A text or reasoning chunk
# holds nothing but a string from the transport, so it is a copy (pydantic's own
# __copy__) of a chunk validated once, built with the same arguments so that it also has
# the same fields set; its values are then replaced, with a new object for every mutable
# field, so no two chunks share a list or a dict. Tests hold the copies equal to chunks
# built the validated way.
_TEXT_CHUNK = AIMessageChunk(content="", response_metadata={"model_provider": PROVIDER})
_REASONING_CHUNK = AIMessageChunk(
    content="",
    additional_kwargs={REASONING_CONTENT: ""},
    response_metadata={"model_provider": PROVIDER},
)
_GENERATION = BatchMergedChunk(message=_TEXT_CHUNK)


def _copied_chunk(
    prototype: AIMessageChunk,
    content: str,
    additional_kwargs: dict[str, Any],
    response_id: str | None,
) -> AIMessageChunk:
    chunk = prototype.__copy__()
    chunk.__dict__.update(
        id=response_id,
        content=content,
        additional_kwargs=additional_kwargs,
        response_metadata={"model_provider": PROVIDER},
        tool_calls=[],
        invalid_tool_calls=[],
        tool_call_chunks=[],
    )
    return chunk
