"""LlamaIndex: chat with M3; its reasoning is a ThinkingBlock, streamed as thinking_delta."""

from __future__ import annotations

from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock

from examples._offline import connection
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import Reply

SCRIPT = [
    Reply(reasoning="Average speed is distance over time.", text="60 km in 45 min is 80 km/h."),
    Reply(reasoning="Short and clear.", text="Because distance over time is the definition."),
]


def main() -> None:
    with connection(SCRIPT) as settings:
        llm = MiniMaxM3(**settings)
        response = llm.chat([ChatMessage(role="user", content="60 km in 45 minutes: how fast?")])
        for block in response.message.blocks:
            if isinstance(block, ThinkingBlock):
                print("thinking:", block.content)
        print("answer:", response.message.content)

        print("streaming:")
        question = [ChatMessage(role="user", content="Why?")]
        for chunk in llm.stream_chat(question):
            thinking = chunk.additional_kwargs.get("thinking_delta")
            if thinking:
                print(f"  (thinking) {thinking}")
            if chunk.delta:
                print(chunk.delta, end="", flush=True)
        print()


if __name__ == "__main__":
    main()
