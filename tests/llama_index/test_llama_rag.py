"""A RAG pipeline with MiniMaxM3 as Settings.llm: a query engine and a chat engine."""

from __future__ import annotations

import pytest
from llama_helpers import Mode
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.memory import ChatMemoryBuffer

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, Reply, StreamShape

DOCUMENTS = [
    Document(text="The Eiffel Tower is 330 metres tall.", metadata={"source": "towers.txt"}),
    Document(text="The Louvre is the most visited museum.", metadata={"source": "museums.txt"}),
    Document(text="Paris has twenty arrondissements.", metadata={"source": "city.txt"}),
]


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, llm: MiniMaxM3) -> VectorStoreIndex:
    # As a user would: Settings.llm, and an embedding that needs no network. The
    # monkeypatched private slots put the previous settings back after the test.
    monkeypatch.setattr(Settings, "_llm", None)
    monkeypatch.setattr(Settings, "_embed_model", None)
    Settings.llm = llm
    Settings.embed_model = MockEmbedding(embed_dim=8)
    return VectorStoreIndex.from_documents(DOCUMENTS)


def _sent_text(emulator: MiniMaxEmulator, request: int) -> str:
    return " ".join(str(m["content"]) for m in emulator.requests[request].json["messages"])


async def test_query_engine_answers_with_sources(
    mode: Mode, emulator: MiniMaxEmulator, index: VectorStoreIndex
) -> None:
    emulator.queue(Reply(text="It is 330 metres tall.", reasoning="The context says 330 m."))
    engine = index.as_query_engine(similarity_top_k=3)
    question = "How tall is the Eiffel Tower?"
    response = await mode.call(lambda: engine.query(question), lambda: engine.aquery(question))

    assert str(response) == "It is 330 metres tall."
    sources = {node.metadata["source"] for node in response.source_nodes}
    assert sources == {"towers.txt", "museums.txt", "city.txt"}
    sent = _sent_text(emulator, 0)
    assert "The Eiffel Tower is 330 metres tall." in sent
    assert question in sent
    assert len(emulator.requests) == 1


async def test_streaming_query_engine(emulator: MiniMaxEmulator, index: VectorStoreIndex) -> None:
    emulator.queue(Reply(text="It is 330 metres tall.", stream=StreamShape(chunk_size=4)))
    engine = index.as_query_engine(streaming=True)
    response = await engine.aquery("How tall is the Eiffel Tower?")
    tokens = [token async for token in response.async_response_gen()]
    assert "".join(tokens) == "It is 330 metres tall."
    assert response.source_nodes


async def test_chat_engine_keeps_the_conversation(
    mode: Mode, emulator: MiniMaxEmulator, index: VectorStoreIndex
) -> None:
    # A memory without a database: the default one leaves an sqlite connection open.
    memory = ChatMemoryBuffer.from_defaults(token_limit=100_000)
    engine = index.as_chat_engine(
        chat_mode="condense_plus_context", memory=memory, similarity_top_k=3
    )
    emulator.queue(Reply(text="330 metres.", reasoning="From the towers document."))
    first = await mode.call(
        lambda: engine.chat("How tall is the Eiffel Tower?"),
        lambda: engine.achat("How tall is the Eiffel Tower?"),
    )
    assert str(first) == "330 metres."
    assert first.source_nodes
    assert "The Eiffel Tower is 330 metres tall." in _sent_text(emulator, 0)

    emulator.queue(
        Reply(text="How tall is the Eiffel Tower in feet?"),  # the condensed question
        Reply(text="About 1,083 feet."),
    )
    second = await mode.call(
        lambda: engine.chat("And in feet?"), lambda: engine.achat("And in feet?")
    )
    assert str(second) == "About 1,083 feet."
    final = emulator.requests[-1].json["messages"]
    assert [m["content"] for m in final if m["role"] == "assistant"] == ["330 metres."]
    assert final[-1] == {"role": "user", "content": "And in feet?"}
