"""MiniMax M3 for LangChain.

    from langchain_minimax_m3 import ChatMiniMaxM3

The chat model is imported on first use, so ``import langchain_minimax_m3`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["ChatMiniMaxM3"]

if TYPE_CHECKING:
    from langchain_minimax_m3.chat_models import ChatMiniMaxM3


def __getattr__(name: str) -> Any:
    if name != "ChatMiniMaxM3":
        raise AttributeError(f"module 'langchain_minimax_m3' has no attribute {name!r}")
    value = importlib.import_module("langchain_minimax_m3.chat_models").ChatMiniMaxM3
    globals()[name] = value
    return value
