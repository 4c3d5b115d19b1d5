"""Stream events as LangChain chunks, made as cheaply as a chunk per token needs."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_minimax_m3.convert import (
    PROVIDER,
    REASONING_CONTENT,
    REASONING_DETAILS,
    result_to_response_metadata,
    usage_to_metadata,
)
from minimax_m3.reasoning import segments_to_records
from minimax_m3.types import ReasoningDelta, StreamEnd, StreamEvent, TextDelta, ToolCallDelta


def event_to_chunk(event: StreamEvent, *, model: str) -> AIMessageChunk:
    """One stream event as one chunk.

    Reasoning deltas go in ``additional_kwargs["reasoning_content"]`` (merging chunks
    concatenates them). Only the last chunk carries usage, the response metadata and
    ``reasoning_details``, so merged chunks hold each of them exactly once.
    """
    if isinstance(event, TextDelta):
        return _copied_chunk(_TEXT_CHUNK, event.text, {})
    if isinstance(event, ReasoningDelta):
        return _copied_chunk(_REASONING_CHUNK, "", {REASONING_CONTENT: event.text})
    if isinstance(event, ToolCallDelta):
        return AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=event.name, args=event.arguments, id=event.id, index=event.index
                )
            ],
            response_metadata={"model_provider": PROVIDER},
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
_GENERATION = ChatGenerationChunk(message=_TEXT_CHUNK)


def _copied_chunk(
    prototype: AIMessageChunk, content: str, additional_kwargs: dict[str, Any]
) -> AIMessageChunk:
    chunk = prototype.__copy__()
    chunk.__dict__.update(
        content=content,
        additional_kwargs=additional_kwargs,
        response_metadata={"model_provider": PROVIDER},
        tool_calls=[],
        invalid_tool_calls=[],
        tool_call_chunks=[],
    )
    return chunk
