"""Side-by-side benchmarks: the transport, ``ChatMiniMaxM3`` and ``MiniMaxM3`` against raw
httpx, langchain-openai's ``ChatOpenAI`` and llama-index's ``OpenAILike``, all talking to
one loopback server. Run them with ``make bench`` or ``python -m benchmarks.run``."""
