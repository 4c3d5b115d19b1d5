"""MiniMax M3 for LangChain.

    from langchain_minimax_m3 import ChatMiniMaxM3

The chat model is imported on first use, so ``import langchain_minimax_m3`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["ChatMiniMaxM3", "to_anthropic_message", "to_anthropic_messages"]

if TYPE_CHECKING:
    from langchain_minimax_m3.chat_models import ChatMiniMaxM3
    from langchain_minimax_m3.interop import to_anthropic_message, to_anthropic_messages

_MODULES = {
    "ChatMiniMaxM3": "langchain_minimax_m3.chat_models",
    "to_anthropic_message": "langchain_minimax_m3.interop",
    "to_anthropic_messages": "langchain_minimax_m3.interop",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_minimax_m3' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
