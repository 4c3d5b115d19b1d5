"""Agent loops send byte-stable prefixes, on every provider and wire format, in both
frameworks: turn N+1 repeats turn N's tools, system prompt and messages byte for byte and
only appends, which is what MiniMax's prefix cache needs to bill a cache read.

Each case runs a real agent (LangChain's ``create_agent``, LlamaIndex's ``FunctionAgent``)
through two tool rounds with reasoning and a final answer, then compares the raw request
bodies the emulator recorded (``tests/cache/prefix_bytes.py`` finds each part's bytes).
The second level is what a user reads: the cache reads reported on each answer, which the
emulator's cache model derives from those same prefixes.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from agent_cases import (
    ANTHROPIC,
    CASES,
    QUESTION,
    REPORTS_CACHE,
    SYSTEM_PROMPT,
    lookup_order,
    refund_quote,
    script,
    settings,
)
from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from llama_index.core.agent.workflow import AgentOutput, FunctionAgent
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import FunctionTool
from prefix_bytes import assert_appends_only, model_requests

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator
from minimax_m3.testing.prompt_cache import (
    MIN_CACHED_PROMPT,
    chat_blocks,
    count_blocks,
    messages_blocks,
    task_blocks,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)


def run_langchain(
    case: str, emulator: MiniMaxEmulator, *, streamed: bool = False
) -> list[tuple[int, int]]:
    """The agent's run; per model turn, (input tokens, of them read from the cache) as
    ``usage_metadata`` reports them. ``streamed``: the model streams each turn and the
    agent replays the merged chunks."""
    emulator.queue(*script(case))
    agent = create_agent(
        model=ChatMiniMaxM3(**settings(case, emulator), streaming=streamed),
        tools=[tool(lookup_order), tool(refund_quote)],
        system_prompt=SYSTEM_PROMPT,
    )
    state = agent.invoke({"messages": [("user", QUESTION)]})
    assert "22.40 EUR" in state["messages"][-1].content
    turns = []
    for message in state["messages"]:
        if isinstance(message, AIMessage):
            usage = message.usage_metadata
            assert usage is not None
            details: dict[str, Any] = dict(usage.get("input_token_details") or {})
            turns.append((usage["input_tokens"], details.get("cache_read", 0)))
    return turns


async def run_llama_index(
    case: str, emulator: MiniMaxEmulator, *, streamed: bool = True
) -> list[tuple[int, int]]:
    """The agent's run (streamed by default, as FunctionAgent does); per model turn,
    (prompt tokens, cached tokens) as ``raw["usage"]`` reports them."""
    emulator.queue(*script(case))
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(lookup_order), FunctionTool.from_defaults(refund_quote)],
        llm=MiniMaxM3(**settings(case, emulator)),
        system_prompt=SYSTEM_PROMPT,
        streaming=streamed,
    )
    handler = agent.run(QUESTION, memory=ChatMemoryBuffer.from_defaults())
    turns = []
    async for event in handler.stream_events():
        if isinstance(event, AgentOutput):
            usage = event.raw["usage"]
            turns.append((usage["prompt_tokens"], usage.get("cached_tokens") or 0))
    assert "22.40 EUR" in str(await handler)
    return turns


def assert_byte_stable(case: str, bodies: list[bytes]) -> None:
    assert len(bodies) == 3, "two tool rounds and an answer"
    for earlier, later in itertools.pairwise(bodies):
        assert_appends_only(earlier, later)
    later = b"".join(bodies[1:])
    if case in ANTHROPIC:
        # The thinking blocks come back with their signatures as first received.
        assert b'"signature":"sig-round-1"' in bodies[1].replace(b" ", b"")
        assert later.count(b"sig-round-1") == 2
        assert bodies[2].count(b"sig-round-2") == 1
    else:
        # The first call came without an id; the id the client made up is replayed the
        # same in every later request (in the call and in its result).
        first_call_id = _first_call_id(case, bodies[1])
        assert bodies[2].count(first_call_id.encode()) == bodies[1].count(first_call_id.encode())
        assert bodies[1].count(first_call_id.encode()) >= 2


def _first_call_id(case: str, body: bytes) -> str:
    parsed = json.loads(body)
    if case == "runware-tasks":
        task = next(t for t in parsed if t.get("taskType") == "textInference")
        assistant = next(m for m in task["messages"] if m["role"] == "assistant")
        return str(assistant["tools"][0]["id"])
    assistant = next(m for m in parsed["messages"] if m["role"] == "assistant")
    return str(assistant["tool_calls"][0]["id"])


def expected_prompts(case: str, emulator: MiniMaxEmulator) -> list[int]:
    """Each model request's prompt tokens in the emulator's model."""
    blocks = messages_blocks if case in ANTHROPIC else chat_blocks
    out = []
    for body in model_requests(emulator.requests):
        parsed = json.loads(body)
        if case == "runware-tasks":
            task = next(t for t in parsed if t.get("taskType") == "textInference")
            out.append(count_blocks(task_blocks(task)))
        else:
            out.append(count_blocks(blocks(parsed)))
    return out


def assert_cache_reads(case: str, turns: list[tuple[int, int]], emulator: MiniMaxEmulator) -> None:
    prompts = expected_prompts(case, emulator)
    assert [total for total, _ in turns] == prompts
    assert prompts[0] >= MIN_CACHED_PROMPT, "the agent's first prompt reaches the cache floor"
    cached = [read for _, read in turns]
    if case not in REPORTS_CACHE:
        assert cached == [0, 0, 0]
        return
    # Turn N+1 reads all of turn N's prompt from the cache, and only that: each earlier
    # block is repeated whole, the new messages are not yet cached.
    assert cached == [0, prompts[0], prompts[1]]
    assert cached[1] < cached[2]


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "streamed"])
@pytest.mark.parametrize("case", CASES)
def test_langchain_agent_requests_only_append(
    case: str, streamed: bool, emulator: MiniMaxEmulator
) -> None:
    turns = run_langchain(case, emulator, streamed=streamed)
    bodies = model_requests(emulator.requests)
    assert all((json.loads(b).get("stream") is True) is streamed for b in bodies if b[:1] == b"{")
    assert_byte_stable(case, bodies)
    assert_cache_reads(case, turns, emulator)


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "chat"])
@pytest.mark.parametrize("case", CASES)
async def test_llama_index_agent_requests_only_append(
    case: str, streamed: bool, emulator: MiniMaxEmulator
) -> None:
    turns = await run_llama_index(case, emulator, streamed=streamed)
    bodies = model_requests(emulator.requests)
    assert all((json.loads(b).get("stream") is True) is streamed for b in bodies if b[:1] == b"{")
    assert_byte_stable(case, bodies)
    assert_cache_reads(case, turns, emulator)
