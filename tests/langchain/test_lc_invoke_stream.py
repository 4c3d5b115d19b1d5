"""invoke / stream / batch against the emulator, each on the sync and the async path."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.rate_limiters import BaseRateLimiter
from lc_helpers import CallbackRecorder, Driver, merge

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import Layout, MiniMaxEmulator, Reply, StreamShape

MakeModel = Callable[..., ChatMiniMaxM3]


async def test_invoke_returns_text_reasoning_usage_and_metadata(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            text="Paris.",
            reasoning="The capital of France is Paris.",
            usage={
                "prompt_tokens": 120,
                "completion_tokens": 40,
                "cached_tokens": 64,
                "reasoning_tokens": 25,
            },
        )
    )
    message = await driver.invoke(make_model(), "Capital of France?")

    assert isinstance(message, AIMessage)
    assert message.content == "Paris."
    assert message.additional_kwargs["reasoning_content"] == "The capital of France is Paris."
    [detail] = message.additional_kwargs["reasoning_details"]
    assert detail["text"] == "The capital of France is Paris."
    assert detail["type"] == "reasoning.text"
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "The capital of France is Paris."},
        {"type": "text", "text": "Paris."},
    ]
    assert message.usage_metadata == {
        "input_tokens": 120,
        "output_tokens": 40,
        "total_tokens": 160,
        "input_token_details": {"cache_read": 64},
        "output_token_details": {"reasoning": 25},
    }
    metadata = message.response_metadata
    assert metadata["model_name"] == "MiniMax-M3"
    assert metadata["model_provider"] == "minimax"
    assert metadata["finish_reason"] == "stop"
    assert metadata["id"] == message.id
    assert metadata["request_id"]
    # MiniMax's success marker is in whole bodies only, so it is left out of both.
    assert "base_resp" not in metadata
    assert metadata["input_sensitive"] is False
    assert metadata["output_sensitive"] is False


async def test_a_model_that_did_not_think_gets_no_reasoning_block(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(text="Hi."), Reply(text="Hi again."))
    model = make_model(thinking="disabled")
    message = await driver.invoke(model, "Hello")
    streamed = merge(await driver.stream(model, "Hello"))

    for answer in (message, streamed):
        assert "reasoning_content" not in answer.additional_kwargs
        assert "reasoning_details" not in answer.additional_kwargs
        assert [block["type"] for block in answer.content_blocks] == ["text"]
    assert emulator.requests[0].json["thinking"] == {"type": "disabled"}


async def test_stream_yields_reasoning_then_text_then_a_last_chunk_with_usage(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            text="Rayleigh scattering makes the sky blue.",
            reasoning="Short wavelengths scatter more.",
            usage={"prompt_tokens": 30, "completion_tokens": 20, "reasoning_tokens": 8},
            stream=StreamShape(chunk_size=6),
        )
    )
    chunks = await driver.stream(make_model(), "Why is the sky blue?")

    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    reasoning = [
        c.additional_kwargs["reasoning_content"]
        for c in chunks
        if c.additional_kwargs.get("reasoning_content")
    ]
    texts = [c.content for c in chunks if c.content]
    assert len(reasoning) > 1, "reasoning must stream as deltas"
    assert len(texts) > 1, "text must stream token by token"
    assert "".join(reasoning) == "Short wavelengths scatter more."
    first_text = next(i for i, c in enumerate(chunks) if c.content)
    assert all(not c.additional_kwargs.get("reasoning_content") for c in chunks[first_text:])

    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.content == ""
    assert last.usage_metadata is not None
    assert last.usage_metadata["input_tokens"] == 30
    assert last.usage_metadata["output_token_details"] == {"reasoning": 8}
    assert all(c.usage_metadata is None for c in chunks[:-1]), "only the last chunk has usage"
    assert last.response_metadata["finish_reason"] == "stop"

    full = merge(chunks)
    assert full.content == "Rayleigh scattering makes the sky blue."
    assert full.additional_kwargs["reasoning_content"] == "Short wavelengths scatter more."
    assert len(full.additional_kwargs["reasoning_details"]) == 1
    assert full.usage_metadata is not None
    assert full.usage_metadata["total_tokens"] == 50
    assert full.response_metadata["model_name"] == "MiniMax-M3"
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text"]


async def test_usage_arrives_on_the_usage_only_final_chunk(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(text="Done.", usage={"prompt_tokens": 11, "completion_tokens": 3}))
    chunks = await driver.stream(make_model(), "Hi")

    body = emulator.requests[0].json
    assert body["stream_options"] == {"include_usage": True}
    with_usage = [c for c in chunks if c.usage_metadata]
    assert with_usage == [chunks[-1]]
    assert chunks[-1].usage_metadata["input_tokens"] == 11
    assert chunks[-1].usage_metadata["output_tokens"] == 3


async def test_cumulative_reasoning_snapshots_are_not_duplicated(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    thought = "First I recall the facts, then I check them twice."
    emulator.queue(
        Reply(
            text="Checked.",
            reasoning=thought,
            stream=StreamShape(reasoning_mode="cumulative", chunk_size=5),
        )
    )
    chunks = await driver.stream(make_model(), "Check it")
    full = merge(chunks)

    assert full.additional_kwargs["reasoning_content"] == thought
    assert [d["text"] for d in full.additional_kwargs["reasoning_details"]] == [thought]
    assert full.content == "Checked."


async def test_think_tags_split_across_chunks_become_reasoning(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    thought = "The user says hi; answer briefly."
    emulator.queue(
        Reply(
            text="Hello!",
            reasoning=thought,
            stream=StreamShape(chunk_size=3),
            layout=Layout(think_tags=True),
        ),
        Reply(text="Hello!", reasoning=thought, layout=Layout(think_tags=True)),
    )
    model = make_model()
    full = merge(await driver.stream(model, "hi"))
    message = await driver.invoke(model, "hi")

    # The emulator writes MiniMax's inline form, "<think>\n...\n</think>\n\n"; the
    # reasoning is kept byte for byte, its line breaks included.
    inline = f"\n{thought}\n"
    for answer in (full, message):
        assert answer.content == "Hello!"
        assert "<think>" not in answer.text
        assert "</think>" not in answer.text
        assert answer.additional_kwargs["reasoning_content"] == inline
        assert answer.content_blocks[0] == {"type": "reasoning", "reasoning": inline}


async def test_stop_sequences_are_sent_and_cut_on_the_client(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(text="one two STOP three", stream=StreamShape(chunk_size=4)),
        Reply(text="alpha END beta"),
    )
    streamed = merge(await driver.stream(make_model(), "count", stop=["STOP"]))
    invoked = await driver.invoke(make_model(stop=["END"]), "letters")

    assert streamed.content == "one two "
    assert invoked.content == "alpha "
    assert invoked.response_metadata["finish_reason"] == "stop"
    assert emulator.requests[0].json["stop"] == ["STOP"]
    assert emulator.requests[1].json["stop"] == ["END"]


async def test_per_call_model_and_sampling_override_the_instance(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model(temperature=0.2, max_tokens=300)
    message = await driver.invoke(model, "Hi", model="MiniMax-M2.7", temperature=0.9)
    streamed = merge(await driver.stream(model, "Hi", model="MiniMax-M2.7", top_p=0.5))

    first, second = (r.json for r in emulator.requests)
    assert first["model"] == second["model"] == "MiniMax-M2.7"
    assert first["temperature"] == 0.9
    assert first["max_completion_tokens"] == 300
    assert (second["temperature"], second["top_p"]) == (0.2, 0.5)
    assert message.response_metadata["model_name"] == "MiniMax-M2.7"
    assert streamed.response_metadata["model_name"] == "MiniMax-M2.7"
    assert model._get_ls_params(model="MiniMax-M2.7")["ls_model_name"] == "MiniMax-M2.7"


async def test_unknown_call_arguments_are_refused_before_sending(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    with pytest.raises(ValueError, match="temprature"):
        await driver.invoke(make_model(), "Hi", temprature=0.5)
    assert emulator.requests == []


async def test_batch_answers_each_prompt_in_order(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    answers = await driver.batch(make_model(), ["first", "second", "third"])
    assert [a.content for a in answers] == [
        "Emulated reply to: first",
        "Emulated reply to: second",
        "Emulated reply to: third",
    ]
    assert len(emulator.requests) == 3


class _CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.acquired = 0
        self._lock = threading.Lock()

    def acquire(self, *, blocking: bool = True) -> bool:
        with self._lock:
            self.acquired += 1
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        return self.acquire(blocking=blocking)


async def test_rate_limiter_is_asked_before_every_request(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    limiter = _CountingLimiter()
    model = make_model(rate_limiter=limiter)
    await driver.invoke(model, "one")
    await driver.stream(model, "two")
    await driver.batch(model, ["three", "four"])
    assert limiter.acquired == len(emulator.requests) == 4


async def test_callbacks_receive_every_token_once(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(text="one two three four", reasoning="counting", stream=StreamShape(chunk_size=4))
    )
    recorder = CallbackRecorder()
    chunks = await driver.stream(make_model(), "count", config={"callbacks": [recorder]})

    assert recorder.tokens == [c.content for c in chunks]
    assert "".join(recorder.tokens) == "one two three four"
    reasoning = [c.message.additional_kwargs.get("reasoning_content", "") for c in recorder.chunks]
    assert "".join(reasoning) == "counting"


async def test_streaming_true_makes_invoke_stream_to_callbacks(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(text="streamed under the hood", stream=StreamShape(chunk_size=5)))
    recorder = CallbackRecorder()
    message = await driver.invoke(
        make_model(streaming=True), "go", config={"callbacks": [recorder]}
    )
    assert message.content == "streamed under the hood"
    assert emulator.requests[0].json["stream"] is True
    assert "".join(recorder.tokens) == "streamed under the hood"
    assert len([t for t in recorder.tokens if t]) > 1
    assert message.usage_metadata is not None


async def test_output_version_v1_puts_standard_blocks_in_the_content(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(text="Yes.", reasoning="Easy."), Reply(text="Yes.", reasoning="Easy."))
    model = make_model(output_version="v1")
    message = await driver.invoke(model, "Sure?")
    full = merge(await driver.stream(model, "Sure?"))

    assert message.content == [
        {"type": "reasoning", "reasoning": "Easy."},
        {"type": "text", "text": "Yes."},
    ]
    assert [(b["type"], b.get("reasoning") or b.get("text")) for b in full.content] == [
        ("reasoning", "Easy."),
        ("text", "Yes."),
    ]
    # The history still replays the provider's reasoning objects.
    await driver.invoke(model, [HumanMessage("Sure?"), full, HumanMessage("Really?")])
    assert emulator.requests[-1].json["messages"][1]["reasoning_details"][0]["text"] == "Easy."


async def test_an_interrupted_stream_is_closed_early_without_error(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(Reply(text="x" * 400, stream=StreamShape(chunk_size=4)), Reply(text="next"))
    model = make_model()
    if driver.mode == "sync":
        for _ in model.stream("long"):
            break
    else:
        async for _ in model.astream("long"):
            break
    # The pooled connection is usable again right away.
    assert (await driver.invoke(model, "again")).content == "next"
