"""The script: what the emulator is told to do, and what it was asked.

Replies and faults are plain data; each queued item answers exactly one valid request,
in order. The wire-format modules turn them into bytes; nothing here knows about HTTP.
:class:`ScriptState` is shared by the test's thread and the server's loop thread, so
every access to it goes through one lock.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

ReasoningMode = Literal["incremental", "cumulative"]
ReasoningField = Literal["reasoning_details", "reasoning_content", "reasoning"]
StreamErrorShape = Literal["base_resp", "error"]
RunwareToolField = Literal["tools", "toolCalls", "tool_calls"]
ServerKind = Literal["minimax", "vllm", "sglang", "raw"]
ToolMarkup = Literal["m2", "m3"]

_REASONING_MODES = ("incremental", "cumulative")
_REASONING_FIELDS = ("reasoning_details", "reasoning_content", "reasoning")
_RUNWARE_TOOL_FIELDS = ("tools", "toolCalls", "tool_calls")
_SERVER_KINDS = ("minimax", "vllm", "sglang", "raw")
_TOOL_MARKUPS = ("m2", "m3")
_USAGE_KEYS = frozenset({"prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"})


def _require_non_negative(owner: str, **values: float | None) -> None:
    for name, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{owner}.{name} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class ToolCallReply:
    """One function call the emulated model makes.

    ``arguments`` may be a dict (sent as JSON) or a string, which is sent verbatim so a
    test can script malformed JSON. ``id`` defaults to a fresh ``call_function_<random>_<n>``
    id, the shape MiniMax uses.
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One answer of the emulated model, and how to stream it.

    Content:
        text: the visible answer. With tool calls and no text the emulator sends ``"\\n"``,
            as the real API does.
        reasoning: the model's thinking.
        tool_calls: function calls, in order.
        finish_reason: default ``"tool_calls"`` when there are tool calls, else ``"stop"``.
        model: default echoes the request's ``model``.
        usage: any of ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``,
            ``reasoning_tokens``; missing ones get rough estimates.

    Shape:
        chunk_size: characters per content or reasoning delta.
        reasoning_mode: ``"cumulative"`` makes every reasoning delta carry the whole
            reasoning so far, as some MiniMax deployments do.
        reasoning_field: where reasoning goes. Default: a non-streamed message carries
            both ``reasoning_content`` and ``reasoning_details`` (like the real API);
            stream deltas carry ``reasoning_details``.
        think_tags: put the reasoning inline in ``content`` as ``<think>\\n...\\n</think>``.
            Also happens whenever the request lacks ``reasoning_split: true``.
        omit_think_open: with inline reasoning, drop the opening ``<think>`` (as
            self-hosted servers that prefill it do).
        empty_role: send ``"role": ""`` in stream deltas.
        send_done: end a stream with ``data: [DONE]``.
        tool_args_chunk: characters per streamed arguments fragment (default 10).
        interleave_tool_calls: interleave the fragments of parallel calls.
        split_tool_name: stream each tool name over two fragments.
        event_delay: seconds between stream events.
        delay: seconds before the response starts.

    Other wire formats and providers (ignored where they do not apply):
        signature: Anthropic Messages: the thinking block's signature. Default: a fresh
            64-hex string per answer.
        tool_input_whole: Anthropic Messages stream: the whole tool ``input`` in
            ``content_block_start`` instead of ``input_json_delta`` fragments.
        xml_tool_calls: render the tool calls as the model's raw markup at the end of the
            text, with no structured calls and a ``stop`` finish, as servers without a
            tool parser do (and MiniMax's Anthropic endpoint, now and then). The grammar
            is ``tool_markup``'s.
        tool_markup: ``"m2"`` (``<minimax:tool_call>``, ``<parameter name=...>``; the
            default for ``xml_tool_calls``) or ``"m3"`` (M3's own: the ``]<]minimax[>[``
            marker before every tag, arguments as elements named after the parameter,
            ``<item>`` arrays; the default for ``server="raw"``).

    Self-hosted servers (Chat Completions; plain OpenAI bodies, no MiniMax extras):
        server: ``"minimax"`` (default) answers as MiniMax does. ``"vllm"`` and
            ``"sglang"`` answer as those servers with M3's parsers on
            (``--reasoning-parser minimax_m3 --tool-call-parser minimax_m3``): reasoning
            in ``reasoning`` (vLLM) or ``reasoning_content`` (SGLang), tool calls in
            ``tool_calls``. ``"raw"`` answers as either without parsers: the model's own
            output in ``content``, reasoning inline as ``<mm:think>...</mm:think>`` with
            no opening tag when the request's ``chat_template_kwargs.thinking_mode`` is
            ``"enabled"`` (the template wrote it) and no reasoning at all when it is
            ``"disabled"``, tool calls as markup (``tool_markup``, M3's by default).
        raw_chunks: the streamed content deltas, sent exactly as given (joined when not
            streamed), for model output taken from elsewhere; with ``server="raw"`` they
            replace the content the other fields would make.
        think_tag: the tag of inline reasoning, ``think`` (``<think>...</think>``) or
            ``mm:think`` as some self-hosted M3 chat templates write it.
        omit_tool_call_ids: Chat Completions: tool calls without ``id`` (some Cloudflare
            paths do this).
        cloudflare_wrap_result: Cloudflare Chat Completions: wrap a non-streamed success
            body in ``{"result": ..., "success": true, "errors": [], "messages": []}``.
        runware_tool_field: Runware native tasks: the key of the tool calls on a result.
        poll_pending: Runware async: how many ``getResponse`` polls answer ``processing``
            before the result.
        cost: Runware: the ``cost`` reported with ``includeCost`` (default: an estimate).
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    finish_reason: str | None = None
    model: str | None = None
    usage: dict[str, int] | None = None
    chunk_size: int = 8
    reasoning_mode: ReasoningMode = "incremental"
    reasoning_field: ReasoningField | None = None
    think_tags: bool = False
    omit_think_open: bool = False
    empty_role: bool = False
    send_done: bool = True
    tool_args_chunk: int | None = None
    interleave_tool_calls: bool = False
    split_tool_name: bool = False
    event_delay: float = 0.0
    delay: float = 0.0
    signature: str | None = None
    tool_input_whole: bool = False
    xml_tool_calls: bool = False
    think_tag: str = "think"
    omit_tool_call_ids: bool = False
    cloudflare_wrap_result: bool = False
    runware_tool_field: RunwareToolField = "toolCalls"
    poll_pending: int = 1
    cost: float | None = None
    server: ServerKind = "minimax"
    tool_markup: ToolMarkup | None = None
    raw_chunks: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"Reply.chunk_size must be >= 1, got {self.chunk_size}")
        if self.tool_args_chunk is not None and self.tool_args_chunk < 1:
            raise ValueError(f"Reply.tool_args_chunk must be >= 1, got {self.tool_args_chunk}")
        if self.reasoning_mode not in _REASONING_MODES:
            raise ValueError(f"Reply.reasoning_mode must be one of {_REASONING_MODES}")
        if self.reasoning_field is not None and self.reasoning_field not in _REASONING_FIELDS:
            raise ValueError(f"Reply.reasoning_field must be one of {_REASONING_FIELDS}")
        if self.usage is not None and not _USAGE_KEYS.issuperset(self.usage):
            unknown = sorted(set(self.usage) - _USAGE_KEYS)
            raise ValueError(
                f"Reply.usage has unknown keys {unknown}; allowed {sorted(_USAGE_KEYS)}"
            )
        _require_non_negative(
            "Reply",
            event_delay=self.event_delay,
            delay=self.delay,
            poll_pending=self.poll_pending,
            cost=self.cost,
        )
        if not self.think_tag or any(c in self.think_tag for c in "<>/ \n"):
            raise ValueError(f"Reply.think_tag must be a bare tag name, got {self.think_tag!r}")
        if self.server not in _SERVER_KINDS:
            raise ValueError(f"Reply.server must be one of {_SERVER_KINDS}, got {self.server!r}")
        if self.tool_markup is not None and self.tool_markup not in _TOOL_MARKUPS:
            raise ValueError(f"Reply.tool_markup must be one of {_TOOL_MARKUPS}")
        if self.raw_chunks is not None and (
            isinstance(self.raw_chunks, str) or not all(isinstance(c, str) for c in self.raw_chunks)
        ):
            raise ValueError("Reply.raw_chunks must be a sequence of strings")
        if self.runware_tool_field not in _RUNWARE_TOOL_FIELDS:
            raise ValueError(f"Reply.runware_tool_field must be one of {_RUNWARE_TOOL_FIELDS}")


@dataclass(frozen=True)
class Fault:
    """Something that goes wrong while answering one request.

    Plain error responses (no ``reply`` and no stream fault set):
        status, provider_code, message: an HTTP error in the envelope of the API that
            received the request: MiniMax's ``{"type": "error", "error": {"type",
            "message": "<message> (<code>)", "http_code"}, "request_id"}`` on Chat
            Completions, Anthropic's on ``/anthropic``, Cloudflare's ``{"result": null,
            "success": false, "errors": [{"code", "message"}], "messages": []}``, Runware's
            ``{"errors": [{"code", "message", ...}]}``. ``provider_code`` is a number
            (MiniMax, Cloudflare) or a word (Runware, e.g. ``"insufficientCredits"``); None
            picks the provider's usual code for ``status`` where the envelope needs one. An
            empty message gets the documented one. ``status`` 200 sends the envelope with
            HTTP 200 (Cloudflare's ``success: false``, Runware's ``errors``).
        body: sent verbatim instead of the envelope (bytes, or a dict sent as JSON).
        base_resp_code: answer HTTP 200 with ``base_resp.status_code`` set to this code
            and no choices, as MiniMax does for some failures.
        reset_before_response: read the request, then reset the TCP connection.

    Broken answers (``reply`` set, or any field below set; without ``reply`` the default
    echo reply is used). Events are counted over the stream's ``data:`` events:
        drop_after_events: send N events, then close the connection mid-body.
        stall_after_events, stall_seconds: after N events go silent for ``stall_seconds``
            with the connection open, then carry on.
        error_after_events: after N events send an error event (``error_shape``:
            a chunk with ``base_resp`` or an ``{"error": ...}`` object) and end cleanly.
        truncate_json_after_events: after N events send ``data: {"id": "x", "choi`` as
            an event and end the body cleanly.
        malformed_sse: insert garbage lines after the first event.
        end_without_finish: end the body cleanly before the finish chunk, with no
            usage chunk and no ``[DONE]``.
    On a non-streamed request, drop sends part of the body then closes, truncate sends a
    cut JSON body, stall pauses after the headers, and error answers with ``base_resp``.

    Other formats count the same way (an Anthropic ``event:`` + ``data:`` pair is one
    event, Runware's ``: ping`` comments are not events). The error event is, per format:
    Anthropic ``event: error`` with ``{"type": "error", "error": {"type": "api_error"``
    (``"overloaded_error"`` for status 529) ``, "message"}}``; Cloudflare Chat
    Completions MiniMax's own (``error_shape`` applies); Runware ``{"errors": [{"code":
    "timeoutProvider", ...}]}`` (or ``provider_code``). On a non-streamed answer the error
    body is sent with HTTP 200: the Anthropic envelope, or for a Runware sync task the
    result ``data`` *and* an ``errors`` array.

    Runware async: the item queued for the task decides its *final* poll, not the
    submission, which is always acknowledged. A plain fault there answers ``{"data":
    [{"taskUUID", "status": "error", "error": {"code", "message"}}]}`` on HTTP 200, or with
    ``error_shape="error"`` a top-level ``{"errors": [...]}``; ``reset_before_response``,
    ``body``, ``delay`` and ``headers`` act on that final poll too.

    Always:
        headers: extra response headers (for example ``Retry-After``).
        delay: seconds before responding, for read-timeout tests.
    """

    status: int = 500
    provider_code: int | str | None = None
    message: str = ""
    body: bytes | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    base_resp_code: int | None = None
    delay: float = 0.0
    reset_before_response: bool = False
    reply: Reply | None = None
    drop_after_events: int | None = None
    stall_after_events: int | None = None
    stall_seconds: float = 30.0
    error_after_events: int | None = None
    error_shape: StreamErrorShape = "base_resp"
    truncate_json_after_events: int | None = None
    malformed_sse: bool = False
    end_without_finish: bool = False

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 599:
            raise ValueError(f"Fault.status must be an HTTP status in 200-599, got {self.status}")
        _require_non_negative(
            "Fault",
            delay=self.delay,
            stall_seconds=self.stall_seconds,
            drop_after_events=self.drop_after_events,
            stall_after_events=self.stall_after_events,
            error_after_events=self.error_after_events,
            truncate_json_after_events=self.truncate_json_after_events,
        )
        if self.error_shape not in ("base_resp", "error"):
            raise ValueError("Fault.error_shape must be 'base_resp' or 'error'")

    @property
    def breaks_reply(self) -> bool:
        """True when this fault damages an answer rather than replacing it."""
        return self.reply is not None or any(
            (
                self.drop_after_events is not None,
                self.stall_after_events is not None,
                self.error_after_events is not None,
                self.truncate_json_after_events is not None,
                self.malformed_sse,
                self.end_without_finish,
            )
        )


ScriptItem: TypeAlias = Reply | Fault
# Decides the answer to a request (its parsed JSON body) when nothing is queued; None
# falls back to the default echo reply.
Responder: TypeAlias = Callable[[dict[str, Any]], "Reply | Fault | None"]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the emulator received it.

    ``headers`` has lower-case names (repeated headers are joined with ``", "``);
    ``json`` is the parsed body, or None when the body is empty or not JSON; ``path``
    excludes the query string, which is in ``query``.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    query: str = ""

    @classmethod
    def build(
        cls, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> RecordedRequest:
        path, _, query = target.partition("?")
        merged: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return cls(method, path, merged, body, _parse_json(body), query)


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


@dataclass(frozen=True)
class IssuedReasoning:
    """The reasoning the emulator sent alongside tool calls it issued.

    ``text`` is the reasoning exactly as sent: for inline reasoning, every character
    between the tags. ``signature`` is set when it went out as an Anthropic thinking
    block; ``tag`` is the tag of inline reasoning. ``self_hosted``: it came from a
    self-hosted server, whose chat template reads past reasoning from ``content`` only,
    so it must come back there, once.
    """

    text: str
    inline: bool
    signature: str | None = None
    tag: str = "think"
    self_hosted: bool = False


@dataclass(frozen=True)
class ParkedTask:
    """An async task whose answer is decided but not yet released to polls."""

    final: object
    pending_polls: int


class ScriptState:
    """The queue of scripted items, the request log and the issued tool calls."""

    def __init__(
        self,
        api_key: str | None,
        *,
        require_reasoning_replay: bool,
        cloudflare_account_id: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.require_reasoning_replay = require_reasoning_replay
        self.cloudflare_account_id = cloudflare_account_id
        self._lock = threading.Lock()
        self._queue: deque[ScriptItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._issued: dict[str, IssuedReasoning] = {}
        self._tasks: dict[str, ParkedTask] = {}
        self.responder: Responder | None = None

    def enqueue(self, items: Iterable[ScriptItem]) -> None:
        checked = list(items)
        for item in checked:
            if not isinstance(item, Reply | Fault):
                raise TypeError(f"can only queue Reply or Fault, got {type(item).__name__}")
        with self._lock:
            self._queue.extend(checked)

    def take(self, body: dict[str, Any]) -> ScriptItem | None:
        """The next queued item; with none queued, what the responder makes of ``body``."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            responder = self.responder
        if responder is None:
            return None
        item = responder(body)
        if item is not None and not isinstance(item, Reply | Fault):
            raise TypeError(
                f"a responder must return Reply, Fault or None, got {type(item).__name__}"
            )
        return item

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def remember_issued(self, call_ids: Iterable[str], reasoning: IssuedReasoning) -> None:
        with self._lock:
            for call_id in call_ids:
                self._issued[call_id] = reasoning

    def issued(self, call_id: str) -> IssuedReasoning | None:
        with self._lock:
            return self._issued.get(call_id)

    def park_task(self, task_uuid: str, final: object, pending_polls: int) -> None:
        """Keep an async task's final answer until ``pending_polls`` polls have passed."""
        with self._lock:
            self._tasks[task_uuid] = ParkedTask(final, pending_polls)

    def poll_task(self, task_uuid: str) -> ParkedTask | None:
        """One poll of a parked task: None when unknown, else its state *before* this poll
        (``pending_polls`` > 0 means still processing). Each poll counts one down."""
        with self._lock:
            task = self._tasks.get(task_uuid)
            if task is None:
                return None
            if task.pending_polls > 0:
                self._tasks[task_uuid] = ParkedTask(task.final, task.pending_polls - 1)
            return task

    def reset(self) -> None:
        """Clear the queue and the request log (issued tool calls and async tasks are kept)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
