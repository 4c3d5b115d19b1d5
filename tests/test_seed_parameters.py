"""The seed pages' remaining parameters, through both frameworks against the emulator.

Each parameter three ways: what is sent (the recorded request), what comes back (the
emulator, which checks the field as the real API does, answers), and what is refused
(a ValueError naming the parameter and where it works, before any request). Ranges are
seed 000's (Cloudflare's minimax/m3 schema) and seed 003's (Runware's minimax-m3 page);
service_tier is MiniMax's OpenAPI, in reference/minimax-api.md.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.messages import HumanMessage
from llama_index.core.base.llms.types import ChatMessage

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.errors import BadRequestError
from minimax_m3.providers import PROVIDERS
from minimax_m3.testing import MiniMaxEmulator, ProviderOptions, Reply
from tests.test_provider_matrix import provider_settings

KEY = "seed-key"
FRAMEWORKS = ("langchain", "llama_index")


def settings_for(place: str, emulator: MiniMaxEmulator) -> dict[str, Any]:
    """Constructor settings for one provider and wire format, aimed at the emulator (the
    provider matrix's table; "self-hosted" is its vLLM server)."""
    name = "self-hosted-vllm" if place == "self-hosted" else place
    return provider_settings(name, emulator) | {
        "api_key": KEY,
        "max_retries": 0,
        "poll_interval": 0.01,
    }


PLACES = (
    "minimax-chat",
    "minimax-anthropic",
    "cloudflare-chat",
    "cloudflare-anthropic",
    "runware-tasks",
    "runware-chat",
    "self-hosted",
)


def make(framework: str, settings: dict[str, Any]) -> Any:
    return ChatMiniMaxM3(**settings) if framework == "langchain" else MiniMaxM3(**settings)


def ask(model: Any, **kwargs: Any) -> str:
    """One non-streamed question; the answer's text."""
    if isinstance(model, ChatMiniMaxM3):
        return str(model.invoke([HumanMessage("Hi")], **kwargs).content)
    return str(model.chat([ChatMessage(role="user", content="Hi")], **kwargs).message.content)


def at(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        body = body[step]
    return body


@dataclass(frozen=True)
class Sent:
    place: str
    option: str
    value: Any
    path: tuple[Any, ...]
    wire_value: Any


SENT = {
    "service_tier-minimax-chat": Sent(
        "minimax-chat", "service_tier", "priority", ("service_tier",), "priority"
    ),
    "service_tier-minimax-anthropic": Sent(
        "minimax-anthropic", "service_tier", "standard", ("service_tier",), "standard"
    ),
    "user_id-minimax-anthropic": Sent(
        "minimax-anthropic", "user_id", "user-7f3a", ("metadata",), {"user_id": "user-7f3a"}
    ),
    "user_id-cloudflare-anthropic": Sent(
        "cloudflare-anthropic", "user_id", "user-7f3a", ("metadata",), {"user_id": "user-7f3a"}
    ),
    "top_k-cloudflare-anthropic": Sent("cloudflare-anthropic", "top_k", 40, ("top_k",), 40),
    "top_k-self-hosted": Sent("self-hosted", "top_k", 20, ("top_k",), 20),
    "mask_sensitive_info-cloudflare-chat": Sent(
        "cloudflare-chat", "mask_sensitive_info", True, ("mask_sensitive_info",), True
    ),
    "response_format-cloudflare-chat": Sent(
        "cloudflare-chat",
        "response_format",
        {"type": "json_object"},
        ("response_format",),
        {"type": "json_object"},
    ),
    "webhook_url-runware-tasks": Sent(
        "runware-tasks",
        "webhook_url",
        "https://hooks.example.com/runware?token=abc",
        (0, "webhookURL"),
        "https://hooks.example.com/runware?token=abc",
    ),
    "delivery_method-runware-tasks": Sent(
        "runware-tasks", "delivery_method", "async", (0, "deliveryMethod"), "async"
    ),
}


# response_format is a call option only (with_structured_output binds it).
SENT_RUNS = [
    pytest.param(name, framework, how, id=f"{name}-{framework}-{how}")
    for name in SENT
    for framework in FRAMEWORKS
    for how in ("setting", "call")
    if not (how == "setting" and SENT[name].option == "response_format")
]


@pytest.mark.parametrize(("name", "framework", "how"), SENT_RUNS)
def test_each_parameter_reaches_the_wire_and_the_answer_comes_back(
    name: str, framework: str, how: str, emulator: MiniMaxEmulator
) -> None:
    case = SENT[name]
    settings = settings_for(case.place, emulator)
    if how == "setting":
        settings[case.option] = case.value
        kwargs: dict[str, Any] = {}
    else:
        kwargs = {case.option: case.value}
    model = make(framework, settings)
    emulator.queue(Reply(text="answered"))

    assert ask(model, **kwargs) == "answered"

    assert at(emulator.requests[0].json, case.path) == case.wire_value


# Where each option is taken, as the profiles say; everywhere else it is refused.
OPTION_SAMPLES: dict[str, Any] = {
    "service_tier": "priority",
    "user_id": "user-7f3a",
    "top_k": 40,
    "mask_sensitive_info": True,
    "webhook_url": "https://hooks.example.com/runware",
    "delivery_method": "async",
    "builtin_tools": ["search"],
}
TAKEN = {
    "service_tier": {"minimax-chat", "minimax-anthropic"},
    "user_id": {"minimax-anthropic", "cloudflare-anthropic"},
    "top_k": {"cloudflare-anthropic", "self-hosted"},
    "mask_sensitive_info": {"cloudflare-chat"},
    "webhook_url": {"runware-tasks"},
    "delivery_method": {"runware-tasks"},
    "builtin_tools": {"runware-tasks"},
}
REFUSED = [
    pytest.param(option, place, id=f"{option}-{place}")
    for option in OPTION_SAMPLES
    for place in PLACES
    if place not in TAKEN[option]
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("option", "place"), REFUSED)
def test_a_parameter_is_refused_where_the_provider_does_not_take_it(
    option: str, place: str, framework: str, emulator: MiniMaxEmulator
) -> None:
    settings = settings_for(place, emulator)
    # As a setting: refused when the model is built.
    # (pydantic wraps it in a ValidationError, which is a ValueError.)
    with pytest.raises(ValueError, match=rf"{option} is not available with api=") as built:
        make(framework, {**settings, option: OPTION_SAMPLES[option]})
    assert "it works on provider" in str(built.value)
    # As a call option: refused before anything is sent.
    model = make(framework, settings)
    with pytest.raises(ValueError, match=rf"^{option} is not available with api="):
        ask(model, **{option: OPTION_SAMPLES[option]})
    assert emulator.requests == []


def test_the_refusal_names_every_place_the_option_works() -> None:
    with pytest.raises(ValueError, match=r"^top_k is not available") as caught:
        ChatMiniMaxM3(api_key=KEY, provider="minimax", max_retries=0).invoke("Hi", top_k=5)
    assert str(caught.value) == (
        "top_k is not available with api='chat_completions' on provider 'minimax'; it works "
        "on provider 'cloudflare' with api='anthropic_messages'; provider 'openai-compatible' "
        "with api='chat_completions'"
    )


def test_response_format_is_refused_on_the_formats_without_it(emulator: MiniMaxEmulator) -> None:
    # It used to be dropped without a word on Anthropic Messages and Runware's tasks.
    for place in ("minimax-anthropic", "cloudflare-anthropic", "runware-tasks"):
        model = make("langchain", settings_for(place, emulator))
        with pytest.raises(ValueError, match=r"^response_format is not available with api="):
            model.with_structured_output(method="json_mode").invoke("Hi")
    assert emulator.requests == []


@pytest.mark.parametrize("method", ["json_mode", "json_schema"])
def test_langchain_structured_output_reaches_cloudflare(
    method: str, emulator: MiniMaxEmulator
) -> None:
    schema = {
        "title": "Haiku",
        "type": "object",
        "properties": {"lines": {"type": "array", "items": {"type": "string"}}},
        "required": ["lines"],
    }
    model = make("langchain", settings_for("cloudflare-chat", emulator))
    emulator.queue(Reply(text='{"lines": ["Fingers on the keys"]}'))

    parsed = model.with_structured_output(schema, method=method).invoke("A haiku, as JSON")

    assert parsed == {"lines": ["Fingers on the keys"]}
    sent = emulator.requests[0].json["response_format"]
    assert sent["type"] == ("json_object" if method == "json_mode" else "json_schema")


BAD_VALUES = {
    "top_k-zero": ("top_k", 0, "top_k must be an integer of at least 1; got 0"),
    "top_k-fraction": ("top_k", 2.5, "top_k must be an integer of at least 1; got 2.5"),
    "top_k-bool": ("top_k", True, "top_k must be an integer of at least 1; got True"),
    "user_id-empty": ("user_id", " ", "user_id must be a non-empty string"),
    "service_tier-fast": (
        "service_tier",
        "fast",
        "service_tier must be 'standard' or 'priority'; got 'fast'",
    ),
    "mask-string": (
        "mask_sensitive_info",
        "yes",
        "mask_sensitive_info must be True or False; got 'yes'",
    ),
    "webhook-ftp": (
        "webhook_url",
        "ftp://hooks.example.com",
        "webhook_url must be an http:// or https:// URL with a host",
    ),
    "webhook-no-host": ("webhook_url", "https://", "webhook_url must be an http:// or https://"),
    "webhook-line-break": (
        "webhook_url",
        "https://hooks.example.com/\r\nX: 1",
        "webhook_url must be an http:// or https://",
    ),
    "delivery-stream": (
        "delivery_method",
        "stream",
        "delivery_method must be 'sync' or 'async' (a streamed call streams)",
    ),
    "builtin-unknown": (
        "builtin_tools",
        ["web"],
        "builtin_tools: 'web' is no built-in tool of provider 'runware'; it has 'search', "
        "'codeInterpreter'",
    ),
}
# Where each bad value is tried: a place that takes the option.
BAD_PLACE = {
    "top_k": "cloudflare-anthropic",
    "user_id": "minimax-anthropic",
    "service_tier": "minimax-chat",
    "mask_sensitive_info": "cloudflare-chat",
    "webhook_url": "runware-tasks",
    "delivery_method": "runware-tasks",
    "builtin_tools": "runware-tasks",
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_a_value_out_of_the_documented_range_is_refused_before_sending(
    name: str, framework: str, emulator: MiniMaxEmulator
) -> None:
    option, value, expected = BAD_VALUES[name]
    model = make(framework, settings_for(BAD_PLACE[option], emulator))
    with pytest.raises(ValueError, match="^" + expected.replace("(", r"\(").replace(")", r"\)")):
        ask(model, **{option: value})
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("place", "extra_body", "said"),
    [
        ("minimax-chat", {"service_tier": "fast"}, "service_tier must be one of"),
        ("minimax-anthropic", {"metadata": {"user_id": 7}}, "metadata.user_id must be a string"),
        ("minimax-anthropic", {"metadata": {"team": "x"}}, "metadata.team: Extra inputs"),
        ("cloudflare-chat", {"mask_sensitive_info": "yes"}, "mask_sensitive_info must be a"),
        ("cloudflare-chat", {"response_format": "json"}, "response_format must be an object"),
        ("cloudflare-anthropic", {"top_k": 0}, "top_k must be a number > 0"),
        ("runware-tasks", {"webhookURL": "hooks"}, "Invalid value for 'webhookURL'"),
    ],
)
def test_the_emulator_refuses_what_the_api_refuses(
    place: str, extra_body: dict[str, Any], said: str, emulator: MiniMaxEmulator
) -> None:
    # extra_body goes out unchecked, so these reach the emulator as a careless client's
    # would reach the provider.
    model = make("langchain", settings_for(place, emulator))
    with pytest.raises(BadRequestError, match=said):
        model.invoke("Hi", extra_body=extra_body)


def test_async_delivery_and_a_webhook_still_answer_the_call(emulator: MiniMaxEmulator) -> None:
    # Runware POSTs each finished result to the webhook too; the class polls for its own.
    model = make(
        "langchain",
        settings_for("runware-tasks", emulator)
        | {"delivery_method": "async", "webhook_url": "https://hooks.example.com/rw"},
    )
    emulator.queue(Reply(text="polled answer", provider=ProviderOptions(poll_pending=1)))

    assert model.invoke("Hi").content == "polled answer"

    kinds = [request.json[0]["taskType"] for request in emulator.requests]
    assert kinds == ["textInference", "getResponse", "getResponse"]
    first = emulator.requests[0].json[0]
    assert (first["deliveryMethod"], first["webhookURL"]) == (
        "async",
        "https://hooks.example.com/rw",
    )


def test_a_stream_streams_whatever_the_delivery_method(emulator: MiniMaxEmulator) -> None:
    model = make(
        "langchain", settings_for("runware-tasks", emulator) | {"delivery_method": "async"}
    )
    emulator.queue(Reply(text="streamed"))

    assert "".join(str(chunk.content) for chunk in model.stream("Hi")) == "streamed"
    assert emulator.requests[0].json[0]["deliveryMethod"] == "stream"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_webhook_url_is_kept_out_of_reprs_and_errors(
    framework: str, emulator: MiniMaxEmulator
) -> None:
    # Runware's webhooks take their credentials in the query string (reference B.4).
    secret = "https://hooks.example.com/rw?token=hook-secret-123"
    model = make(framework, settings_for("runware-tasks", emulator) | {"webhook_url": secret})
    assert "hook-secret-123" not in repr(model)
    with pytest.raises(ValueError, match="webhook_url must be") as caught:
        ask(model, webhook_url=secret.replace("https", "ftp"))
    assert "hook-secret-123" not in str(caught.value)
    assert emulator.requests == []


def test_a_webhook_url_never_surfaces_in_dumps_pickles_or_traces(
    emulator: MiniMaxEmulator,
) -> None:
    # As a key is kept: reprs, pydantic dumps, LangChain's serialization (which every
    # callback and trace receives), invocation params, LlamaIndex's to_dict/to_json,
    # pickles and the neutral request's repr. It still reaches Runware.
    secret = "https://hooks.example.com/rw?token=hook-secret-456"
    settings = settings_for("runware-tasks", emulator)
    seen: list[str] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(f"{serialized} {kwargs.get('invocation_params')}")

    lc = ChatMiniMaxM3(**settings, webhook_url=secret)
    llama = MiniMaxM3(**settings, webhook_url=secret)
    shown = [
        repr(lc),
        str(dumpd(lc)),
        dumps(lc),
        lc.model_dump_json(),
        str(pickle.dumps(lc)),
        llama.to_json(),
        str(llama.to_dict()),
        str(pickle.dumps(llama)),
        repr(lc._build_request([HumanMessage("Hi")], None, {})),
    ]
    lc.invoke("Hi", config={"callbacks": [Recorder()]})
    ChatMiniMaxM3(**settings).invoke("Hi", webhook_url=secret, config={"callbacks": [Recorder()]})
    assert len(seen) == 2
    for text in (*shown, *seen):
        assert "hook-secret-456" not in text
    assert [r.json[0]["webhookURL"] for r in emulator.requests] == [secret, secret]


def test_every_profile_names_only_options_validation_knows() -> None:
    from minimax_m3.validation import OPTIONAL

    for profile in PROVIDERS.values():
        for api, options in profile.options.items():
            assert api in profile.apis
            assert options <= set(OPTIONAL), (profile.name, api)
