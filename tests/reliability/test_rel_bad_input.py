"""Bad input fails before sending, naming the argument and what is allowed; nothing is sent.

Per-call values go through both adapters in all four modes; settings are refused when a
model is built. Each error message must name the argument and say what it may be, and
the emulator's request log must stay empty.
"""

from __future__ import annotations

import base64
import datetime
import re
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    TextBlock,
    ToolCallBlock,
    VideoBlock,
)
from rel_helpers import FRAMEWORKS, KEY, Driver, all_drivers, provider_settings, tried_bad_input

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.providers import PROVIDERS
from minimax_m3.testing import MiniMaxEmulator
from minimax_m3.transport import Transport
from minimax_m3.types import ChatRequest, ImagePart, Message, VideoPart
from minimax_m3.validation import data_url_size, validate_request

MB = 1024 * 1024


def image_bytes(size: int) -> bytes:
    return b"\x89PNG" + b"\x00" * (size - 4)


def history(driver: Driver, kind: str) -> list[Any]:
    """A framework-native history that is wrong in the way ``kind`` says."""
    lc = driver.framework == "langchain"
    if kind == "tool-result-without-its-call":
        if lc:
            return [HumanMessage("Weather?"), ToolMessage("sunny", tool_call_id="call_9")]
        return [
            ChatMessage(role="user", content="Weather?"),
            ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "call_9"}),
        ]
    if kind == "lone-surrogate-in-text":
        return [driver.user("Hi \ud800")]
    if kind == "tool-arguments-json-cannot-carry":
        args = {"city": "Paris", "when": datetime.date(2026, 12, 1)}
        if lc:
            call = {"name": "get_weather", "args": args, "id": "call_1"}
            return [
                HumanMessage("Weather?"),
                AIMessage("", tool_calls=[call]),
                ToolMessage("sunny", tool_call_id="call_1"),
            ]
        block = ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs=args)
        return [
            ChatMessage(role="user", content="Weather?"),
            ChatMessage(role="assistant", blocks=[block]),
            ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "call_1"}),
        ]
    if kind == "tool-call-without-its-result":
        call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
        if lc:
            return [
                HumanMessage("Weather?"),
                AIMessage("", tool_calls=[call]),
                HumanMessage("And now?"),
            ]
        raw = {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
        return [
            ChatMessage(role="user", content="Weather?"),
            ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [raw]}),
            ChatMessage(role="user", content="And now?"),
        ]
    size = 10 * MB + 1 if kind == "image-over-10-mb" else 50 * MB + 1
    if lc:
        block_type, mime = (
            ("image", "image/png") if kind.startswith("image") else ("video", "video/mp4")
        )
        data = base64.b64encode(b"\x00" * size).decode()
        media = {"type": block_type, "base64": data, "mime_type": mime}
        return [HumanMessage([{"type": "text", "text": "What is this?"}, media])]
    if kind.startswith("image"):
        block: Any = ImageBlock(image=image_bytes(size), image_mimetype="image/png")
    else:
        block = VideoBlock(video=b"\x00" * size, video_mimetype="video/mp4")
    return [ChatMessage(role="user", blocks=[TextBlock(text="What is this?"), block])]


@dataclass(frozen=True)
class PerCall:
    """A bad per-call argument: the provider, the call's keyword arguments or broken
    history, and the words the error must contain."""

    expected: str
    provider: str = "minimax-chat"
    kwargs: dict[str, Any] | None = None
    history: str | None = None
    # Megabytes of media are slow to build in LlamaIndex's blocks: two modes show as much.
    modes: tuple[str, ...] = ("invoke", "ainvoke", "stream", "astream")


