"""The shared MiniMax M3 transport: neutral types, wire formats, errors, and one HTTP layer.

Names are imported lazily, so ``import minimax_m3`` stays cheap until a transport is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from minimax_m3._version import __version__

_EXPORTS = {
    "Transport": "minimax_m3.transport",
    "RetryPolicy": "minimax_m3.retry",
    "ChatRequest": "minimax_m3.types",
    "ChatResult": "minimax_m3.types",
    "Message": "minimax_m3.types",
    "TextPart": "minimax_m3.types",
    "ImagePart": "minimax_m3.types",
    "VideoPart": "minimax_m3.types",
    "ToolSpec": "minimax_m3.types",
    "ToolCall": "minimax_m3.types",
    "NamedToolChoice": "minimax_m3.types",
    "ReasoningSegment": "minimax_m3.types",
    "Usage": "minimax_m3.types",
    "TextDelta": "minimax_m3.types",
    "ReasoningDelta": "minimax_m3.types",
    "ToolCallDelta": "minimax_m3.types",
    "StreamEnd": "minimax_m3.types",
    "MiniMaxM3Error": "minimax_m3.errors",
}

__all__ = [
    "ChatRequest",
    "ChatResult",
    "ImagePart",
    "Message",
    "MiniMaxM3Error",
    "NamedToolChoice",
    "ReasoningDelta",
    "ReasoningSegment",
    "RetryPolicy",
    "StreamEnd",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "Transport",
    "Usage",
    "VideoPart",
    "__version__",
]

if TYPE_CHECKING:
    from minimax_m3.errors import MiniMaxM3Error
    from minimax_m3.retry import RetryPolicy
    from minimax_m3.transport import Transport
    from minimax_m3.types import (
        ChatRequest,
        ChatResult,
        ImagePart,
        Message,
        NamedToolChoice,
        ReasoningDelta,
        ReasoningSegment,
        StreamEnd,
        TextDelta,
        TextPart,
        ToolCall,
        ToolCallDelta,
        ToolSpec,
        Usage,
        VideoPart,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'minimax_m3' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
