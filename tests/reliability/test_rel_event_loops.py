"""One event loop per call, as scripts, notebooks and task queues run them (issue 14).

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
