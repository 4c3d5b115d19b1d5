"""Neutral types: the only currency between the wire modules, the stream state and the adapters.

Wire modules turn these into provider JSON and back; adapters turn framework objects into
these and back. Nothing here knows a wire format or a framework. Plain slotted dataclasses
keep construction cheap on the streaming hot path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, TypeAlias, TypeVar

_Class = TypeVar("_Class", bound=type)

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
Thinking: TypeAlias = Literal["adaptive", "disabled"]
# Where an answer starts: outside reasoning, inside it (a chat template wrote the opening
# tag), or not known until the answer shows it.
ReasoningStart: TypeAlias = Literal["outside", "inside", "unknown"]


def _set_through_slots(cls: _Class) -> _Class:
    """Gives a frozen slotted dataclass an ``__init__`` that fills each slot through its
    descriptor, with the same signature as the one it replaces.

    The generated ``__init__`` of a frozen dataclass sets each field with
    ``object.__setattr__(self, name, value)``, a generic call that costs CPython 3.11
    about 1,200 instructions a field; the slot's own ``__set__`` costs half that. These
    types are built by the thousand on each call of a long agent history (2,400
    messages, 1,600 tool calls and 800 reasoning segments for 800 turns) and once per
    streamed chunk. Instances stay frozen: assignment still raises.
    """
    names: list[str] = []
    parameters: list[str] = []
    namespace: dict[str, Any] = {}
    for spec in fields(cls):
        if not spec.init or spec.default_factory is not MISSING or spec.kw_only is True:
            raise TypeError(f"{cls.__name__}.{spec.name}: only plain fields are supported")
        names.append(spec.name)
        namespace[f"_set_{spec.name}"] = cls.__dict__[spec.name].__set__
        if spec.default is MISSING:
            parameters.append(spec.name)
        else:
            namespace[f"_default_{spec.name}"] = spec.default
            parameters.append(f"{spec.name}=_default_{spec.name}")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which this __init__ skips")
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    source = f"def __init__(self, {', '.join(parameters)}):\n{body}"
    # Built from the class's own field names, as dataclasses builds the one it replaces.
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses assigning a method
    return cls


@_set_through_slots
@dataclass(slots=True, frozen=True)
class TextPart:
    """Text; ``cache_control`` is an explicit cache breakpoint after it (Anthropic's
    ``{"type": "ephemeral"}``, optionally with a ``ttl``), sent on the Anthropic format
    only."""

    text: str
    cache_control: Mapping[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class ImagePart:
    """An image given as an http(s) URL or a ``data:`` URL carrying base64."""

    url: str
    detail: str | None = None
    cache_control: Mapping[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class VideoPart:
    """A video given as an http(s) URL, a ``data:`` URL or an ``mm_file://`` reference."""

    url: str
    fps: float | None = None
    detail: str | None = None
    cache_control: Mapping[str, Any] | None = None


ContentPart: TypeAlias = TextPart | ImagePart | VideoPart


@_set_through_slots
@dataclass(slots=True, frozen=True)
class ReasoningSegment:
    """One piece of the model's reasoning, kept exactly as the provider sent it.

    ``data`` is the provider's own object (a ``reasoning_details`` item, an Anthropic
    ``thinking`` block with its signature, ...) and ``wire`` names the format it came
    from, so the segment can be sent back verbatim on the same format. ``data`` is None
    when the reasoning arrived as plain text (``reasoning_content``, ``<think>`` tags).
    """

    text: str
    wire: str | None = None
    data: Mapping[str, Any] | None = None


@_set_through_slots
@dataclass(slots=True, frozen=True)
class ToolCall:
    """A tool call; ``arguments`` is the JSON text exactly as the model produced it."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError when they are not a JSON object."""
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except RecursionError:
            raise ValueError("tool call arguments are nested too deeply to parse") from None
        if not isinstance(value, dict):
            raise ValueError(f"tool call arguments are not a JSON object: {self.arguments!r}")
        return value


