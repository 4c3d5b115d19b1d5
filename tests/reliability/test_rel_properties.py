"""Properties (hypothesis): the same bytes give the same answer however the network splits them.

The SSE decoder, the reasoning normaliser and the think-tag splitter give the same result
for any split of the same input, on their own and as the whole stream pipeline over real
bodies of every wire format; tool-call fragments give the same calls for any
interleaving of their calls.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rel_helpers import ACCOUNT, PROPERTY_EXAMPLES

from minimax_m3.providers import PROVIDERS
from minimax_m3.sse import SSEDecoder, SSEEvent
from minimax_m3.stream import ReasoningTagReader, ReasoningTrack, StreamState
from minimax_m3.testing import Layout, RecordedRequest, Reply, StreamShape, ToolCallReply
from minimax_m3.testing.plan import Send
from minimax_m3.testing.server import dispatch
from minimax_m3.testing.state import ScriptState
from minimax_m3.transport import Transport
from minimax_m3.types import (
    ChatRequest,
    Message,
    ReasoningDelta,
    ReasoningFragment,
    StreamEnd,
    TextDelta,
    ToolCallDelta,
    ToolCallFragment,
    ToolSpec,
    WireDelta,
)
from minimax_m3.wire import Poll, wire_format

PROPERTY = settings(
    max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sse"


def cut(data: Any, points: list[int]) -> list[Any]:
    """``data`` (str or bytes) cut at ``points`` (any order, any values)."""
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]


# --- the SSE decoder ----------------------------------------------------------------------

FIELD_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20
)
LINE_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def sse_bodies(draw: st.DrawFn) -> tuple[bytes, list[SSEEvent]]:
    """A body of events written every way the format allows, and the events it holds."""
    out = bytearray()
    expected: list[SSEEvent] = []
    last_id: str | None = None

    def line(text: str) -> None:
        end = draw(LINE_ENDS)
        if not text and out.endswith(b"\r"):
            end = b"\r"  # a LF here would only finish the CRLF before it
        out.extend(text.encode() + end)

    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            line(":" + draw(FIELD_TEXT))  # a comment, such as a keep-alive ping
        name = draw(st.one_of(st.none(), st.text("abcdefgh_", min_size=1, max_size=8)))
        if name is not None:
            line(f"event: {name}" if draw(st.booleans()) else f"event:{name}")
        if draw(st.booleans()):
            last_id = draw(st.text("0123456789abc", max_size=6))
            line(f"id: {last_id}")
        data = draw(st.lists(FIELD_TEXT, min_size=1, max_size=3))
        for value in data:
            spaced = draw(st.booleans()) or value.startswith(" ")
            line(f"data: {value}" if spaced else f"data:{value}")
        if draw(st.booleans()):
            line("retry: 100")
        line("")
        expected.append(SSEEvent("\n".join(data), name or "message", last_id))
    return bytes(out), expected


def decode(pieces: list[bytes]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.close()


@PROPERTY
@given(sse_bodies(), st.lists(st.integers(0, 10_000), max_size=12))
def test_sse_decoder_gives_the_same_events_for_any_split(
    body: tuple[bytes, list[SSEEvent]], points: list[int]
) -> None:
    data, expected = body
    assert decode([data]) == expected
    assert decode(cut(data, points)) == expected


@PROPERTY
@given(sse_bodies())
def test_sse_decoder_byte_by_byte(body: tuple[bytes, list[SSEEvent]]) -> None:
    data, expected = body
    assert decode([data[i : i + 1] for i in range(len(data))]) == expected


# --- the reasoning normaliser --------------------------------------------------------------

REASONING = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=120)


def normalise(pieces: list[str], *, incremental: bool = False) -> tuple[str, str]:
    """The text a track ends with, and everything it showed along the way."""
    track = ReasoningTrack(ReasoningFragment(), incremental=incremental)
    shown = "".join(track.add(ReasoningFragment(text=piece)) for piece in pieces)
    return track.text, shown + track.release()


@PROPERTY
@given(REASONING, st.lists(st.integers(0, 200), max_size=10))
def test_cumulative_snapshots_give_the_same_text_for_any_cut(text: str, points: list[int]) -> None:
    marks = sorted({p % len(text) for p in points if p % len(text)} | {len(text)})
    final, shown = normalise([text[:mark] for mark in marks])
    assert final == shown == text


@PROPERTY
@given(REASONING, st.lists(st.integers(0, 200), max_size=10))
def test_incremental_fragments_give_the_same_text_for_any_cut(text: str, points: list[int]) -> None:
    pieces = [piece for piece in cut(text, points) if piece]
    # Formats that say their fragments are incremental (Anthropic, Runware): exact.
    assert normalise(pieces, incremental=True) == (text, text)
    # Formats that do not: told apart from snapshots by looking, which a fragment that
    # repeats the whole previous one fools; real reasoning never does that.
    assume(not any(b.startswith(a) for a, b in itertools.pairwise(pieces)))
    assert normalise(pieces) == (text, text)


# --- the think-tag splitter ----------------------------------------------------------------

PLAIN = st.text(st.sampled_from("ab <>/:tm\n think"), max_size=40)


@st.composite
def tagged_content(draw: st.DrawFn) -> tuple[str, str, str]:
    """Content with inline reasoning, and the reasoning and answer it must split into."""
    opener, closer = draw(st.sampled_from([("<think>", "</think>"), ("<mm:think>", "</mm:think>")]))
    reasoning = draw(PLAIN.filter(lambda s: closer not in s))
    answer = draw(PLAIN.filter(lambda s: "</think>" not in s and "</mm:think>" not in s))
    space = draw(st.sampled_from(["", " ", "\n", "\n\n"]))
    content = f"{space}{opener}{reasoning}{closer}{space}{answer}"
    assume(not (reasoning + closer).endswith(closer + closer))
    # Reasoning byte for byte; the white space between the closer and the answer dropped.
    return content, reasoning, answer.lstrip()


def split_tags(pieces: list[str]) -> tuple[str, str]:
    reader = ReasoningTagReader()
    out = [piece for chunk in pieces for piece in reader.feed(chunk)] + reader.finish()
    reasoning = "".join(text for kind, text in out if kind == "reasoning")
    return reasoning, "".join(text for kind, text in out if kind == "text")


@PROPERTY
@given(tagged_content(), st.lists(st.integers(0, 200), max_size=8))
def test_think_tags_split_the_same_for_any_cut(
    case: tuple[str, str, str], points: list[int]
) -> None:
    content, reasoning, answer = case
    assert split_tags([content]) == (reasoning, answer)
    assert split_tags(cut(content, points)) == (reasoning, answer)
    # The same through the stream state, content deltas cut the same way.
    state = StreamState()
    for piece in cut(content, points):
        state.handle(WireDelta(content=piece))
    state.handle(WireDelta(finish_reason="stop"))
    state.flush()
    result = state.result()
    assert (result.reasoning_text, result.text) == (reasoning, answer)


# --- tool-call fragments -------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    id: str
    name: str
    arguments: str


@st.composite
def calls_and_fragments(draw: st.DrawFn) -> tuple[list[Call], list[list[ToolCallFragment]]]:
    """Parallel calls and, per call, its fragments in order (the first carries the id)."""
    count = draw(st.integers(1, 4))
    names = draw(
        st.lists(
            st.from_regex(r"[a-z_]{2,12}", fullmatch=True),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    calls, fragments = [], []
    for index, name in enumerate(names):
        arguments = json.dumps(
            draw(st.dictionaries(st.text("abcxyz", min_size=1, max_size=4), FIELD_TEXT, max_size=3))
        )
        call = Call(f"call_{index}_{draw(st.integers(0, 999))}", name, arguments)
        calls.append(call)
        cut_name = draw(st.integers(0, len(name) - 1))
        head = [ToolCallFragment(index=index, id=call.id, name=name[: cut_name or len(name)])]
        if cut_name:
            head.append(ToolCallFragment(index=index, name=name[cut_name:]))
        pieces = [p for p in cut(arguments, draw(st.lists(st.integers(0, 99), max_size=6))) if p]
        fragments.append(head + [ToolCallFragment(index=index, arguments=p) for p in pieces])
    return calls, fragments


@PROPERTY
@given(calls_and_fragments(), st.randoms(use_true_random=False), st.integers(1, 3))
def test_tool_calls_are_the_same_for_any_interleaving(
    generated: tuple[list[Call], list[list[ToolCallFragment]]], rnd: Any, per_delta: int
) -> None:
    calls, fragments = generated
    queues = [list(group) for group in fragments]
    order: list[ToolCallFragment] = []
    while any(queues):
        queue = rnd.choice([q for q in queues if q])
        order.append(queue.pop(0))
    state = StreamState()
    events = []
    for start in range(0, len(order), per_delta):
        events += state.handle(WireDelta(tool_calls=order[start : start + per_delta]))
    events += state.handle(WireDelta(finish_reason="tool_calls"))
    events += state.flush()
    result = state.result()
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        (c.id, c.name, c.arguments) for c in calls
    ]
    streamed: dict[int, str] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            streamed[event.index] = streamed.get(event.index, "") + event.arguments
    assert streamed == {i: c.arguments for i, c in enumerate(calls)}


# --- the whole pipeline, over real bodies of every wire format ------------------------------

WEATHER = ToolSpec("get_weather", "Weather", {"type": "object", "properties": {}})
SCRIPTS = {
    "incremental": Reply(text="The answer is 42.", reasoning="Add six and seven, then."),
    "cumulative": Reply(
        text="Paris.",
        reasoning="The capital of France is Paris.",
        stream=StreamShape(reasoning_mode="cumulative"),
    ),
    "think-tags": Reply(
        text="Done.", reasoning="Tagged reasoning here.", layout=Layout(think_tags=True)
    ),
    "tools": Reply(
        reasoning="Two calls.",
        tool_calls=[
            ToolCallReply("get_weather", {"city": "Oslo"}, id="c1"),
            ToolCallReply("get_weather", {"city": "Rome"}, id="c2"),
        ],
        stream=StreamShape(interleave_tool_calls=True, split_tool_name=True, tool_args_chunk=3),
    ),
}
PATHS = {
    "minimax-chat": ("minimax", "chat_completions", "/v1/chat/completions"),
    "minimax-anthropic": ("minimax", "anthropic_messages", "/anthropic/v1/messages"),
    "cloudflare-chat": (
        "cloudflare",
        "chat_completions",
        f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions",
    ),
    "runware-tasks": ("runware", "runware_tasks", "/runware/v1"),
    # Self-hosted: M3's raw output (no parsers), and vLLM's and SGLang's parsed answers.
    "self-hosted-raw": ("openai-compatible", "chat_completions", "/raw/v1/chat/completions"),
    "self-hosted-vllm": ("openai-compatible", "chat_completions", "/vllm/v1/chat/completions"),
    "self-hosted-sglang": (
        "openai-compatible",
        "chat_completions",
        "/sglang/v1/chat/completions",
    ),
}


def rendered_body(provider: str, script: str) -> tuple[Transport, Any, bytes]:
    """What the emulator would send for one streamed request: the transport, its exchange
    and the exact body bytes."""
    name, api, path = PATHS[provider]
    base = "http://emulator" + ("/client/v4" if name == "cloudflare" else "")
    base += "/runware/v1" if name == "runware" else ""
    base += path.removesuffix("/chat/completions") if name == "openai-compatible" else ""
    transport = Transport(provider=name, api=api, api_key="k", base_url=base, account_id=ACCOUNT)
    reply = SCRIPTS[script]
    tools = (WEATHER,) if reply.tool_calls else ()
    request = ChatRequest(
        model=PROVIDERS[name].default_model,
        messages=[Message(role="user", content="Hi")],
        tools=tools,
    )
    exchange = wire_format(api)(request, transport.profile, True)
    state = ScriptState(None, require_reasoning_replay=False)
    state.enqueue([reply])
    raw = json.dumps(exchange.body).encode()
    plan = dispatch(RecordedRequest.build("POST", path, [], raw), state)
    body = b"".join(action.data for action in plan.actions if isinstance(action, Send))
    return transport, (request, exchange), body


BODIES = {
    f"{provider}/{script}": rendered_body(provider, script)
    for provider in PATHS
    for script in SCRIPTS
    # Runware's native stream carries no tool-call deltas; Anthropic's thinking_delta is
    # incremental by the protocol's definition, so it has no cumulative form to test.
    if (provider, script) not in {("runware-tasks", "tools"), ("minimax-anthropic", "cumulative")}
}
FIXTURE_BODIES = {path.stem: path.read_bytes() for path in sorted(FIXTURES.glob("*.sse"))}


def read(transport: Transport, request: ChatRequest, exchange: Any, pieces: list[bytes]) -> Any:
    """Stream events, as lists of what was shown and the final result, or the error."""
    reader = transport.new_stream_reader(request, exchange, httpx.Headers())
    events = []
    try:
        for piece in pieces:
            events += reader.feed(piece)
        events += reader.close()
    except Exception as error:  # a fixture that ends in an error ends the same way
        return type(error).__name__, str(error)
    shown = {"text": "", "reasoning": "", "tools": {}}
    for event in events:
        if isinstance(event, TextDelta):
            shown["text"] += event.text
        elif isinstance(event, ReasoningDelta):
            shown["reasoning"] += event.text
        elif isinstance(event, ToolCallDelta):
            shown["tools"][event.index] = shown["tools"].get(event.index, "") + event.arguments
    end = events[-1]
    assert isinstance(end, StreamEnd)
    result = end.result
    assert shown["text"] == result.text
    assert shown["reasoning"] == result.reasoning_text
    # Calls read from markup get ids made up on the client, fresh on every read.
    calls = [
        (MADE_UP if re.fullmatch(r"call_[0-9a-f]{24}", c.id) else c.id, c.name, c.arguments)
        for c in result.tool_calls
    ]
    return shown, result.text, result.reasoning_text, calls, result.finish_reason


MADE_UP = "<made up>"


@PROPERTY
@given(st.sampled_from(sorted(BODIES)), st.lists(st.integers(0, 100_000), max_size=16))
def test_every_wire_format_streams_the_same_answer_for_any_split(
    name: str, points: list[int]
) -> None:
    transport, (request, exchange), body = BODIES[name]
    whole = read(transport, request, exchange, [body])
    reply = SCRIPTS[name.split("/")[1]]
    assert whole[1] == reply.text.strip() or whole[1] == reply.text
    # Inline reasoning is kept byte for byte: MiniMax's form writes a line break after the
    # opening tag and before the closing one.
    # (Anthropic's thinking blocks and raw M3 output have no such line breaks.)
    inline_minimax = reply.layout.think_tags and not name.startswith(
        ("self-hosted-raw", "minimax-anth")
    )
    assert whole[2] == (f"\n{reply.reasoning}\n" if inline_minimax else reply.reasoning)
    _, (request, exchange), _ = rendered_body(*name.split("/"))
    assert read(transport, request, exchange, cut(body, points)) == whole


def whole_answer_of(provider: str, script: str) -> tuple[str, str, list[Any], str | None]:
    """The same script asked for without streaming, read as ``Transport.complete`` reads it."""
    _, api, path = PATHS[provider]
    transport, (request, _), _ = rendered_body(provider, script)
    exchange = wire_format(api)(request, transport.profile, False)
    state = ScriptState(None, require_reasoning_replay=False)
    state.enqueue([SCRIPTS[script]])
    raw = json.dumps(exchange.body).encode()
    plan = dispatch(RecordedRequest.build("POST", path, [], raw), state)
    body = b"".join(action.data for action in plan.actions if isinstance(action, Send))
    result = transport.result_from_response(request, exchange, httpx.Response(200, content=body))
    assert not isinstance(result, Poll)
    calls = [
        (MADE_UP if re.fullmatch(r"call_[0-9a-f]{24}", c.id) else c.id, c.name, c.arguments)
        for c in result.tool_calls
    ]
    return result.text, result.reasoning_text, calls, result.finish_reason


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_whole_answer_is_the_streamed_answer(name: str) -> None:
    # One normaliser: the same reply, streamed or not, is the same answer.
    transport, (request, exchange), body = BODIES[name]
    _, text, reasoning, calls, finish = read(transport, request, exchange, [body])
    assert whole_answer_of(*name.split("/")) == (text, reasoning, calls, finish)


@PROPERTY
@given(st.sampled_from(sorted(FIXTURE_BODIES)), st.lists(st.integers(0, 100_000), max_size=16))
def test_recorded_streams_give_the_same_answer_for_any_split(name: str, points: list[int]) -> None:
    body = FIXTURE_BODIES[name]
    api = "anthropic_messages" if name.startswith("anthropic") else "chat_completions"
    transport = Transport(api=api, api_key="k", base_url="http://emulator")
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content="Hi")])

    def exchange() -> Any:
        return wire_format(api)(request, transport.profile, True)

    assert read(transport, request, exchange(), cut(body, points)) == read(
        transport, request, exchange(), [body]
    )
