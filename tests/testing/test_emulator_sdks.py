"""The official ``openai`` and ``anthropic`` SDKs, pointed at the emulator, parse every
reply and stream it makes: text, reasoning, tool calls, usage and errors, on every route
that speaks their format (MiniMax, Cloudflare, Runware's OpenAI-compatible API, vLLM and
SGLang). Users test JavaScript apps and SDK code against it, so its bodies must be the
SDKs' shapes, not only ours; these SDKs are the reference we did not write."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import anthropic
import openai
import pytest

from minimax_m3.testing import (
    Fault,
    MiniMaxEmulator,
    ProviderOptions,
    Reply,
    StreamShape,
    ToolCallReply,
)

ACCOUNT = "sdk-account"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
REASONING = "The user asks about Lisbon, so I look it up."
CALL = ToolCallReply("get_weather", {"city": "Lisbon"}, id="call_sdk_1")

# (route, OpenAI SDK base URL from the emulator, model, where reasoning is read)
OPENAI_ROUTES: dict[str, tuple[Callable[[MiniMaxEmulator], str], str]] = {
    "minimax": (lambda e: e.base_url + "/v1", "MiniMax-M3"),
    "cloudflare": (
        lambda e: f"{e.cloudflare_base_url}/accounts/{ACCOUNT}/ai/v1",
        "minimax/m3",
    ),
    "runware": (lambda e: e.runware_base_url, "minimax:m3@0"),
    "vllm": (lambda e: e.self_hosted_base_url("vllm"), "MiniMaxAI/MiniMax-M3"),
    "sglang": (lambda e: e.self_hosted_base_url("sglang"), "MiniMaxAI/MiniMax-M3"),
}
ANTHROPIC_ROUTES: dict[str, Callable[[MiniMaxEmulator], str]] = {
    "minimax": lambda e: e.anthropic_base_url,
    "cloudflare": lambda e: f"{e.cloudflare_base_url}/accounts/{ACCOUNT}/ai",
}


@pytest.fixture
def emulator() -> Iterator[MiniMaxEmulator]:
    with MiniMaxEmulator(api_key="sdk-key") as emu:
        yield emu


@dataclass
class OpenAIRoute:
    client: openai.OpenAI
    model: str
    # MiniMax writes the reasoning inline in <think> tags unless asked to split it out,
    # as its API does; an SDK user passes reasoning_split in extra_body.
    extra_body: dict[str, Any]

    def create(self, **kwargs: Any) -> Any:
        return self.client.chat.completions.create(
            model=self.model, extra_body=self.extra_body, **kwargs
        )


# Every SDK client a test makes, closed when it ends: one left to the garbage collector
# closes its pooled socket in a later test, whose ResourceWarning then fails that one.
_CLIENTS: list[openai.OpenAI | anthropic.Anthropic] = []
_Client = TypeVar("_Client", openai.OpenAI, anthropic.Anthropic)


@pytest.fixture(autouse=True)
def _close_sdk_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _kept(client: _Client) -> _Client:
    _CLIENTS.append(client)
    return client


def openai_route(emulator: MiniMaxEmulator, route: str) -> OpenAIRoute:
    base, model = OPENAI_ROUTES[route]
    client = _kept(openai.OpenAI(base_url=base(emulator), api_key="sdk-key", max_retries=0))
    return OpenAIRoute(client, model, {"reasoning_split": True} if route == "minimax" else {})


def anthropic_client(emulator: MiniMaxEmulator, route: str) -> anthropic.Anthropic:
    base_url = ANTHROPIC_ROUTES[route](emulator)
    if route == "cloudflare":
        # Cloudflare takes its API token as a Bearer token, which the SDK sends for
        # auth_token; MiniMax takes the SDK's own x-api-key.
        return _kept(anthropic.Anthropic(base_url=base_url, auth_token="sdk-key", max_retries=0))
    return _kept(anthropic.Anthropic(base_url=base_url, api_key="sdk-key", max_retries=0))


def reasoning_of(message: Any) -> str:
    """The reasoning an OpenAI-format message or delta carries, in whichever field its
    server uses: MiniMax's ``reasoning_details`` and ``reasoning_content``, vLLM's
    ``reasoning``, SGLang's ``reasoning_content``. The SDK keeps unknown fields."""
    extra = message.model_extra or {}
    details = extra.get("reasoning_details")
    if details:
        return "".join(item.get("text", "") for item in details)
    return extra.get("reasoning_content") or extra.get("reasoning") or ""


