"""MiniMax M3 for LlamaIndex: ``from llama_index_minimax_m3 import MiniMaxM3``.

``MiniMaxM3`` is imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["MiniMaxM3"]

if TYPE_CHECKING:
    from llama_index_minimax_m3.base import MiniMaxM3


def __getattr__(name: str) -> Any:
    if name == "MiniMaxM3":
        from llama_index_minimax_m3.base import MiniMaxM3

        globals()["MiniMaxM3"] = MiniMaxM3
        return MiniMaxM3
    raise AttributeError(f"module 'llama_index_minimax_m3' has no attribute {name!r}")