PER_CALL = {
    # Issue 14: each of these reached json.dumps or httpx and failed there, unnamed.
    "response-format-a-string": PerCall(
        "response_format must be a dict whose 'type' is one of 'text', 'json_object', "
        "'json_schema'",
        kwargs={"response_format": "json"},
    ),
    "lone-surrogate-in-text": PerCall(
        "body['messages'][0]['content'] holds text with a lone surrogate",
        history="lone-surrogate-in-text",
    ),
    "tool-arguments-json-cannot-carry": PerCall(
        "tool call 'get_weather': arguments['when'] holds a date, which JSON cannot carry",
        history="tool-arguments-json-cannot-carry",
    ),
    "temperature-above-2": PerCall(
        "temperature must be from 0 to 2; got 2.5", kwargs={"temperature": 2.5}
    ),
    "temperature-below-0": PerCall(
        "temperature must be from 0 to 2; got -0.1", kwargs={"temperature": -0.1}
    ),
    "top-p-above-1": PerCall("top_p must be from 0 to 1; got 1.5", kwargs={"top_p": 1.5}),
    "cloudflare-temperature-above-1": PerCall(
        "temperature must be from 0 to 1; got 1.5",
        provider="cloudflare-chat",
        kwargs={"temperature": 1.5},
    ),
    "runware-top-p-above-1": PerCall(
        "top_p must be from 0 to 1; got 1.01", provider="runware-tasks", kwargs={"top_p": 1.01}
    ),
    "max-tokens-above-the-model-limit": PerCall(
        "max_tokens must be 1 to 524,288 for MiniMax-M3; got 600000",
        kwargs={"max_tokens": 600_000},
    ),
    "runware-max-tokens-above-its-limit": PerCall(
        "max_tokens must be 1 to 512,000 for minimax:m3@0; got 520000",
        provider="runware-tasks",
        kwargs={"max_tokens": 520_000},
    ),
    "max-tokens-zero": PerCall("max_tokens must be 1 to 524,288", kwargs={"max_tokens": 0}),
    "n-of-2": PerCall(
        "n must be 1 on provider 'minimax' with api='chat_completions', which returns one "
        "answer per request (provider 'runware' with api='runware_tasks' takes 1 to 4); got 2",
        kwargs={"n": 2},
    ),
    "thinking-unknown": PerCall(
        "thinking must be 'adaptive', 'disabled' or None; got 'enabled'",
        kwargs={"thinking": "enabled"},
    ),
    "tool-result-without-its-call": PerCall(
        "messages[1]: a tool result must directly follow the assistant message that called it",
        history="tool-result-without-its-call",
    ),
    "tool-call-without-its-result": PerCall(
        "messages[2]: tool calls ['call_1'] of the assistant message before it have no result",
        history="tool-call-without-its-result",
    ),
    "image-over-10-mb": PerCall(
        "messages[0]: an inline image must be at most 10 MB on provider 'minimax'; got 10.0 MB",
        history="image-over-10-mb",
    ),
    "cloudflare-image-over-10-mb": PerCall(
        "an inline image must be at most 10 MB on provider 'cloudflare'",
        provider="cloudflare-chat",
        history="image-over-10-mb",
        modes=("invoke", "astream"),
    ),
    "video-over-50-mb": PerCall(
        "messages[0]: an inline video must be at most 50 MB on provider 'minimax'",
        history="video-over-50-mb",
        modes=("stream",),
    ),
}
PER_CALL_RUNS = [
    pytest.param(driver, name, id=f"{driver}-{name}")
    for driver in all_drivers()
    for name, case in PER_CALL.items()
    if driver.mode in case.modes
]


@pytest.mark.parametrize(("driver", "name"), PER_CALL_RUNS)
async def test_a_bad_call_argument_is_refused_before_sending(
    driver: Driver, name: str, emulator: MiniMaxEmulator
) -> None:
    case = PER_CALL[name]
    model = driver.make(**provider_settings(case.provider, emulator), max_retries=0)
    messages = history(driver, case.history) if case.history else [driver.user("Hi")]
    with pytest.raises(ValueError, match=re.escape(case.expected)):
        await driver.ask_messages(model, messages, **(case.kwargs or {}))
    assert emulator.requests == []
    tried_bad_input()


@pytest.mark.parametrize("driver", all_drivers(), ids=str)
async def test_an_unknown_call_argument_is_refused_by_name(
    driver: Driver, emulator: MiniMaxEmulator
) -> None:
    model = driver.make(**provider_settings("minimax-chat", emulator))
    # LangChain says ValueError for a bad call argument; LlamaIndex, like Python, TypeError.
    with pytest.raises((ValueError, TypeError)) as caught:
        await driver.ask(model, "Hi", temprature=0.5)
    message = str(caught.value)
    assert "temprature" in message
    assert "'temperature'" in message, "the error lists what is allowed"
    assert emulator.requests == []
    tried_bad_input()


# Settings, refused when the model is built.


@dataclass(frozen=True)
class Setting:
    settings: dict[str, Any]
    expected: str
    drop_env: tuple[str, ...] = ()


