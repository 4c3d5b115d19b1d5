"""Token counting as a LlamaIndex user meets it: Settings.tokenizer, ChatMemoryBuffer and
Memory trimming a long history, TokenCountingHandler, and the estimate and exact counts."""

from __future__ import annotations

import random
from collections.abc import Callable

import llama_index.core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llama_helpers import Mode, user
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.memory import ChatMemoryBuffer, Memory
from llama_index.core.tools import FunctionTool
from sqlalchemy.ext.asyncio import create_async_engine

import llama_index_minimax_m3.tokens as tokens_module
from llama_index_minimax_m3 import MiniMaxM3, minimax_m3_tokenizer
from minimax_m3.testing import MiniMaxEmulator
from minimax_m3.tokens import estimate_text_tokens, text_to_token_pieces

# Words, numbers, code punctuation, a long word and other scripts: what a history holds.
WORDS = ["the", "model", "keeps", "its", "reasoning", "across", "tool", "calls", "while"]
WORDS += ["interoperability", "123", "4567", ",", ".", ";", "(", ")", "def", "return"]
WORDS += ["{}", "[]", "->", "==", "!=", "中文", "é"]


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


WEATHER = FunctionTool.from_defaults(get_weather)


def history(messages: int, words: int, seed: int = 0) -> list[ChatMessage]:
    """User and assistant turns of ``words`` words each."""
    rng = random.Random(seed)
    return [
        ChatMessage(
            role="user" if index % 2 == 0 else "assistant",
            content=f"turn {index}: " + " ".join(rng.choice(WORDS) for _ in range(words)),
        )
        for index in range(messages)
    ]


@pytest.fixture(autouse=True)
def _fresh_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tokenizer keeps the last long text, and Settings.tokenizer is process-wide:
    # neither may carry over from one test to the next.
    monkeypatch.setattr(tokens_module, "_last", None)
    monkeypatch.setattr(llama_index.core, "global_tokenizer", None)


