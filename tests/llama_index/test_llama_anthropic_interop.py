"""A memory moved between llama-index-llms-anthropic and MiniMaxM3 keeps its signatures.

llama-index-llms-anthropic keeps a thinking block's signature in
``ThinkingBlock.additional_information["signature"]``; we keep the whole block in
``additional_information["reasoning_details"]`` and the signature beside it too. Both are
pointed at the emulator's Anthropic endpoint, which (``require_reasoning_replay``) answers
400 to a tool turn replayed without its thinking block, text and signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock, ToolCallBlock
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import FunctionTool
from llama_index.llms.anthropic import Anthropic

from llama_index_minimax_m3 import MiniMaxM3, minimax_m3_tokenizer
from minimax_m3.errors import BadRequestError
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply

QUESTION = "Weather in Paris?"


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


WEATHER = FunctionTool.from_defaults(get_weather)


def signed_tool_call(signature: str) -> Reply:
    return Reply(
        reasoning="I should look up the weather in Paris.",
        tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})],
        provider=ProviderOptions(signature=signature),
    )


@pytest.fixture
def strict(emulator: MiniMaxEmulator) -> MiniMaxEmulator:
    emulator.require_reasoning_replay = True
    return emulator


@pytest.fixture
def claude(strict: MiniMaxEmulator) -> Iterator[Anthropic]:
    # The Anthropic SDK appends /v1/messages to its base URL; MiniMax serves the format
    # under /anthropic. llms-anthropic only knows Claude model names, and the emulator
    # takes any, so the "Claude" side is named as a user's would be.
    llm = Anthropic(
        model="claude-sonnet-4-5",
        api_key="test-key",
        base_url=strict.base_url + "/anthropic",
        max_tokens=2048,
        thinking_dict={"type": "enabled", "budget_tokens": 1024},
        max_retries=0,
    )
    yield llm
    llm._client.close()


@pytest.fixture
def m3(make_llm: Callable[..., MiniMaxM3]) -> MiniMaxM3:
    return make_llm(api="anthropic_messages", thinking="adaptive")


def tool_turn(message: ChatMessage) -> list[ChatMessage]:
    """The question, the assistant's tool call and the tool's result."""
    [call] = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    assert isinstance(call.tool_kwargs, dict)
    result = ChatMessage(
        role="tool",
        content=get_weather(**call.tool_kwargs),
        additional_kwargs={"tool_call_id": call.tool_call_id},
    )
    return [ChatMessage(role="user", content=QUESTION), message, result]


def moved(messages: list[ChatMessage]) -> list[ChatMessage]:
    """The history saved as JSON, loaded again and handed over in a ChatMemoryBuffer."""
    # Message by message: ChatMemoryBuffer.to_string() fails on any message with
    # pydantic 2.14 (SimpleChatStore's serializer calls its handler the pre-2.14 way).
    loaded = [ChatMessage.model_validate_json(m.model_dump_json()) for m in messages]
    memory = ChatMemoryBuffer.from_defaults(
        chat_history=loaded, token_limit=100_000, tokenizer_fn=minimax_m3_tokenizer
    )
    return memory.get()


def replayed_thinking(emulator: MiniMaxEmulator) -> dict[str, object]:
    assistant = emulator.requests[-1].json["messages"][1]
    assert assistant["role"] == "assistant"
    [thinking] = [block for block in assistant["content"] if block["type"] == "thinking"]
    return dict(thinking)


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_a_claude_memory_goes_on_with_minimax_signed(
    stream: bool, strict: MiniMaxEmulator, claude: Anthropic, m3: MiniMaxM3
) -> None:
    strict.queue(signed_tool_call("sig-from-claude"), Reply(text="Sunny in Paris."))
    if stream:
        *_, last = claude.stream_chat_with_tools([WEATHER], user_msg=QUESTION)
    else:
        last = claude.chat_with_tools([WEATHER], user_msg=QUESTION)
    [thinking] = [b for b in last.message.blocks if isinstance(b, ThinkingBlock)]
    # llms-anthropic's own form: no reasoning_details, the signature beside the text.
    assert thinking.additional_information["signature"] == "sig-from-claude"
    assert "reasoning_details" not in thinking.additional_information

    answer = m3.chat_with_tools([WEATHER], chat_history=moved(tool_turn(last.message)))

    assert answer.message.content == "Sunny in Paris."
    assert replayed_thinking(strict) == {
        "type": "thinking",
        "thinking": "I should look up the weather in Paris.",
        "signature": "sig-from-claude",
    }


@pytest.mark.parametrize("stream", [False, True], ids=["chat", "stream"])
def test_a_minimax_memory_goes_on_with_claude_signed(
    stream: bool, strict: MiniMaxEmulator, claude: Anthropic, m3: MiniMaxM3
) -> None:
    strict.queue(signed_tool_call("sig-from-m3"), Reply(text="Sunny in Paris."))
    if stream:
        *_, last = m3.stream_chat_with_tools([WEATHER], user_msg=QUESTION)
    else:
        last = m3.chat_with_tools([WEATHER], user_msg=QUESTION)

    answer = claude.chat_with_tools([WEATHER], chat_history=moved(tool_turn(last.message)))

    assert answer.message.content == "Sunny in Paris."
    # llms-anthropic sends the signature it finds at the top level, '' when there is none.
    assert replayed_thinking(strict)["signature"] == "sig-from-m3"


def test_the_emulator_refuses_a_claude_turn_replayed_unsigned(
    strict: MiniMaxEmulator, claude: Anthropic, m3: MiniMaxM3
) -> None:
    # The control for the tests above: the same history with the signature lost is caught.
    strict.queue(signed_tool_call("sig-from-claude"))
    message = claude.chat_with_tools([WEATHER], user_msg=QUESTION).message
    unsigned = message.model_copy(deep=True)
    for block in unsigned.blocks:
        if isinstance(block, ThinkingBlock):
            del block.additional_information["signature"]
    with pytest.raises(BadRequestError, match="signature"):
        m3.chat_with_tools([WEATHER], chat_history=tool_turn(unsigned))
