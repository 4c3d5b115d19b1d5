"""Raw MiniMax tool-call XML in text becomes tool calls, whole or streamed."""

from __future__ import annotations

import pytest

from minimax_m3.stream import StreamState
from minimax_m3.tool_xml import ToolXmlExtractor, split_tool_xml
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
    text, calls = split_tool_xml(TEXT, TOOLS)
    assert text == "I'll list the files.\n"
    assert [c.name for c in calls] == ["exec", "exec"]
    assert calls[0].parsed_arguments() == {"command": "123", "timeout": 30, "env": {"A": "1"}}
    assert calls[1].parsed_arguments() == {"command": "ls -la"}
    assert calls[0].id != calls[1].id


def test_without_a_schema_values_are_read_as_json_where_they_parse() -> None:
    _, calls = split_tool_xml(TEXT, [])
    assert calls[0].parsed_arguments()["command"] == 123


def test_the_same_for_every_cut_of_a_stream() -> None:
    whole_text, whole_calls = split_tool_xml(TEXT, TOOLS)
    for cut in range(len(TEXT) + 1):
        extractor = ToolXmlExtractor(TOOLS)
        first, calls_a = extractor.feed(TEXT[:cut])
        second, calls_b = extractor.feed(TEXT[cut:])
        tail, calls_c = extractor.finish()
        calls = calls_a + calls_b + calls_c
        assert first + second + tail == whole_text, cut
        assert [(c.name, c.arguments) for c in calls] == [
            (c.name, c.arguments) for c in whole_calls
        ]


@pytest.mark.parametrize(
    "text", ["a < b and <minimax:tool", "plain text", "<minimax:tool_call>never closed"]
)
def test_text_that_is_not_a_complete_call_is_kept(text: str) -> None:
    assert split_tool_xml(text, TOOLS) == (text, [])


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
