"""MiniMax M3 for LlamaIndex: ``from llama_index_minimax_m3 import MiniMaxM3``.

``MiniMaxM3`` and ``minimax_m3_tokenizer`` (M3's offline token estimate as a LlamaIndex
tokenizer) are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["MiniMaxM3", "minimax_m3_tokenizer"]

if TYPE_CHECKING:
    from llama_index_minimax_m3.base import MiniMaxM3
    from llama_index_minimax_m3.tokens import minimax_m3_tokenizer

_EXPORTS = {
    "MiniMaxM3": "llama_index_minimax_m3.base",
    "minimax_m3_tokenizer": "llama_index_minimax_m3.tokens",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llama_index_minimax_m3' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