# --- OpenAI SDK ----------------------------------------------------------------------


@pytest.mark.parametrize("route", list(OPENAI_ROUTES))
def test_openai_sdk_reads_text_reasoning_and_usage(emulator: MiniMaxEmulator, route: str) -> None:
    api = openai_route(emulator, route)
    emulator.queue(
        Reply(
            text="Sunny in Lisbon.",
            reasoning=REASONING,
            usage={"prompt_tokens": 40, "completion_tokens": 12, "cached_tokens": 16},
        )
    )
    completion = api.create(messages=[{"role": "user", "content": "Weather in Lisbon?"}])
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert message.content == "Sunny in Lisbon."
    assert reasoning_of(message) == REASONING
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (40, 12)
    assert completion.usage.total_tokens == 52


@pytest.mark.parametrize("route", list(OPENAI_ROUTES))
def test_openai_sdk_reads_tool_calls(emulator: MiniMaxEmulator, route: str) -> None:
    api = openai_route(emulator, route)
    emulator.queue(Reply(reasoning=REASONING, tool_calls=[CALL]))
    completion = api.create(
        messages=[{"role": "user", "content": "Weather in Lisbon?"}],
        tools=[{"type": "function", "function": WEATHER}],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon"}
    assert call.id


@pytest.mark.parametrize("route", list(OPENAI_ROUTES))
def test_openai_sdk_streams_text_reasoning_calls_and_usage(
    emulator: MiniMaxEmulator, route: str
) -> None:
    api = openai_route(emulator, route)
    emulator.queue(
        Reply(
            text="Checking.",
            reasoning=REASONING,
            tool_calls=[CALL],
            usage={"prompt_tokens": 30, "completion_tokens": 9},
            stream=StreamShape(chunk_size=3, tool_args_chunk=4),
        )
    )
    stream = api.create(
        messages=[{"role": "user", "content": "Weather in Lisbon?"}],
        tools=[{"type": "function", "function": WEATHER}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, reasoning, arguments, names, finish, usage = "", "", "", "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            delta = choice.delta
            text += delta.content or ""
            reasoning += reasoning_of(delta)
            for fragment in delta.tool_calls or []:
                if fragment.function is not None:
                    names += fragment.function.name or ""
                    arguments += fragment.function.arguments or ""
            finish = choice.finish_reason or finish
    assert text.strip() == "Checking."
    assert reasoning == REASONING
    assert names == "get_weather"
    assert json.loads(arguments) == {"city": "Lisbon"}
    assert finish == "tool_calls"
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (30, 9)


@pytest.mark.parametrize("route", list(OPENAI_ROUTES))
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_openai_sdk_raises_its_own_error_for_each_status(
    emulator: MiniMaxEmulator, route: str, status: int, error: type[openai.APIStatusError]
) -> None:
    api = openai_route(emulator, route)
    emulator.queue(Fault(status=status, message="scripted failure"))
    with pytest.raises(error) as raised:
        api.create(messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == status
    assert "scripted failure" in json.dumps(raised.value.body)


def test_openai_sdk_without_the_key_is_refused_as_unauthenticated(
    emulator: MiniMaxEmulator,
) -> None:
    client = _kept(
        openai.OpenAI(base_url=emulator.base_url + "/v1", api_key="wrong", max_retries=0)
    )
    with pytest.raises(openai.AuthenticationError) as raised:
        client.chat.completions.create(
            model="MiniMax-M3", messages=[{"role": "user", "content": "x"}]
        )
    assert raised.value.status_code == 401


def test_openai_sdk_parses_minimax_errors_sent_with_http_200(emulator: MiniMaxEmulator) -> None:
    # MiniMax answers some failures with HTTP 200 and base_resp: the SDK does not raise,
    # and the code is where a user of the SDK finds it against the real API too.
    api = openai_route(emulator, "minimax")
    emulator.queue(Fault(base_resp_code=1008))
    completion = api.create(messages=[{"role": "user", "content": "x"}])
    base_resp = (completion.model_extra or {})["base_resp"]
    assert base_resp["status_code"] == 1008
    assert base_resp["status_msg"]


def test_openai_sdk_raises_on_an_error_event_inside_a_stream(emulator: MiniMaxEmulator) -> None:
    api = openai_route(emulator, "minimax")
    emulator.queue(
        Fault(reply=Reply(text="partial answer"), error_after_events=2, error_shape="error")
    )
    stream = api.create(messages=[{"role": "user", "content": "x"}], stream=True)
    seen: list[str] = []

    def read() -> None:
        for chunk in stream:
            seen.extend(choice.delta.content or "" for choice in chunk.choices)

    with pytest.raises(openai.APIError):
        read()
    assert "".join(seen)
    assert "partial answer".startswith("".join(seen))


def test_openai_sdk_reads_cloudflare_wrapped_results(emulator: MiniMaxEmulator) -> None:
    # Some Cloudflare paths wrap a success in {"result": ...}; the SDK keeps the wrapper,
    # as it would against Cloudflare, so the shape is the real one.
    api = openai_route(emulator, "cloudflare")
    emulator.queue(Reply(text="wrapped", provider=ProviderOptions(cloudflare_wrap_result=True)))
    raw = api.client.chat.completions.with_raw_response.create(
        model=api.model, messages=[{"role": "user", "content": "x"}]
    )
    body = json.loads(raw.text)
    assert body["success"] is True
    assert body["result"]["choices"][0]["message"]["content"] == "wrapped"


# --- Anthropic SDK -------------------------------------------------------------------


@pytest.mark.parametrize("route", list(ANTHROPIC_ROUTES))
def test_anthropic_sdk_reads_thinking_text_tool_use_and_usage(
    emulator: MiniMaxEmulator, route: str
) -> None:
    client = anthropic_client(emulator, route)
    emulator.queue(
        Reply(
            text="Let me check.",
            reasoning=REASONING,
            tool_calls=[CALL],
            usage={"prompt_tokens": 50, "completion_tokens": 20, "cached_tokens": 32},
        )
    )
    message = client.messages.create(
        model="MiniMax-M3",
        max_tokens=1024,
        thinking={"type": "enabled", "budget_tokens": 512},
        messages=[{"role": "user", "content": "Weather in Lisbon?"}],
        tools=[{"name": WEATHER["name"], "input_schema": WEATHER["parameters"]}],
    )
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text", "tool_use"]
    thinking, text, tool_use = message.content
    assert isinstance(thinking, anthropic.types.ThinkingBlock)
    assert thinking.thinking == REASONING
    assert thinking.signature
    assert isinstance(text, anthropic.types.TextBlock)
    assert text.text == "Let me check."
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert (tool_use.name, tool_use.input) == ("get_weather", {"city": "Lisbon"})
    assert message.stop_reason == "tool_use"
    assert message.usage.output_tokens == 20
    assert message.usage.cache_read_input_tokens == 32


@pytest.mark.parametrize("route", list(ANTHROPIC_ROUTES))
@pytest.mark.parametrize("whole_input", [False, True])
def test_anthropic_sdk_streams_to_the_same_message(
    emulator: MiniMaxEmulator, route: str, whole_input: bool
) -> None:
    client = anthropic_client(emulator, route)
    emulator.queue(
        Reply(
            text="Let me check.",
            reasoning=REASONING,
            tool_calls=[CALL],
            stream=StreamShape(chunk_size=4, tool_args_chunk=3),
            provider=ProviderOptions(tool_input_whole=whole_input),
        )
    )
    with client.messages.stream(
        model="MiniMax-M3",
        max_tokens=1024,
        thinking={"type": "enabled", "budget_tokens": 512},
        messages=[{"role": "user", "content": "Weather in Lisbon?"}],
        tools=[{"name": WEATHER["name"], "input_schema": WEATHER["parameters"]}],
    ) as stream:
        deltas = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert deltas == "Let me check."
    thinking, text, tool_use = message.content
    assert isinstance(thinking, anthropic.types.ThinkingBlock)
    assert thinking.thinking == REASONING
    assert thinking.signature
    assert isinstance(text, anthropic.types.TextBlock)
    assert text.text == "Let me check."
    assert isinstance(tool_use, anthropic.types.ToolUseBlock)
    assert tool_use.input == {"city": "Lisbon"}
    assert message.stop_reason == "tool_use"
    assert message.usage.output_tokens > 0


@pytest.mark.parametrize("route", list(ANTHROPIC_ROUTES))
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.APIStatusError),
    ],
)
def test_anthropic_sdk_raises_its_own_error_for_each_status(
    emulator: MiniMaxEmulator, route: str, status: int, error: type[anthropic.APIStatusError]
) -> None:
    client = anthropic_client(emulator, route)
    emulator.queue(Fault(status=status, message="scripted failure"))
    with pytest.raises(error) as raised:
        client.messages.create(
            model="MiniMax-M3", max_tokens=64, messages=[{"role": "user", "content": "x"}]
        )
    assert raised.value.status_code == status
    assert "scripted failure" in json.dumps(raised.value.body)


def test_anthropic_sdk_raises_on_an_error_event_inside_a_stream(
    emulator: MiniMaxEmulator,
) -> None:
    client = anthropic_client(emulator, "minimax")
    emulator.queue(Fault(reply=Reply(text="partial answer"), error_after_events=4, status=529))

    def read() -> None:
        with client.messages.stream(
            model="MiniMax-M3", max_tokens=64, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            for _ in stream:
                pass

    with pytest.raises(anthropic.APIStatusError) as raised:
        read()
    assert "overloaded" in str(raised.value).lower()


def test_anthropic_sdk_sends_cache_markers_and_gets_its_error_for_a_fifth(
    emulator: MiniMaxEmulator,
) -> None:
    """The SDK's own cache_control params (TextBlockParam, ToolParam) are accepted; a fifth
    marker is refused with the 400 the SDK raises as BadRequestError, as Anthropic does."""
    with anthropic_client(emulator, "minimax") as client:
        send_markers(client, emulator)


def send_markers(client: anthropic.Anthropic, emulator: MiniMaxEmulator) -> None:
    mark: Any = {"type": "ephemeral"}
    tool: Any = {
        "name": "get_weather",
        "description": "Weather for a city.",
        "input_schema": WEATHER["parameters"],
        "cache_control": mark,
    }
    text: Any = [{"type": "text", "text": f"Part {n}.", "cache_control": mark} for n in range(4)]
    emulator.queue(Reply(text="ok"))
    answer = client.messages.create(
        model="MiniMax-M2.7",
        max_tokens=64,
        tools=[tool],
        system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": text[:3]}],
    )
    assert answer.content[0].type == "text"
    sent = emulator.requests[-1].json
    assert sent["tools"][0]["cache_control"] == mark

    with pytest.raises(anthropic.BadRequestError, match="A maximum of 4 blocks with cache_control"):
        client.messages.create(
            model="MiniMax-M2.7",
            max_tokens=64,
            tools=[tool],
            messages=[{"role": "user", "content": text}],
        )
