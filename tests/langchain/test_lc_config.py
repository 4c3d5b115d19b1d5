"""Construction, settings, serialization, profile and tracing parameters."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from langchain_core.load import dumpd, dumps, load
from pydantic import SecretStr, ValidationError

from langchain_minimax_m3 import ChatMiniMaxM3
from minimax_m3.testing import MiniMaxEmulator

MakeModel = Callable[..., ChatMiniMaxM3]


@pytest.fixture(autouse=True)
def _no_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MINIMAX_API_KEY", "MINIMAX_BASE_URL", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"temperature": 3.0}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10_000_000}, "max_tokens"),
        ({"thinking": "always"}, "thinking"),
        ({"provider": "nowhere"}, "provider"),
        ({"api": "grpc"}, "api"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"temprature": 0.5}, "temprature"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_setting(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        ChatMiniMaxM3(api_key="k", **settings)


async def test_a_model_without_a_key_is_built_and_its_first_call_names_the_variable(
    emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    # Built at import time, before secrets are injected, as graph definitions are.
    model = ChatMiniMaxM3(base_url=emulator.base_url)
    with pytest.raises(ValueError, match=r"api_key is required .* set MINIMAX_API_KEY"):
        model.invoke("hi")
    with pytest.raises(ValueError, match="MINIMAX_API_KEY"):
        await model.ainvoke("hi")
    assert emulator.requests == []
    # The key set afterwards is found by the next call.
    monkeypatch.setenv("MINIMAX_API_KEY", "set-later")
    assert model.invoke("hi").content
    assert emulator.requests[-1].headers["authorization"] == "Bearer set-later"


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", "from-env")
    model = ChatMiniMaxM3()
    assert isinstance(model.api_key, SecretStr)
    assert model.api_key.get_secret_value() == "from-env"
    alias = ChatMiniMaxM3(minimax_api_key="by-alias")
    assert alias.api_key is not None
    assert alias.api_key.get_secret_value() == "by-alias"


async def test_requests_go_to_minimax_base_url_from_the_environment(
    emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINIMAX_BASE_URL", emulator.base_url + "/v1")
    await ChatMiniMaxM3(api_key="k").ainvoke("hi")
    [request] = emulator.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k"


@pytest.mark.parametrize(
    ("provider", "settings", "model"),
    [
        ("minimax", {}, "MiniMax-M3"),
        ("cloudflare", {"account_id": "acc"}, "minimax/m3"),
        ("openai-compatible", {"base_url": "http://localhost:8000/v1"}, "MiniMax-M3"),
    ],
)
def test_the_default_model_follows_the_provider(
    provider: str, settings: dict[str, Any], model: str
) -> None:
    chat = ChatMiniMaxM3(provider=provider, api_key="k", **settings)
    assert chat.model == model
    assert chat.profile is not None
    assert chat.profile["max_input_tokens"] == 1_000_000


def test_profile_comes_from_the_model_table() -> None:
    m3 = ChatMiniMaxM3(api_key="k").profile
    assert m3 is not None
    assert m3["max_input_tokens"] == 1_000_000
    assert m3["max_output_tokens"] == 524_288
    assert (m3["image_inputs"], m3["video_inputs"]) == (True, True)
    assert (m3["tool_calling"], m3["reasoning_output"]) == (True, True)
    m2 = ChatMiniMaxM3(api_key="k", model="MiniMax-M2.7").profile
    assert m2 is not None
    assert m2["max_input_tokens"] == 204_800
    assert m2["image_inputs"] is False
    assert ChatMiniMaxM3(api_key="k", model="some-other-model").profile is None


def test_tracing_parameters() -> None:
    model = ChatMiniMaxM3(api_key="k", temperature=0.3, max_tokens=99, stop=["END"])
    assert model._get_ls_params() == {
        "ls_provider": "minimax",
        "ls_model_name": "MiniMax-M3",
        "ls_model_type": "chat",
        "ls_temperature": 0.3,
        "ls_max_tokens": 99,
        "ls_stop": ["END"],
    }
    assert model._get_ls_params(model="MiniMax-M2.5", stop=["X"])["ls_model_name"] == "MiniMax-M2.5"
    assert model._get_ls_params(stop=["X"])["ls_stop"] == ["X"]


# langchain-core marks load() itself as beta.
@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serialization_round_trips_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatMiniMaxM3(
        api_key="sk-secret-123", temperature=0.5, thinking="adaptive", base_url="https://x.io"
    )
    assert "sk-secret-123" not in dumps(model)
    assert "sk-secret-123" not in repr(model)
    assert "sk-secret-123" not in str(model.model_dump())
    data = dumpd(model)
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["MINIMAX_API_KEY"]}

    monkeypatch.setenv("MINIMAX_API_KEY", "sk-from-env")
    restored = load(
        data,
        valid_namespaces=["langchain_minimax_m3"],
        allowed_objects=[ChatMiniMaxM3],
        secrets_from_env=True,
    )
    assert isinstance(restored, ChatMiniMaxM3)
    assert restored.api_key is not None
    assert restored.api_key.get_secret_value() == "sk-from-env"
    assert (restored.temperature, restored.thinking, restored.base_url) == (
        0.5,
        "adaptive",
        "https://x.io",
    )
    assert restored._identifying_params == model._identifying_params


async def test_own_http_clients_and_headers_are_used(emulator: MiniMaxEmulator) -> None:
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append("sync")

    async def ahook(request: httpx.Request) -> None:
        seen.append("async")

    with httpx.Client(event_hooks={"request": [hook]}) as client:
        async with httpx.AsyncClient(event_hooks={"request": [ahook]}) as aclient:
            model = ChatMiniMaxM3(
                api_key="k",
                base_url=emulator.base_url,
                http_client=client,
                http_async_client=aclient,
                default_headers={"x-team": "agents"},
            )
            model.invoke("one")
            await model.ainvoke("two")
    assert seen == ["sync", "async"]
    assert [r.headers["x-team"] for r in emulator.requests] == ["agents", "agents"]
    assert "http_client" not in dumpd(model)["kwargs"]


def test_importing_the_package_is_light() -> None:
    code = (
        "import sys, langchain_minimax_m3\n"
        "heavy = [m for m in ('langchain_minimax_m3.chat_models', 'langchain_core', "
        "'minimax_m3.testing', 'httpx') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from langchain_minimax_m3 import ChatMiniMaxM3\n"
        "assert 'minimax_m3.testing' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_credential_headers_stay_out_of_langchain_serialization() -> None:
    from langchain_core.load import dumps

    from langchain_minimax_m3 import ChatMiniMaxM3

    llm = ChatMiniMaxM3(
        api_key="sk-key",
        default_headers={"Authorization": "Bearer sk-other", "X-Team": "qa"},
    )
    text = dumps(llm)
    assert "sk-other" not in text
    assert "sk-key" not in text
    assert "X-Team" in text
