"""vLLM's and SGLang's MiniMax parser cases through our one normaliser.

Each case runs as a whole answer (one content delta), streamed at its source's split
points, one character per delta, and at random split points; every way must give the
source's answer (or ours, where ``parser_cases.OVERRIDES`` names a policy), and what a
stream shows must add up to its result.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parser_cases import CASES, POLICIES, Case, answer_of, assert_matches

from minimax_m3.stream import ReasoningStart, StreamState
from minimax_m3.types import (
    ReasoningDelta,
    StreamEnd,
    TextDelta,
    ToolCallDelta,
    ToolSpec,
    WireDelta,
)

IDS = [case.id for case in CASES]


def specs(case: Case) -> list[ToolSpec]:
    return [ToolSpec(t["name"], parameters=t["parameters"] or {}) for t in case.tools if t["name"]]


def read(
    case: Case, pieces: list[str], start: ReasoningStart | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer the pieces make, and what had been shown before the end of the stream."""
    state = StreamState(tools=specs(case), reasoning_start=start or case.start)
    events = []
    for piece in pieces:
        events += state.handle(WireDelta(content=piece))
    before_end = list(events)
    events += state.handle(WireDelta(finish_reason="stop"))
    events += state.flush()
    result = state.result()
    events.append(StreamEnd(result))
    shown = summary(events)
    assert (shown["content"], shown["reasoning"]) == (result.text, result.reasoning_text)
    calls = [(c.name, c.arguments) for c in result.tool_calls]
    assert shown["calls"] == calls
    return answer_of(result.text, result.reasoning_text, calls), summary(before_end)


def summary(events: list[Any]) -> dict[str, Any]:
    text, reasoning, calls = "", "", {}
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, ReasoningDelta):
            reasoning += event.text
        elif isinstance(event, ToolCallDelta):
            name, args = calls.get(event.index, ("", ""))
            calls[event.index] = (name + (event.name or ""), args + event.arguments)
    return {"content": text, "reasoning": reasoning, "calls": [calls[i] for i in sorted(calls)]}


def check(case: Case, pieces: list[str], how: str) -> dict[str, Any]:
    answer, before_end = read(case, pieces)
    if case.mid_stream:
        # The source looks before the stream ends; the end releases nothing new then.
        shown = answer_of(before_end["content"], before_end["reasoning"], before_end["calls"])
        assert_matches(case, shown, how=how + ", before the end")
    else:
        assert_matches(case, answer, how=how)
    return answer


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_whole_streamed_and_char_by_char(case: Case) -> None:
    whole = check(case, [case.output], "whole")
    if case.chunks is not None:
        assert "".join(case.chunks) == case.output
        assert check(case, case.chunks, "source's chunks") == whole
    assert check(case, list(case.output), "one character a delta") == whole
    if case.kind == "tool" and "think>" not in case.output:
        # Without thinking= the start is not known and the text is held to the end, but
        # the answer is the same.
        assert read(case, list(case.output), "unknown")[0] == whole


@pytest.mark.parametrize("case", CASES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_random_splits(case: Case, cuts: list[int]) -> None:
    text = case.output
    points = sorted({cut % (len(text) + 1) for cut in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert read(case, [p for p in pieces if p])[0] == read(case, [text])[0]


def test_every_policy_is_used_and_every_source_is_counted() -> None:
    used = {case.policy for case in CASES if case.policy}
    assert used == set(POLICIES)
    vllm = [case for case in CASES if case.source.startswith("vllm-project/vllm")]
    sglang = [case for case in CASES if case.source.startswith("sgl-project/sglang")]
    assert len(vllm) + len(sglang) == len(CASES)
    assert len(vllm) > 100
    assert len(sglang) > 100
