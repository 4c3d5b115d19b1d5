"""``MiniMaxM3``: MiniMax M3 as a LlamaIndex ``FunctionCallingLLM``.

Framework plumbing only. Messages are converted in :mod:`llama_index_minimax_m3.convert`;
HTTP, retries, validation and every wire format live in the shared ``minimax_m3``
transport.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any, Literal

import httpx
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
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
from pydantic import BaseModel, Field, PrivateAttr, SecretStr, field_serializer

from llama_index_minimax_m3.convert import (
    ChatStreamState,
    chat_messages_to_neutral,
    chat_response_to_tool_selections,
    chat_response_with_first_tool_call,
    result_to_chat_response,
    stream_event_to_chat_response,
    tool_choice_to_neutral,
    tool_to_spec,
)
from minimax_m3.credentials import without_credentials
from minimax_m3.models import M2, model_info
from minimax_m3.providers import get_provider
from minimax_m3.transport import DEFAULT_MAX_RETRIES, TRANSPORT_SETTINGS, Transport
from minimax_m3.types import ChatRequest
from minimax_m3.validation import validate_settings

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool
    from typing_extensions import Self

logger = logging.getLogger("llama_index_minimax_m3")

DEFAULT_MODEL = "MiniMax-M3"

# Changing any of these after construction rebuilds the transport on the next call.
_TRANSPORT_FIELDS = frozenset(TRANSPORT_SETTINGS)
# Never serialized or pickled: the key, and clients that belong to this process.
_NOT_PICKLED = ("api_key", "http_client", "http_async_client")
# Headers that carry credentials are left out of to_dict(), to_json() and pickles too.
# What chat() and friends accept per call, on top of the messages.
_CALL_OPTIONS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "stop",
        "n",
        "thinking",
        "tools",
        "tool_choice",
        "response_format",
        "extra_body",
    }
)


class MiniMaxM3(FunctionCallingLLM):
    """MiniMax M3 (and M2.x) for LlamaIndex, with reasoning kept and tools built in.

    Setup::

        pip install "minimax-m3[llama-index]"
        export MINIMAX_API_KEY=...            # or pass api_key=

        from llama_index.core import Settings
        from llama_index_minimax_m3 import MiniMaxM3

        Settings.llm = MiniMaxM3()            # model="MiniMax-M3", 1,000,000-token window

    Key arguments (all optional):
        model: model id; default ``"MiniMax-M3"``, or the provider's own id for M3
            (``"minimax/m3"`` on Cloudflare, ``"minimax:m3@0"`` on Runware).
        provider: ``"minimax"`` (default), ``"cloudflare"``, ``"runware"`` or
            ``"openai-compatible"`` (a self-hosted vLLM or SGLang server; set ``base_url``).
        api: wire format, default the provider's first (``"chat_completions"``).
        api_key: read from ``MINIMAX_API_KEY``, ``CLOUDFLARE_API_TOKEN`` or
            ``RUNWARE_API_KEY`` when not given. Never shown, serialized or pickled.
        base_url, account_id: where requests go (``MINIMAX_BASE_URL`` and
            ``CLOUDFLARE_ACCOUNT_ID`` are read too).
        thinking: ``"adaptive"``, ``"disabled"`` or None for the provider's default.
        temperature, top_p, max_tokens, stop: sampling; checked against the model's
            ranges when the object is built, so a bad value fails here, naming it.
        timeout, max_retries: one retry layer, in the transport (default 2 retries).
        http_client, http_async_client, default_headers: your own pooled httpx clients
            and extra headers.
        gateway_id: Cloudflare AI Gateway to route through (``cf-aig-gateway-id``).
        poll_interval: first wait, in seconds, between polls of a Runware task sent with
            ``extra_body={"deliveryMethod": "async"}``; later waits grow up to 10 s.
        n: choices per call; MiniMax returns one, so only 1 is accepted.

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
    needs to keep its train of thought across tool calls.

    Errors are the transport's typed exceptions (``minimax_m3.errors``), carrying the
    HTTP status, MiniMax's code and the request id.
    """

    model: str = Field(default=DEFAULT_MODEL, description="The model id.")
    provider: str = Field(
        default="minimax",
        description="'minimax', 'cloudflare', 'runware' or 'openai-compatible'.",
    )
    api: str | None = Field(
        default=None, description="Wire format; None picks the provider's default."
    )
    api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="API key; None reads the provider's environment variable.",
    )
    base_url: str | None = Field(default=None, description="The provider's API root.")
    account_id: str | None = Field(default=None, description="Cloudflare account id.")
    thinking: Literal["adaptive", "disabled"] | None = Field(
        default=None, description="'adaptive', 'disabled' or None for the provider's default."
    )
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling probability.")
    max_tokens: int | None = Field(
        default=None, description="Most tokens to generate, reasoning included."
    )
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    timeout: float | None = Field(
        default=None, description="Seconds per request; None means 600 (10 to connect)."
    )
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES, description="Retries after the first attempt."
    )
    http_client: httpx.Client | None = Field(default=None, exclude=True, repr=False)
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True, repr=False)
    default_headers: dict[str, str] | None = Field(
        default=None, repr=False, description="Headers added to every request."
    )
    gateway_id: str | None = Field(
        default=None, description="Cloudflare AI Gateway id, sent as cf-aig-gateway-id."
    )
    poll_interval: float = Field(
        default=1.0, description="First wait between polls of a queued Runware task."
    )

    _transport: Transport | None = PrivateAttr(default=None)

    def __init__(
        self,
        model: str | None = None,
        *,
        provider: str = "minimax",
        api: str | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        account_id: str | None = None,
        thinking: Literal["adaptive", "disabled"] | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        gateway_id: str | None = None,
        poll_interval: float = 1.0,
        n: int = 1,
        **kwargs: Any,
    ) -> None:
        # Pydantic would drop an unknown setting without a word; a typo must not pass.
        unknown = sorted(set(kwargs) - set(type(self).model_fields))
        if unknown:
            raise TypeError(
                f"MiniMaxM3 got unexpected keyword arguments {unknown}; it takes "
                f"{sorted({*type(self).model_fields, 'n'})}"
            )
        if model is None:
            model = get_provider(provider).default_model
        super().__init__(
            model=model,
            provider=provider,
            api=api,
            api_key=api_key,
            base_url=base_url,
            account_id=account_id,
            thinking=thinking,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            stop=list(stop) if stop is not None else None,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            http_async_client=http_async_client,
            default_headers=dict(default_headers) if default_headers is not None else None,
            gateway_id=gateway_id,
            poll_interval=poll_interval,
            **kwargs,
        )
        # Both raise ValueError naming the setting at fault, before anything is sent.
        self._transport = self._new_transport()
        self._check_sampling(self._transport, n=n)

    @classmethod
    def class_name(cls) -> str:
        return "MiniMaxM3"

    @property
    def metadata(self) -> LLMMetadata:
        """Context window from the model table (1,000,000 for M3, 204,800 for M2.x).

        Ids the table does not know (a self-hosted server's own name, say) get the
        smaller M2.x window. ``num_output`` is ``max_tokens``, or -1 when it is unset.
        """
        info = model_info(self.model) or M2
        return LLMMetadata(
            context_window=info.context_window,
            num_output=self.max_tokens if self.max_tokens is not None else -1,
            is_chat_model=True,
            is_function_calling_model=info.tool_calling,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # Transport: built once, rebuilt after a connection setting changes or unpickling.

    def _new_transport(self) -> Transport:
        return Transport.from_settings(self)

    def _get_transport(self) -> Transport:
        transport = self._transport
        if transport is None:
            transport = self._transport = self._new_transport()
        return transport

    def _check_sampling(self, transport: Transport, *, n: int = 1) -> None:
        validate_settings(
            transport.profile,
            model=self.model,
            thinking=self.thinking,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop=tuple(self.stop or ()),
            n=n,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "api_key" and isinstance(value, str):
            value = SecretStr(value)
        super().__setattr__(name, value)
        if name in _TRANSPORT_FIELDS:
            self._transport = None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; one that changes a connection setting gets a transport of its own."""
        if update and isinstance(update.get("api_key"), str):
            update = {**update, "api_key": SecretStr(update["api_key"])}
        copied = super().model_copy(update=update, deep=deep)
        if update and _TRANSPORT_FIELDS.intersection(update):
            copied._transport = None
        return copied

    @field_serializer("default_headers")
    def _headers_without_credentials(self, headers: dict[str, str] | None) -> dict[str, str] | None:
        return without_credentials(headers)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings, never the key, the clients or the transport.

        An unpickled instance reads the key from the environment again on its first call
        (or set ``llm.api_key``); without one that call raises a ValueError saying so.
        """
        fields = dict(self.__dict__)
        for name in _NOT_PICKLED:
            fields[name] = None
        fields["default_headers"] = without_credentials(self.default_headers)
        for name, value in list(fields.items()):
            try:
                pickle.dumps(value)
            except Exception:
                logger.warning("MiniMaxM3: %s cannot be pickled and is left out", name)
                del fields[name]
        private = {
            name: value
            for name, value in (self.__pydantic_private__ or {}).items()
            if name != "_transport"
        }
        return {
            "__dict__": fields,
            "__pydantic_extra__": self.__pydantic_extra__,
            "__pydantic_fields_set__": set(self.__pydantic_fields_set__),
            "__pydantic_private__": private,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        fields = dict(state.get("__dict__", {}))
        for name, info in type(self).model_fields.items():
            if name not in fields:
                fields[name] = info.get_default(call_default_factory=True)
        private = {**state.get("__pydantic_private__", {}), "_transport": None}
        BaseModel.__setstate__(self, {**state, "__dict__": fields, "__pydantic_private__": private})

    # Requests.

    def _build_request(
        self, messages: Sequence[ChatMessage], options: dict[str, Any]
    ) -> ChatRequest:
        unknown = sorted(set(options) - _CALL_OPTIONS)
        if unknown:
            raise TypeError(
                f"MiniMaxM3 got unexpected keyword arguments {unknown}; per-call options are "
                f"{sorted(_CALL_OPTIONS)}"
            )
        tools = [tool_to_spec(tool) for tool in options.get("tools") or ()]
        stop = options.get("stop", self.stop)
        return ChatRequest(
            model=self.model,
            messages=chat_messages_to_neutral(messages),
            tools=tuple(tools),
            tool_choice=tool_choice_to_neutral(
                options.get("tool_choice"), tool_names=[tool.name for tool in tools]
            ),
            thinking=options.get("thinking", self.thinking),
            temperature=options.get("temperature", self.temperature),
            top_p=options.get("top_p", self.top_p),
            max_tokens=options.get("max_tokens", self.max_tokens),
            stop=tuple(stop or ()),
            n=options.get("n", 1),
            response_format=options.get("response_format"),
            extra_body=options.get("extra_body"),
        )

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        return result_to_chat_response(self._get_transport().complete(request))

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._build_request(messages, kwargs)
        return result_to_chat_response(await self._get_transport().acomplete(request))

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._build_request(messages, kwargs)
        transport = self._get_transport()

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
        transport = self._get_transport()

        async def gen() -> ChatResponseAsyncGen:
            state = ChatStreamState()
            events = transport.astream(request)
            async with aclosing(events):
                async for event in events:
                    yield stream_event_to_chat_response(event, state)

        return gen()

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

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return chat_to_completion_decorator(self._chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

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
