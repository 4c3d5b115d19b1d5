"""Secrets that are not the plain key, and keys as users really have them.

Keys read from a Kubernetes secret file, ``echo key > file`` or a CRLF ``.env`` end in a
line break; gateways take their own credential header; providers echo long keys back
into bodies that are shortened for the message; httpx attaches the request, headers and
all, to the exceptions it raises. Each surface a user or a tracer could see is searched.
"""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any
from uuid import UUID

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.messages import BaseMessage
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from rel_helpers import FRAMEWORKS, KEY, Driver, checked_secret, provider_settings, tried_bad_input

from minimax_m3.errors import APIConnectionError, AuthenticationError, MiniMaxM3Error
from minimax_m3.testing import MiniMaxEmulator, Reply
from minimax_m3.transport import Transport

# A 310-character JWT-like key: longer than the part of a body an error message keeps.
LONG_KEY = "eyJhbGciOiJIUzI1NiJ9." + "".join(f"{i:03d}k" for i in range(72)) + ".sig-end"
GATEWAY_TOKEN = "cfut_gateway-7d1e0c9b8a7f6e5d4c3b2a19"


def _surfaces(model: Any, framework: str) -> dict[str, str | bytes]:
    views: dict[str, str | bytes] = {
        "repr": repr(model),
        "model_dump": repr(model.model_dump()),
        "model_dump_json": model.model_dump_json(),
        "pickle": pickle.dumps(model),
    }
    if framework == "langchain":
        views |= {"dumps": dumps(model), "dumpd": repr(dumpd(model))}
    else:
        views |= {"to_dict": repr(model.to_dict()), "to_json": model.to_json()}
    return views


def _assert_absent(secret: str, views: dict[str, str | bytes]) -> None:
    for where, text in views.items():
        needle: str | bytes = secret.encode() if isinstance(text, bytes) else secret
        assert needle not in text, f"the secret leaks through {where}"
        # Nor its start: a truncated copy is a leak too.
        start: str | bytes = needle[:12]
        assert start not in text, f"the start of the secret leaks through {where}"
        checked_secret()


# --- keys as they come from files --------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n", " \n", "\t"])
@pytest.mark.parametrize("source", ["argument", "environment"])
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_key_ending_in_a_line_break_is_sent_without_it(
    framework: str,
    source: str,
    ending: str,
    emulator: MiniMaxEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It raised "Illegal header value b'Bearer sk-...\n'" with the whole key in the message,
    # classed as a connection error and retried three times.
    driver = Driver(framework, "ainvoke")
    settings = {**provider_settings("minimax-chat", emulator)}
    settings.pop("api_key", None)
    if source == "environment":
        monkeypatch.setenv("MINIMAX_API_KEY", KEY + ending)
        model = driver.make(**settings)
    else:
        model = driver.make(**settings, api_key=KEY + ending)
    emulator.queue(Reply(text="Hi"))
    assert (await driver.ask(model)).text == "Hi"
    assert emulator.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "bad_key", [KEY[:10] + "\n" + KEY[10:], KEY[:10] + " " + KEY[10:], KEY + "é", "\x00" + KEY]
)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_key_no_header_can_carry_is_refused_without_quoting_it(
    framework: str, bad_key: str, emulator: MiniMaxEmulator
) -> None:
    with pytest.raises(ValueError, match="api_key must be printable ASCII") as caught:
        Driver(framework, "invoke").make(
            **{**provider_settings("minimax-chat", emulator), "api_key": bad_key}
        )
    assert KEY[:12] not in str(caught.value)
    assert KEY[12:24] not in str(caught.value)
    assert emulator.requests == []
    tried_bad_input()


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"x-team": "qa\r\nX-Injected: 1"}, "x-team"),
        ({"Authorization": f"Bearer {KEY}\n"}, "Authorization"),
        ({"x-team": "équipe"}, "x-team"),
        ({"bad name": "v"}, "bad name"),
        ({"x-count": 3}, "x-count"),
    ],
)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_header_that_cannot_be_sent_is_refused_by_name(
    framework: str, headers: dict[str, Any], named: str, emulator: MiniMaxEmulator
) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(named))) as caught:
        Driver(framework, "invoke").make(
            **{**provider_settings("minimax-chat", emulator), "api_key": KEY},
            default_headers=headers,
        )
    assert KEY not in str(caught.value)
    assert "X-Injected" not in str(caught.value)
    assert emulator.requests == []
    tried_bad_input()


# --- credentials that are not the API key ----------------------------------------------


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        self.seen.append(repr(serialized) + repr(kwargs))


class _Tracer(BaseTracer):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[str] = []

    def _persist_run(self, run: Run) -> None:
        self.runs.append(repr(run.model_dump()))


