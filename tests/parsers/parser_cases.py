"""Model outputs and the answers they must give, carried over from vLLM's and SGLang's
own tests of their MiniMax parsers (the data only; the test code here is ours).

``tests/fixtures/parsers/vllm_cases.json`` and ``sglang_cases.json`` hold one case per
source test: the raw model output, the source's split points where it streams specific
pieces, the tool schemas, and what the source asserts (content, reasoning, tool calls).
Each case names its source file, test and commit.

Where we chose a different policy from a source, the case's expectation is replaced
here, with the policy named (``POLICIES``); where a source tests something that is not a
parser's answer (another detector's strict mode, an error message), the case is left out
with the reason (``LEFT_OUT``). Everything else must match the source exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minimax_m3.stream import ReasoningStart

FIXTURES = Path(__file__).parent.parent / "fixtures" / "parsers"

POLICIES = {
    "text-is-kept": (
        "Text after a tool-call block is kept as text, as SGLang does; vLLM drops it. What "
        "the model wrote is never dropped."
    ),
    "arguments-after-prose": (
        "Prose inside an invoke is left out, and the arguments after it are kept; vLLM "
        "drops the rest of the invoke."
    ),
    "no-call-from-a-broken-invoke": (
        "An invoke cut off before it closes (or never opened) makes no call and stays "
        "text, as SGLang does; vLLM completes it with the arguments so far. A guessed "
        "call could run a tool with arguments the model never finished."
    ),
    "calls-when-whole": (
        "A call is handed on when its invoke closes, whole; vLLM streams its name first. "
        "Until then the markup is held back, so no text is shown."
    ),
    "undeclared-tool": (
        "A call to a tool that was not offered is still a call, as vLLM does; SGLang "
        "drops it. The framework then tells the model that the tool does not exist."
    ),
    "evidence-from-the-closer": (
        "With no thinking_mode sent, the template may have written the opening tag, so "
        "text before a closing tag is reasoning; vLLM's M3 parser calls it content (it "
        "assumes adaptive). Knowing the mode instead, send thinking=."
    ),
    "first-branch-types": (
        "A property declared in any anyOf/oneOf branch is typed by the first branch that "
        "declares it; SGLang picks the branch matching the call's const field."
    ),
}

LEFT_OUT = {
    "TestCompatibilityModeOption.test_compatibility_mode_heals_default_strict_fails_open"
    "[strict]": "SGLang's minimax-m3-nom detector in strict mode, a switch we do not have",
    "TestComplexSchemaCompatibility.test_complex_schema_strict_parser_fails_open": (
        "SGLang's minimax-m3-nom detector in strict mode, a switch we do not have"
    ),
    "TestTagStreamingGates.test_unknown_tool_fails_open_in_strict_streaming": (
        "SGLang's compatibility detector in strict mode, a switch we do not have"
    ),
    "TestTagStreamingGates.test_strict_fail_open_after_completed_block_is_not_corrupted": (
        "SGLang's compatibility detector in strict mode, a switch we do not have"
    ),
    "minimax_m3_malformed_tool_call_fails_fast": "asserts vLLM's own error message",
    "test_empty_delta_no_crash": "asserts only that vLLM emits no delta object",
    "test_eos_after_tool_calls": "asserts vLLM's delta objects, not an answer",
    "test_end_token_ignored": "asserts vLLM's delta objects, not an answer",
}

# Where our answer differs from the source's, by the end of the source's test id.
OVERRIDES: dict[str, tuple[str, dict[str, Any]]] = {
    "test_streaming_parse_error_emits_buffer_and_later_deltas": (
        "no-call-from-a-broken-invoke",
        {"content": "]<]minimax[>[<tool_call>\n]<]minimax[>[</user_id> after error"},
    ),
    "minimax_m3_parse_complete_preserves_prefix_and_ignores_trailing_text": (
        "text-is-kept",
        {"content": "Let me check.  This trailing text is ignored."},
    ),
    "minimax_m3_streaming_ignores_text_after_tool_block": ("text-is-kept", {"content": " ignored"}),
    "minimax_m3_invoke_body_junk_drops_rest_of_invoke": (
        "arguments-after-prose",
        {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Seattle", "days": 5}}]},
    ),
    "minimax_m3_streaming_emits_tool_call_header_before_arguments": (
        "calls-when-whole",
        {"content": "", "tool_calls": []},
    ),
    "minimax_m3_finish_degrades_incomplete_tool_call": (
        "no-call-from-a-broken-invoke",
        {
            "content": ']<]minimax[>[<tool_call>]<]minimax[>[<invoke name="get_weather">',
            "tool_calls": [],
        },
    ),
    "minimax_m3_finish_degrades_truncated_after_partial_params": (
        "no-call-from-a-broken-invoke",
        {
            "content": (
                ']<]minimax[>[<tool_call>]<]minimax[>[<invoke name="get_weather">'
                "]<]minimax[>[<city>Seattle]<]minimax[>[</city>"
            ),
            "tool_calls": [],
        },
    ),
    "minimax_m3_finish_recovers_after_bare_tool_block_start": (
        "no-call-from-a-broken-invoke",
        {"content": "]<]minimax[>[<tool_call>", "tool_calls": []},
    ),
    "test_nonstreaming_non_leading_end_tag_is_content": (
        "evidence-from-the-closer",
        {"reasoning": "XXX", "content": "YYY"},
    ),
    "test_streaming_non_leading_end_tag_is_content": (
        "evidence-from-the-closer",
        {"reasoning": "XXX", "content": "YYY"},
    ),
    "minimax_m3_preserves_non_leading_end_marker": (
        "evidence-from-the-closer",
        {"reasoning": "XXX", "content": "YYY"},
    ),
    "TestDetectAndParse.test_unknown_function_name_is_dropped": (
        "undeclared-tool",
        {"tool_calls": [{"name": "nonexistent_func", "arguments": {"x": "1"}}]},
    ),
    "TestStreamingIncrement.test_streaming_invalid_function_name_resets_state": (
        "undeclared-tool",
        {"tool_calls": [{"name": "no_such_func", "arguments": {"x": "1"}}]},
    ),
    "TestMinimaxM2ToolIndex.test_indices_are_dense_when_unknown_tool_is_dropped": (
        "undeclared-tool",
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Tokyo"}},
                {"name": "unknown_tool", "arguments": {"city": "Paris"}},
                {"name": "calculate", "arguments": {"expr": "2+2"}},
            ]
        },
    ),
    "TestTagStreamingGates.test_unknown_tool_dropped_in_streaming_with_dense_indices": (
        "undeclared-tool",
        {
            "tool_calls": [
                {"name": "hack_tool", "arguments": {"city": "x"}},
                {"name": "get_weather", "arguments": {"city": "Paris"}},
            ]
        },
    ),
    "TestRootCombinatorToolParsers.test_parsers[minimax-m2,other]": (
        "first-branch-types",
        {"tool_calls": [{"name": "acme", "arguments": {"kind": "other", "payload": {"x": 1}}}]},
    ),
    "TestRootCombinatorToolParsers.test_parsers[minimax-m3,other]": (
        "first-branch-types",
        {"tool_calls": [{"name": "acme", "arguments": {"kind": "other", "payload": {"x": 1}}}]},
    ),
}

# What each source's thinking_mode means for where our client knows an answer starts:
# "prefilled" is M2's template writing <think>, None is a request that sent no mode.
STARTS: dict[str | None, ReasoningStart] = {
    None: "unknown",
    "adaptive": "outside",
    "disabled": "outside",
    "enabled": "inside",
    "prefilled": "inside",
}


@dataclass(frozen=True)
class Case:
    source: str
    kind: str
    output: str
    tools: list[dict[str, Any]]
    start: ReasoningStart
    expected: dict[str, Any]
    chunks: list[str] | None = None
    # The source stops before the end of the stream: compare what was shown by then.
    mid_stream: bool = False
    policy: str | None = None
    notes: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        head, _, test = self.source.partition("::")
        return f"{head.split()[0].split('/')[0]}:{test}"


def _short(source: str) -> str:
    return source.rpartition("::")[2]


def _append_think(raw: dict[str, Any]) -> dict[str, Any] | None:
    """vLLM's minimax_m2_append_think and SGLang's minimax-append-think parsers split
    nothing: they put ``<think>`` back in front and answer with it all as content. That
    content is what reaches the client; the case becomes that content, read by us."""
    content = raw["expected"].get("content")
    if not isinstance(content, str):
        return None
    inner = content.removeprefix("<think>")
    reasoning, closed, text = inner.partition("</think>")
    return {
        **raw,
        "output": content,
        "chunks": None,
        "thinking_mode": None,
        "expected": {"reasoning": reasoning, "content": text.lstrip() if closed else ""},
        "notes": "append-think: the server's content, split by the client. " + raw["notes"],
    }


def _is_append_think(raw: dict[str, Any]) -> bool:
    """vLLM's cases say so in thinking_mode; SGLang's in the detector's or parser's name."""
    source = raw["source"].lower().replace("_", "").replace("-", "")
    return raw.get("thinking_mode") == "append_think" or "appendthink" in source


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*_cases.json")):
        for raw in json.loads(path.read_text()):
            if raw.get("kind") not in ("tool", "reasoning") or raw.get("output") is None:
                continue
            if any(_short(raw["source"]).endswith(key) for key in LEFT_OUT):
                continue
            if _is_append_think(raw):
                converted = _append_think(raw)
                if converted is None:
                    continue
                raw = converted
            expected = dict(raw["expected"])
            policy = None
            for key, (name, ours) in OVERRIDES.items():
                if _short(raw["source"]).endswith(key):
                    policy = name
                    expected.update(ours)
            cases.append(
                Case(
                    source=raw["source"],
                    kind=raw["kind"],
                    output=raw["output"],
                    tools=raw["tools"],
                    # A tool parser's case says nothing of reasoning: read it as a client
                    # that sent thinking= (so knows the answer starts outside reasoning).
                    start="outside" if raw["kind"] == "tool" else STARTS[raw["thinking_mode"]],
                    expected=expected,
                    chunks=raw["chunks"] if raw.get("chunks") else None,
                    # Our policies speak of the whole answer, but for what a stream shows
                    # before its calls close.
                    mid_stream=(
                        raw.get("finish_called") is False or "no finish()" in raw.get("notes", "")
                    )
                    and policy in (None, "calls-when-whole"),
                    policy=policy,
                    notes=raw.get("notes", ""),
                )
            )
    return cases


CASES = load_cases()


def answer_of(text: str, reasoning: str, calls: list[tuple[str, str]]) -> dict[str, Any]:
    """An answer in the shape the cases state it: content, reasoning, calls by name and
    parsed arguments."""
    return {
        "content": text,
        "reasoning": reasoning,
        "tool_calls": [{"name": name, "arguments": json.loads(args)} for name, args in calls],
    }


def assert_matches(case: Case, got: dict[str, Any], *, how: str) -> None:
    """Compare what the source asserts, and only that: a key the source leaves out, a call
    name or arguments it does not check, are not compared."""
    expected = case.expected
    where = f"{case.id} ({how})"
    if "content" in expected:
        assert got["content"] == (expected["content"] or ""), where
    if "reasoning" in expected:
        assert got["reasoning"] == (expected["reasoning"] or ""), where
    if "tool_calls" in expected:
        calls = expected["tool_calls"]
        assert len(got["tool_calls"]) == len(calls), where
        for mine, theirs in zip(got["tool_calls"], calls, strict=True):
            if theirs.get("name") is not None:
                assert mine["name"] == theirs["name"], where
            if theirs.get("arguments") is not None:
                assert mine["arguments"] == theirs["arguments"], where
    if "tool_call_count" in expected:
        assert len(got["tool_calls"]) == expected["tool_call_count"], where
