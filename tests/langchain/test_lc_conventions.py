"""LangChain conventions users rely on (issue 15): token counts, one id per streamed
answer, headers merged as HTTP does, the retry middleware on a cut stream, the effective
base_url, warnings ChatAnthropic gives, and the same metadata on invoke and stream."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRetryMiddleware
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.tools import tool
from lc_helpers import Driver, merge

from langchain_minimax_m3 import ChatMiniMaxM3
from langchain_minimax_m3.convert import messages_to_neutral
from minimax_m3.testing import Fault, MiniMaxEmulator, Reply, StreamShape, ToolCallReply
from minimax_m3.tokens import DEFAULT_SYSTEM_PROMPT, REQUEST_OVERHEAD, estimate_request_tokens

MakeModel = Callable[..., ChatMiniMaxM3]


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"Sunny in {city}."


# --- token counts ----------------------------------------------------------------------

# The prompts of the Cloudflare seed page (their answers in tests/fixtures/seed carry
# the prompt_tokens minimax/m3 reported for each). The estimate's overheads are fitted to
# these four, so the check holds them to the data they came from; the completions, which
# nothing was fitted to, are checked in test_the_estimate_meets_the_seed_completions.
SEED = Path(__file__).parent.parent / "fixtures" / "seed"


def reported(name: str, field: str) -> int:
    return int(json.loads((SEED / f"{name}.json").read_text())["usage"][field])


SEED_PROMPTS = [
    ([HumanMessage("What is the capital of France?")], "capital_of_france"),
    (
        [
            SystemMessage(
                "You are a helpful cooking assistant. Give concise recipes with metric "
                "measurements."
            ),
            HumanMessage("How do I make a simple pasta aglio e olio?"),
        ],
        "system_prompt_recipe",
    ),
    (
        [
            HumanMessage("What are the main differences between TCP and UDP?"),
            AIMessage(
                "TCP is connection-oriented and guarantees delivery, while UDP is "
                "connectionless and faster but without delivery guarantees."
            ),
            HumanMessage("When would I choose UDP over TCP?"),
        ],
        "multi_turn_no_reasoning",
    ),
    ([HumanMessage("Write a haiku about programming.")], "haiku_long_reasoning"),
]


@pytest.mark.parametrize("name", [name for _, name in SEED_PROMPTS])
def test_the_estimate_meets_the_seed_completions(name: str) -> None:
    message = json.loads((SEED / f"{name}.json").read_text())["choices"][0]["message"]
    written = (message.get("content") or "") + (message.get("reasoning_content") or "")
    estimate = ChatMiniMaxM3().get_num_tokens(written)
    assert abs(estimate - reported(name, "completion_tokens")) <= 0.05 * reported(
        name, "completion_tokens"
    )


@pytest.mark.parametrize(("messages", "name"), SEED_PROMPTS)
def test_the_estimate_meets_what_m3_reported_for_the_seed_prompts(
    messages: list[Any], name: str
) -> None:
    prompt_tokens = reported(name, "prompt_tokens")
    model = ChatMiniMaxM3()  # no key needed, nothing is sent
    # The messages themselves, and what the provider adds to every request.
    preamble = REQUEST_OVERHEAD
    if not any(isinstance(message, SystemMessage) for message in messages):
        preamble += DEFAULT_SYSTEM_PROMPT
    estimate = model.get_num_tokens_from_messages(messages) + preamble
    assert abs(estimate - prompt_tokens) <= prompt_tokens * 0.05
    assert estimate_request_tokens(messages_to_neutral(messages)) == estimate


def test_counts_add_up_so_trimming_to_a_historys_own_size_keeps_it_whole() -> None:
    # trim_messages counts the system message and the rest apart and adds them.
    model = ChatMiniMaxM3()
    history = [
        SystemMessage("You are terse."),
        HumanMessage("What is the capital of France?"),
        AIMessage("Paris."),
        HumanMessage("And of Spain?"),
    ]
    whole = model.get_num_tokens_from_messages(history)
    assert whole == sum(model.get_num_tokens_from_messages([m]) for m in history)
    kept = trim_messages(
        history, max_tokens=whole, token_counter=model, strategy="last", include_system=True
    )
    assert kept == history
    assert model.get_num_tokens_from_messages([]) == 0


def test_counting_needs_no_extra_package_and_tools_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # langchain-core's own counter imports transformers and downloads GPT-2's tokenizer.
    import builtins

    real_import = builtins.__import__

    def refuse_transformers(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("transformers"):
            raise ImportError("transformers is not installed")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_transformers)
    model = ChatMiniMaxM3()
    assert model.get_num_tokens("What is the capital of France?") == 7
    plain = model.get_num_tokens_from_messages([HumanMessage("Weather in Paris?")])
    with_tools = model.get_num_tokens_from_messages(
        [HumanMessage("Weather in Paris?")], tools=[get_weather]
    )
    assert with_tools > plain
    with pytest.raises(NotImplementedError, match="get_num_tokens"):
        model.get_token_ids("hi")


def test_trim_messages_keeps_a_long_history_under_the_window() -> None:
    model = ChatMiniMaxM3()
    history: list[Any] = [SystemMessage("You are terse.")]
    for turn in range(400):
        history.append(HumanMessage(f"question {turn}: " + "lorem ipsum dolor sit amet " * 100))
        history.append(AIMessage("answer " * 300))
    whole = model.get_num_tokens_from_messages(history)
    assert whole > 300_000

    trimmed = trim_messages(
        history,
        max_tokens=100_000,
        token_counter=model,
        strategy="last",
        include_system=True,
        start_on="human",
    )
    kept = model.get_num_tokens_from_messages(trimmed)
    assert kept <= 100_000
    assert kept > 90_000, "trimming keeps as much as fits"
    assert isinstance(trimmed[0], SystemMessage)
    assert trimmed[-1] is history[-1]


async def test_count_tokens_asks_minimax_with_the_prompt_alone(
    driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model()
    messages = [SystemMessage("Be brief."), HumanMessage("Weather in Paris?")]
    if driver.mode == "sync":
        count = model.count_tokens(messages, tools=[get_weather])
    else:
        count = await model.acount_tokens(messages, tools=[get_weather])

    [request] = emulator.requests
    assert request.path == "/anthropic/v1/messages/count_tokens"
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.headers["anthropic-version"] == "2023-06-01"
    # The emulator refuses max_tokens, stream and sampling fields here, as Anthropic does.
    assert set(request.json) == {"model", "messages", "system", "thinking", "tools"}
    assert request.json["system"] == "Be brief."
    assert request.json["tools"][0]["name"] == "get_weather"
    emulator.queue(Reply(text="Sunny."))
    same_format = make_model(api="anthropic_messages").bind_tools([get_weather])
    answer = await driver.invoke(same_format, messages)
    # The emulator counts as its usage does: the count is the next answer's input.
    assert answer.usage_metadata is not None
    assert count == answer.usage_metadata["input_tokens"]


def test_count_tokens_where_no_counter_is_documented_says_so(emulator: MiniMaxEmulator) -> None:
    model = ChatMiniMaxM3(
        provider="cloudflare",
        account_id="acct",
        api_key="k",
        base_url=emulator.cloudflare_base_url,
    )
    with pytest.raises(ValueError, match="documents no token-counting endpoint"):
        model.count_tokens("hi")
    assert emulator.requests == []


# --- one id per streamed answer ----------------------------------------------------------


@pytest.mark.parametrize("api", ["chat_completions", "anthropic_messages"])
async def test_every_chunk_of_a_stream_carries_the_providers_id(
    api: str, driver: Driver, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(
            reasoning="Think first.",
            text="A streamed answer in pieces.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Paris"})],
            stream=StreamShape(chunk_size=4),
        )
    )
    chunks = await driver.stream(make_model(api=api).bind_tools([get_weather]), "Weather?")
    ids = {chunk.id for chunk in chunks}
    assert len(chunks) > 5
    assert len(ids) == 1
    [only] = ids
    assert not only.startswith("lc_run"), "the provider's id, as invoke gives"
    assert merge(chunks).id == only == chunks[-1].response_metadata["id"]


async def test_langgraph_messages_mode_gives_one_id_per_model_call(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Reply(reasoning="Look.", tool_calls=[ToolCallReply("get_weather", {"city": "Oslo"})]),
        Reply(reasoning="Done.", text="Sunny in Oslo."),
    )
    agent = create_agent(make_model(), tools=[get_weather])
    ids = []
    async for message, _ in agent.astream(
        {"messages": [HumanMessage("Weather in Oslo?")]}, stream_mode="messages"
    ):
        if isinstance(message, AIMessage):
            ids.append(message.id)
    assert len(set(ids)) == 2, "two model calls, two ids"


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_your_authorization_header_replaces_the_keys(
    name: str, emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model(default_headers={name: "Bearer proxy-token", "X-Team": "qa"})
    await model.ainvoke("hi")
    [request] = emulator.requests
    assert request.headers["authorization"] == "Bearer proxy-token"
    assert request.headers["x-team"] == "qa"


async def test_a_gateway_token_alone_needs_no_api_key(
    emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    model = ChatMiniMaxM3(
        base_url=emulator.base_url, default_headers={"Authorization": "Bearer gw-token"}
    )
    await model.ainvoke("hi")
    assert emulator.requests[0].headers["authorization"] == "Bearer gw-token"


async def test_your_header_wins_over_a_formats_own(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model(
        api="anthropic_messages", default_headers={"Anthropic-Version": "2099-01-01"}
    )
    await model.ainvoke("hi")
    assert emulator.requests[0].headers["anthropic-version"] == "2099-01-01"


# --- retries of a cut stream ---------------------------------------------------------------


async def test_the_retry_middleware_calls_again_after_a_cut_stream(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    emulator.queue(
        Fault(reply=Reply(text="This answer is cut " * 20), drop_after_events=3),
        Reply(text="The whole answer."),
    )
    agent = create_agent(
        make_model(max_retries=0, streaming=True),
        middleware=[ModelRetryMiddleware(max_retries=2, initial_delay=0.0, jitter=False)],
    )
    result = await agent.ainvoke({"messages": [HumanMessage("hi")]})
    assert result["messages"][-1].content == "The whole answer."
    assert len(emulator.requests) == 2


# --- the effective base_url ---------------------------------------------------------------


def test_base_url_from_the_environment_is_shown(
    emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINIMAX_BASE_URL", emulator.base_url)
    model = ChatMiniMaxM3(api_key="k")
    assert model.base_url == emulator.base_url
    monkeypatch.delenv("MINIMAX_BASE_URL")
    assert ChatMiniMaxM3(api_key="k").base_url is None


# --- the Anthropic format -----------------------------------------------------------------


async def test_a_system_message_mid_conversation_on_the_anthropic_format_warns(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model(api="anthropic_messages")
    with pytest.warns(UserWarning, match="system message after the conversation began"):
        await model.ainvoke([HumanMessage("hi"), AIMessage("Hello."), SystemMessage("Be brief.")])
    assert "Be brief." in emulator.requests[0].json["system"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await model.ainvoke([SystemMessage("Be brief."), HumanMessage("hi")])
        await make_model().ainvoke([HumanMessage("hi"), SystemMessage("Be brief.")])


def test_ls_max_tokens_is_what_the_anthropic_format_sends(make_model: MakeModel) -> None:
    assert make_model(api="anthropic_messages")._get_ls_params()["ls_max_tokens"] == 131_072
    assert (
        make_model(api="anthropic_messages", max_tokens=900)._get_ls_params()["ls_max_tokens"]
        == 900
    )
    assert "ls_max_tokens" not in make_model()._get_ls_params()


@pytest.mark.parametrize("api", ["chat_completions", "anthropic_messages"])
async def test_invoke_and_stream_report_the_same_metadata(
    api: str, driver: Driver, make_model: MakeModel
) -> None:
    model = make_model(api=api)
    invoked = await driver.invoke(model, "hi")
    streamed = merge(await driver.stream(model, "hi"))
    # Each answer has its own ids; everything else a user reads is the same.
    per_answer = {"id", "request_id"}
    assert {k: v for k, v in invoked.response_metadata.items() if k not in per_answer} == {
        k: v for k, v in streamed.response_metadata.items() if k not in per_answer
    }
    assert set(invoked.response_metadata) == set(streamed.response_metadata)
    assert invoked.usage_metadata == streamed.usage_metadata
    # A signature is each answer's own, too.
    assert set(invoked.additional_kwargs) == set(streamed.additional_kwargs)
    assert invoked.additional_kwargs.get("reasoning_content") == streamed.additional_kwargs.get(
        "reasoning_content"
    )


def test_a_model_without_a_key_round_trips_through_its_own_dump(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    model = ChatMiniMaxM3(model="MiniMax-M3", temperature=0.3)
    assert model.get_num_tokens_from_messages([HumanMessage("hi")]) > 0
    restored = ChatMiniMaxM3(**model.model_dump(exclude_none=True))
    assert (restored.model, restored.temperature) == ("MiniMax-M3", 0.3)


def test_tool_messages_count_like_any_other() -> None:
    model = ChatMiniMaxM3()
    call = AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c"}])
    base = model.get_num_tokens_from_messages([HumanMessage("Oslo?"), call])
    more = model.get_num_tokens_from_messages(
        [HumanMessage("Oslo?"), call, ToolMessage("Sunny in Oslo, 21 C.", tool_call_id="c")]
    )
    assert more > base


# --- redacted thinking in standard (v1) content -----------------------------------------------


def test_redacted_thinking_survives_v1_content_both_ways() -> None:
    from langchain_minimax_m3.convert import ai_message_to_neutral

    details = [
        {"type": "thinking", "thinking": "t", "signature": "SIG"},
        {"type": "redacted_thinking", "data": "REDACTED=="},
    ]
    ours = AIMessage(
        "hi",
        additional_kwargs={"reasoning_details": details},
        response_metadata={"model_provider": "minimax"},
    )
    blocks = ours.content_blocks
    # As ChatAnthropic writes redacted thinking in v1 content.
    assert blocks[1] == {"type": "non_standard", "value": details[1]}
    assert blocks[0]["extras"] == {"signature": "SIG"}
    replayed = ai_message_to_neutral(AIMessage(content=blocks))  # type: ignore[arg-type]
    assert [segment.data for segment in replayed.reasoning] == details


def test_count_tokens_leaves_out_what_only_a_chat_call_takes(
    emulator: MiniMaxEmulator, make_model: MakeModel
) -> None:
    model = make_model(extra_body={"top_k": 40, "mask_sensitive_info": False})
    assert model.count_tokens("hi") > 0
    assert set(emulator.requests[0].json) == {"model", "messages", "thinking"}


def test_long_texts_are_counted_without_being_kept() -> None:
    from minimax_m3 import tokens

    before = tokens._cached_text_tokens.cache_info().currsize
    ChatMiniMaxM3().get_num_tokens("word " * 100_000)
    assert tokens._cached_text_tokens.cache_info().currsize == before


def test_a_stream_that_names_its_answer_late_still_gives_one_id() -> None:
    # Some servers leave the id off the first chunks; the chunks already yielded have
    # none, so the rest must not take the provider's either, or the message splits.
    import httpx

    chunks = [
        {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        {"id": "late-id", "choices": [{"index": 0, "delta": {"content": "lo."}}]},
        {"id": "late-id", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    frames = [b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks]
    frames.append(b"data: [DONE]\n\n")

    def answer(request: httpx.Request) -> httpx.Response:
        # A read per frame, as a server that keeps up sends them (one read would join
        # the text into one event).
        return httpx.Response(
            200, content=iter(frames), headers={"content-type": "text/event-stream"}
        )

    model = ChatMiniMaxM3(
        api_key="k",
        base_url="http://server.test",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    streamed = list(model.stream("hi"))
    assert [chunk.content for chunk in streamed[:2]] == ["Hel", "lo."]
    assert len({chunk.id for chunk in streamed}) == 1
    assert merge(streamed).content == "Hello."
    assert streamed[-1].response_metadata["id"] == "late-id"
