"""MiniMax M3 for LlamaIndex."""
