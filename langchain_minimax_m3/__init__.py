"""MiniMax M3 for LangChain."""