def test_the_tokenizer_counts_what_the_estimate_counts() -> None:
    text = "Interoperability between LlamaIndex and M3: 12345 tokens, roughly; 中文也算。"
    assert len(minimax_m3_tokenizer(text)) == estimate_text_tokens(text)
    assert minimax_m3_tokenizer("Hello world") == ["Hello", " world"]
    assert minimax_m3_tokenizer("") == []


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(
            [*WORDS, " ", "  ", "\n", "\t", "12345", "abcdefghijklmnop", "\x01", "\u00a0", "😀"]
        ),
        min_size=1,
        max_size=60,
    ),
    repeat=st.integers(min_value=1, max_value=3),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=6),
)
def test_suffixes_of_a_long_text_are_cut_as_on_their_own(
    pieces: list[str], repeat: int, cuts: list[float]
) -> None:
    # Long enough to be kept, then asked about suffixes starting anywhere, even mid-word:
    # each must come out exactly as the estimate cuts it afresh.
    unit = "".join(pieces)
    text = unit * (tokens_module._KEPT_FROM // len(unit) + 1) * repeat
    tokens_module._last = None
    assert minimax_m3_tokenizer(text) == text_to_token_pieces(text)
    for cut in sorted(cuts):
        start = int(cut * (len(text) - tokens_module._KEPT_FROM))
        assert minimax_m3_tokenizer(text[start:]) == text_to_token_pieces(text[start:])


def test_chat_memory_buffer_trims_a_long_history_to_the_limit() -> None:
    messages = history(200, 300)
    memory = ChatMemoryBuffer.from_defaults(
        chat_history=messages, token_limit=20_000, tokenizer_fn=minimax_m3_tokenizer
    )
    kept = memory.get()
    joined = " ".join(str(m.content) for m in kept)
    dropped_one_more = " ".join(str(m.content) for m in messages[-len(kept) - 1 :])
    assert 1 < len(kept) < len(messages)
    assert kept == messages[-len(kept) :]
    assert kept[0].role == "user"
    # The newest messages that fit, by M3's estimate: one more would not.
    assert estimate_text_tokens(joined) <= 20_000 < estimate_text_tokens(dropped_one_more)


def test_trimming_cuts_the_history_about_once_not_once_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ChatMemoryBuffer counts ever shorter suffixes of one joined history, one call per
    # dropped turn; each cut afresh, trimming would grow with the square of the history.
    long_cuts = 0
    plain, cut = text_to_token_pieces, tokens_module._Cut.of

    def counted_plain(text: str) -> list[str]:
        nonlocal long_cuts
        long_cuts += len(text) if len(text) >= tokens_module._KEPT_FROM else 0
        return plain(text)

    def counted_cut(text: str) -> tokens_module._Cut:
        nonlocal long_cuts
        long_cuts += len(text)
        return cut(text)

    # Shorter texts are cut afresh, cheaply, so only long ones are counted.
    monkeypatch.setattr(tokens_module, "text_to_token_pieces", counted_plain)
    monkeypatch.setattr(tokens_module._Cut, "of", staticmethod(counted_cut))
    messages = history(400, 200)
    total = len(" ".join(str(m.content) for m in messages))
    memory = ChatMemoryBuffer.from_defaults(
        chat_history=messages, token_limit=2_000, tokenizer_fn=minimax_m3_tokenizer
    )
    assert len(memory.get()) < 20
    # A plain cut of the whole history, then one kept for its suffixes: about twice the
    # history (about 200 calls, cut afresh, would come to some 40 times it).
    assert long_cuts <= 3 * total


async def test_memory_flushes_old_turns_by_the_tokenizer() -> None:
    # Our own engine, to close it: Memory leaves the one it makes open.
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    memory = Memory.from_defaults(
        session_id="long",
        token_limit=6_000,
        chat_history_token_ratio=0.5,
        token_flush_size=500,
        tokenizer_fn=minimax_m3_tokenizer,
        async_engine=engine,
    )
    messages = history(60, 120)
    try:
        await memory.aput_messages(messages)
        kept = await memory.aget()
    finally:
        await engine.dispose()
    assert 1 < len(kept) < len(messages)
    assert kept[-1] == messages[-1]
    # Each turn is some 200 tokens: 3,000 (half the limit) holds a dozen or so, not all.
    assert sum(estimate_text_tokens(str(m.content)) for m in kept) <= 3_000


# Texts that M3's estimate and LlamaIndex's default (tiktoken's cl100k) count differently.
TEXTS = [
    "MiniMax M3 读取一百万个词元然后回答",
    "Interoperability, internationalization and 1234567890 numbers.",
]


def embedding_tokens(counter: TokenCountingHandler) -> int:
    VectorStoreIndex.from_documents(
        [Document(text=text) for text in TEXTS],
        embed_model=MockEmbedding(embed_dim=8),
        callback_manager=CallbackManager([counter]),
    )
    return counter.total_embedding_token_count


def test_settings_tokenizer_is_what_token_counting_uses(llm: MiniMaxM3) -> None:
    Settings.tokenizer = llm.tokenizer
    assert Settings.tokenizer is minimax_m3_tokenizer
    # No tokenizer given: the handler takes the one in Settings.
    assert embedding_tokens(TokenCountingHandler()) == sum(map(estimate_text_tokens, TEXTS))


def test_token_counting_handler_takes_the_tokenizer() -> None:
    counter = TokenCountingHandler(tokenizer=minimax_m3_tokenizer)
    assert embedding_tokens(counter) == sum(map(estimate_text_tokens, TEXTS))


def test_estimate_tokens_counts_messages_and_tools(llm: MiniMaxM3) -> None:
    messages = [
        ChatMessage(role="system", content="You are terse."),
        *user("What is the weather in Paris today?"),
    ]
    bare = llm.estimate_tokens(messages)
    with_tools = llm.estimate_tokens(messages, tools=[WEATHER])
    longer = llm.estimate_tokens([*messages, *user("And tomorrow, in Rome and in Madrid?")])
    assert 170 < bare < 220  # MiniMax's preamble, the system prompt and the question
    assert with_tools > bare + 10
    assert longer > bare


async def test_count_tokens_asks_minimax(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(temperature=0.2, max_tokens=50)
    messages = [ChatMessage(role="system", content="Be terse."), *user("Weather in Paris?")]
    count = await mode.call(
        lambda: llm.count_tokens(messages, tools=[WEATHER]),
        lambda: llm.acount_tokens(messages, tools=[WEATHER]),
    )
    [sent] = emulator.requests
    assert sent.path == "/anthropic/v1/messages/count_tokens"
    assert sent.headers["authorization"] == "Bearer test-key"
    # The prompt as a chat would send it on the Anthropic format, and nothing for the reply.
    assert sent.json["model"] == "MiniMax-M3"
    assert sent.json["system"] == "Be terse."
    assert sent.json["messages"] == [{"role": "user", "content": "Weather in Paris?"}]
    assert [tool["name"] for tool in sent.json["tools"]] == ["get_weather"]
    assert "max_tokens" not in sent.json
    assert "temperature" not in sent.json
    assert isinstance(count, int)
    assert count > 0


async def test_count_tokens_is_what_the_answer_then_reports(
    mode: Mode, emulator: MiniMaxEmulator, make_llm: Callable[..., MiniMaxM3]
) -> None:
    llm = make_llm(api="anthropic_messages")
    messages = user("A question long enough to be counted in more than one token.")
    count = await mode.call(lambda: llm.count_tokens(messages), lambda: llm.acount_tokens(messages))
    response = await mode.chat(llm, messages)
    assert response.additional_kwargs["prompt_tokens"] == count
    assert count > 1


async def test_count_tokens_needs_a_provider_with_a_counter(
    mode: Mode, emulator: MiniMaxEmulator
) -> None:
    llm = MiniMaxM3(
        provider="openai-compatible", model="MiniMax-M3", base_url=emulator.base_url + "/v1"
    )
    with pytest.raises(ValueError, match="estimate_tokens"):
        await mode.call(lambda: llm.count_tokens(user("Hi")), lambda: llm.acount_tokens(user("Hi")))
    assert emulator.requests == []
