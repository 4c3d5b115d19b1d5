"""The script: what the emulator is told to say, as plain data.

A :class:`Reply` is what the model answers; its knobs for how the answer travels, where
its reasoning and tool calls are written, and what one provider does its own way live in
three small groups (:class:`StreamShape`, :class:`Layout`, :class:`ProviderOptions`). A
:class:`Fault` is what goes wrong instead. Each queued item answers exactly one valid
request, in order; the dialect modules turn them into bytes, and nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ReasoningMode = Literal["incremental", "cumulative"]
ReasoningField = Literal["reasoning_details", "reasoning_content", "reasoning"]
StreamErrorShape = Literal["base_resp", "error"]
RunwareToolField = Literal["tools", "toolCalls", "tool_calls"]
ServerKind = Literal["minimax", "vllm", "sglang", "raw"]
ToolMarkup = Literal["m2", "m3"]

_USAGE_KEYS = frozenset({"prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"})


def _require_non_negative(owner: str, **values: float | None) -> None:
    for name, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{owner}.{name} must be >= 0, got {value!r}")


def _require_one_of(owner: str, name: str, value: object, kind: object) -> None:
    allowed = get_args(kind)
    if value not in allowed:
        raise ValueError(f"{owner}.{name} must be one of {allowed}, got {value!r}")


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
class StreamShape:
    """How an answer travels: the size of its pieces, their order, their pace, its end.

    chunk_size: characters per content or reasoning delta.
    reasoning_mode: ``"cumulative"`` makes every reasoning delta carry the whole
        reasoning so far, as some MiniMax deployments do.
    tool_args_chunk: characters per streamed arguments fragment.
    interleave_tool_calls: interleave the fragments of parallel calls.
    split_tool_name: stream each tool name over two fragments.
    empty_role: send ``"role": ""`` in stream deltas.
    send_done: end a stream with ``data: [DONE]``.
    event_delay: seconds between stream events.
    delay: seconds before the response starts, streamed or not.
    """

    chunk_size: int = 8
    reasoning_mode: ReasoningMode = "incremental"
    tool_args_chunk: int = 10
    interleave_tool_calls: bool = False
    split_tool_name: bool = False
    empty_role: bool = False
    send_done: bool = True
    event_delay: float = 0.0
    delay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("chunk_size", "tool_args_chunk"):
            if getattr(self, name) < 1:
                raise ValueError(f"StreamShape.{name} must be >= 1, got {getattr(self, name)}")
        _require_one_of("StreamShape", "reasoning_mode", self.reasoning_mode, ReasoningMode)
        _require_non_negative("StreamShape", event_delay=self.event_delay, delay=self.delay)


@dataclass(frozen=True)
class Layout:
    """Where the reasoning and the tool calls are written in the answer.

    reasoning_field: the field structured reasoning goes in. Default: a non-streamed
        MiniMax message carries both ``reasoning_content`` and ``reasoning_details`` (like
        the real API); its stream deltas carry ``reasoning_details``.
    think_tags: put the reasoning inline in ``content`` as ``<think>\\n...\\n</think>``.
        MiniMax also does so whenever the request lacks ``reasoning_split: true``.
    think_tag: the tag of inline reasoning, ``think`` (``<think>...</think>``) or
        ``mm:think`` as some self-hosted M3 chat templates write it.
    omit_think_open: with inline reasoning, drop the opening tag (as self-hosted servers
        that prefill it do).
    xml_tool_calls: write the tool calls as the model's raw markup at the end of the text,
        with no structured calls and a ``stop`` finish, as servers without a tool parser
        do (and MiniMax's Anthropic endpoint, now and then). The grammar is ``tool_markup``'s.
    tool_markup: ``"m2"`` (``<minimax:tool_call>``, ``<parameter name=...>``; the default
        for ``xml_tool_calls``) or ``"m3"`` (M3's own: the ``]<]minimax[>[`` marker before
        every tag, arguments as elements named after the parameter, ``<item>`` arrays; the
        default for ``ProviderOptions(server="raw")``).
    """

    reasoning_field: ReasoningField | None = None
    think_tags: bool = False
    think_tag: str = "think"
    omit_think_open: bool = False
    xml_tool_calls: bool = False
    tool_markup: ToolMarkup | None = None

    def __post_init__(self) -> None:
        if self.reasoning_field is not None:
            _require_one_of("Layout", "reasoning_field", self.reasoning_field, ReasoningField)
        if not self.think_tag or any(c in self.think_tag for c in "<>/ \n"):
            raise ValueError(f"Layout.think_tag must be a bare tag name, got {self.think_tag!r}")
        if self.tool_markup is not None:
            _require_one_of("Layout", "tool_markup", self.tool_markup, ToolMarkup)


@dataclass(frozen=True)
class ProviderOptions:
    """What only one provider or server does; ignored where it does not apply.

    server: who answers on Chat Completions. ``"minimax"`` (default) answers as MiniMax
        does. ``"vllm"`` and ``"sglang"`` answer as those servers with M3's parsers on
        (``--reasoning-parser minimax_m3 --tool-call-parser minimax_m3``), in plain OpenAI
        bodies: reasoning in ``reasoning`` (vLLM) or ``reasoning_content`` (SGLang), tool
        calls in ``tool_calls``. ``"raw"`` answers as either without parsers: the model's
        own output in ``content``, reasoning inline as ``<mm:think>...</mm:think>`` with no
        opening tag when the request's ``chat_template_kwargs.thinking_mode`` is
        ``"enabled"`` (the template wrote it) and no reasoning at all when it is
        ``"disabled"``, tool calls as markup (``Layout.tool_markup``, M3's by default).
    omit_tool_call_ids: Chat Completions and Runware native tasks: tool calls without
        ``id`` (some Cloudflare paths do this), so the client must make ids up.
    signature: Anthropic Messages: the thinking block's signature. Default: a fresh 64-hex
        string per answer.
    tool_input_whole: Anthropic Messages stream: the whole tool ``input`` in
        ``content_block_start`` instead of ``input_json_delta`` fragments.
    cloudflare_wrap_result: Cloudflare Chat Completions: wrap a non-streamed success body
        in ``{"result": ..., "success": true, "errors": [], "messages": []}``.
    runware_tool_field: Runware native tasks: the key of the tool calls on a result.
    poll_pending: Runware async: how many ``getResponse`` polls answer ``processing``
        before the result.
    cost: Runware: the ``cost`` reported with ``includeCost`` (default: an estimate).
    runware_server_tools: Runware native tasks: what the built-in tools (``search``,
        ``codeInterpreter``) did, as entries written ahead of the function calls under
        ``runware_tool_field``, e.g. ``{"type": "search", "name": "search", "input":
        {"query": "..."}, "output": "..."}``. Runware's real shape is not documented.
    """

    server: ServerKind = "minimax"
    omit_tool_call_ids: bool = False
    signature: str | None = None
    tool_input_whole: bool = False
    cloudflare_wrap_result: bool = False
    runware_tool_field: RunwareToolField = "toolCalls"
    poll_pending: int = 1
    cost: float | None = None
    runware_server_tools: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        _require_one_of("ProviderOptions", "server", self.server, ServerKind)
        _require_one_of(
            "ProviderOptions", "runware_tool_field", self.runware_tool_field, RunwareToolField
        )
        _require_non_negative("ProviderOptions", poll_pending=self.poll_pending, cost=self.cost)


@dataclass(frozen=True)
class Reply:
    """One answer of the emulated model.

    text: the visible answer. With tool calls and no text the emulator sends ``"\\n"``, as
        the real API does.
    reasoning: the model's thinking.
    tool_calls: function calls, in order.
    finish_reason: default ``"tool_calls"`` when there are tool calls, else ``"stop"``.
    model: default echoes the request's ``model``.
    usage: any of ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``,
        ``reasoning_tokens``; missing ones get rough estimates, and ``cached_tokens`` what
        the emulator's prompt cache read. On Anthropic Messages a given ``prompt_tokens``
        is sent as ``input_tokens`` as it is; the estimate is sent without the cached part.
    raw_chunks: the streamed content deltas, sent exactly as given (joined when not
        streamed), for model output taken from elsewhere; with
        ``ProviderOptions(server="raw")`` they replace the content the other fields make.
    stream: how the answer travels (:class:`StreamShape`).
    layout: where its reasoning and tool calls are written (:class:`Layout`).
    provider: what one provider or server does its own way (:class:`ProviderOptions`).

        Reply(text="Hi", reasoning="Greet.", stream=StreamShape(chunk_size=3),
              layout=Layout(think_tags=True))
    """

    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    finish_reason: str | None = None
    model: str | None = None
    usage: dict[str, int] | None = None
    raw_chunks: tuple[str, ...] | None = None
    stream: StreamShape = field(default_factory=StreamShape)
    layout: Layout = field(default_factory=Layout)
    provider: ProviderOptions = field(default_factory=ProviderOptions)

    def __post_init__(self) -> None:
        if self.usage is not None and not _USAGE_KEYS.issuperset(self.usage):
            unknown = sorted(set(self.usage) - _USAGE_KEYS)
            raise ValueError(
                f"Reply.usage has unknown keys {unknown}; allowed {sorted(_USAGE_KEYS)}"
            )
        if self.raw_chunks is not None and (
            isinstance(self.raw_chunks, str) or not all(isinstance(c, str) for c in self.raw_chunks)
        ):
            raise ValueError("Reply.raw_chunks must be a sequence of strings")
        for name, kind in (
            ("stream", StreamShape),
            ("layout", Layout),
            ("provider", ProviderOptions),
        ):
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise TypeError(f"Reply.{name} must be a {kind.__name__}, got {value!r}")
        # Checked here: a wrong entry failed only while answering, as a 500 that the
        # client retried into the next reply (the default echo), which hid the mistake.
        for call in self.tool_calls:
            if not isinstance(call, ToolCallReply):
                raise TypeError(
                    f"Reply.tool_calls must hold ToolCallReply objects, got {call!r}; "
                    'write ToolCallReply("name", {"arg": ...})'
                )


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
        _require_one_of("Fault", "error_shape", self.error_shape, StreamErrorShape)

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
