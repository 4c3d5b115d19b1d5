"""LangChain: M3 on Cloudflare Workers AI (set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)."""

from __future__ import annotations

from examples._offline import connection
from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Reply

SCRIPT = [Reply(reasoning="Simple fact.", text="The capital of France is **Paris**.")]


def main() -> None:
    with connection(SCRIPT, provider="cloudflare") as settings:
        # model defaults to "minimax/m3"; api="anthropic_messages" uses .../ai/v1/messages
        llm = ChatMiniMaxM3(max_tokens=2048, temperature=0.7, **settings)
        answer = llm.invoke("What is the capital of France?")
        print(answer.content)
        print("reasoning:", answer.additional_kwargs.get("reasoning_content"))


if __name__ == "__main__":
    main()
