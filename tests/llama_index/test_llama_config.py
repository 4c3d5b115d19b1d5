"""Construction, metadata, serialization and pickling: what a user sees before any call."""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable

import httpx
import pytest
from llama_helpers import Mode, user

from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.testing import MiniMaxEmulator, Reply

SECRET = "sk-secret-123"


@pytest.fixture(autouse=True)
def _no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MINIMAX_API_KEY", "MINIMAX_BASE_URL", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("model", "window"),
    [
        ("MiniMax-M3", 1_000_000),
        ("MiniMax-M2.7", 204_800),
        ("MiniMax-M2.7-highspeed", 204_800),
        ("MiniMax-M2.5", 204_800),
        ("MiniMax-M2.1", 204_800),
        ("MiniMax-M2", 204_800),
    ],
)
def test_metadata_from_the_model_table(model: str, window: int) -> None:
    metadata = MiniMaxM3(model, api_key=SECRET).metadata
    assert metadata.context_window == window
    assert metadata.is_function_calling_model is True
    assert metadata.is_chat_model is True
    assert metadata.model_name == model
    assert metadata.num_output == -1


def test_num_output_is_max_tokens() -> None:
    assert MiniMaxM3(api_key=SECRET, max_tokens=2048).metadata.num_output == 2048


@pytest.mark.parametrize(
    ("kwargs", "num_output"),
    [
        ({"api": "anthropic_messages"}, 131_072),
        ({"api": "anthropic_messages", "model": "MiniMax-M2.7"}, 65_536),
        ({"api": "anthropic_messages", "max_tokens": 1000}, 1000),
        ({"max_tokens": 1000}, 1000),
    ],
)
async def test_num_output_is_the_cap_sent(
    emulator: MiniMaxEmulator, kwargs: dict[str, object], num_output: int
) -> None:
    # What PromptHelper reserves for the answer is what each request goes out with.
    llm = MiniMaxM3(api_key=SECRET, base_url=emulator.base_url, **kwargs)
    assert llm.metadata.num_output == num_output
    await llm.achat(user("Hi"))
    sent = emulator.requests[0].json
    assert sent.get("max_tokens", sent.get("max_completion_tokens")) == num_output


async def test_num_output_is_unknown_when_no_cap_is_sent(emulator: MiniMaxEmulator) -> None:
    # Chat Completions sends none unless asked; the provider's own limit applies.
    llm = MiniMaxM3(api_key=SECRET, base_url=emulator.base_url)
    assert llm.metadata.num_output == -1
    await llm.achat(user("Hi"))
    assert not {"max_tokens", "max_completion_tokens"} & set(emulator.requests[0].json)


@pytest.mark.parametrize(
    ("provider", "extra", "model"),
    [
        ("minimax", {}, "MiniMax-M3"),
        ("cloudflare", {"account_id": "acct"}, "minimax/m3"),
        ("runware", {}, "minimax:m3@0"),
    ],
)
def test_default_model_follows_the_provider(
    provider: str, extra: dict[str, str], model: str
) -> None:
    llm = MiniMaxM3(provider=provider, api_key=SECRET, **extra)
    assert llm.model == model
    assert llm.metadata.context_window == 1_000_000
    assert llm.metadata.is_function_calling_model


