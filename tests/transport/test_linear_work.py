"""Work per stream event that does not grow with the answer (issue 17).

Time is no measure here (this machine's speed varies by a quarter from run to run), so
each test measures what one more event allocates once the answer is long: a path that
copies or rescans what came before allocates in proportion to it.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

from minimax_m3.stream import StreamState
from minimax_m3.types import ReasoningStart, WireDelta

LONG = 100_000


def allocated_by(step: Callable[[], object]) -> int:
    """Peak bytes allocated while ``step`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


@pytest.mark.parametrize("start", ["outside", "inside", "unknown"])
def test_a_model_stuck_writing_newlines_costs_the_same_per_newline(start: ReasoningStart) -> None:
    # Seen in the wild: a model that writes nothing but line breaks until max_tokens.
    state = StreamState(reasoning_start=start)
    for _ in range(LONG):
        state.handle(WireDelta(content="\n"))
    one_more = allocated_by(lambda: state.handle(WireDelta(content="\n")))
    assert one_more < 2_000, f"one newline allocated {one_more} bytes after {LONG}"
    state.flush()
    # Nothing was lost on the way: the white space is the answer, or the reasoning.
    result = state.result()
    assert len(result.text) + len(result.reasoning_text) == LONG + 1


def test_leading_white_space_still_reaches_the_answer_byte_for_byte() -> None:
    state = StreamState()
    events = []
    for piece in (" ", "\n\t", "\r\n", "Hello", " world"):
        events += state.handle(WireDelta(content=piece))
    events += state.flush()
    assert state.result().text == " \n\t\r\nHello world"


@pytest.mark.parametrize("opener", ["<think>", "<mm:think>"])
def test_white_space_before_an_opening_tag_is_no_answer(opener: str) -> None:
    state = StreamState()
    for piece in (
        "\n",
        "\n",
        opener,
        "plan",
        "</",
        "think>" if opener == "<think>" else "mm:think>",
        "Hi",
    ):
        state.handle(WireDelta(content=piece))
    state.flush()
    result = state.result()
    assert (result.reasoning_text, result.text) == ("plan", "Hi")
