"""The API key never leaks: reprs, errors, DEBUG logs, serialized and pickled objects, requests.

The key may travel in exactly one place, the Authorization header of a request to the
host it was given for. Everything else a user or a server could see is searched for it:
models and transports, errors (also when a provider echoes the key back), log records of
every logger involved at DEBUG, LangChain's serialization, LlamaIndex's ``to_dict`` and
``to_json``, pickles, every other part of every request the emulator received, and a
request redirected to another host.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps
from langchain_core.prompts import ChatPromptTemplate
from rel_helpers import (
    FRAMEWORKS,
    KEY,
    PROVIDERS,
    TINY_DELAYS,
    Clients,
    Driver,
    all_drivers,
    checked_secret,
    provider_settings,
    set_retry_delays,
    transport_of,
)

from minimax_m3.errors import AuthenticationError, MiniMaxM3Error, RateLimitError
from minimax_m3.pools import close_shared_clients
from minimax_m3.testing import Fault, MiniMaxEmulator, RecordedRequest, Reply

LOGGERS = ("minimax_m3", "httpx", "httpcore", "langchain_minimax_m3", "llama_index_minimax_m3")
ENV_VARIABLES = ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY")


def assert_no_key(where: str, text: str | bytes) -> None:
    needle: str | bytes = KEY.encode() if isinstance(text, bytes) else KEY
    assert needle not in text, f"the API key leaks through {where}"
    checked_secret()


def assert_key_only_in_authorization(request: RecordedRequest) -> None:
    assert request.headers.get("authorization") == f"Bearer {KEY}"
    assert_no_key("the request path", request.path + "?" + request.query)
    assert_no_key("the request body", request.body)
    others = {name: value for name, value in request.headers.items() if name != "authorization"}
    assert_no_key("another request header", repr(others))


# --- the model objects ------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_models_never_show_the_key(
    framework: str, provider: str, emulator: MiniMaxEmulator
) -> None:
    model = Driver(framework, "invoke").make(**provider_settings(provider, emulator))
    transport = transport_of(model)
    assert transport.api_key is not None
    assert transport.api_key.get_secret_value() == KEY  # it is there, just never shown
    views: dict[str, Any] = {
        "repr(model)": repr(model),
        "str(model)": str(model),
        "format(model)": f"{model!s:>10}",
        "repr(transport)": repr(transport),
        "model_dump()": repr(model.model_dump()),
        "model_dump_json()": model.model_dump_json(),
        "pickle": pickle.dumps(model),
    }
    if framework == "langchain":
        chain = ChatPromptTemplate.from_messages([("user", "{question}")]) | model
        bound = model.bind_tools([{"type": "function", "function": {"name": "f"}}])
        views |= {
            "langchain dumps(model)": dumps(model),
            "langchain dumpd(model)": repr(dumpd(model)),
            "model.to_json()": repr(model.to_json()),
            "langchain dumps(prompt | model)": dumps(chain),
            "langchain dumps(bound tools)": dumps(bound),
            "pickle of a bound model": pickle.dumps(bound),
        }
    else:
        views |= {
            "llama_index to_dict()": repr(model.to_dict()),
            "llama_index to_json()": model.to_json(),
            "llama_index dict()": repr(dict(model)),
        }
    for where, text in views.items():
        assert_no_key(where, text)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_an_unpickled_model_reads_the_key_from_the_environment(
    framework: str, emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Product fix: a pickled ChatMiniMaxM3 carried its API key (and its transport).
    driver = Driver(framework, "ainvoke")
    clients = Clients()
    model = driver.make(
        **provider_settings("minimax-chat", emulator),
        default_headers={"x-team": "qa", "Authorization": f"Bearer {KEY}"},
    )
    blob = pickle.dumps(model)
    assert_no_key("a pickle with credentials in default_headers", blob)
    monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
    restored = pickle.loads(blob)
    with pytest.raises(ValueError, match=r"api_key is required .* MINIMAX_API_KEY"):
        await driver.ask(restored)
    assert emulator.requests == []
    monkeypatch.setenv("MINIMAX_API_KEY", KEY)
    restored = pickle.loads(blob)
    emulator.queue(Reply(text="Unpickled and working."))
    assert (await driver.ask(restored)).text == "Unpickled and working."
    [request] = emulator.requests
    assert request.headers["x-team"] == "qa"
    assert_key_only_in_authorization(request)
    await clients.aclose()


# --- errors -----------------------------------------------------------------------------

ECHOED = f"Incorrect API key provided: {KEY}. You can find your key in the console."


@pytest.mark.parametrize(
    "provider", ["minimax-chat", "minimax-anthropic", "cloudflare-chat", "runware-tasks"]
)
async def test_errors_never_carry_the_key_even_when_the_provider_echoes_it(
    provider: str, driver: Driver, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    # Product fix: the transport now masks the key wherever a provider echoed it into an
    # error's message or body; before, str(error) and its pickle showed it.
    emulator.queue(Fault(status=401, message=ECHOED))
    settings = provider_settings(provider, emulator) | clients.settings()
    model = driver.make(**settings, max_retries=0)
    with pytest.raises(AuthenticationError) as caught:
        await driver.ask(model)
    error = caught.value
    assert "**********" in str(error), "the message is kept, with the key masked"
    for where, text in {
        "str(error)": str(error),
        "repr(error)": repr(error),
        "error.args": repr(error.args),
        "error.body": repr(error.body),
        "vars(error)": repr(vars(error)),
        "pickle of the error": pickle.dumps(error),
    }.items():
        assert_no_key(where, text)
    assert isinstance(pickle.loads(pickle.dumps(error)), MiniMaxM3Error)
    await clients.close_and_check(emulator)


@pytest.mark.parametrize("mode", ["stream", "astream"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_an_echoed_key_in_an_error_mid_stream_is_masked_too(
    framework: str, mode: str, emulator: MiniMaxEmulator, clients: Clients
) -> None:
    driver = Driver(framework, mode)
    emulator.queue(
        Fault(
            reply=Reply(text="partial answer"),
            error_after_events=1,
            provider_code=1002,
            message=ECHOED,
        )
    )
    model = driver.make(**provider_settings("minimax-chat", emulator) | clients.settings())
    with pytest.raises(RateLimitError) as caught:
        await driver.ask(model)
    assert_no_key("an error raised mid-stream", repr(vars(caught.value)) + str(caught.value))
    await clients.close_and_check(emulator)


# --- logs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_debug_logs_never_show_the_key(
    framework: str, emulator: MiniMaxEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    emulator.queue(
        Fault(status=429, headers={"Retry-After": "0"}),  # a retry is logged
        Reply(text="one"),
        Reply(text="two", reasoning="streamed"),
        Fault(status=401, message=ECHOED),
    )
    clients = Clients()
    for mode in ("ainvoke", "stream", "invoke"):
        driver = Driver(framework, mode)
        model = driver.make(**provider_settings("minimax-chat", emulator) | clients.settings())
        set_retry_delays(model, **TINY_DELAYS)
        try:
            await driver.ask(model)
        except AuthenticationError:
            assert mode == "invoke"
    await clients.close_and_check(emulator)
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"httpx", "httpcore", "minimax_m3"} <= names, names
    # One check for all the records: how many there are depends on connection reuse.
    logged = [record.getMessage() + repr(vars(record)) for record in caplog.records]
    assert_no_key(f"{len(logged)} log records at DEBUG", "\n".join(logged))


# --- what the servers see -----------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_key_travels_only_in_the_authorization_header(
    framework: str, provider: str, emulator: MiniMaxEmulator
) -> None:
    clients = Clients()
    for mode in ("invoke", "astream"):
        driver = Driver(framework, mode)
        model = driver.make(**provider_settings(provider, emulator) | clients.settings())
        answer = await driver.ask(model, "Where does my key go?")
        assert answer.text == "Emulated reply to: Where does my key go?"
    await clients.close_and_check(emulator)
    assert len(emulator.requests) == 2
    for request in emulator.requests:
        assert_key_only_in_authorization(request)


@pytest.fixture
def other_host() -> Any:
    """A second server, on another port: another origin. It takes requests without a key."""
    with MiniMaxEmulator() as emu:
        yield emu


@pytest.mark.parametrize("driver", all_drivers(), ids=str)
async def test_a_redirect_to_another_host_does_not_carry_the_key(
    driver: Driver, emulator: MiniMaxEmulator, other_host: MiniMaxEmulator
) -> None:
    clients = Clients(follow_redirects=True)
    target = other_host.chat_completions_url
    emulator.queue(Fault(status=307, headers={"Location": target}))
    model = driver.make(**provider_settings("minimax-chat", emulator) | clients.settings())
    answer = await driver.ask(model, "Follow me")
    assert answer.text == "Emulated reply to: Follow me"  # the other host answered
    [redirected] = other_host.requests
    assert "authorization" not in redirected.headers
    assert_no_key("the redirected request", repr(redirected))
    assert_key_only_in_authorization(emulator.requests[0])
    await clients.close_and_check(emulator)


@pytest.mark.parametrize("driver", all_drivers(), ids=str)
async def test_the_pooled_clients_never_follow_a_redirect(
    driver: Driver,
    emulator: MiniMaxEmulator,
    other_host: MiniMaxEmulator,
    shared_pools: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator.queue(Fault(status=307, headers={"Location": other_host.chat_completions_url}))
    model = driver.make(**provider_settings("minimax-chat", emulator), max_retries=2)
    with pytest.raises(MiniMaxM3Error) as caught:
        await driver.ask(model)
    error = caught.value
    assert error.status_code == 307
    assert not error.retryable
    assert len(emulator.requests) == 1
    assert other_host.requests == []
    assert_no_key("a redirect error", str(error) + repr(vars(error)))
    if not driver.is_async:
        await asyncio.to_thread(close_shared_clients)


async def test_no_key_is_read_from_anywhere_but_its_own_variable(
    emulator: MiniMaxEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model for one provider never picks up another provider's key."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNWARE_API_KEY", KEY)
    for framework in ("langchain", "llama_index"):
        driver = Driver(framework, "ainvoke")
        model = driver.make(base_url=emulator.base_url)
        with pytest.raises(ValueError, match="MINIMAX_API_KEY"):
            await driver.ask(model)
        checked_secret()
    assert emulator.requests == []