def test_key_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIMAX_API_KEY", SECRET)
    assert MiniMaxM3().class_name() == "MiniMaxM3"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"api_key": SECRET, "temperature": 3.0}, "temperature"),
        ({"api_key": SECRET, "top_p": 1.5}, "top_p"),
        ({"api_key": SECRET, "max_tokens": 0}, "max_tokens"),
        ({"api_key": SECRET, "thinking": "sometimes"}, "thinking"),
        ({"api_key": SECRET, "provider": "acme"}, "provider"),
        ({"api_key": SECRET, "api": "grpc"}, "api"),
        ({"api_key": SECRET, "provider": "cloudflare"}, "account_id"),
        ({"api_key": SECRET, "base_url": "api.minimax.io"}, "base_url"),
        ({"api_key": SECRET, "max_retries": -1}, "max_retries"),
        ({"api_key": SECRET, "timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_fail_at_construction_naming_the_setting(
    kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        MiniMaxM3(**kwargs)


def test_the_key_never_shows() -> None:
    llm = MiniMaxM3(
        api_key=SECRET,
        base_url="https://api.minimax.io",
        default_headers={"Authorization": f"Bearer {SECRET}", "x-team": "qa"},
    )
    dumped = llm.to_dict()
    assert "api_key" not in dumped
    assert dumped["default_headers"] == {"x-team": "qa"}
    assert dumped["class_name"] == "MiniMaxM3"
    for text in (repr(llm), str(llm), llm.to_json(), llm.model_dump_json(), str(llm.to_payload())):
        assert SECRET not in text
    assert SECRET.encode() not in pickle.dumps(llm)
    # The key is still there to use.
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == SECRET


async def test_built_without_a_key_it_asks_for_one_on_the_first_call(
    mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As llama-index-llms-openai and -anthropic: objects built at import time, from a
    # saved dict or before secrets are injected construct; the call names what to set.
    with MiniMaxEmulator(api_key=SECRET) as emulator:
        saved = MiniMaxM3(api_key=SECRET, base_url=emulator.base_url, temperature=0.4).to_dict()
        restored = MiniMaxM3.from_dict(saved)
        assert restored.api_key is None
        assert MiniMaxM3().model == "MiniMax-M3"

        with pytest.raises(ValueError, match="MINIMAX_API_KEY"):
            await mode.chat(restored, user("Hi"))
        with pytest.raises(ValueError, match="MINIMAX_API_KEY"):
            await mode.call(
                lambda: restored.count_tokens(user("Hi")),
                lambda: restored.acount_tokens(user("Hi")),
            )
        assert emulator.requests == []

        monkeypatch.setenv("MINIMAX_API_KEY", SECRET)
        emulator.queue(Reply(text="Now with a key."))
        response = await mode.chat(restored, user("Hi"))
        assert response.message.content == "Now with a key."
        assert emulator.requests[0].json["temperature"] == 0.4


def test_round_trip_through_to_dict() -> None:
    llm = MiniMaxM3("MiniMax-M2.7", api_key=SECRET, temperature=0.2, stop=["END"])
    again = MiniMaxM3.from_dict(llm.to_dict(), api_key=SECRET)
    assert (again.model, again.temperature, again.stop) == ("MiniMax-M2.7", 0.2, ["END"])


async def test_unpickled_llm_reads_the_key_from_the_environment(
    mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MiniMaxEmulator(api_key=SECRET) as emulator:
        llm = MiniMaxM3(api_key=SECRET, base_url=emulator.base_url, temperature=0.4)
        restored = pickle.loads(pickle.dumps(llm))
        assert restored.temperature == 0.4
        assert restored.api_key is None

        with pytest.raises(ValueError, match="MINIMAX_API_KEY"):
            await mode.chat(restored, user("Hi"))

        monkeypatch.setenv("MINIMAX_API_KEY", SECRET)
        emulator.queue(Reply(text="Hello again."))
        response = await mode.chat(restored, user("Hi"))
        assert response.message.content == "Hello again."
        assert emulator.requests[-1].json["temperature"] == 0.4


async def test_changing_a_connection_setting_takes_effect(
    mode: Mode, make_llm: Callable[..., MiniMaxM3]
) -> None:
    with MiniMaxEmulator(api_key="second-key") as other:
        llm = make_llm()
        llm.base_url = other.base_url
        llm.api_key = "second-key"
        assert SECRET not in repr(llm)
        assert "second-key" not in repr(llm)
        other.queue(Reply(text="From the other one."))
        response = await mode.chat(llm, user("Hi"))
        assert response.message.content == "From the other one."
        assert other.requests[0].headers["authorization"] == "Bearer second-key"


async def test_a_copy_with_another_base_url_goes_there(
    mode: Mode, make_llm: Callable[..., MiniMaxM3]
) -> None:
    with MiniMaxEmulator(api_key="copy-key") as other:
        llm = make_llm(temperature=0.5)
        copy = llm.model_copy(update={"base_url": other.base_url, "api_key": "copy-key"})
        assert "copy-key" not in repr(copy)
        other.queue(Reply(text="Copied."))
        response = await mode.chat(copy, user("Hi"))
        assert response.message.content == "Copied."
        assert other.requests[0].json["temperature"] == 0.5


def test_pickling_leaves_out_clients_and_keeps_the_live_object_whole() -> None:
    with httpx.Client() as client:
        llm = MiniMaxM3(api_key=SECRET, http_client=client)
        restored = pickle.loads(pickle.dumps(llm))
        assert restored.http_client is None
        assert llm.http_client is client
        assert llm.api_key is not None


@pytest.mark.parametrize(
    ("sync_name", "async_name"),
    [
        ("chat", "achat"),
        ("stream_chat", "astream_chat"),
        ("complete", "acomplete"),
        ("stream_complete", "astream_complete"),
        ("_chat", "_achat"),
        ("_stream_chat", "_astream_chat"),
    ],
)
def test_sync_and_async_signatures_agree(sync_name: str, async_name: str) -> None:
    sync_params = inspect.signature(getattr(MiniMaxM3, sync_name)).parameters
    async_params = inspect.signature(getattr(MiniMaxM3, async_name)).parameters
    assert list(sync_params) == list(async_params)


def test_package_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llama_index_minimax_m3; "
        "print('llama_index.core' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]
