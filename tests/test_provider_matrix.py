"""Every provider and wire format, through both framework adapters, against the emulator.

One table of providers times one table of frameworks: each case asks a question (invoke,
stream, and their async forms), runs a tool round whose reasoning the emulator requires
to come back verbatim, and checks that a provider failure arrives as the right typed
error, in that provider's own envelope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from llama_index.core.tools import FunctionTool

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3
from minimax_m3.errors import AuthenticationError
from minimax_m3.testing import (
    Fault,
    MiniMaxEmulator,
    ProviderOptions,
    Reply,
    StreamShape,
    ToolCallReply,
)

FAST = {"max_retries": 1}
MODES = ("invoke", "stream", "ainvoke", "astream")


def provider_settings(name: str, emulator: MiniMaxEmulator) -> dict[str, Any]:
    base = {"api_key": "matrix-key", **FAST}
    return {
        "minimax-chat": {"provider": "minimax", "base_url": emulator.base_url},
        "minimax-anthropic": {
            "provider": "minimax",
            "api": "anthropic_messages",
            "base_url": emulator.base_url,
        },
        "cloudflare-chat": {
            "provider": "cloudflare",
            "base_url": emulator.cloudflare_base_url,
            "account_id": "acct-matrix",
        },
        "cloudflare-anthropic": {
            "provider": "cloudflare",
            "api": "anthropic_messages",
            "base_url": emulator.cloudflare_base_url,
            "account_id": "acct-matrix",
        },
        "runware-tasks": {"provider": "runware", "base_url": emulator.runware_base_url},
        "runware-chat": {
            "provider": "runware",
            "api": "chat_completions",
            "base_url": emulator.runware_base_url,
        },
        # Self-hosted servers: vLLM's and SGLang's M3 parsers, and either without parsers.
        "self-hosted-vllm": {
            "provider": "openai-compatible",
            "base_url": emulator.self_hosted_base_url("vllm"),
        },
        "self-hosted-sglang": {
            "provider": "openai-compatible",
            "base_url": emulator.self_hosted_base_url("sglang"),
        },
        "self-hosted-raw": {
            "provider": "openai-compatible",
            "base_url": emulator.self_hosted_base_url("raw"),
        },
    }[name] | base


PROVIDER_CASES = (
    "minimax-chat",
    "minimax-anthropic",
    "cloudflare-chat",
    "cloudflare-anthropic",
    "runware-tasks",
    "runware-chat",
    "self-hosted-vllm",
    "self-hosted-sglang",
    "self-hosted-raw",
)


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


class Framework(Protocol):
    def make(self, settings: dict[str, Any]) -> Any: ...

    def ask(self, model: Any, question: str, mode: str) -> tuple[str, str]: ...

    def tool_round(self, model: Any, mode: str) -> str: ...


class LangChain:
    def make(self, settings: dict[str, Any]) -> ChatMiniMaxM3:
        return ChatMiniMaxM3(**settings)

    def _answer(self, model: Any, messages: Any, mode: str) -> AIMessage:
        def merged(chunks: list[Any]) -> AIMessage:
            total = chunks[0]
            for chunk in chunks[1:]:
                total = total + chunk
            return total  # type: ignore[no-any-return]

        async def collect() -> list[Any]:
            return [chunk async for chunk in model.astream(messages)]

        if mode == "invoke":
            return model.invoke(messages)  # type: ignore[no-any-return]
        if mode == "ainvoke":
            return asyncio.run(model.ainvoke(messages))  # type: ignore[no-any-return]
        if mode == "stream":
            return merged(list(model.stream(messages)))
        return merged(asyncio.run(collect()))

    def ask(self, model: Any, question: str, mode: str) -> tuple[str, str]:
        message = self._answer(model, question, mode)
        return str(message.content), str(message.additional_kwargs.get("reasoning_content", ""))

    def tool_round(self, model: Any, mode: str) -> str:
        bound = model.bind_tools([get_weather])
        history: list[BaseMessage] = [HumanMessage("Weather in Lisbon?")]
        first = self._answer(bound, history, mode)
        [call] = first.tool_calls
        history += [first, ToolMessage(get_weather(**call["args"]), tool_call_id=call["id"])]
        return str(self._answer(bound, history, mode).content)


class LlamaIndex:
    def make(self, settings: dict[str, Any]) -> MiniMaxM3:
        return MiniMaxM3(**settings)

    def ask(self, model: Any, question: str, mode: str) -> tuple[str, str]:
        messages = [ChatMessage(role="user", content=question)]

        async def last_of_astream() -> Any:
            return [r async for r in await model.astream_chat(messages)][-1]

        response = {
            "invoke": lambda: model.chat(messages),
            "ainvoke": lambda: asyncio.run(model.achat(messages)),
            "stream": lambda: list(model.stream_chat(messages))[-1],
            "astream": lambda: asyncio.run(last_of_astream()),
        }[mode]()
        thinking = "".join(
            block.content or ""
            for block in response.message.blocks
            if isinstance(block, ThinkingBlock)
        )
        return str(response.message.content or ""), thinking

    def _with_tools(self, model: Any, tool: Any, history: list[ChatMessage], mode: str) -> Any:
        async def last_of_astream() -> Any:
            stream = await model.astream_chat_with_tools([tool], chat_history=history)
            return [r async for r in stream][-1]

        return {
            "invoke": lambda: model.chat_with_tools([tool], chat_history=history),
            "ainvoke": lambda: asyncio.run(model.achat_with_tools([tool], chat_history=history)),
            "stream": lambda: list(model.stream_chat_with_tools([tool], chat_history=history))[-1],
            "astream": lambda: asyncio.run(last_of_astream()),
        }[mode]()

    def tool_round(self, model: Any, mode: str) -> str:
        tool = FunctionTool.from_defaults(get_weather)
        history = [ChatMessage(role="user", content="Weather in Lisbon?")]
        first = self._with_tools(model, tool, history, mode)
        [call] = model.get_tool_calls_from_response(first, error_on_no_tool_call=True)
        history += [
            first.message,
            ChatMessage(
                role="tool",
                content=get_weather(**call.tool_kwargs),
                additional_kwargs={"tool_call_id": call.tool_id},
            ),
        ]
        return str(self._with_tools(model, tool, history, mode).message.content)


FRAMEWORKS: dict[str, Framework] = {"langchain": LangChain(), "llama_index": LlamaIndex()}


@dataclass
class Case:
    framework: Framework
    emulator: MiniMaxEmulator
    settings: dict[str, Any]

    def model(self) -> Any:
        return self.framework.make(self.settings)


@pytest.fixture(params=list(FRAMEWORKS))
def framework(request: pytest.FixtureRequest) -> Framework:
    return FRAMEWORKS[request.param]


@pytest.fixture(params=PROVIDER_CASES)
def case(request: pytest.FixtureRequest, framework: Framework) -> Iterator[Case]:
    with MiniMaxEmulator(api_key="matrix-key", require_reasoning_replay=True) as emulator:
        yield Case(framework, emulator, provider_settings(request.param, emulator))


@pytest.mark.parametrize("mode", MODES)
def test_answer_and_reasoning(case: Case, mode: str) -> None:
    case.emulator.queue(
        Reply(
            text="It is Paris.", reasoning="A capital question.", stream=StreamShape(chunk_size=4)
        )
    )
    text, reasoning = case.framework.ask(case.model(), "Capital of France?", mode)
    assert text == "It is Paris."
    assert reasoning == "A capital question."
    assert len(case.emulator.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_tool_round_replays_reasoning(case: Case, mode: str) -> None:
    case.emulator.queue(
        Reply(
            reasoning="I should call the weather tool.",
            tool_calls=[ToolCallReply("get_weather", {"city": "Lisbon"})],
        ),
        Reply(text="Sunny in Lisbon.", reasoning="The tool answered."),
    )
    assert case.framework.tool_round(case.model(), mode) == "Sunny in Lisbon."
    # The emulator refused any second turn that dropped or altered the first one's
    # reasoning, so a pass means it went back verbatim in this provider's format.
    assert len(case.emulator.requests) == 2


@pytest.mark.parametrize("mode", ["invoke", "astream"])
def test_failures_arrive_typed_in_each_provider_envelope(case: Case, mode: str) -> None:
    case.emulator.queue(Fault(status=401, message="bad key"))
    with pytest.raises(AuthenticationError) as caught:
        case.framework.ask(case.model(), "Hi", mode)
    assert caught.value.status_code == 401
    assert len(case.emulator.requests) == 1


def test_rate_limits_are_retried(case: Case) -> None:
    case.emulator.queue(Fault(status=429, headers={"Retry-After": "0"}), Reply(text="ok"))
    assert case.framework.ask(case.model(), "Hi", "invoke")[0] == "ok"
    assert len(case.emulator.requests) == 2


def test_cloudflare_gateway_id_reaches_the_wire(framework: Framework) -> None:
    with MiniMaxEmulator(api_key="matrix-key") as emulator:
        settings = provider_settings("cloudflare-chat", emulator) | {"gateway_id": "team-gw"}
        emulator.queue(Reply(text="ok"))
        assert framework.ask(framework.make(settings), "Hi", "invoke")[0] == "ok"
        assert emulator.requests[0].headers["cf-aig-gateway-id"] == "team-gw"


def test_runware_async_delivery_is_polled(framework: Framework) -> None:
    with MiniMaxEmulator(api_key="matrix-key") as emulator:
        settings = provider_settings("runware-tasks", emulator) | {"poll_interval": 0.01}
        model = framework.make(settings)
        emulator.queue(
            Reply(
                text="queued answer",
                reasoning="Took a while.",
                provider=ProviderOptions(poll_pending=2),
            )
        )
        if isinstance(framework, LangChain):
            text = str(model.invoke("Hi", extra_body={"deliveryMethod": "async"}).content)
        else:
            text = str(
                model.chat(
                    [ChatMessage(role="user", content="Hi")],
                    extra_body={"deliveryMethod": "async"},
                ).message.content
            )
        assert text == "queued answer"
        kinds = [request.json[0]["taskType"] for request in emulator.requests]
        assert kinds == ["textInference", "getResponse", "getResponse", "getResponse"]