SETTINGS = {
    "unknown-provider": Setting(
        {"provider": "openai"},
        "provider must be one of 'minimax', 'cloudflare', 'runware', 'openai-compatible'; "
        "got 'openai'",
    ),
    "minimax-with-runware-tasks": Setting(
        {"api": "runware_tasks"},
        "api must be one of 'chat_completions', 'anthropic_messages' for provider 'minimax'; "
        "got 'runware_tasks'",
    ),
    "runware-with-anthropic-messages": Setting(
        {"provider": "runware", "api": "anthropic_messages"},
        "api must be one of 'runware_tasks', 'chat_completions' for provider 'runware'",
    ),
    "self-hosted-with-anthropic-messages": Setting(
        {
            "provider": "openai-compatible",
            "api": "anthropic_messages",
            "base_url": "http://127.0.0.1:9/v1",
        },
        "api must be one of 'chat_completions' for provider 'openai-compatible'",
    ),
    "unknown-api": Setting(
        {"api": "responses"},
        "api must be one of 'chat_completions', 'anthropic_messages' for provider 'minimax'",
    ),
    "cloudflare-without-account-id": Setting(
        {"provider": "cloudflare"},
        "account_id is required for provider 'cloudflare': pass account_id= or set "
        "CLOUDFLARE_ACCOUNT_ID",
        drop_env=("CLOUDFLARE_ACCOUNT_ID",),
    ),
    "self-hosted-without-base-url": Setting(
        {"provider": "openai-compatible", "base_url": None},
        "base_url is required for provider 'openai-compatible'",
    ),
    "base-url-without-a-scheme": Setting(
        {"base_url": "api.minimax.io"}, "base_url must start with http:// or https://"
    ),
    "temperature-above-2": Setting({"temperature": 2.5}, "temperature must be from 0 to 2"),
    "cloudflare-temperature-above-1": Setting(
        {"provider": "cloudflare", "account_id": "acct", "temperature": 1.2},
        "temperature must be from 0 to 1; got 1.2",
    ),
    "cloudflare-top-p-above-1": Setting(
        {"provider": "cloudflare", "account_id": "acct", "top_p": 1.2},
        "top_p must be from 0 to 1; got 1.2",
    ),
    "max-tokens-above-the-model-limit": Setting(
        {"max_tokens": 10**7}, "max_tokens must be 1 to 524,288 for MiniMax-M3"
    ),
    "m2-max-tokens-above-its-limit": Setting(
        {"model": "MiniMax-M2.7", "max_tokens": 300_000},
        "max_tokens must be 1 to 204,800 for MiniMax-M2.7",
    ),
    "n-of-3": Setting(
        {"n": 3},
        "n must be 1 on provider 'minimax' with api='chat_completions', which returns one "
        "answer per request (provider 'runware' with api='runware_tasks' takes 1 to 4); got 3",
    ),
    "thinking-unknown": Setting(
        {"thinking": "always"}, "thinking\n  Input should be 'adaptive' or 'disabled'"
    ),
    "negative-timeout": Setting(
        {"timeout": -1}, "timeout must be a positive, finite number of seconds"
    ),
    "negative-max-retries": Setting({"max_retries": -1}, "max_retries must be a whole number >= 0"),
    "gateway-id-off-cloudflare": Setting(
        {"gateway_id": "gw"}, "gateway_id is for provider 'cloudflare'"
    ),
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_bad_setting_is_refused_when_the_model_is_built(
    name: str, framework: str, emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = SETTINGS[name]
    for variable in case.drop_env:
        monkeypatch.delenv(variable, raising=False)
    settings = {"api_key": KEY, "base_url": emulator.base_url, **case.settings}
    settings = {key: value for key, value in settings.items() if value is not None}
    with pytest.raises(ValueError, match=re.escape(case.expected)):
        Driver(framework, "invoke").make(**settings)
    assert emulator.requests == []
    tried_bad_input()


def test_an_unknown_llama_index_setting_is_refused_by_name(emulator: MiniMaxEmulator) -> None:
    # Product fix: LlamaIndex's pydantic model dropped unknown keyword arguments silently,
    # so MiniMaxM3(n=2) or a misspelt temprature=0.2 went unnoticed.
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['temprature'\]") as caught:
        MiniMaxM3(api_key=KEY, base_url=emulator.base_url, temprature=0.2)
    assert "'temperature'" in str(caught.value)
    assert MiniMaxM3(api_key=KEY, n=1).model == "MiniMax-M3"
    assert ChatMiniMaxM3(api_key=KEY, n=1).n == 1
    assert emulator.requests == []
    tried_bad_input()


# A missing key is no bad setting: a model may be built before its secrets are there
# (at import time, in CI, from_dict), as llama-index-llms-openai and -anthropic allow.
# The first call refuses it, naming the variable to set, before anything is sent.
MISSING_KEYS = {
    "missing-minimax-key": Setting(
        {"api_key": None},
        "api_key is required for provider 'minimax': pass api_key= or set MINIMAX_API_KEY",
        drop_env=("MINIMAX_API_KEY",),
    ),
    "missing-cloudflare-token": Setting(
        {"api_key": None, "provider": "cloudflare", "account_id": "acct"},
        "api_key is required for provider 'cloudflare': pass api_key= or set CLOUDFLARE_API_TOKEN",
        drop_env=("CLOUDFLARE_API_TOKEN",),
    ),
    "missing-runware-key": Setting(
        {"api_key": None, "provider": "runware"},
        "api_key is required for provider 'runware': pass api_key= or set RUNWARE_API_KEY",
        drop_env=("RUNWARE_API_KEY",),
    ),
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("call", ["invoke", "stream"])
@pytest.mark.parametrize("name", list(MISSING_KEYS))
async def test_a_missing_key_is_refused_at_the_first_call_naming_the_variable(
    name: str, call: str, framework: str, emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = MISSING_KEYS[name]
    for variable in case.drop_env:
        monkeypatch.delenv(variable, raising=False)
    driver = Driver(framework, call)
    model = driver.make(base_url=emulator.base_url, **case.settings)
    with pytest.raises(ValueError, match=re.escape(case.expected)):
        await driver.ask(model)
    assert emulator.requests == []
    tried_bad_input()


# The size checks on their own: counted from the length of the data URL, not decoded.


@pytest.mark.parametrize(
    ("url", "size"),
    [
        ("data:image/png;base64,", 0),
        ("data:image/png;base64,AAAA", 3),
        ("data:image/png;base64,AAA=", 2),
        ("data:image/png;base64,AA==", 1),
        ("DATA:image/png;BASE64,AAAAAAAA", 6),
        ("data:text/plain,hello", 5),
        ("data:text/plain,a%20b", 3),
        ("data:,", 0),
        ("https://example.com/cat.png", None),
        ("mm_file://abc", None),
    ],
)
def test_data_url_size_is_counted_without_decoding(url: str, size: int | None) -> None:
    assert data_url_size(url) == size
    if size:
        payload = url.split(",", 1)[1]
        decoded = (
            base64.b64decode(payload) if ";base64" in url.lower() else payload.replace("%20", " ")
        )
        assert len(decoded) == size


@pytest.mark.parametrize("provider", ["minimax", "cloudflare", "runware"])
def test_images_up_to_the_limit_pass_and_one_byte_more_fails(provider: str) -> None:
    profile = PROVIDERS[provider]
    limit = profile.max_image_bytes
    assert limit == 10 * MB

    def request(size: int) -> ChatRequest:
        url = "data:image/png;base64," + base64.b64encode(b"\x00" * size).decode()
        content = [ImagePart(url=url)]
        return ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content=content)])

    validate_request(request(limit), profile)
    with pytest.raises(ValueError, match="an inline image must be at most 10 MB"):
        validate_request(request(limit + 1), profile)
    tried_bad_input()


def test_a_self_hosted_server_sets_its_own_media_limits() -> None:
    url = "data:video/mp4;base64," + "A" * (80 * MB)
    content = [VideoPart(url=url)]
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content=content)])
    validate_request(request, PROVIDERS["openai-compatible"])


def test_a_request_body_over_64_mb_is_refused_before_sending(emulator: MiniMaxEmulator) -> None:
    image = "data:image/png;base64," + "A" * (13 * MB)  # 9.75 MB each, under the image limit
    content = [ImagePart(url=image) for _ in range(7)]
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content=content)])
    transport = Transport(api_key=KEY, base_url=emulator.base_url)
    with pytest.raises(ValueError, match=r"the request body must be at most 64 MB on provider"):
        transport.build_http_request(request, stream=False)
    assert emulator.requests == []
    tried_bad_input()
