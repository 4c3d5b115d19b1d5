"""``MiniMaxM3``: MiniMax M3 as a LlamaIndex ``FunctionCallingLLM``.

Framework plumbing only. Messages are converted in :mod:`llama_index_minimax_m3.convert`;
HTTP, retries, validation and every wire format live in the shared ``minimax_m3``
transport.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import closing
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import ConfigDict, model_validator
from typing_extensions import Self

from llama_index_minimax_m3.convert import (
    chat_messages_to_neutral,
    tool_choice_to_neutral,
    tool_to_spec,
)
from llama_index_minimax_m3.results import (
    chat_response_to_completion_response,
    chat_response_to_tool_selections,
    chat_response_with_first_tool_call,
    result_to_chat_response,
)
from llama_index_minimax_m3.stream import (
    ChatStreamState,
    stream_event_to_chat_response,
)
from llama_index_minimax_m3.tokens import minimax_m3_tokenizer
from minimax_m3.adapter import AdapterSettings, unknown_call_options
from minimax_m3.models import M2, model_info
from minimax_m3.tokens import estimate_request_tokens
from minimax_m3.types import ChatRequest, StreamEvent

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

logger = logging.getLogger("llama_index_minimax_m3")

R = TypeVar("R")


class MiniMaxM3(AdapterSettings, FunctionCallingLLM):
    """MiniMax M3 (and M2.x) for LlamaIndex, with reasoning kept and tools built in.

    Setup::

        pip install "./minimax-m3[llama-index]"  # a clone; the README lists other ways
        export MINIMAX_API_KEY=...            # or pass api_key=

        from llama_index.core import Settings
        from llama_index_minimax_m3 import MiniMaxM3

        Settings.llm = MiniMaxM3()            # model="MiniMax-M3", 1,000,000-token window

    Settings (all optional; the first may be given by position):
        model, thinking, temperature, top_p, max_tokens, stop, n, extra_body: what each
        request asks by default; each is also a per-call option of ``chat()`` and friends.
        provider, api, api_key, base_url, account_id, timeout, max_retries, http_client,
        http_async_client, default_headers, gateway_id, poll_interval: where requests go.
        Each is declared once, with its type, default and description, in
        ``minimax_m3.settings`` (``ConnectionSettings``, ``ModelSettings``); the LangChain
        class takes the same ones. Bad values fail when the object is built, naming them.

    Any other keyword argument is refused with a TypeError naming it.

    Chat and complete::

        from llama_index.core.llms import ChatMessage

        response = llm.chat([ChatMessage(role="user", content="Capital of France?")])
        response.message.content                 # the answer, never with <think> tags
        response.additional_kwargs               # prompt/completion/total, cached, reasoning tokens
        llm.complete("Write a haiku").text       # complete() is chat() with one user message

    Streaming (``astream_chat`` and ``astream_complete`` in async code)::

        for chunk in llm.stream_chat(messages):
            print(chunk.additional_kwargs.get("thinking_delta") or chunk.delta, end="")
        # the last chunk is the whole answer: reasoning, tool calls, usage

    Tools and agents (``is_function_calling_model`` is True for every M2 and M3 id)::

        from llama_index.core.agent.workflow import FunctionAgent
        agent = FunctionAgent(tools=[get_weather], llm=llm)
        answer = await agent.run("Weather in Paris?")

        response = llm.chat_with_tools([get_weather], user_msg="Weather in Paris?",
                                       tool_required=True)
        calls = llm.get_tool_calls_from_response(response)   # [ToolSelection(...)]

    While streaming, ToolCallBlocks carry the arguments parsed so far.

    Structured output goes through function calling::

        invoice = llm.structured_predict(Invoice, PromptTemplate("Extract: {text}"), text=...)
        sllm = llm.as_structured_llm(Invoice)

    Reasoning: each answer's ``message.blocks`` starts with a ``ThinkingBlock`` whose
    ``content`` is the reasoning text and whose ``additional_information["reasoning_details"]``
    holds the provider's reasoning objects. Put the message back in the history as it is
    and the reasoning goes back to MiniMax verbatim, tool-call turns included, which M3
    needs to keep its train of thought across tool calls. On the Anthropic format the
    signature is also in ``additional_information["signature"]``, as
    llama-index-llms-anthropic keeps it, so histories move between the two either way.
    ``complete()`` has no blocks: its reasoning is in ``additional_kwargs`` (and ``raw``)
    under ``reasoning_content`` and ``reasoning_details``.

    Token counting::

        Settings.tokenizer = llm.tokenizer       # offline estimate; or minimax_m3_tokenizer
        memory = ChatMemoryBuffer.from_defaults(token_limit=200_000, tokenizer_fn=llm.tokenizer)
        llm.estimate_tokens(messages, tools=[...])   # offline, about 10%
        llm.count_tokens(messages, tools=[...])      # exact, asks MiniMax (acount_tokens too)

    Errors are the transport's typed exceptions (``minimax_m3.errors``), carrying the
    HTTP status, MiniMax's code and the request id.
    """

    model_config = ConfigDict(defer_build=False)

    def __init__(self, model: str | None = None, /, **settings: Any) -> None:
        """``MiniMaxM3("MiniMax-M3", ...)`` works as ``MiniMaxM3(model=..., ...)``."""
        if model is not None:
            settings["model"] = model
        super().__init__(**settings)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_settings(cls, values: Any) -> Any:
        # Pydantic would drop an unknown setting without a word; a typo must not pass.
        if not isinstance(values, dict):
            return values
        unknown = sorted(set(values) - {*cls.model_fields, "minimax_api_key"})
        if unknown:
            raise TypeError(
                f"MiniMaxM3 got unexpected keyword arguments {unknown}; it takes "
                f"{sorted(cls.model_fields)}"
            )
        return values

    @model_validator(mode="after")
    def _one_answer_per_chat(self) -> Self:
        refuse_several_answers(self.n if self.n is not None else 1)
        return self

    @classmethod
    def class_name(cls) -> str:
        return "MiniMaxM3"

    @property
    def metadata(self) -> LLMMetadata:
        """Context window from the model table (1,000,000 for M3, 204,800 for M2.x).

        Ids the table does not know (a self-hosted server's own name, say) get the
        smaller M2.x window. ``num_output`` is the output cap each request goes with:
        ``max_tokens``, or the default the Anthropic format must send when it is unset;
        -1 where none is sent (the provider's own limit applies then).
        """
        info = model_info(self.model) or M2
        sent = self._transport.max_tokens_sent(self.model, self.max_tokens)
        return LLMMetadata(
            context_window=info.context_window,
            num_output=sent if sent is not None else -1,
            is_chat_model=True,
            is_function_calling_model=info.tool_calling,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # Token counts.

    @property
    def tokenizer(self) -> Callable[[str], list[str]]:
        """The offline estimate as a LlamaIndex tokenizer (``minimax_m3_tokenizer``), for
        ``Settings.tokenizer``, ``ChatMemoryBuffer`` and ``TokenCountingHandler``."""
        return minimax_m3_tokenizer

    def estimate_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[BaseTool] | None = None
    ) -> int:
        """About how many input tokens a chat with ``messages`` and ``tools`` comes to,
        counted offline (see ``minimax_m3.tokens`` for how close it is)."""
        return estimate_request_tokens(
            chat_messages_to_neutral(messages), [tool_to_spec(tool) for tool in tools or ()]
        )

    def count_tokens(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[BaseTool] | None = None,
        **kwargs: Any,
    ) -> int:
        """The input tokens of a chat with ``messages`` and ``tools``, counted by the
        provider (MiniMax's ``/anthropic/v1/messages/count_tokens``), with the same call
        options as ``chat()``. Raises ValueError for a provider that documents no counter.
        """
        request = self._build_request(messages, {**kwargs, "tools": tools})
        return self._transport.count_tokens(request)

    async def acount_tokens(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[BaseTool] | None = None,
        **kwargs: Any,
    ) -> int:
        """``count_tokens`` without blocking the event loop."""
        request = self._build_request(messages, {**kwargs, "tools": tools})
        return await self._transport.acount_tokens(request)

    # Requests.

    def _build_request(
        self, messages: Sequence[ChatMessage], options: dict[str, Any]
    ) -> ChatRequest:
        problem = unknown_call_options(options)
        if problem:
            raise TypeError(f"MiniMaxM3 got {problem}")
        tools = [tool_to_spec(tool) for tool in options.get("tools") or ()]
        request = self.chat_request(
            options,
            messages=chat_messages_to_neutral(messages),
            tools=tools,
            tool_choice=tool_choice_to_neutral(
                options.get("tool_choice"), tool_names=[tool.name for tool in tools]
            ),
        )
        transport = self._transport
        if transport.profile.max_results.get(transport.api, 1) > 1:
            # Elsewhere validation refuses n > 1 for every framework alike.
            refuse_several_answers(request.n)
        return request

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        return result_to_chat_response(self._transport.complete(request))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        return result_to_chat_response(await self._transport.acomplete(request))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._build_request(messages, kwargs)
        transport = self._transport

        def gen() -> ChatResponseGen:
            state = ChatStreamState()
            # The transport's stream is a generator; closing it early frees the connection.
            events = transport.stream(request)
            with closing(events):
                for event in events:
                    yield stream_event_to_chat_response(event, state)

        return gen()

    async def _astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        request = self._build_request(messages, kwargs)
        return _Responses(
            self._transport.astream(request),
            partial(stream_event_to_chat_response, state=ChatStreamState()),
        )

    # The eight LlamaIndex entry points; completion is chat with one user message.

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    # Completion is chat with one user message; the answer keeps its reasoning (see
    # chat_response_to_completion_response), which LlamaIndex's generic conversion drops.

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_response_to_completion_response(self._chat(_prompt(prompt), **kwargs))

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return chat_response_to_completion_response(await self._achat(_prompt(prompt), **kwargs))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        responses = self._stream_chat(_prompt(prompt), **kwargs)

        def gen() -> CompletionResponseGen:
            with closing(responses):
                for response in responses:
                    yield chat_response_to_completion_response(response)

        return gen()

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        request = self._build_request(_prompt(prompt), kwargs)
        state = ChatStreamState()

        def convert(event: StreamEvent) -> CompletionResponse:
            return chat_response_to_completion_response(stream_event_to_chat_response(event, state))

        return _Responses(self._transport.astream(request), convert)

    # FunctionCallingLLM hooks.

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Arguments for chat(): the history, the tools as specs, the resolved tool_choice.

        ``allow_parallel_tool_calls`` is not sent (MiniMax does not document it); a response
        with several calls is cut to the first one when parallel calls are not allowed.
        """
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        specs = [tool_to_spec(tool) for tool in tools]
        return {
            "messages": messages,
            "tools": specs,
            "tool_choice": tool_choice_to_neutral(
                tool_choice, tool_required=tool_required, tool_names=[s.name for s in specs]
            ),
            **kwargs,
        }

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if allow_parallel_tool_calls:
            return response
        return chat_response_with_first_tool_call(response)

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The response's tool calls; raises ValueError when there are none, unless told not to."""
        selections = chat_response_to_tool_selections(response)
        if not selections and error_on_no_tool_call:
            raise ValueError(
                "Expected at least one tool call, but the model answered without one: "
                f"{(response.message.content or '')[:200]!r}"
            )
        return selections


def refuse_several_answers(n: int) -> None:
    """A LlamaIndex chat returns one ChatResponse: n > 1 would pay for answers it drops."""
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        raise ValueError(
            f"n must be 1 for MiniMaxM3, whose chat returns one ChatResponse; got {n!r}. "
            "For several answers from one Runware request use "
            "langchain_minimax_m3.ChatMiniMaxM3(n=...), or call chat() several times"
        )


def _prompt(prompt: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=prompt)]


class _Responses(AsyncGenerator[R, None]):
    """The transport's events as responses, without an async generator of our own.

    asyncio.run closes every async generator of its loop at once when it ends; with one of
    ours wrapped around the transport's, an abandoned stream had the two closing each
    other ("aclose(): asynchronous generator is already running"). This object is not
    registered with the loop, so only the transport's stream is closed, once.
    """

    __slots__ = ("_convert", "_events")

    def __init__(
        self, events: AsyncGenerator[StreamEvent, None], convert: Callable[[StreamEvent], R]
    ) -> None:
        self._events = events
        self._convert = convert

    async def __anext__(self) -> R:
        return self._convert(await self._events.__anext__())

    async def asend(self, value: None) -> R:
        return await self.__anext__()

    async def athrow(self, *args: Any) -> R:
        return self._convert(await self._events.athrow(*args))

    async def aclose(self) -> None:
        await self._events.aclose()
