"""LangChain: M3 on Runware's native task API (set RUNWARE_API_KEY)."""

from __future__ import annotations

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import ProviderOptions, Reply

SCRIPT = [
    Reply(reasoning="Greeting in French.", text="Bonjour !"),
    Reply(
        reasoning="Queued task, same answer.",
        text="Bonjour encore !",
        provider=ProviderOptions(poll_pending=1),
    ),
]


def main() -> None:
    with connection(SCRIPT, provider="runware") as settings:
        # model defaults to "minimax:m3@0"; each call is one textInference task.
        llm = ChatMiniMaxM3(poll_interval=0.2, **settings)
        print(llm.invoke("Say hello in French.").content)
        # Queued delivery: the task is acknowledged, then polled until it is done.
        queued = llm.invoke("Again, please.", extra_body={"deliveryMethod": "async"})
        print(queued.content)


if __name__ == "__main__":
    main()
