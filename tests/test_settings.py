"""Settings are declared once: the transport and both adapters take the same ones, with
the same types, defaults and checks, and every request field can be set per call."""

from __future__ import annotations

import dataclasses
import pickle
import re
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.settings import CALL_OPTIONS, ConnectionSettings, ModelSettings
from minimax_m3.testing import MiniMaxEmulator, Reply
from minimax_m3.transport import Transport
from minimax_m3.types import BuiltinTool, ChatRequest, Message, ToolSpec

KEY = "sk-settings-test"
WEATHER_LC = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Weather", "parameters": {}},
}
WEATHER = ToolSpec(name="get_weather", description="Weather", parameters={"type": "object"})
ADAPTERS = [ChatMiniMaxM3, MiniMaxM3]


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
def test_each_adapter_has_the_shared_fields_themselves(adapter: type[Any]) -> None:
    for shared in (ConnectionSettings, ModelSettings):
        for name, info in shared.model_fields.items():
            mine = adapter.model_fields[name]
            assert (mine.annotation, mine.default, mine.description) == (
                info.annotation,
                info.default,
                info.description,
            ), name


def test_the_transport_takes_the_connection_settings_by_keyword_and_nothing_else() -> None:
    transport = Transport(api_key=KEY, timeout=5, max_retries=0, gateway_id=None)
    assert transport.timeout.read == 5.0
    assert transport.retry_policy.max_retries == 0
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['temperature'\]"):
        Transport(api_key=KEY, temperature=0.5)
    with pytest.raises(TypeError, match="not both"):
        Transport(ConnectionSettings(api_key=KEY), provider="minimax")


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"timeout": -1}, "timeout must be a positive, finite number of seconds; got -1"),
        ({"timeout": True}, "timeout must be a positive, finite number of seconds; got True"),
        ({"timeout": "soon"}, "timeout must be a positive, finite number of seconds; got 'soon'"),
        ({"poll_interval": 0}, "poll_interval must be a positive, finite number of seconds; got 0"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": -1}, "max_retries must be a whole number >= 0; got -1"),
    ],
)
def test_a_bad_connection_setting_fails_the_same_everywhere(
    adapter: type[Any], settings: dict[str, Any], expected: str
) -> None:
    for build in (adapter, Transport):
        with pytest.raises(ValueError, match=expected):
            build(api_key=KEY, **settings)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
def test_an_httpx_timeout_is_taken_and_survives_serialization(adapter: type[Any]) -> None:
    # The LlamaIndex class took only a number of seconds before the settings were shared.
    timeout = httpx.Timeout(30.0, connect=2.0)
    llm = adapter(api_key=KEY, timeout=timeout)
    assert llm._transport.timeout == timeout
    dumped = llm.model_dump()
    assert dumped["timeout"] == timeout.as_dict()
    assert adapter(api_key=KEY, timeout=dumped["timeout"]).timeout == timeout
    assert pickle.loads(pickle.dumps(llm)).timeout == timeout


# A sample value for every per-call option, as the neutral request should then hold it.
OPTION_VALUES: dict[str, tuple[Any, Any]] = {
    "model": ("MiniMax-M2.7", "MiniMax-M2.7"),
    "tools": ([], ()),
    "tool_choice": ("none", "none"),
    "parallel_tool_calls": (False, False),
    "thinking": ("disabled", "disabled"),
    "temperature": (0.3, 0.3),
    "top_p": (0.9, 0.9),
    "max_tokens": (77, 77),
    "stop": (["END"], ("END",)),
    "n": (1, 1),
    "response_format": ({"type": "json_object"}, {"type": "json_object"}),
    "extra_body": ({"seed": 7}, {"seed": 7}),
    "top_k": (5, 5),
    "user_id": ("user-42", "user-42"),
    "service_tier": ("priority", "priority"),
    "mask_sensitive_info": (True, True),
    "webhook_url": ("https://example.com/hook", "https://example.com/hook"),
    "delivery_method": ("async", "async"),
    "builtin_tools": (
        ["search", {"type": "codeInterpreter"}],
        (BuiltinTool("search"), BuiltinTool("codeInterpreter")),
    ),
}


