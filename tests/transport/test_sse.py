from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minimax_m3.sse import SSEDecoder, SSEEvent


def decode(*pieces: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.close())
    return events


def test_data_lines_become_events() -> None:
    assert decode(b'data: {"a": 1}\n\ndata: [DONE]\n\n') == [
        SSEEvent(data='{"a": 1}'),
        SSEEvent(data="[DONE]"),
    ]


def test_event_name_id_and_multiline_data() -> None:
    body = b"event: message_start\nid: 7\ndata: one\ndata: two\n\n"
    assert decode(body) == [SSEEvent(data="one\ntwo", event="message_start", id="7")]


def test_comments_and_unknown_fields_are_skipped() -> None:
    assert decode(b": ping\n\nretry: 10\nfoo: bar\ndata: x\n\n: ping\n\n") == [SSEEvent(data="x")]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_line_ending(eol: bytes) -> None:
    body = b"data: a" + eol + eol + b"data: b" + eol + eol
    assert [e.data for e in decode(body)] == ["a", "b"]


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    assert [e.data for e in decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")] == ["a", "b"]


def test_multibyte_character_split_between_pieces() -> None:
    body = "data: café ☀️\n\n".encode()
    cut = body.index("☀".encode()) + 1
    assert decode(body[:cut], body[cut:]) == [SSEEvent(data="café ☀️")]


def test_value_without_space_after_colon() -> None:
    assert decode(b"data:x\n\n") == [SSEEvent(data="x")]


def test_event_left_without_blank_line_is_dispatched_at_end() -> None:
    assert decode(b"data: last") == [SSEEvent(data="last")]


def test_blank_lines_alone_make_no_event() -> None:
    assert decode(b"\n\n\r\n") == []


BODY = (
    b': ping\r\n\r\nevent: delta\r\ndata: {"x": "caf\xc3\xa9"}\r\n\r\n'
    b"data: line one\ndata: line two\n\ndata: [DONE]\r\n\r\n"
)


def test_same_events_for_every_single_cut() -> None:
    whole = decode(BODY)
    assert len(whole) == 3
    for cut in range(len(BODY) + 1):
        assert decode(BODY[:cut], BODY[cut:]) == whole, cut


def test_same_events_byte_by_byte() -> None:
    assert decode(*(BODY[i : i + 1] for i in range(len(BODY)))) == decode(BODY)


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_same_events_for_any_split(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [BODY[a:b] for a, b in zip([0, *points], [*points, len(BODY)], strict=True)]
    assert decode(*pieces) == decode(BODY)


def test_random_splits_of_many_events() -> None:
    rng = random.Random(7)
    body = b"".join(f"data: {i}\n\n".encode() for i in range(200))
    cuts = sorted(rng.sample(range(1, len(body)), 150))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert [e.data for e in decode(*pieces)] == [str(i) for i in range(200)]


def test_one_event_per_piece_decodes_like_the_whole_body() -> None:
    """Servers flush one event per piece; an event name or id sent in an earlier piece
    still applies, and the name is reset after its event."""
    frames = [
        b"id: 1\n",
        b"event: delta\n",
        b"data: first\n\n",
        b"data: second\n\n",
        b"data: caf\xc3\xa9\n\n",
        b"data: x\r\n\r\n",
        b"data: \n\n",
        b"data: two\ndata: lines\n\n",
    ]
    assert decode(*frames) == decode(b"".join(frames))
    assert decode(*frames)[:3] == [
        SSEEvent(data="first", event="delta", id="1"),
        SSEEvent(data="second", id="1"),
        SSEEvent(data="café", id="1"),
    ]
