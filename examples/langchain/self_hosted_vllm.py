"""LangChain: the open weights on your own vLLM or SGLang server.

Start one with e.g. ``vllm serve MiniMaxAI/MiniMax-M3 --enable-auto-tool-choice
--tool-call-parser minimax_m3 --reasoning-parser minimax_m3`` and set VLLM_BASE_URL (e.g.
http://localhost:8000/v1). Without those parsers on the server, M3's <mm:think> reasoning
and its own tool-call markup are still split out on this side; thinking= tells the
server's chat template (and this client) whether the model thinks.
"""

from __future__ import annotations

import os

from langchain_core.tools import tool

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply, ToolCallReply

SCRIPT = [
    Reply(
        reasoning="The user wants the time; call the tool.",
        tool_calls=[ToolCallReply("current_time", {"zone": "UTC"})],
    )
]


@tool
def current_time(zone: str) -> str:
    """The current time in a time zone."""
    return "12:00"


def main() -> None:
    base_url = os.environ.get("VLLM_BASE_URL")
    if base_url:
        settings = {"provider": "openai-compatible", "base_url": base_url}
        run(settings)
        return
    with connection(SCRIPT, provider="openai-compatible") as settings:
        run(settings)


def run(settings: dict[str, object]) -> None:
    model = ChatMiniMaxM3(model="MiniMaxAI/MiniMax-M3", thinking="adaptive", **settings)
    llm = model.bind_tools([current_time])
    answer = llm.invoke("What time is it in UTC?")
    print("reasoning:", answer.additional_kwargs.get("reasoning_content"))
    print("tool calls:", [(c["name"], c["args"]) for c in answer.tool_calls])


if __name__ == "__main__":
    main()
