"""MiniMax tool-call markup in text becomes tool calls, whole or streamed: M2 and M3."""

from __future__ import annotations

import pytest

from minimax_m3.stream import StreamState
from minimax_m3.tool_markup import MARKER, ToolMarkupReader, split_tool_markup
from minimax_m3.types import ToolSpec, WireDelta

TOOLS = [
    ToolSpec(
        "exec",
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": "integer"},
                "env": {"type": "object"},
            },
        },
    )
]
TEXT = (
    "I'll list the files.\n"
    "<minimax:tool_call>\n"
    '<invoke name="exec">\n'
    '<parameter name="command">123</parameter>\n'
    '<parameter name="timeout">30</parameter>\n'
    '<parameter name="env">{"A": "1"}</parameter>\n'
    "</invoke>\n"
    '<invoke name="exec">\n<parameter name="command">ls -la</parameter>\n</invoke>\n'
    "</minimax:tool_call>"
)


def test_whole_text_gives_calls_typed_by_the_schema() -> None:
    text, calls = split_tool_markup(TEXT, TOOLS)
    assert text == "I'll list the files.\n"
    assert [c.name for c in calls] == ["exec", "exec"]
    assert calls[0].parsed_arguments() == {"command": "123", "timeout": 30, "env": {"A": "1"}}
    assert calls[1].parsed_arguments() == {"command": "ls -la"}
    assert calls[0].id != calls[1].id


def test_a_tool_not_offered_keeps_its_values_as_written() -> None:
    # Policy, as vLLM's and SGLang's parsers: with no schema there is no type to read.
    _, calls = split_tool_markup(TEXT, [])
    assert calls[0].parsed_arguments() == {"command": "123", "timeout": "30", "env": '{"A": "1"}'}


def test_the_same_for_every_cut_of_a_stream() -> None:
    whole_text, whole_calls = split_tool_markup(TEXT, TOOLS)
    for cut in range(len(TEXT) + 1):
        reader = ToolMarkupReader(TOOLS)
        pieces = reader.feed(TEXT[:cut]) + reader.feed(TEXT[cut:]) + reader.finish()
        calls = [value for kind, value in pieces if kind == "call"]
        assert "".join(value for kind, value in pieces if kind == "text") == whole_text, cut
        assert [(c.name, c.arguments) for c in calls] == [
            (c.name, c.arguments) for c in whole_calls
        ]


@pytest.mark.parametrize(
    "text", ["a < b and <minimax:tool", "plain text", "<minimax:tool_call>never closed"]
)
def test_text_that_is_not_a_complete_call_is_kept(text: str) -> None:
    assert split_tool_markup(text, TOOLS) == (text, [])


def test_stream_state_turns_xml_into_tool_call_deltas() -> None:
    state = StreamState(tools=TOOLS)
    events = []
    for piece in [TEXT[:40], TEXT[40:90], TEXT[90:]]:
        events += state.handle(WireDelta(content=piece))
    events += state.handle(WireDelta(finish_reason="stop"))
    events += state.flush()
    result = state.result()
    assert result.text == "I'll list the files.\n"
    assert [c.parsed_arguments()["command"] for c in result.tool_calls] == ["123", "ls -la"]
    assert "minimax:tool_call" not in "".join(getattr(e, "text", "") for e in events)


M3_TOOLS = [
    ToolSpec(
        "write_file",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"},
                "mode": {"type": ["integer", "null"]},
                "flags": {"type": "array", "items": {"type": "boolean"}},
                "meta": {
                    "type": "object",
                    "properties": {"size": {"type": "number"}, "tags": {"type": "array"}},
                },
            },
        },
    )
]


def m3(body: str) -> str:
    return body.replace("§", MARKER)


def test_m3_values_are_typed_by_the_schema_and_strings_kept_verbatim() -> None:
    text = m3(
        'Writing it.\n§<tool_call>\n§<invoke name="write_file">'
        "§<path> /tmp/a b.txt\n§</path>"
        "§<content><html><b>x</b> & y</html>§</content>"
        "§<mode>null§</mode>"
        "§<flags>§<item>true§</item>§<item>0§</item>§</flags>"
        "§<meta>§<size>2.50§</size>§<tags>§<item>a§</item>§</tags>§</meta>"
        "§</invoke>\n§</tool_call>\nDone."
    )
    shown, [call] = split_tool_markup(text, M3_TOOLS)
    assert shown == "Writing it.\n\nDone."
    assert call.name == "write_file"
    assert call.parsed_arguments() == {
        "path": " /tmp/a b.txt\n",
        "content": "<html><b>x</b> & y</html>",
        "mode": None,
        "flags": [True, False],
        "meta": {"size": 2.5, "tags": ["a"]},
    }


def test_m3_without_markers_still_reads_strings_that_hold_tags() -> None:
    # A stack that strips special tokens drops the marker; a string value runs to its own
    # closing tag, whatever markup it holds.
    text = (
        '<tool_call>\n<invoke name="write_file"><path>a.html</path>'
        "<content><p>one<br>two</p></content></invoke>\n</tool_call>"
    )
    shown, [call] = split_tool_markup(text, M3_TOOLS)
    assert shown == ""
    assert call.parsed_arguments() == {"path": "a.html", "content": "<p>one<br>two</p>"}


