"""The stream state's parts on their own: reasoning normaliser, think tags, tools, stop."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minimax_m3.stream import (
    ReasoningTrack,
    StopCutter,
    StreamState,
    ThinkTagSplitter,
    split_think_tags,
)
from minimax_m3.types import (
    ReasoningDelta,
    ReasoningFragment,
    TextDelta,
    ToolCallDelta,
    ToolCallFragment,
    WireDelta,
)


def normalise(pieces: list[str]) -> tuple[str, list[str]]:
    """The text a track ends with, and what it showed: per fragment, then at the end."""
    track = ReasoningTrack(ReasoningFragment())
    shown = [track.add(ReasoningFragment(text=piece)) for piece in pieces]
    shown.append(track.release())
    assert "".join(shown) == track.text
    return track.text, shown


def test_incremental_fragments_pass_through_after_the_first() -> None:
    assert normalise(["The user", " asks how", " I am."]) == (
        "The user asks how I am.",
        ["", "The user asks how", " I am.", ""],
    )


def test_cumulative_snapshots_show_only_new_text() -> None:
    text, shown = normalise(["The user asks", "The user asks how", "The user asks how I am."])
    assert text == "The user asks how I am."
    assert shown == ["", "The user asks how", " I am.", ""]


def test_short_first_snapshots_wait_for_more_evidence() -> None:
    text, shown = normalise(["T", "The", "The u", "The user"])
    assert text == "The user"
    assert shown == ["", "", "The u", "ser", ""]


def test_repeated_or_lagging_snapshot_adds_nothing() -> None:
    text, shown = normalise(["The user asks", "The user asks how", "The user asks how", "The user"])
    assert text == "The user asks how"
    assert shown[2:] == ["", "", ""]


def test_incremental_fragments_that_share_a_short_prefix_are_kept() -> None:
    assert normalise(["ab", "abc", "x"])[0] == "ababcx"
    # Once incremental, always incremental, even if a fragment repeats the start.
    text, _ = normalise(["Let me think.", " Then", "Let me think. Again"])
    assert text == "Let me think. ThenLet me think. Again"


def test_released_text_is_never_taken_back() -> None:
    track = ReasoningTrack(ReasoningFragment())
    assert track.add(ReasoningFragment(text="ab")) == ""
    assert track.release() == "ab"
    assert track.add(ReasoningFragment(text="xy")) == "xy"
    assert track.text == "abxy"


@given(st.text(min_size=1, max_size=300), st.lists(st.integers(1, 299), max_size=10))
def test_cumulative_snapshots_rebuild_the_text_for_any_split(text: str, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c < len(text)} | {len(text)})
    assert normalise([text[:p] for p in points])[0] == text


@given(st.text(min_size=1, max_size=300), st.lists(st.integers(1, 299), max_size=10))
def test_incremental_fragments_rebuild_the_text(text: str, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c < len(text)})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    # A fragment that starts with the whole fragment before it reads as a snapshot; in
    # real reasoning text that is vanishingly rare, so such splits are set aside here.
    assume(not any(b.startswith(a) for a, b in itertools.pairwise(pieces)))
    assert normalise(pieces)[0] == text


def split(pieces: list[str], *, starts_open: bool = False) -> tuple[str, str]:
    splitter = ThinkTagSplitter(starts_open=starts_open)
    reasoning, text = "", ""
    for piece in pieces:
        r, t = splitter.feed(piece)
        reasoning, text = reasoning + r, text + t
    r, t = splitter.finish()
    return reasoning + r, text + t


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<think>\nplan\n</think>\n\nAnswer", ("plan", "Answer")),
        ("  <think>plan</think>Answer", ("plan", "Answer")),
        ("<mm:think>plan</mm:think>\nAnswer", ("plan", "Answer")),
        ("Plain answer, no tags", ("", "Plain answer, no tags")),
        ("  leading space kept", ("", "  leading space kept")),
        ("<think>cut off by max tokens", ("cut off by max tokens", "")),
        ("<thinking is a word", ("", "<thinking is a word")),
        ("a < b", ("", "a < b")),
    ],
)
def test_think_tags_split_from_whole_content(content: str, expected: tuple[str, str]) -> None:
    assert split([content]) == expected
    assert split_think_tags(content) == expected


def test_missing_opening_tag_in_a_whole_response() -> None:
    assert split_think_tags("plan first\n</think>\n\nAnswer") == ("plan first", "Answer")


def test_template_prefilled_opening_tag() -> None:
    assert split(["plan", " more</th", "ink>Answer"], starts_open=True) == ("plan more", "Answer")


@pytest.mark.parametrize(
    "content",
    [
        "<think>\nThe user asks.\n</think>\n\nThe answer < 3 and > 1.",
        "<mm:think>plan</mm:think>text</think>",
        "No tags at all, just text.",
        "<think></think>Empty reasoning",
        "<think>never closed",
    ],
)
def test_think_split_is_the_same_for_every_cut(content: str) -> None:
    whole = split([content])
    for cut in range(len(content) + 1):
        assert split([content[:cut], content[cut:]]) == whole, cut
    assert split(list(content)) == whole


@given(st.text(alphabet="<>/thinkmx: \nab", max_size=60), st.lists(st.integers(0, 60), max_size=6))
def test_think_split_is_the_same_for_any_split(content: str, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c <= len(content)})
    pieces = [content[a:b] for a, b in zip([0, *points], [*points, len(content)], strict=True)]
    assert split(pieces) == split([content])


def test_stop_cutter_cuts_a_stop_split_over_three_pieces() -> None:
    cutter = StopCutter(["END"])
    released = [cutter.feed(piece) for piece in ["abcE", "N", "Dxyz", "more"]]
    assert "".join(released) + cutter.finish() == "abc"
    assert cutter.stopped


def test_stop_cutter_releases_the_tail_when_no_stop_came() -> None:
    cutter = StopCutter(["END"])
    assert cutter.feed("abcEN") == "abc"
    assert cutter.finish() == "EN"


def delta(**kwargs: object) -> WireDelta:
    return WireDelta(**kwargs)  # type: ignore[arg-type]


def test_structured_reasoning_wins_over_a_later_inline_copy() -> None:
    state = StreamState()
    events = state.handle(delta(reasoning=[ReasoningFragment(text="plan")]))
    events += state.handle(delta(content="<think>plan</think>Answer", finish_reason="stop"))
    events += state.flush()
    assert [e for e in events if isinstance(e, ReasoningDelta)] == [ReasoningDelta("plan")]
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("Answer")]
    assert state.result().reasoning_text == "plan"


def test_inline_reasoning_first_means_structured_copies_are_dropped() -> None:
    state = StreamState()
    state.handle(delta(content="<think>plan</think>"))
    state.handle(delta(reasoning=[ReasoningFragment(text="plan")], content="Answer"))
    state.flush()
    result = state.result()
    assert (result.reasoning_text, result.text) == ("plan", "Answer")


def test_late_closing_tag_is_split_out_of_the_final_result() -> None:
    state = StreamState()
    state.handle(delta(content="thinking first"))
    state.handle(delta(content="</think>Answer", finish_reason="stop"))
    state.flush()
    result = state.result()
    assert (result.reasoning_text, result.text) == ("thinking first", "Answer")


def test_tool_fragments_merge_by_index_with_a_name_repeated_on_each_fragment() -> None:
    state = StreamState()
    events = []
    for fragment in [
        ToolCallFragment(index=0, id="call_1", name="lookup", arguments='{"q": '),
        ToolCallFragment(index=0, id="", name="lookup", arguments='"x"}'),
    ]:
        events += state.handle(delta(tool_calls=[fragment]))
    assert events == [
        ToolCallDelta(index=0, id="call_1", name="lookup", arguments='{"q": '),
        ToolCallDelta(index=0, id=None, name=None, arguments='"x"}'),
    ]
    call = state.result().tool_calls[0]
    assert (call.id, call.name, call.parsed_arguments()) == ("call_1", "lookup", {"q": "x"})


def test_whitespace_content_beside_tool_calls_is_empty() -> None:
    state = StreamState()
    state.handle(delta(content="\n", tool_calls=[ToolCallFragment(index=0, id="c", name="f")]))
    state.handle(delta(finish_reason="tool_calls"))
    assert state.result().text == ""


def test_complete_only_after_a_finish_reason_or_done() -> None:
    state = StreamState()
    state.handle(delta(content="partial"))
    assert not state.complete
    state.handle(delta(done=True))
    assert state.complete


def test_newline_beside_tool_calls_is_not_streamed() -> None:
    state = StreamState()
    events = state.handle(delta(content="\n"))
    events += state.handle(delta(tool_calls=[ToolCallFragment(index=0, id="c", name="f")]))
    events += state.handle(delta(finish_reason="tool_calls"))
    events += state.flush()
    assert not [e for e in events if isinstance(e, TextDelta)]
    assert state.result().text == ""
