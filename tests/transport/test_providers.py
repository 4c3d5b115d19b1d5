"""Cloudflare and self-hosted servers, at the wire: URLs, headers, envelopes, quirks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from replaying import summarise

from minimax_m3.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    NotFoundError,
    RateLimitError,
)
from minimax_m3.retry import RetryPolicy
from minimax_m3.transport import Transport
from minimax_m3.types import ChatRequest, Message, NamedToolChoice, StreamEnd, ToolSpec

WEATHER = ToolSpec(
    "get_weather", "Weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)
FAST = RetryPolicy(max_retries=1, initial_delay=0.001, max_delay=0.001)


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> dict[str, Any]:
    transport = httpx.MockTransport(handler)
    return {
        "http_client": httpx.Client(transport=transport),
        "http_async_client": httpx.AsyncClient(transport=transport),
        "retry_policy": FAST,
    }


def ask(model: str = "minimax/m3", **kwargs: Any) -> ChatRequest:
    return ChatRequest(model=model, messages=[Message(role="user", content="Hi")], **kwargs)


COMPLETION = {
    "id": "066cf8a95614a7ebfcaa6ffd7f2cd663",
    "model": "MiniMax-M3",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "reasoning_content": "Easy."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    "gatewayMetadata": {"keySource": "Unified"},
}


def test_cloudflare_url_token_gateway_and_max_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-token")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct123")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=COMPLETION)

    transport = Transport(provider="cloudflare", gateway_id="my-gw", **mock(handler))
    result = transport.complete(ask(max_tokens=2048, temperature=0.7))
    assert (result.text, result.reasoning_text) == ("Paris.", "Easy.")
    [request] = seen
    assert str(request.url) == (
        "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1/chat/completions"
    )
    assert request.headers["authorization"] == "Bearer cf-token"
    assert request.headers["cf-aig-gateway-id"] == "my-gw"
    body = json.loads(request.content)
    assert body["max_tokens"] == 2048
    assert "reasoning_split" not in body
    assert body["model"] == "minimax/m3"


def test_cloudflare_messages_path() -> None:
    transport = Transport(
        provider="cloudflare", api="anthropic_messages", api_key="t", account_id="a1"
    )
    assert transport.url == "https://api.cloudflare.com/client/v4/accounts/a1/ai/v1/messages"


def test_cloudflare_result_wrapper_is_unwrapped() -> None:
    wrapped = {"result": COMPLETION, "success": True, "errors": [], "messages": []}
    transport = Transport(
        provider="cloudflare",
        api_key="t",
        account_id="a",
        **mock(lambda r: httpx.Response(200, json=wrapped)),
    )
    assert transport.complete(ask()).text == "Paris."


@pytest.mark.parametrize(
    ("status", "code", "error_class", "attempts"),
    [
        (401, 10000, AuthenticationError, 1),
        (404, 7003, NotFoundError, 1),
        (402, 2021, InsufficientBalanceError, 1),
        (200, 2021, InsufficientBalanceError, 1),
        (429, 3040, RateLimitError, 2),
    ],
    ids=["10000", "7003", "2021", "2021-on-200", "3040-retried"],
)
def test_cloudflare_error_envelope(
    status: int, code: int, error_class: type[Exception], attempts: int
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        envelope = {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": "no"}],
            "messages": [],
        }
        return httpx.Response(status, json=envelope)

    transport = Transport(provider="cloudflare", api_key="t", account_id="a", **mock(handler))
    with pytest.raises(error_class) as caught:
        transport.complete(ask())
    assert getattr(caught.value, "provider_code", None) == code
    assert len(seen) == attempts


def test_cloudflare_tool_choice_limits() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=COMPLETION)

    transport = Transport(provider="cloudflare", api_key="t", account_id="a", **mock(handler))
    with pytest.raises(ValueError, match="tool_choice='required' with several tools"):
        transport.complete(ask(tools=[WEATHER, ToolSpec("other")], tool_choice="required"))
    with pytest.raises(ValueError, match="temperature must be from 0 to 1"):
        transport.complete(ask(temperature=1.5))
    assert seen == []
    transport.complete(
        ask(tools=[WEATHER, ToolSpec("other")], tool_choice=NamedToolChoice("get_weather"))
    )
    assert seen[0]["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in seen[0]["tools"]] == ["get_weather"]
    # With one tool, "required" means that tool: the same request as naming it.
    transport.complete(ask(tools=[WEATHER], tool_choice="required"))
    assert seen[1]["tool_choice"] == "auto"


def test_missing_tool_call_id_gets_one_made_up() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {"type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    transport = Transport(
        provider="cloudflare",
        api_key="t",
        account_id="a",
        **mock(lambda r: httpx.Response(200, json=body)),
    )
    [call] = transport.complete(ask()).tool_calls
    assert call.id
    assert call.name == "f"


def test_gateway_id_is_only_for_cloudflare() -> None:
    with pytest.raises(ValueError, match="gateway_id is for provider 'cloudflare'"):
        Transport(api_key="k", gateway_id="gw")


# Self-hosted vLLM / SGLang serving the open weights


SELF_HOSTED_TEXT = (
    "The user wants weather.</mm:think>\n\n"
    '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n'
    "</invoke>\n</minimax:tool_call>"
)


def test_self_hosted_without_parsers_whole_answer() -> None:
    body = {
        "choices": [
            {"message": {"role": "assistant", "content": SELF_HOSTED_TEXT}, "finish_reason": "stop"}
        ]
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    transport = Transport(
        provider="openai-compatible", base_url="http://gpu-box:8000/v1", **mock(handler)
    )
    result = transport.complete(ask("MiniMaxAI/MiniMax-M3", tools=[WEATHER]))
    assert result.reasoning_text == "The user wants weather."
    assert result.text == ""
    assert [(c.name, c.parsed_arguments()) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert result.finish_reason == "tool_calls"
    assert str(seen[0].url) == "http://gpu-box:8000/v1/chat/completions"
    assert "authorization" not in seen[0].headers


def test_self_hosted_stream_with_think_tags_and_xml_tool_calls() -> None:
    pieces = ["<think>", "The user wants weather.", "</think>\n\n"] + [
        SELF_HOSTED_TEXT.split("</mm:think>\n\n")[1][i : i + 9] for i in range(0, 200, 9)
    ]
    chunks = [{"choices": [{"delta": {"content": p}}]} for p in pieces if p]
    chunks.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    transport = Transport(
        provider="openai-compatible",
        base_url="http://gpu-box:8000/v1",
        **mock(
            lambda r: httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
        ),
    )
    events = list(transport.stream(ask("MiniMaxAI/MiniMax-M3", tools=[WEATHER])))
    seen = summarise(events)
    assert seen["reasoning"] == "The user wants weather."
    assert seen["text"].strip() == ""
    assert seen["tools"][0]["name"] == "get_weather"
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert end.result.tool_calls[0].parsed_arguments() == {"city": "Paris"}
    assert end.result.finish_reason == "tool_calls"


def test_cloudflare_error_envelope_inside_a_stream_keeps_its_code() -> None:
    sse = (
        'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n'
        'data: {"success": false, "errors": [{"code": 3040, "message": "Capacity"}]}\n\n'
    )
    transport = Transport(
        provider="cloudflare",
        api_key="t",
        account_id="a",
        **mock(
            lambda r: httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
        ),
    )
    with pytest.raises(RateLimitError) as caught:
        list(transport.stream(ask()))
    assert caught.value.provider_code == 3040


def test_every_wire_format_a_provider_names_is_registered() -> None:
    from typing import get_args

    from minimax_m3.providers import PROVIDERS, ApiName
    from minimax_m3.wire import wire_format

    for api in get_args(ApiName):
        assert callable(wire_format(api))
    for profile in PROVIDERS.values():
        # Every format a provider offers has its path, and only those.
        assert set(profile.apis) == set(profile.paths)
        assert set(profile.apis) <= set(get_args(ApiName))