def test_a_value_that_does_not_read_as_its_type_is_kept_as_written() -> None:
    text = m3('§<tool_call>§<invoke name="write_file">§<mode>seven§</mode>§</invoke>§</tool_call>')
    _, [call] = split_tool_markup(text, M3_TOOLS)
    assert call.parsed_arguments() == {"mode": "seven"}


def test_several_blocks_and_the_text_between_them_are_kept() -> None:
    block = '§<tool_call>§<invoke name="write_file">§<path>{0}§</path>§</invoke>§</tool_call>'
    text = m3(f"A {block.format(1)} B {block.format(2)} C")
    shown, calls = split_tool_markup(text, M3_TOOLS)
    assert shown == "A  B  C"
    assert [c.parsed_arguments() for c in calls] == [{"path": "1"}, {"path": "2"}]


@pytest.mark.parametrize(
    "text",
    [
        m3("plain §<tool_ca"),
        m3("plain §"),
        m3('§<tool_call>§<invoke name="write_file">§<path>cut off'),
        "<tool_call>",
        '<tool_call>{"name": "hermes-style", "arguments": {}}</tool_call>',
    ],
    ids=["partial-opening", "lone-marker", "unclosed-block", "bare-opening", "other-grammar"],
)
def test_markup_that_never_completes_is_kept_as_text(text: str) -> None:
    assert split_tool_markup(text, M3_TOOLS) == (text, [])
    reader = ToolMarkupReader(M3_TOOLS)
    pieces = [piece for ch in text for piece in reader.feed(ch)] + reader.finish()
    assert pieces
    assert all(kind == "text" for kind, _ in pieces)
    assert "".join(value for _, value in pieces) == text


def test_a_call_is_handed_on_as_soon_as_its_invoke_closes() -> None:
    reader = ToolMarkupReader(M3_TOOLS)
    first = reader.feed(m3('§<tool_call>§<invoke name="write_file">§<path>a§</path>§</invoke>'))
    assert [kind for kind, _ in first] == ["call"]
    assert reader.feed(m3('§<invoke name="write_file">§<path>b')) == []
    rest = reader.feed(m3("§</path>§</invoke>§</tool_call>")) + reader.finish()
    assert [kind for kind, _ in rest] == ["call"]


def test_a_long_streamed_call_is_joined_only_when_it_may_close() -> None:
    reader = ToolMarkupReader(M3_TOOLS)
    reader.feed(m3('§<tool_call>§<invoke name="write_file">§<content>'))
    for _ in range(20_000):
        assert reader.feed("xxxxx") == []
    [(kind, call)] = reader.feed(m3("§</content>§</invoke>§</tool_call>"))
    assert kind == "call"
    assert call.parsed_arguments() == {"content": "x" * 100_000}


# Found by attacking the reader as a hostile server would (review of the normaliser).


def every_cut_agrees(text: str, tools: list[ToolSpec]) -> tuple[str, list[tuple[str, str]]]:
    whole_text, whole_calls = split_tool_markup(text, tools)
    whole = (whole_text, [(c.name, c.arguments) for c in whole_calls])
    for cut in range(len(text) + 1):
        reader = ToolMarkupReader(tools)
        pieces = reader.feed(text[:cut]) + reader.feed(text[cut:]) + reader.finish()
        shown = "".join(value for kind, value in pieces if kind == "text")
        calls = [(value.name, value.arguments) for kind, value in pieces if kind == "call"]
        assert (shown, calls) == whole, cut
    return whole


def test_markup_nested_deeper_than_python_recurses_stays_text() -> None:
    depth = 3_000
    text = m3('§<tool_call>§<invoke name="f">' + "§<a>" * depth + "x" + "§</a>" * depth)
    text += m3("§</invoke>§</tool_call>")
    assert split_tool_markup(text, []) == (text, [])


@pytest.mark.parametrize(
    "text",
    [
        m3('§<tool_call>§<invoke name="write_file">§<path>a§ </path>§ </invoke>§ </tool_call>'),
        m3('Let me check.\n§ <tool_call>§<invoke name="write_file">§<path>a§</path>§</invoke>')
        + m3("§</tool_call>"),
    ],
    ids=["space-before-closers", "space-before-the-opening"],
)
def test_white_space_after_the_marker_is_no_obstacle(text: str) -> None:
    shown, calls = every_cut_agrees(text, M3_TOOLS)
    assert shown in ("", "Let me check.\n")
    assert [name for name, _ in calls] == ["write_file"]


def test_a_marker_less_block_stays_marker_less_whatever_follows() -> None:
    text = '<tool_call><invoke name="f"></invoke>\n' + MARKER + "</think> and more"
    every_cut_agrees(text, [])


def test_only_the_name_attribute_names_the_tool() -> None:
    text = m3('§<tool_call>§<invoke data-name="x" name="write_file">§</invoke>§</tool_call>')
    _, [call] = split_tool_markup(text, M3_TOOLS)
    assert call.name == "write_file"
