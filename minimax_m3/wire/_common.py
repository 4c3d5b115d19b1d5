"""Small readers and writers every wire format uses."""

from __future__ import annotations

from typing import Any

from minimax_m3 import jsonio
from minimax_m3.errors import ProtocolError, error_from_payload
from minimax_m3.types import NamedToolChoice, ToolCall


def text_or_none(value: Any) -> str | None:
    """A non-empty string, or None for anything else."""
    return value if isinstance(value, str) and value else None


def event_object(data: str, *, request_id: str | None = None) -> dict[str, Any]:
    """One stream event's data as a JSON object, or a ``ProtocolError`` saying why not."""
    try:
        payload = jsonio.loads(data)
    except ValueError:
        raise ProtocolError(
            f"stream event is not valid JSON: {data[:200]!r}", request_id=request_id
        ) from None
    if not isinstance(payload, dict):
        raise ProtocolError(
            f"stream event is not a JSON object: {data[:200]!r}", request_id=request_id
        )
    return payload


def arguments_object(call: ToolCall) -> Any:
    """A call's arguments as the object formats that want one send; a malformed call from
    the history still has to go back, as its text under ``_raw_arguments``, not lost."""
    try:
        return call.parsed_arguments()
    except ValueError:
        return {"_raw_arguments": call.arguments}


def anthropic_style_tool_choice(choice: Any) -> dict[str, Any]:
    """``tool_choice`` as Anthropic Messages and Runware's tasks spell it."""
    if isinstance(choice, NamedToolChoice):
        return {"type": "tool", "name": choice.name}
    return {"type": {"auto": "auto", "none": "none", "required": "any"}[choice]}


def answer_object(payload: Any, *, request_id: str | None, provider: str) -> dict[str, Any]:
    """A whole body that must be a JSON object: the provider's in-band error raised, and
    Cloudflare's ``{"result": ...}`` wrapping (twice over on /ai/run) taken off."""
    if not isinstance(payload, dict):
        raise ProtocolError(
            f"expected a JSON object, got {type(payload).__name__}", request_id=request_id
        )
    error = error_from_payload(payload, request_id=request_id, provider=provider)
    if error is not None:
        raise error
    answer: dict[str, Any] = payload
    while "choices" not in answer and "content" not in answer:
        inner = answer.get("result")
        if not isinstance(inner, dict):
            break
        answer = inner
    return answer
