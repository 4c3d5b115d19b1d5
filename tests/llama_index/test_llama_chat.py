"""chat, stream_chat, complete and stream_complete against the emulator, sync and async."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from llama_helpers import Mode, user
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    VideoBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    MiniMaxM3Error,
    RateLimitError,
)
from minimax_m3.testing import Fault, Layout, MiniMaxEmulator, Reply, StreamShape

USAGE = {"prompt_tokens": 120, "completion_tokens": 40, "cached_tokens": 64, "reasoning_tokens": 25}
EXPECTED_USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 40,
    "total_tokens": 160,
    "cached_tokens": 64,
    "reasoning_tokens": 25,
}
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_chat_returns_answer_reasoning_and_usage(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(text="Paris.", reasoning="A capital question.", usage=USAGE))
    response = await mode.chat(llm, user("Capital of France?"))

    assert response.message.role == "assistant"
    assert response.message.content == "Paris."
    thinking, text = response.message.blocks
    assert isinstance(thinking, ThinkingBlock)
    assert isinstance(text, TextBlock)
    assert thinking.content == "A capital question."
    assert thinking.num_tokens == 25
    [record] = thinking.additional_information["reasoning_details"]
    assert record["text"] == "A capital question."
    assert record["type"] == "reasoning.text"
    assert response.additional_kwargs == EXPECTED_USAGE
    assert response.raw["usage"] == EXPECTED_USAGE
    assert response.raw["finish_reason"] == "stop"
    assert response.raw["request_id"]
    [sent] = emulator.requests
    assert sent.json["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert sent.json["model"] == "MiniMax-M3"


async def test_think_tags_never_reach_the_content(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(text="4", reasoning="2 plus 2.", layout=Layout(think_tags=True)))
    response = await mode.chat(llm, user("2+2?"))
    assert response.message.content == "4"
    assert "<think>" not in str(response.message)
    assert isinstance(response.message.blocks[0], ThinkingBlock)
    # MiniMax's inline form is "<think>\n...\n</think>"; reasoning is kept byte for byte.
    assert response.message.blocks[0].content == "\n2 plus 2.\n"


async def test_stream_chat_yields_thinking_then_text_then_the_whole_answer(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(
            text="Paris is the capital.",
            reasoning="Easy: Paris.",
            usage=USAGE,
            stream=StreamShape(chunk_size=4),
        )
    )
    chunks = await mode.stream_chat(llm, user("Capital of France?"))

    thinking = "".join(c.additional_kwargs.get("thinking_delta") or "" for c in chunks)
    text = "".join(c.delta or "" for c in chunks)
    assert thinking == "Easy: Paris."
    assert text == "Paris is the capital."
    first_text = next(i for i, c in enumerate(chunks) if c.delta)
    last_thinking = max(
        i for i, c in enumerate(chunks) if c.additional_kwargs.get("thinking_delta")
    )
    assert last_thinking < first_text
    # Each chunk holds everything so far, as LlamaIndex's stream consumers expect.
    assert chunks[first_text].message.content == chunks[first_text].delta
    assert isinstance(chunks[0].message.blocks[0], ThinkingBlock)

    last = chunks[-1]
    assert last.message.content == "Paris is the capital."
    block = last.message.blocks[0]
    assert isinstance(block, ThinkingBlock)
    assert block.content == "Easy: Paris."
    assert block.additional_information["reasoning_details"][0]["text"] == "Easy: Paris."
    assert last.additional_kwargs == EXPECTED_USAGE
    assert last.raw["usage"] == EXPECTED_USAGE
    assert emulator.requests[0].json["stream"] is True


async def test_streamed_message_replays_like_a_chat_message(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(
            text="Hello!", reasoning="Greet back.", stream=StreamShape(reasoning_mode="cumulative")
        )
    )
    chunks = await mode.stream_chat(llm, user("Hi"))
    history = [*user("Hi"), chunks[-1].message, *user("And again?")]
    await mode.chat(llm, history)
    replayed = emulator.requests[1].json["messages"][1]
    assert replayed["role"] == "assistant"
    assert replayed["content"] == "Hello!"
    assert [d["text"] for d in replayed["reasoning_details"]] == ["Greet back."]


async def test_complete_is_chat_with_one_user_message(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(text="Roses are red.", reasoning="A poem.", usage=USAGE))
    response = await mode.complete(llm, "Write a poem")
    assert response.text == "Roses are red."
    assert response.additional_kwargs["prompt_tokens"] == 120
    assert response.raw["usage"]["completion_tokens"] == 40
    assert emulator.requests[0].json["messages"] == [{"role": "user", "content": "Write a poem"}]


async def test_stream_complete_yields_text_deltas(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(text="Roses are red.", reasoning="A poem.", stream=StreamShape(chunk_size=3))
    )
    chunks = await mode.stream_complete(llm, "Write a poem")
    assert "".join(c.delta or "" for c in chunks) == "Roses are red."
    assert chunks[-1].text == "Roses are red."
    assert "".join(c.additional_kwargs.get("thinking_delta") or "" for c in chunks) == "A poem."


async def test_complete_keeps_the_reasoning(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(Reply(text="Roses are red.", reasoning="A poem.", usage=USAGE))
    response = await mode.complete(llm, "Write a poem")
    # A completion has no blocks: the reasoning is beside the text, as chat's is in its
    # ThinkingBlock, the provider's objects included.
    assert response.additional_kwargs["reasoning_content"] == "A poem."
    [record] = response.additional_kwargs["reasoning_details"]
    assert record["text"] == "A poem."
    assert response.raw["reasoning_content"] == "A poem."
    assert response.raw["reasoning_details"] == [record]
    assert response.additional_kwargs["prompt_tokens"] == 120


async def test_stream_complete_keeps_the_reasoning(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    emulator.queue(
        Reply(text="Roses are red.", reasoning="A short poem.", stream=StreamShape(chunk_size=3))
    )
    chunks = await mode.stream_complete(llm, "Write a poem")
    # Like text, each chunk has the reasoning so far; the last has the provider's objects.
    so_far = [c.additional_kwargs["reasoning_content"] for c in chunks]
    assert len(so_far[0]) < len(so_far[-1])
    assert all("A short poem.".startswith(part) for part in so_far)
    assert so_far[-1] == "A short poem."
    assert "reasoning_details" not in chunks[0].additional_kwargs
    [record] = chunks[-1].additional_kwargs["reasoning_details"]
    assert record["text"] == "A short poem."
    assert chunks[-1].raw["reasoning_content"] == "A short poem."
    assert chunks[-1].raw["usage"]["completion_tokens"] > 0


async def test_token_counting_handler_reads_the_reported_usage(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(callback_manager=CallbackManager([counter]))
    emulator.queue(Reply(text="One.", usage=USAGE), Reply(text="Two.", usage=USAGE))
    await mode.chat(llm, user("first"))
    await mode.stream_chat(llm, user("second"))
    assert counter.prompt_llm_token_count == 240
    assert counter.completion_llm_token_count == 80
    assert [e.total_token_count for e in counter.llm_token_counts] == [160, 160]


async def test_settings_and_per_call_options_reach_the_wire(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(
        temperature=0.3,
        top_p=0.9,
        max_tokens=100,
        stop=["END"],
        thinking="adaptive",
        default_headers={"x-team": "qa"},
    )
    await mode.chat(llm, user("Hi"))
    await mode.chat(llm, user("Hi"), temperature=1.5, thinking="disabled", max_tokens=7)
    first, second = (r.json for r in emulator.requests)
    assert (first["temperature"], first["top_p"], first["max_completion_tokens"]) == (0.3, 0.9, 100)
    assert first["stop"] == ["END"]
    assert first["thinking"] == {"type": "adaptive"}
    assert emulator.requests[0].headers["x-team"] == "qa"
    assert emulator.requests[0].headers["authorization"] == "Bearer test-key"
    assert (second["temperature"], second["max_completion_tokens"]) == (1.5, 7)
    assert second["thinking"] == {"type": "disabled"}


async def test_unknown_call_option_is_refused_before_sending(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    with pytest.raises(TypeError, match="temprature"):
        await mode.chat(llm, user("Hi"), temprature=0.2)
    with pytest.raises(ValueError, match="temperature"):
        await mode.chat(llm, user("Hi"), temperature=9.0)
    assert emulator.requests == []


async def test_images_and_videos_go_out_as_parts(
    mode: Mode, emulator: MiniMaxEmulator, llm: MiniMaxM3
) -> None:
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What is in these?"),
            ImageBlock(url="https://example.com/cat.png", detail="high"),
            ImageBlock(image=PNG),
            VideoBlock(url="https://example.com/clip.mp4", fps=2),
        ],
    )
    before = message.model_dump()
    await mode.chat(llm, [message])
    content = emulator.requests[0].json["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is in these?"}
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png", "detail": "high"},
    }
    assert content[2]["image_url"]["url"] == (
        "data:image/png;base64," + base64.b64encode(PNG).decode()
    )
    assert content[3] == {
        "type": "video_url",
        "video_url": {"url": "https://example.com/clip.mp4", "fps": 2.0},
    }
    assert message.model_dump() == before


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=429, provider_code=1002), RateLimitError),
        (Fault(status=401, provider_code=1004), AuthenticationError),
        (Fault(base_resp_code=1008), InsufficientBalanceError),
    ],
    ids=["rate-limit", "auth", "balance-on-200"],
)
@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
async def test_errors_are_the_transports_typed_errors(
    fault: Fault,
    error: type[Exception],
    streaming: bool,
    mode: Mode,
    emulator: MiniMaxEmulator,
    llm: MiniMaxM3,
) -> None:
    emulator.queue(fault)
    call = mode.stream_chat if streaming else mode.chat
    with pytest.raises(error) as caught:
        await call(llm, user("Hi"))
    assert isinstance(caught.value, MiniMaxM3Error)
    assert caught.value.request_id
    assert len(emulator.requests) == 1
