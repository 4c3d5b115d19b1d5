"""`make demo`: M3's reasoning streamed then its answer, a LangChain agent, a LlamaIndex
FunctionAgent (each printing the share of every turn's input read from MiniMax's prompt
cache) and a RAG query over the bundled documents.

It runs live against the first provider whose key is set (MINIMAX_API_KEY,
CLOUDFLARE_API_TOKEN with CLOUDFLARE_ACCOUNT_ID, or RUNWARE_API_KEY), and otherwise
against the loopback emulator with scripted replies; each section says which.
"""

from __future__ import annotations

import asyncio
import sys

from langchain.agents import create_agent
from llama_index.core import SimpleDirectoryReader, VectorStoreIndex

from examples._cache import langchain_turns, print_turns
from examples._embedding import HashingEmbedding
from examples._offline import connection, provider_with_key
from examples.langchain import tools_agent
from examples.llama_index import function_agent, rag
from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import Reply, StreamShape

DIM, BOLD, RESET = "\033[2m", "\033[1m", "\033[0m"
STREAM_SCRIPT = [
    Reply(
        reasoning="Speed is distance over time: 120 km in 1.5 h is 80 km/h.",
        text="The train averages **80 km/h**.",
        stream=StreamShape(chunk_size=4, event_delay=0.02),
    )
]


def heading(title: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}")


def stream_reasoning_then_answer(provider: str) -> None:
    heading("Reasoning, streamed (dimmed), then the answer")
    with connection(STREAM_SCRIPT, provider=provider) as settings:
        llm = ChatMiniMaxM3(**settings)
        question = "A train covers 120 km in 90 minutes. Average speed?"
        print(f"{BOLD}Q:{RESET} {question}")
        answering = False
        for chunk in llm.stream(question):
            thinking = chunk.additional_kwargs.get("reasoning_content")
            if thinking:
                print(f"{DIM}{thinking}{RESET}", end="", flush=True)
            if chunk.content:
                if not answering:
                    print(f"\n{BOLD}A:{RESET} ", end="")
                    answering = True
                print(chunk.content, end="", flush=True)
        print()


def langchain_agent(provider: str) -> None:
    heading("LangChain agent: two tool rounds, reasoning kept between them")
    with connection(tools_agent.SCRIPT, provider=provider) as settings:
        agent = create_agent(
            model=ChatMiniMaxM3(**settings),
            tools=[tools_agent.get_weather, tools_agent.celsius_to_fahrenheit],
            system_prompt=tools_agent.SYSTEM_PROMPT,
        )
        state = agent.invoke({"messages": [("user", "How warm is Lisbon, in Fahrenheit?")]})
        for message in state["messages"][1:-1]:
            thinking = message.additional_kwargs.get("reasoning_content")
            if thinking:
                print(f"{DIM}thinking: {thinking}{RESET}")
            for call in getattr(message, "tool_calls", []):
                print(f"{DIM}tool call: {call['name']}({call['args']}){RESET}")
        print(f"{BOLD}A:{RESET} {state['messages'][-1].content}")
        print_turns(langchain_turns(state["messages"]))


def llama_index_agent(provider: str) -> None:
    heading("LlamaIndex FunctionAgent: two tool rounds")
    with connection(function_agent.SCRIPT, provider=provider) as settings:
        answer, turns = asyncio.run(function_agent.ask_with_usage(MiniMaxM3(**settings)))
        print(f"{BOLD}A:{RESET} {answer}")
        print_turns(turns)


def rag_query(provider: str) -> None:
    heading("RAG over the bundled documents (examples/data)")
    with connection(rag.SCRIPT[:1], provider=provider) as settings:
        index = VectorStoreIndex.from_documents(
            SimpleDirectoryReader(str(rag.DATA)).load_data(), embed_model=HashingEmbedding()
        )
        engine = index.as_query_engine(llm=MiniMaxM3(**settings), similarity_top_k=2)
        response = engine.query("How long a context does M3 read?")
        print(f"{BOLD}A:{RESET} {response}")
        for node in response.source_nodes:
            print(f"{DIM}source: {node.metadata.get('file_name')}{RESET}")


def main() -> int:
    provider = provider_with_key()
    stream_reasoning_then_answer(provider)
    langchain_agent(provider)
    llama_index_agent(provider)
    rag_query(provider)
    return 0


if __name__ == "__main__":
    sys.exit(main())
