"""A small embedding that needs no network: hashed word counts, normalised.

Good enough to rank a handful of documents by shared words, so the RAG examples run
anywhere; use a real embedding model for real retrieval.
"""

from __future__ import annotations

import math
import re
import zlib

from llama_index.core.embeddings import BaseEmbedding

_WORD = re.compile(r"[a-z0-9]+")


def hashed_vector(text: str, size: int = 256) -> list[float]:
    vector = [0.0] * size
    for word in _WORD.findall(text.lower()):
        if len(word) > 2:
            vector[zlib.crc32(word.encode()) % size] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class HashingEmbedding(BaseEmbedding):
    def _get_text_embedding(self, text: str) -> list[float]:
        return hashed_vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return hashed_vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hashed_vector(query)