def test_every_request_field_but_the_messages_is_a_call_option() -> None:
    fields = {f.name for f in dataclasses.fields(ChatRequest)} - {"messages"}
    assert fields == CALL_OPTIONS == set(OPTION_VALUES)


def _request_of(llm: Any, options: dict[str, Any]) -> ChatRequest:
    if isinstance(llm, ChatMiniMaxM3):
        stop = options.pop("stop", None)
        return llm._build_request([HumanMessage("Hi")], stop, options)
    request: ChatRequest = llm._build_request([ChatMessage(role="user", content="Hi")], options)
    return request


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("option", sorted(OPTION_VALUES))
def test_each_call_option_reaches_the_request(adapter: type[Any], option: str) -> None:
    given, expected = OPTION_VALUES[option]
    # LlamaIndex drops a tool choice that comes without tools, so one comes with it.
    tool = WEATHER_LC if adapter is ChatMiniMaxM3 else WEATHER
    tools = {"tools": [tool]} if option == "tool_choice" else {}
    request = _request_of(adapter(api_key=KEY), {option: given, **tools})
    assert getattr(request, option) == expected


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
def test_a_call_option_overrides_the_setting_and_extra_body_merges(adapter: type[Any]) -> None:
    llm = adapter(api_key=KEY, temperature=0.2, extra_body={"seed": 1, "top_k": 5})
    request = _request_of(llm, {"temperature": 0.9, "extra_body": {"seed": 2}})
    assert request.temperature == 0.9
    assert request.extra_body == {"seed": 2, "top_k": 5}
    assert _request_of(llm, {}).temperature == 0.2


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda cls: cls.__name__)
def test_a_connection_setting_changed_later_is_used_by_the_next_call(
    adapter: type[Any], emulator: MiniMaxEmulator
) -> None:
    llm = adapter(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    llm.base_url = emulator.base_url
    copied = llm.model_copy(update={"default_headers": {"x-team": "qa"}})
    emulator.queue(Reply(text="one"), Reply(text="two"))
    if isinstance(llm, ChatMiniMaxM3):
        answers = [llm.invoke("Hi").text, copied.invoke("Hi").text]
    else:
        answers = [str(llm.complete("Hi")), str(copied.complete("Hi"))]
    assert answers == ["one", "two"]
    assert emulator.requests[1].headers.get("x-team") == "qa"
    assert "x-team" not in emulator.requests[0].headers


@pytest.mark.parametrize(
    ("timeout", "named"),
    [
        (httpx.Timeout(float("nan")), "timeout.connect"),
        (httpx.Timeout(10.0, read=-1.0), "timeout.read"),
        ({"connect": 5.0, "read": float("inf"), "write": 5.0, "pool": 5.0}, "timeout.read"),
    ],
)
def test_each_phase_of_an_httpx_timeout_is_checked(timeout: Any, named: str) -> None:
    with pytest.raises(ValueError, match=rf"{re.escape(named)} must be a positive, finite"):
        Transport(api_key=KEY, timeout=timeout)


@pytest.mark.parametrize("gateway_id", ["my-gw\r\nX-Injected: 1", "passerelle é"])
def test_a_gateway_id_no_header_can_carry_is_refused(gateway_id: str) -> None:
    with pytest.raises(ValueError, match="gateway_id must be printable ASCII"):
        Transport(provider="cloudflare", api_key=KEY, account_id="acct", gateway_id=gateway_id)


def test_closing_the_shared_clients_mid_loop_leaves_the_new_pools_to_close_at_its_end(
    emulator: MiniMaxEmulator,
) -> None:
    # aclose_shared_clients() left the loop's old closer behind; when it was collected it
    # closed the pools made after it (and orphaned the rest).
    import asyncio

    from minimax_m3 import pools

    transport = Transport(api_key=KEY, base_url=emulator.base_url)
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content="Hi")])
    made: list[Any] = []

    async def main() -> None:
        emulator.queue(Reply(text="one"), Reply(text="two"))
        await transport.acomplete(request)
        await pools.aclose_shared_clients()
        await transport.acomplete(request)
        made.append(pools.shared_async_pool(transport.timeout, None))
        assert made[0]._pool.connections, "the second call's connection is pooled"

    asyncio.run(main())
    assert made[0]._pool.connections == [], "the loop's end closed its pools"
    assert len(pools._async_pools) == 0
