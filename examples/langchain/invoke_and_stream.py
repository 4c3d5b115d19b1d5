"""LangChain: ask M3, read its reasoning apart from its answer, then stream both."""

from __future__ import annotations

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply

SCRIPT = [
    Reply(reasoning="9.9 is 9.90, and 9.90 > 9.11.", text="9.9 is bigger than 9.11."),
    Reply(
        reasoning="Haiku: 5-7-5 syllables.",
        text=(
            "Keys click in the dark,\nbugs flee the lamp of the test,\ngreen lights, then morning."
        ),
    ),
]


def main() -> None:
    with connection(SCRIPT) as settings:
        llm = ChatMiniMaxM3(**settings)

        answer = llm.invoke("Which is bigger, 9.11 or 9.9?")
        print("reasoning:", answer.additional_kwargs.get("reasoning_content", ""))
        print("answer:", answer.content)
        print("blocks:", [block["type"] for block in answer.content_blocks])
        print("usage:", answer.usage_metadata)

        print("streaming:")
        for chunk in llm.stream("Write a haiku about testing."):
            reasoning = chunk.additional_kwargs.get("reasoning_content")
            if reasoning:
                print(f"  (thinking) {reasoning}")
            if chunk.content:
                print(chunk.content, end="", flush=True)
        print()


if __name__ == "__main__":
    main()