@_set_through_slots
@dataclass(slots=True, frozen=True)
class Message:
    """A chat message. Tool results have role ``tool``, a ``tool_call_id`` and text content."""

    role: Role
    content: str | Sequence[ContentPart] = ""
    tool_calls: Sequence[ToolCall] = ()
    tool_call_id: str | None = None
    reasoning: Sequence[ReasoningSegment] = ()
    name: str | None = None

    @property
    def text(self) -> str:
        """The message's text parts joined; images and videos are left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


@dataclass(slots=True, frozen=True)
class ToolSpec:
    """A function tool: name, description and a JSON Schema for its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    # An explicit cache breakpoint after this tool's definition (Anthropic format only).
    cache_control: Mapping[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class NamedToolChoice:
    """Force one tool by name."""

    name: str


ToolChoice: TypeAlias = Literal["auto", "none", "required"] | NamedToolChoice

ServiceTier: TypeAlias = Literal["standard", "priority"]
# How a whole (not streamed) answer is delivered where the provider offers a choice:
# in the response, or acknowledged and then polled for (Runware's tasks).
DeliveryMethod: TypeAlias = Literal["sync", "async"]


@dataclass(slots=True, frozen=True)
class BuiltinTool:
    """A tool the provider runs itself (Runware's ``search`` and ``codeInterpreter``):
    offered to the model by type, never called by the client."""

    type: str


@dataclass(slots=True, frozen=True)
class ChatRequest:
    """Everything one call asks of the model, before any wire format is chosen."""

    model: str
    messages: Sequence[Message]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    thinking: Thinking | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: Sequence[str] = ()
    n: int = 1
    response_format: Mapping[str, Any] | None = None
    extra_body: Mapping[str, Any] | None = None
    # Options only some providers and formats take; which ones is ProviderProfile.options.
    top_k: int | None = None
    user_id: str | None = None
    service_tier: ServiceTier | None = None
    mask_sensitive_info: bool | None = None
    webhook_url: str | None = field(default=None, repr=False)
    delivery_method: DeliveryMethod | None = None
    builtin_tools: Sequence[BuiltinTool] = ()


@dataclass(slots=True, frozen=True)
class Usage:
    """Token counts. Cache and reasoning counts are None when the provider did not say."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(slots=True)
class ChatResult:
    """A whole answer: from a non-streamed response, or accumulated from a stream."""

    text: str = ""
    reasoning: list[ReasoningSegment] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    response_id: str | None = None
    request_id: str | None = None
    provider_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def reasoning_text(self) -> str:
        return "".join(segment.text for segment in self.reasoning)

    def to_message(self) -> Message:
        """The assistant turn to append to the history; it carries the reasoning back."""
        return Message(
            role="assistant",
            content=self.text,
            tool_calls=tuple(self.tool_calls),
            reasoning=tuple(self.reasoning),
        )


# Stream events: what the transport yields to adapters while a stream runs.


# Each delta carries the provider's id for the answer once the stream has named it (the
# first chunk, on every format), so a framework can give all of one answer's chunks one
# id. It takes no part in comparing events: it names the answer, not the piece.


@_set_through_slots
@dataclass(slots=True, frozen=True)
class TextDelta:
    text: str
    response_id: str | None = field(default=None, compare=False, repr=False)


@_set_through_slots
@dataclass(slots=True, frozen=True)
class ReasoningDelta:
    text: str
    response_id: str | None = field(default=None, compare=False, repr=False)


@_set_through_slots
@dataclass(slots=True, frozen=True)
class ToolCallDelta:
    """A fragment of one tool call; ``index`` tells parallel calls apart."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    response_id: str | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True, frozen=True)
class StreamEnd:
    """The last event: the whole answer, with finish reason, usage and metadata."""

    result: ChatResult


StreamEvent: TypeAlias = TextDelta | ReasoningDelta | ToolCallDelta | StreamEnd


# What one wire event contributes, before the stream state normalises it. Wire decoders
# produce these; ``minimax_m3.stream.StreamState`` consumes them. Several are made per
# chunk, so they are not frozen: a frozen dataclass sets each field through
# object.__setattr__, which makes building one about three times slower.


@dataclass(slots=True)
class ToolCallFragment:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ReasoningFragment:
    """Reasoning text as it arrived (possibly a cumulative snapshot) for segment ``key``.

    ``fields`` are the provider's keys for the segment (id, type, format, ...), kept so
    the finished segment can be rebuilt verbatim; ``text_field`` names the key the whole
    text goes under (replacing a piece of text ``fields`` may hold); ``signature`` is
    appended to the segment's signature.
    """

    text: str = ""
    key: int = 0
    wire: str | None = None
    fields: Mapping[str, Any] | None = None
    text_field: str = "text"
    signature: str | None = None
    # The format guarantees increments (Anthropic's thinking_delta): no snapshot detection.
    incremental: bool = False


@dataclass(slots=True)
class WireDelta:
    content: str | None = None
    reasoning: list[ReasoningFragment] | None = None
    tool_calls: list[ToolCallFragment] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    response_id: str | None = None
    model: str | None = None
    metadata: dict[str, Any] | None = None
    # A request id the body itself carries (Anthropic's ``request_id``).
    request_id: str | None = None
    # The stream's explicit end marker ([DONE], message_stop) was seen.
    done: bool = False


# What a format's keep-alive event (Anthropic's ``event: ping``) decodes to. The stream
# reader tells it apart by identity: it is no progress, so pings alone still stall a
# stream at its timeout. Never changed; nothing in it is read.
KEEP_ALIVE = WireDelta()
