"""The transport's own connection pool and its JSON parser: same behaviour, less per call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from minimax_m3 import ChatRequest, Message, Transport, jsonio
from minimax_m3 import transport as transport_module
from minimax_m3.pools import environment_proxy

SEED_BODY = {
    "id": "r1",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}}],
}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [true, null, 1.5, "é"]}',
        '{"a": 1, "a": 2}',
        '{"n": 123456789012345678901234567890}',
        '{"x": NaN, "y": Infinity}',
        '"\\ud800"',  # a lone surrogate escape: refused by pydantic-core, taken by json
        "  [1, 2]  ",
    ],
)
def test_loads_gives_what_json_loads_gives(text: str) -> None:
    expected = json.loads(text)
    got = jsonio.loads(text)
    assert repr(got) == repr(expected)
    assert repr(jsonio.loads(text.encode())) == repr(expected)


@pytest.mark.parametrize("text", ["", "x", '{"a": 1} x', "[1, 2", b"\xff", "[" * 100_000])
def test_loads_refuses_what_is_not_json_with_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError, match=r"Expecting|Extra data|utf-8|nested too deeply"):
        jsonio.loads(text)


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://api.minimax.io/v1", None),
        ({"https_proxy": "http://proxy:3128"}, "https://api.minimax.io/v1", "http://proxy:3128"),
        ({"https_proxy": "proxy:3128"}, "https://api.minimax.io/v1", "http://proxy:3128"),
        ({"http_proxy": "http://proxy:3128"}, "https://api.minimax.io/v1", None),
        ({"all_proxy": "socks5://proxy:1080"}, "https://api.minimax.io/v1", "socks5://proxy:1080"),
        (
            {"https_proxy": "http://proxy:3128", "no_proxy": "minimax.io"},
            "https://api.minimax.io/v1",
            None,
        ),
        ({"https_proxy": "http://proxy:3128", "no_proxy": "*"}, "https://api.minimax.io", None),
    ],
)
def test_the_pool_takes_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, expected: str | None
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == expected


def test_the_pool_sends_with_the_transport_timeout_and_keeps_no_cookies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=SEED_BODY, headers={"set-cookie": "affinity=1; Path=/"})

    pool = httpx.MockTransport(handler)
    monkeypatch.setattr(transport_module, "shared_sync_pool", lambda *args: pool)
    transport = Transport(api_key="k", base_url="https://api.minimax.io", timeout=7)
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content="Hi")])
    assert transport.complete(request).text == "Hi"
    assert transport.complete(request).text == "Hi"
    timeout: dict[str, Any] = seen[0].extensions["timeout"]
    assert timeout["read"] == 7
    assert all("cookie" not in sent.headers for sent in seen)
    assert str(seen[0].url) == "https://api.minimax.io/v1/chat/completions"


def test_the_key_shows_in_no_repr_and_comes_back_as_a_secret() -> None:
    transport = Transport(api_key="sk-very-secret", base_url="https://api.minimax.io")
    assert "sk-very-secret" not in repr(transport)
    assert "sk-very-secret" not in repr(vars(transport))
    key = transport.api_key
    assert key is not None
    assert key.get_secret_value() == "sk-very-secret"
    assert "sk-very-secret" not in repr(key)
