"""LlamaIndex: a RAG query and a chat over the bundled documents in examples/data."""

from __future__ import annotations

from pathlib import Path

from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.memory import ChatMemoryBuffer

from examples._embedding import HashingEmbedding
from examples._offline import connection
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import Reply

DATA = Path(__file__).parent.parent / "data"
SCRIPT = [
    Reply(
        reasoning="The overview document gives the window.",
        text="M3 reads up to 1,000,000 tokens of context.",
    ),
    Reply(reasoning="The thinking note covers it.", text='Pass thinking="disabled".'),
]


def main() -> None:
    with connection(SCRIPT) as settings:
        Settings.llm = MiniMaxM3(**settings)
        Settings.embed_model = HashingEmbedding()
        index = VectorStoreIndex.from_documents(SimpleDirectoryReader(str(DATA)).load_data())

        response = index.as_query_engine(similarity_top_k=2).query(
            "How long a context does M3 read?"
        )
        print("answer:", response)
        for node in response.source_nodes:
            print(f"  source: {node.metadata.get('file_name')} (score {node.score:.2f})")

        chat = index.as_chat_engine(
            chat_mode="condense_plus_context", memory=ChatMemoryBuffer.from_defaults()
        )
        print("chat:", chat.chat("How do I turn its thinking off?"))


if __name__ == "__main__":
    main()
