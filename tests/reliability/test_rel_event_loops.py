"""One event loop per call, as scripts, notebooks and task queues run them.

``for i in range(400): asyncio.run(llm.ainvoke("hi"))`` kept a pool and its socket for
every loop, and died with EMFILE at call 125 under ``ulimit -n 256``. Run in a child
process with a low descriptor limit, so the failure is the one users saw.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from rel_helpers import survived

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys

    resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))
    from minimax_m3 import pools
    from minimax_m3.testing import MiniMaxEmulator, Reply

    framework, calls = sys.argv[1], int(sys.argv[2])
    with MiniMaxEmulator(api_key="k") as emulator:
        if framework == "langchain":
            from langchain_minimax_m3 import ChatMiniMaxM3

            llm = ChatMiniMaxM3(api_key="k", base_url=emulator.base_url, max_retries=0)
            ask = lambda: llm.ainvoke("hi")
        else:
            from llama_index_minimax_m3 import MiniMaxM3

            llm = MiniMaxM3(api_key="k", base_url=emulator.base_url, max_retries=0)
            ask = lambda: llm.acomplete("hi")
        emulator.queue(Reply(text="warm"))
        asyncio.run(ask())
        before = len(os.listdir("/proc/self/fd"))
        for _ in range(calls):
            emulator.queue(Reply(text="hi"))
            asyncio.run(ask())
        after = len(os.listdir("/proc/self/fd"))
        print(json.dumps({"grew": after - before, "pools": len(pools._async_pools)}))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("framework", ["langchain", "llama_index"])
def test_a_loop_per_call_leaks_no_sockets(framework: str) -> None:
    # 200 calls under a limit of 96 descriptors: with a socket kept per loop this fails
    # with "Too many open files" before the 50th call.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, framework, "200"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["pools"] <= 1, "the pools of ended loops are forgotten"
    assert figures["grew"] <= 4, f"{figures['grew']} descriptors more after 200 loops"
    survived(200)


ABANDON = textwrap.dedent(
    """
    import asyncio, sys
    from minimax_m3.testing import MiniMaxEmulator, Reply

    framework = sys.argv[1]
    with MiniMaxEmulator(api_key="k") as emulator:

        async def main():
            emulator.queue(Reply(text="a long answer " * 200))
            if framework == "langchain":
                from langchain_minimax_m3 import ChatMiniMaxM3

                llm = ChatMiniMaxM3(api_key="k", base_url=emulator.base_url)
                async for _ in llm.astream("hi"):
                    break  # left without closing the stream
            elif framework == "llama_index":
                from llama_index.core.llms import ChatMessage
                from llama_index_minimax_m3 import MiniMaxM3

                llm = MiniMaxM3(api_key="k", base_url=emulator.base_url)
                async for _ in await llm.astream_chat([ChatMessage(role="user", content="hi")]):
                    break
            else:
                from minimax_m3 import Transport
                from minimax_m3.types import ChatRequest, Message

                transport = Transport(api_key="k", base_url=emulator.base_url)
                hi = [Message(role="user", content="hi")]
                request = ChatRequest(model="MiniMax-M3", messages=hi)
                async for _ in transport.astream(request):
                    break

        asyncio.run(main())
    print("done")
    """
)


@pytest.mark.parametrize("framework", ["transport", "langchain", "llama_index"])
def test_an_abandoned_async_stream_ends_quietly(framework: str) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", ABANDON, framework],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "done"
    assert "error occurred" not in done.stderr, done.stderr[-2000:]
    assert "unclosed" not in done.stderr.lower(), done.stderr[-2000:]
