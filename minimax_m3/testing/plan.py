"""Response plans: what the server writes, when it pauses and when it hangs up.

A wire format turns a request into a :class:`ResponsePlan`; the server only executes
plans. :func:`stream_plan` and :func:`body_plan` are the one place where a
:class:`~minimax_m3.testing.script.Fault` damages an otherwise good answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from minimax_m3.testing._common import JSON_HEADERS, SSE_HEADERS, json_bytes
from minimax_m3.testing.script import Fault

TRUNCATED_EVENT = b'data: {"id": "x", "choi\n\n'
MALFORMED_LINES = b'this line is not server-sent events\n:\x00\ndata: {"unterminated": \n\n'


@dataclass(frozen=True)
class Send:
    """Write these bytes as one piece of the body (one chunk when chunked)."""

    data: bytes


@dataclass(frozen=True)
class Wait:
    """Pause, keeping the connection open."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Close the connection at once, leaving the body unfinished."""


Action: TypeAlias = Send | Wait | Drop


@dataclass(frozen=True)
class ResponsePlan:
    """A full response.

    ``delay`` passes before the status line; ``content_length=None`` means a chunked
    body; ``reset`` means no response at all, the connection is reset instead.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    actions: tuple[Action, ...] = ()
    content_length: int | None = None
    delay: float = 0.0
    reset: bool = False


@dataclass(frozen=True)
class SseStream:
    """A rendered event stream, split where faults need to cut it.

    ``events`` come before the finish chunk; ``closing`` holds the finish chunk and any
    usage chunk; ``done`` is the terminator (or None); ``error_event`` is what an
    ``error_after_events`` fault sends; ``truncated_event`` what a
    ``truncate_json_after_events`` fault sends.
    """

    events: Sequence[bytes]
    closing: Sequence[bytes]
    done: bytes | None
    error_event: bytes
    event_delay: float = 0.0
    truncated_event: bytes = TRUNCATED_EVENT


def merge_headers(
    base: Sequence[tuple[str, str]], extra: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """``base`` with ``extra`` added; a name in ``extra`` replaces it case-insensitively."""
    overridden = {name.lower() for name in extra}
    kept = [(name, value) for name, value in base if name.lower() not in overridden]
    return (*kept, *extra.items())


def json_plan(
    status: int, obj: Any, headers: Mapping[str, str] | None = None, delay: float = 0.0
) -> ResponsePlan:
    """A response with a JSON body (``obj`` already as bytes is sent verbatim)."""
    body = obj if isinstance(obj, bytes) else json_bytes(obj)
    actions: tuple[Action, ...] = (Send(body),) if body else ()
    return ResponsePlan(
        status, merge_headers(JSON_HEADERS, headers or {}), actions, len(body), delay
    )


def plain_fault_plan(
    fault: Fault, headers: Mapping[str, str], status: int, envelope: Any
) -> ResponsePlan:
    """What a plain fault sends, after its delay: a reset, or its own body verbatim, or
    else the format's error ``envelope`` at ``status``."""
    if fault.reset_before_response:
        return ResponsePlan(fault.status, delay=fault.delay, reset=True)
    if fault.body is not None:
        return json_plan(fault.status, fault.body, headers, fault.delay)
    return json_plan(status, envelope, headers, fault.delay)


# An answer no fault damages: every damage field is unset.
_INTACT = Fault(status=200)


def stream_plan(
    stream: SseStream,
    fault: Fault | None,
    headers: Sequence[tuple[str, str]] = (),
    delay: float = 0.0,
) -> ResponsePlan:
    """An answer as an event stream on HTTP 200, damaged by ``fault``, whose headers and
    delay come on top of the answer's own."""
    fault = fault or _INTACT
    all_headers = merge_headers((*SSE_HEADERS, *headers), fault.headers)
    return ResponsePlan(200, all_headers, _stream_actions(stream, fault), None, delay + fault.delay)


def body_plan(
    body: Any,
    error_body: Any,
    fault: Fault | None,
    headers: Sequence[tuple[str, str]] = (),
    delay: float = 0.0,
) -> ResponsePlan:
    """An answer as one JSON body on HTTP 200, damaged by ``fault`` as :func:`stream_plan`
    says; ``error_body`` is what an ``error_after_events`` fault sends instead."""
    fault = fault or _INTACT
    actions, length = _body_actions(json_bytes(body), fault, json_bytes(error_body))
    all_headers = merge_headers((*JSON_HEADERS, *headers), fault.headers)
    return ResponsePlan(200, all_headers, actions, length, delay + fault.delay)


def _stream_actions(stream: SseStream, fault: Fault) -> tuple[Action, ...]:
    sequence = list(stream.events)
    if not fault.end_without_finish:
        sequence += stream.closing
        if stream.done is not None:
            sequence.append(stream.done)
    if fault.malformed_sse:
        sequence.insert(min(1, len(sequence)), MALFORMED_LINES)
    endings: list[tuple[int | None, Action]] = [
        (fault.drop_after_events, Drop()),
        (fault.error_after_events, Send(stream.error_event)),
        (fault.truncate_json_after_events, Send(stream.truncated_event)),
    ]
    chosen = [(n, action) for n, action in endings if n is not None]
    at, ending = min(chosen, key=lambda pair: pair[0]) if chosen else (len(sequence), None)
    cut = min(at, len(sequence))
    stall = fault.stall_after_events

    actions: list[Action] = []
    for index, event in enumerate(sequence[:cut]):
        if index == stall:
            actions.append(Wait(fault.stall_seconds))
        if index and stream.event_delay:
            actions.append(Wait(stream.event_delay))
        actions.append(Send(event))
    if stall is not None and stall >= cut:
        actions.append(Wait(fault.stall_seconds))
    if ending is not None:
        actions.append(ending)
    return tuple(actions)


def _body_actions(body: bytes, fault: Fault, error_body: bytes) -> tuple[tuple[Action, ...], int]:
    # Without a stream there is nothing to count: each fault acts on the body as a whole.
    if fault.error_after_events is not None:
        return (Send(error_body),), len(error_body)
    if fault.truncate_json_after_events is not None:
        cut = body[: max(1, len(body) // 2)]
        return (Send(cut),), len(cut)
    actions: list[Action] = []
    if fault.stall_after_events is not None:
        actions.append(Wait(fault.stall_seconds))
    if fault.drop_after_events is not None:
        actions += [Send(body[: len(body) // 2]), Drop()]
    else:
        actions.append(Send(body))
    return tuple(actions), len(body)