@pytest.mark.parametrize(
    "header", ["cf-aig-authorization", "Authorization", "x-proxy-token", "X-Api-Key"]
)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_credential_header_shows_nowhere_but_is_sent(
    framework: str, header: str, emulator: MiniMaxEmulator
) -> None:
    driver = Driver(framework, "ainvoke")
    model = driver.make(
        **{**provider_settings("minimax-chat", emulator), "api_key": KEY},
        default_headers={header: f"Bearer {GATEWAY_TOKEN}", "x-team": "qa"},
    )
    views = _surfaces(model, framework)
    # A user's own Authorization replaces the key (so the emulator would refuse it).
    if framework == "langchain" and header != "Authorization":
        recorder, tracer = _Recorder(), _Tracer()
        emulator.queue(Reply(text="Hi"))
        await model.ainvoke("Hi", config={"callbacks": [recorder, tracer]})
        views["on_chat_model_start"] = "".join(recorder.seen)
        assert tracer.runs, "the tracer saw the run"
        views["tracer runs (what LangSmith uploads)"] = "".join(tracer.runs)
    _assert_absent(GATEWAY_TOKEN, views)
    restored = pickle.loads(views["pickle"])  # type: ignore[arg-type]
    assert restored.default_headers == {"x-team": "qa"}


def test_a_transport_is_never_pickled_but_copies_are_itself() -> None:
    transport = Transport(api_key=KEY, default_headers={"cf-aig-authorization": GATEWAY_TOKEN})
    with pytest.raises(TypeError, match="never pickled") as caught:
        pickle.dumps(transport)
    assert KEY not in str(caught.value)
    assert copy.deepcopy(transport) is transport
    assert copy.copy(transport) is transport


# --- secrets echoed into errors ----------------------------------------------------------


def _echoing_client(secret: str) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": f"Incorrect API key provided: {secret}", "code": 401}}
        return httpx.Response(401, json=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


def _error_views(error: BaseException) -> dict[str, str | bytes]:
    views: dict[str, str | bytes] = {"str": str(error), "repr": repr(error)}
    views["pickle"] = pickle.dumps(error)
    if isinstance(error, MiniMaxM3Error):
        views["body"] = repr(error.body)
        views["message"] = error.message
    return views


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_long_echoed_key_is_masked_whole(framework: str) -> None:
    # The body was cut to 200 characters before masking, so most of a 310-character key
    # stayed in the message.
    model = Driver(framework, "invoke").make(
        api_key=LONG_KEY, http_client=_echoing_client(LONG_KEY), max_retries=0
    )
    ask = model.invoke if framework == "langchain" else model.complete
    with pytest.raises(AuthenticationError) as caught:
        ask("Hi")
    _assert_absent(LONG_KEY, _error_views(caught.value))
    assert "**********" in str(caught.value)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_echoed_proxy_token_is_masked_like_the_key(framework: str) -> None:
    model = Driver(framework, "invoke").make(
        api_key=KEY,
        http_client=_echoing_client(GATEWAY_TOKEN),
        default_headers={"Proxy-Authorization": f"Bearer {GATEWAY_TOKEN}"},
        max_retries=0,
    )
    ask = model.invoke if framework == "langchain" else model.complete
    with pytest.raises(AuthenticationError) as caught:
        ask("Hi")
    _assert_absent(GATEWAY_TOKEN, _error_views(caught.value))


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


@pytest.mark.parametrize("mode", ["complete", "stream"])
def test_no_exception_in_the_chain_carries_the_key(mode: str) -> None:
    # httpx attaches the request it failed on to its exception, Authorization and all.
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f"refused, with {request.headers['authorization']}", request=request
        )

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    model = Driver("langchain", "invoke").make(api_key=KEY, http_client=client, max_retries=0)

    def ask() -> object:
        return list(model.stream("Hi")) if mode == "stream" else model.invoke("Hi")

    with pytest.raises(APIConnectionError) as caught:
        ask()
    chain = _chain(caught.value)
    assert any(isinstance(error, httpx.ConnectError) for error in chain)
    for error in chain:
        views = _error_views(error)
        if isinstance(error, httpx.HTTPError):
            views["request headers"] = repr(dict(error.request.headers))
        _assert_absent(KEY, views)


# --- found by a hostile review ------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Ocp-Apim-Subscription-Key", "X-Functions-Key", "x_api_key", "X-Access-Key"]
)
def test_gateway_key_headers_are_credentials_too(header: str) -> None:
    # Azure API Management's subscription key, among others, reached dumps and pickles.
    model = Driver("langchain", "invoke").make(
        api_key=KEY, default_headers={header: GATEWAY_TOKEN, "x-team": "qa"}
    )
    _assert_absent(GATEWAY_TOKEN, _surfaces(model, "langchain"))


def test_a_key_echoed_in_the_provider_code_is_masked() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "no", "code": f"bad_key:{KEY}"}})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    model = Driver("langchain", "invoke").make(api_key=KEY, http_client=client, max_retries=0)
    with pytest.raises(AuthenticationError) as caught:
        model.invoke("Hi")
    _assert_absent(KEY, {**_error_views(caught.value), "vars": repr(vars(caught.value))})


def test_no_traceback_local_holds_the_key_when_a_body_cannot_be_sent() -> None:
    # pytest -l, rich's show_locals and Sentry print every frame's locals; the headers
    # dict with "Bearer <key>" was built before the body failed to encode.
    import datetime
    import traceback

    model = Driver("langchain", "invoke").make(
        api_key=KEY, extra_body={"when": datetime.date(2026, 12, 1)}, max_retries=0
    )
    with pytest.raises(ValueError, match="cannot be sent as JSON") as caught:
        model.invoke("Hi")
    text = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    _assert_absent(KEY, {"traceback with locals": text})
