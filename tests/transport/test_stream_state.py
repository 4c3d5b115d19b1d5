"""The stream state's parts on their own: reasoning normaliser, think tags, tools, stop."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minimax_m3.stream import (
    ReasoningStart,
    ReasoningTagReader,
    ReasoningTrack,
    StopCutter,
    StreamState,
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


def split(pieces: list[str], start: ReasoningStart = "outside") -> tuple[str, str]:
    reader = ReasoningTagReader(start)
    out = [piece for chunk in pieces for piece in reader.feed(chunk)] + reader.finish()
    reasoning = "".join(text for kind, text in out if kind == "reasoning")
    return reasoning, "".join(text for kind, text in out if kind == "text")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # Reasoning is kept byte for byte; white space before the answer is not the answer.
        ("<think>\nplan\n</think>\n\nAnswer", ("\nplan\n", "Answer")),
        ("  <think>plan</think>Answer", ("plan", "Answer")),
        ("<mm:think>plan</mm:think>\nAnswer", ("plan", "Answer")),
        ("<mm:think>plan ends in a space </mm:think>A", ("plan ends in a space ", "A")),
        ("Plain answer, no tags", ("", "Plain answer, no tags")),
        ("  leading space kept", ("", "  leading space kept")),
        ("<think>cut off by max tokens", ("cut off by max tokens", "")),
        ("<thinking is a word", ("", "<thinking is a word")),
        ("a < b", ("", "a < b")),
        # A stray closing tag at the start (M3 in multi-turn chats) is dropped.
        ("</mm:think>Hello.", ("", "Hello.")),
        # Once the answer has begun, a closing tag is markup, never the answer.
        ("<think>r</think>content A</think>content B", ("r", "content Acontent B")),
        # Outside reasoning, a late closer without an opener is not reasoning.
        ("plan</mm:think>answer", ("", "plananswer")),
    ],
)
def test_tags_split_from_content_that_starts_outside(
    content: str, expected: tuple[str, str]
) -> None:
    assert split([content]) == expected
    assert split(list(content)) == expected


@pytest.mark.parametrize(
    ("start", "pieces", "expected"),
    [
        ("inside", ["plan", " more</th", "ink>Answer"], ("plan more", "Answer")),
        ("inside", ["no closer at all"], ("no closer at all", "")),
        ("unknown", ["plan", "</mm:think>", "answer"], ("plan", "answer")),
        (
            "unknown",
            ["This is a reasoning section</think>This is the rest"],
            ("This is a reasoning section", "This is the rest"),
        ),
        ("unknown", ["<mm:think>plan</mm:think>answer"], ("plan", "answer")),
        ("unknown", ["just an answer, never a tag"], ("", "just an answer, never a tag")),
        ("unknown", ["</mm:think>Hello."], ("", "Hello.")),
    ],
)
def test_a_prefilled_or_unknown_start(
    start: ReasoningStart, pieces: list[str], expected: tuple[str, str]
) -> None:
    assert split(pieces, start) == expected
    content = "".join(pieces)
    assert split(list(content), start) == expected


def test_an_unknown_start_shows_nothing_until_a_tag_decides() -> None:
    reader = ReasoningTagReader("unknown")
    assert reader.feed("plan") == []
    assert reader.feed(" more") == []
    assert reader.feed("</mm:think>ans") == [("reasoning", "plan more"), ("text", "ans")]
    assert reader.feed("wer") == [("text", "wer")]


def test_settling_an_unknown_start_reads_it_as_outside() -> None:
    reader = ReasoningTagReader("unknown")
    assert reader.feed("Hello") == []
    assert reader.settle() == [("text", "Hello")]
    assert reader.feed("</think> there") == [("text", " there")]


@pytest.mark.parametrize("start", ["outside", "inside", "unknown"])
@pytest.mark.parametrize(
    "content",
    [
        "<think>\nThe user asks.\n</think>\n\nThe answer < 3 and > 1.",
        "<mm:think>plan</mm:think>text</think>",
        "No tags at all, just text.",
        "<think></think>Empty reasoning",
        "<think>never closed",
        "plan</mm:think>answer</mm:think>more",
    ],
)
def test_tag_split_is_the_same_for_every_cut(start: ReasoningStart, content: str) -> None:
    whole = split([content], start)
    for cut in range(len(content) + 1):
        assert split([content[:cut], content[cut:]], start) == whole, cut
    assert split(list(content), start) == whole


@pytest.mark.parametrize("start", ["outside", "inside", "unknown"])
@given(
    content=st.text(alphabet="<>/thinkmx: \nab", max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=6),
)
def test_tag_split_is_the_same_for_any_split(
    start: ReasoningStart, content: str, cuts: list[int]
) -> None:
    points = sorted({c for c in cuts if c <= len(content)})
    pieces = [content[a:b] for a, b in zip([0, *points], [*points, len(content)], strict=True)]
    assert split(pieces, start) == split([content], start)


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


def test_late_closing_tag_on_an_unknown_start_is_reasoning_before_anything_shows() -> None:
    state = StreamState(reasoning_start="unknown")
    events = state.handle(delta(content="thinking first"))
    assert events == []
    events += state.handle(delta(content="</think>Answer", finish_reason="stop"))
    events += state.flush()
    assert events == [ReasoningDelta("thinking first"), TextDelta("Answer")]
    result = state.result()
    assert (result.reasoning_text, result.text) == ("thinking first", "Answer")


def test_structured_reasoning_settles_an_unknown_start() -> None:
    state = StreamState(reasoning_start="unknown")
    assert state.handle(delta(content="Hi")) == []
    events = state.handle(delta(reasoning=[ReasoningFragment(text="a plan", incremental=True)]))
    assert events == [TextDelta("Hi"), ReasoningDelta("a plan")]


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


MARK = "]<]minimax[>["
TOKENS = [
    "<think>",
    "</think>",
    "<mm:think>",
    "</mm:think>",
    f"{MARK}<tool_call>",
    f"{MARK}</tool_call>",
    f'{MARK}<invoke name="f">',
    f"{MARK}</invoke>",
    f"{MARK}<a>",
    f"{MARK}</a>",
    "<minimax:tool_call>",
    "</minimax:tool_call>",
    '<invoke name="f">',
    '<parameter name="a">',
    "</parameter>",
    "</invoke>",
    "<tool_call>",
    MARK,
    "x",
    "yz",
    " ",
    "\n",
    "<",
    "]",
]


@pytest.mark.parametrize("start", ["outside", "inside", "unknown"])
@given(
    tokens=st.lists(st.sampled_from(TOKENS), max_size=30),
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_any_mix_of_tags_and_markup_streams_to_its_whole_answer(
    start: ReasoningStart, tokens: list[str], cuts: list[int]
) -> None:
    """Whatever mix of reasoning tags and tool markup arrives, cut anywhere: the stream
    shows exactly what its result holds, and the result is the one the whole text gives."""
    content = "".join(tokens)
    points = sorted({c % (len(content) + 1) for c in cuts})
    pieces = [content[a:b] for a, b in zip([0, *points], [*points, len(content)], strict=True)]

    def answer(parts: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
        state = StreamState(tools=[], reasoning_start=start)
        events = [e for part in parts if part for e in state.handle(delta(content=part))]
        events += state.handle(delta(finish_reason="stop"))
        events += state.flush()
        result = state.result()
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        assert (text, reasoning) == (result.text, result.reasoning_text)
        streamed = [(e.name or "", e.arguments) for e in events if isinstance(e, ToolCallDelta)]
        calls = [(c.name, c.arguments) for c in result.tool_calls]
        assert streamed == calls
        return result.text, result.reasoning_text, calls

    assert answer(pieces) == answer([content])


# Found by attacking the stream state as a hostile server would (review of the normaliser).


def shown_and_result(state: StreamState, deltas: list[WireDelta]) -> tuple[Any, Any]:
    events = [e for d in deltas for e in state.handle(d)]
    events += state.flush()
    result = state.result()
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    calls = [(e.index, e.name, e.arguments) for e in events if isinstance(e, ToolCallDelta)]
    return (text, calls), result


def test_calls_after_a_stop_sequence_are_dropped_like_its_text() -> None:
    call = ToolCallFragment(index=0, id="c1", name="f", arguments="{}")
    markup = MARK + "<tool_call>" + MARK + '<invoke name="f">' + MARK + "</invoke>"
    for deltas in (
        [delta(content="Let me STOP check.", tool_calls=[call], finish_reason="stop")],
        [delta(content="Let me STOP check."), delta(tool_calls=[call], finish_reason="stop")],
        [delta(content="Let me STOP " + markup + MARK + "</tool_call>", finish_reason="stop")],
    ):
        (text, calls), result = shown_and_result(StreamState(stop=["STOP"]), deltas)
        assert (text, calls) == ("Let me ", [])
        assert (result.text, result.tool_calls, result.finish_reason) == ("Let me ", [], "stop")


def test_calls_from_markup_and_structured_calls_never_share_an_index() -> None:
    markup = MARK + "<tool_call>" + MARK + '<invoke name="f">' + MARK + "<city>Paris"
    markup += MARK + "</city>" + MARK + "</invoke>" + MARK + "</tool_call>"
    structured = ToolCallFragment(index=0, id="c9", name="f", arguments='{"city": "Rome"}')
    state = StreamState()
    (_, calls), result = shown_and_result(
        state, [delta(content=markup), delta(tool_calls=[structured], finish_reason="tool_calls")]
    )
    assert [c.parsed_arguments() for c in result.tool_calls] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]
    assert [index for index, _, _ in calls] == [0, 1]


def test_white_space_before_a_call_is_kept_while_a_stop_cutter_holds_text() -> None:
    call = ToolCallFragment(index=0, id="c1", name="f", arguments="{}")
    for stop in ([], ["XYZ"]):
        (text, _), result = shown_and_result(
            StreamState(stop=stop),
            [delta(content="ab"), delta(content="  "), delta(tool_calls=[call])],
        )
        assert text == result.text == "ab  "


def test_calls_made_before_a_stop_sequence_still_make_it_a_tool_call() -> None:
    markup = MARK + "<tool_call>" + MARK + '<invoke name="f">' + MARK + "</invoke>"
    markup += MARK + "</tool_call>"
    (text, calls), result = shown_and_result(
        StreamState(stop=["END"]), [delta(content=markup + "\nDone. END more")]
    )
    assert [name for _, name, _ in calls] == [c.name for c in result.tool_calls] == ["f"]
    assert result.finish_reason == "tool_calls"
    assert text == result.text == "\nDone. "
