"""Stream events as LlamaIndex ``ChatResponse``s, each holding the whole answer so far.

The one piece of state is :class:`ChatStreamState`, which
:func:`stream_event_to_chat_response` threads through a stream so that the sync and the
async stream share every line except their loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ContentBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from pydantic_core import from_json

from llama_index_minimax_m3.convert import (
    THINKING_DELTA_KEY,
)
from llama_index_minimax_m3.results import (
    result_to_chat_response,
    tool_call_to_dict,
)
from minimax_m3.types import ReasoningDelta, StreamEnd, StreamEvent, TextDelta, ToolCallDelta

_ALWAYS_PARSED = 4096


@dataclass
class _PartialCall:
    id: str | None = None
    name: str = ""
    # The arguments as shown: whole while short, then as of the last parse. The fragments
    # since then wait in ``pending``; ``length`` counts them all.
    arguments: str = ""
    pending: list[str] = field(default_factory=list)
    length: int = 0
    # What responses show of the call, made again only when one of its fragments arrives:
    # a text or reasoning token, or another call's fragment, hands them on unparsed.
    block: ToolCallBlock | None = None
    raw: dict[str, Any] | None = None
    # The arguments parsed so far, and their length then.
    kwargs: dict[str, Any] = field(default_factory=dict)
    parsed_length: int = 0

    def update(self, arguments: str) -> None:
        if arguments:
            self.pending.append(arguments)
            self.length += len(arguments)
        # Joining or parsing the whole arguments on every fragment made a long call
        # quadratic (``self.arguments += piece`` copies them: an attribute is not a local,
        # so CPython cannot grow the string in place). Past 4,096 characters the text and
        # the kwargs shown are brought up to date once the arguments have grown by an
        # eighth, so they lag by at most that and the work stays linear; short ones are
        # always whole, and the last response (the whole answer) always is.
        length = self.length
        if length < _ALWAYS_PARSED or length - self.parsed_length >= self.parsed_length // 8:
            if self.pending:
                self.arguments = "".join((self.arguments, *self.pending))
                self.pending.clear()
            self.kwargs = partial_arguments(self.arguments)
            self.parsed_length = length
        self.block = ToolCallBlock(
            tool_call_id=self.id, tool_name=self.name, tool_kwargs=self.kwargs
        )
        self.raw = tool_call_to_dict(self.id, self.name, self.arguments)


@dataclass
class ChatStreamState:
    """What a stream has said so far: the text, the reasoning and the tool calls by index."""

    text: str = ""
    reasoning: str = ""
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    # The last blocks made. A token changes the text or the reasoning, not both, so the
    # block that did not change is handed on to the next response rather than rebuilt.
    text_block: TextBlock | None = None
    thinking_block: ThinkingBlock | None = None


def stream_event_to_chat_response(event: StreamEvent, state: ChatStreamState) -> ChatResponse:
    """One stream event as a ChatResponse holding everything so far; ``delta`` is the new text.

    Reasoning arrives in ``additional_kwargs["thinking_delta"]``; tool calls appear as
    ToolCallBlocks with the arguments parsed so far. The last response (from
    :class:`StreamEnd`) is the whole answer, with the provider's reasoning objects for
    replay, the usage and the finish reason.
    """
    if isinstance(event, StreamEnd):
        return result_to_chat_response(event.result, delta="")
    delta = ""
    additional: dict[str, Any] = {}
    if isinstance(event, TextDelta):
        state.text += event.text
        delta = event.text
    elif isinstance(event, ReasoningDelta):
        state.reasoning += event.text
        additional[THINKING_DELTA_KEY] = event.text
    elif isinstance(event, ToolCallDelta):
        call = state.calls.setdefault(event.index, _PartialCall())
        if event.id:
            call.id = event.id
        if event.name:
            call.name += event.name
        call.update(event.arguments)
    return ChatResponse(message=_partial_message(state), delta=delta, additional_kwargs=additional)


def _partial_message(state: ChatStreamState) -> ChatMessage:
    blocks: list[ContentBlock] = []
    if state.reasoning:
        thinking = state.thinking_block
        if thinking is None or thinking.content is not state.reasoning:
            thinking = state.thinking_block = ThinkingBlock(content=state.reasoning)
        blocks.append(thinking)
    text = state.text_block
    if text is None or text.text is not state.text:
        text = state.text_block = TextBlock(text=state.text)
    blocks.append(text)
    additional: dict[str, Any] = {}
    if state.calls:
        calls = [state.calls[index] for index in sorted(state.calls)]
        blocks.extend(call.block for call in calls if call.block is not None)
        additional["tool_calls"] = [call.raw for call in calls if call.raw is not None]
    # Made per token: a copy of a message validated once, given this one's own values
    # (validating the message again would check every block it holds).
    message = _PARTIAL_MESSAGE.__copy__()
    message.__dict__.update(blocks=blocks, additional_kwargs=additional)
    return message


_PARTIAL_MESSAGE = ChatMessage(role=MessageRole.ASSISTANT, blocks=[], additional_kwargs={})


def partial_arguments(text: str) -> dict[str, Any]:
    """The arguments parsed so far from incomplete JSON; {} until an object has begun."""
    if not text.strip():
        return {}
    try:
        value = from_json(text, allow_partial="trailing-strings")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
