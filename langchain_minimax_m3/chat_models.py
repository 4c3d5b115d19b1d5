"""``ChatMiniMaxM3``: MiniMax M3 as a LangChain chat model.

Only framework glue lives here: the class, its settings and how a call becomes a
``ChatRequest``. Conversions are in ``convert``, errors in ``errors``, the
``content_blocks`` translator in ``content_blocks``; all I/O is the shared transport's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from operator import itemgetter
from typing import Any, Literal

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.load.serializable import SerializedConstructor, SerializedNotImplemented
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import AliasChoices, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from typing_extensions import Self

# Imported for its side effect: it registers the "minimax" content-block translator.
import langchain_minimax_m3.content_blocks  # noqa: F401
from langchain_minimax_m3.convert import (
    event_to_generation_chunk,
    messages_to_neutral,
    result_to_ai_message,
    tool_choice_to_neutral,
    tool_to_spec,
)
from langchain_minimax_m3.errors import langchain_errors
from langchain_minimax_m3.profile import model_profile
from minimax_m3.credentials import without_credentials
from minimax_m3.providers import get_provider
from minimax_m3.transport import Transport
from minimax_m3.types import ChatRequest, StreamEvent, Thinking
from minimax_m3.validation import validate_settings

__all__ = ["ChatMiniMaxM3"]

# Per-call keyword arguments a request takes (besides ``stop``, which LangChain passes
# on its own). Anything else is refused by name rather than ignored.
_CALL_OPTIONS = frozenset(
    {
        "model",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "thinking",
        "temperature",
        "top_p",
        "max_tokens",
        "n",
        "response_format",
        "extra_body",
    }
)
# Never pickled: the key, and clients that belong to this process. Headers that carry
# credentials are left out too.
_NOT_PICKLED = ("api_key", "http_client", "http_async_client")


class ChatMiniMaxM3(BaseChatModel):
    """MiniMax M3 chat model: reasoning kept, every provider, one pooled transport.

    Setup:
        Install the package with the LangChain extra and set your key:

        ```bash
        pip install "minimax-m3[langchain]"
        export MINIMAX_API_KEY="your-api-key"
        ```

        Other hosts: ``provider="cloudflare"`` (``CLOUDFLARE_API_TOKEN`` and
        ``CLOUDFLARE_ACCOUNT_ID``), ``provider="runware"`` (``RUNWARE_API_KEY``) or
        ``provider="openai-compatible"`` with ``base_url`` for a self-hosted server.
        Mainland China: ``base_url="https://api.minimaxi.com"`` or ``MINIMAX_BASE_URL``.

    Key init args — completion params:
        model: str
            Model id; default ``"MiniMax-M3"`` (the provider's own id for M3 when only
            ``provider`` is given).
        thinking: ``"adaptive"`` | ``"disabled"`` | None
            M3's thinking control; None leaves the provider default (adaptive).
        temperature, top_p: float | None
            Sampling, checked against the provider's range when the model is built.
        max_tokens: int | None
            Most tokens to generate (reasoning included).
        stop: list[str] | None
            Stop sequences; the answer is also cut on the client side, since MiniMax
            accepts ``stop`` but does not honour it.

    Key init args — client params:
        provider: ``"minimax"`` | ``"cloudflare"`` | ``"runware"`` | ``"openai-compatible"``
        api: ``"chat_completions"`` (default) or another wire format the provider speaks.
        api_key: SecretStr | None
            Read from the provider's environment variable when not given.
        base_url, account_id: where requests go (see the README's provider table).
        timeout: float | httpx.Timeout | None
        max_retries: int
            Retries of the single retry layer, in the transport (429, 5xx, timeouts).
        http_client, http_async_client: your own pooled ``httpx`` clients.
        default_headers: extra headers on every request.
        gateway_id: Cloudflare AI Gateway to route through (sent as ``cf-aig-gateway-id``).
        poll_interval: first wait, in seconds, between polls of a Runware task sent with
            ``extra_body={"deliveryMethod": "async"}``; later waits grow up to 10 s.

    Instantiate:
        ```python
        from langchain_minimax_m3 import ChatMiniMaxM3

        llm = ChatMiniMaxM3(model="MiniMax-M3", temperature=1.0, max_tokens=4096)
        ```

    Invoke:
        ```python
        msg = llm.invoke("What is the capital of France?")
        msg.content  # "The capital of France is Paris."
        msg.additional_kwargs["reasoning_content"]  # the model's thinking
        msg.content_blocks[0]  # {"type": "reasoning", "reasoning": "..."}
        msg.usage_metadata
        # {"input_tokens": 41, "output_tokens": 57, "total_tokens": 98,
        #  "input_token_details": {"cache_read": 0},
        #  "output_token_details": {"reasoning": 33}}
        msg.response_metadata["finish_reason"]  # "stop"
        ```

    Stream:
        ```python
        for chunk in llm.stream("Why is the sky blue?"):
            print(chunk.additional_kwargs.get("reasoning_content", ""), end="")  # thinking
            print(chunk.text, end="")  # answer
        ```

        Reasoning streams as deltas before the answer; the last chunk carries
        ``usage_metadata``, ``response_metadata`` and ``reasoning_details``, so the sum
        of the chunks is a complete message. ``astream``, ``ainvoke``, ``batch`` and
        ``abatch`` work the same way.

    Tool calling:
        ```python
        from pydantic import BaseModel, Field


        class GetWeather(BaseModel):
            '''Get the current weather in a given location.'''

            location: str = Field(description="City and country, e.g. Paris, France")


        llm_with_tools = llm.bind_tools([GetWeather], tool_choice="auto")
        msg = llm_with_tools.invoke("What's the weather in Paris?")
        msg.tool_calls
        # [{"name": "GetWeather", "args": {"location": "Paris, France"},
        #   "id": "call_function_...", "type": "tool_call"}]
        ```

        ``tool_choice`` takes ``"auto"``, ``"none"``, ``"any"``/``"required"``, ``True``
        or a tool's name. MiniMax has no named choice, so a named tool is sent alone
        with ``"required"``: the model must call it and cannot call another.

        Put the AIMessage back in the history as it is: its reasoning
        (``additional_kwargs["reasoning_details"]``) goes back to MiniMax verbatim,
        which M3 needs to keep its train of thought across tool calls.

    Structured output:
        ```python
        class Joke(BaseModel):
            setup: str
            punchline: str


        llm.with_structured_output(Joke).invoke("Tell me a joke about cats")
        # Joke(setup="...", punchline="...")
        ```

        ``method="function_calling"`` (default) forces a tool; ``"json_schema"`` sends
        the schema as ``response_format``; ``"json_mode"`` asks for any JSON object.
        The JSON is read even when the model wraps it in prose or a code fence.
        ``include_raw=True`` returns ``{"raw", "parsed", "parsing_error"}``.

    Reasoning:
        ``additional_kwargs["reasoning_content"]`` holds the thinking as text and
        ``additional_kwargs["reasoning_details"]`` the provider's own reasoning objects;
        ``content_blocks`` starts with a standard ``reasoning`` block (none when the
        model did not think). With ``output_version="v1"`` the content itself is the
        standard blocks. ``thinking="disabled"`` turns M3's thinking off.

    Multimodal:
        Images (LangChain ``image`` blocks with ``url`` or ``base64``, OpenAI
        ``image_url`` parts) and videos (``video`` blocks, ``video_url`` parts) go to
        M3; M2 models take text only.

    Errors:
        Failures raise ``langchain_minimax_m3.errors`` classes that are both the
        transport's error (status, provider code, request id, body) and the matching
        ``langchain_core.exceptions`` class (``ModelRateLimitError``,
        ``ModelAuthenticationError``, ``ContextOverflowError``, ...).
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "MiniMax-M3"
    """Model id. Defaults to the provider's id for M3 when only ``provider`` is set."""
    provider: str = "minimax"
    """Who serves the model: "minimax", "cloudflare", "runware" or "openai-compatible"."""
    api: str | None = None
    """Wire format; None is the provider's default ("chat_completions" for most)."""
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "minimax_api_key")
    )
    """API key (``minimax_api_key`` also works); read from the provider's environment
    variable when not given."""
    base_url: str | None = None
    """The provider's API root; MiniMax also reads ``MINIMAX_BASE_URL``."""
    account_id: str | None = None
    """Cloudflare account id; read from ``CLOUDFLARE_ACCOUNT_ID`` when not given."""
    thinking: Thinking | None = None
    """M3's thinking: "adaptive", "disabled", or None for the provider default."""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    """Most tokens to generate, reasoning included."""
    stop: list[str] | None = None
    """Stop sequences; the answer is cut on the client side too."""
    n: int | None = None
    """Choices per call. MiniMax returns one, so anything but 1 (or None) is refused before
    sending."""
    timeout: float | httpx.Timeout | None = None
    """Seconds (or an ``httpx.Timeout``); None waits up to 10 minutes."""
    max_retries: int = 2
    """Retries on rate limits, server errors and dropped connections."""
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """Your own sync client; by default a pooled client shared by all instances."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """Your own async client; by default a pooled client per event loop."""
    default_headers: dict[str, str] | None = None
    """Headers added to every request."""
    gateway_id: str | None = None
    """Cloudflare AI Gateway id, sent as the ``cf-aig-gateway-id`` header."""
    poll_interval: float = 1.0
    """First wait between polls of a queued Runware task; later waits grow to 10 s."""
    extra_body: dict[str, Any] | None = None
    """Extra top-level fields for the request body, sent as they are."""
    streaming: bool = False
    """Stream under the hood in ``invoke`` too (callbacks then see every token)."""

    _transport_cache: Transport | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _default_model_for_provider(cls, values: Any) -> Any:
        if isinstance(values, dict) and "model" not in values and values.get("provider"):
            return {**values, "model": get_provider(values["provider"]).default_model}
        return values

    @model_validator(mode="after")
    def _build_transport(self) -> Self:
        """One transport per instance; bad settings fail here, naming the setting."""
        transport = self._new_transport()
        validate_settings(
            transport.profile,
            model=self.model,
            thinking=self.thinking,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop=tuple(self.stop or ()),
            n=_choices(self.n),
        )
        if self.api_key is None and transport.api_key is not None:
            self.api_key = transport.api_key
        self._transport_cache = transport
        return self

    @property
    def _transport(self) -> Transport:
        """The transport; after unpickling it is built again on first use, reading the key
        from the environment (keys are never pickled)."""
        transport = self._transport_cache
        if transport is None:
            transport = self._transport_cache = self._new_transport()
        return transport

    def _new_transport(self) -> Transport:
        return Transport.from_settings(self)

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain's serialized form, with credential headers left out like the key."""
        serialized = super().to_json()
        kwargs = serialized.get("kwargs")
        if isinstance(kwargs, dict) and kwargs.get("default_headers"):
            kwargs["default_headers"] = without_credentials(kwargs["default_headers"])
        return serialized

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle the settings, never the key, your clients or the transport.

        An unpickled model reads the key from the environment again on its first call;
        without one that call raises a ValueError naming the variable to set.
        """
        state = super().__getstate__()
        fields = dict(state["__dict__"])
        for name in _NOT_PICKLED:
            fields[name] = None
        fields["default_headers"] = without_credentials(fields.get("default_headers"))
        private = {
            name: value
            for name, value in (state.get("__pydantic_private__") or {}).items()
            if name != "_transport_cache"
        }
        return {**state, "__dict__": fields, "__pydantic_private__": private}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        private = {**(state.get("__pydantic_private__") or {}), "_transport_cache": None}
        super().__setstate__({**state, "__pydantic_private__": private})

    # --- LangChain hooks ----------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "minimax-m3-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_minimax_m3", "chat_models"]

    @property
    def lc_secrets(self) -> dict[str, str]:
        env = get_provider(self.provider).api_key_env or "MINIMAX_API_KEY"
        return {"api_key": env}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            "api": self._transport.api,
            "base_url": self._transport.base_url,
            "thinking": self.thinking,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "stop": self.stop,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="minimax",
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop if stop is not None else self.stop
        if stops:
            params["ls_stop"] = list(stops)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        return model_profile(self.model)

    # --- calls --------------------------------------------------------------------

    def _build_request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> ChatRequest:
        """The request for one call: instance settings, overridden by per-call kwargs."""
        options = {k: v for k, v in kwargs.items() if k != "stream"}
        unknown = sorted(set(options) - _CALL_OPTIONS)
        if unknown:
            raise ValueError(
                f"ChatMiniMaxM3 got unexpected call arguments {unknown}; "
                f"it takes {sorted(_CALL_OPTIONS | {'stop'})}"
            )
        model = options.get("model") or self.model
        tools = [tool_to_spec(tool) for tool in options.get("tools") or ()]
        extra_body = {**(self.extra_body or {}), **(options.get("extra_body") or {})}
        stops = stop if stop is not None else self.stop
        return ChatRequest(
            model=model,
            messages=messages_to_neutral(messages, model=model),
            tools=tuple(tools),
            tool_choice=tool_choice_to_neutral(
                options.get("tool_choice"), [tool.name for tool in tools]
            ),
            parallel_tool_calls=options.get("parallel_tool_calls"),
            thinking=options.get("thinking", self.thinking),
            temperature=options.get("temperature", self.temperature),
            top_p=options.get("top_p", self.top_p),
            max_tokens=options.get("max_tokens", self.max_tokens),
            stop=tuple(stops or ()),
            n=_choices(options.get("n", self.n)),
            response_format=options.get("response_format"),
            extra_body=extra_body or None,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors():
            result = self._transport.complete(request)
        return _chat_result(result_to_ai_message(result, model=request.model))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors():
            result = await self._transport.acomplete(request)
        return _chat_result(result_to_ai_message(result, model=request.model))

    # LangChain's stream() reports each chunk to the callbacks (on_llm_new_token), so
    # these two only translate; they differ in nothing but the loop.

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors(), _closing(self._transport.stream(request)) as events:
            for event in events:
                yield event_to_generation_chunk(event, model=request.model)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors():
            async with _aclosing(self._transport.astream(request)) as events:
                async for event in events:
                    yield event_to_generation_chunk(event, model=request.model)

    # --- tools and structured output ----------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in any form LangChain knows (tools, functions, pydantic models,
        TypedDicts, OpenAI or Anthropic dicts).

        Args:
            tools: The tools the model may call.
            tool_choice: ``"auto"``, ``"none"``, ``"any"`` or ``"required"`` (some tool
                must be called), ``True`` (the only tool, or any when there are
                several), or a tool's name. MiniMax takes no named choice, so a named
                tool is sent alone with ``"required"``.
            parallel_tool_calls: Whether the model may call several tools at once.
            strict: Passed to the schema conversion (``additionalProperties: false``).
            kwargs: Other call arguments to bind.
        """
        formatted = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None:
            # Checked now, so a bad choice fails where it was written.
            tool_choice_to_neutral(tool_choice, [t["function"]["name"] for t in formatted])
            kwargs["tool_choice"] = tool_choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable that answers with ``schema``'s shape.

        Args:
            schema: A pydantic model (the answer is an instance), a TypedDict, or a JSON
                Schema / OpenAI function dict (the answer is a dict). May be None only
                with ``method="json_mode"``.
            method: ``"function_calling"`` (default) forces a tool with the schema;
                ``"json_schema"`` sends it as ``response_format``; ``"json_mode"`` asks
                for a JSON object (say in the prompt which keys you want).
            include_raw: Return ``{"raw": AIMessage, "parsed": ..., "parsing_error": ...}``
                instead of raising when the answer cannot be parsed.
            strict: Passed to the schema conversion.
            kwargs: Not accepted; named in the error.
        """
        if kwargs:
            raise ValueError(f"with_structured_output got unexpected arguments {sorted(kwargs)}")
        if method not in ("function_calling", "json_schema", "json_mode"):
            raise ValueError(
                f"method must be 'function_calling', 'json_schema' or 'json_mode'; got {method!r}"
            )
        if schema is None and method != "json_mode":
            raise ValueError(f"schema is required for method={method!r}")
        # Imported here, not with the module: its two parsers are pydantic classes, slow to
        # create (3 ms of import), and only structured output needs them.
        from langchain_minimax_m3.structured_output import JsonAnswerParser, PydanticAnswerParser

        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        parser: Runnable[Any, Any] = (
            PydanticAnswerParser(pydantic_object=schema)  # type: ignore[arg-type]
            if is_pydantic
            else JsonAnswerParser()
        )
        bound: dict[str, Any] = {}
        if schema is not None:
            bound["ls_structured_output_format"] = {
                "kwargs": {"method": method, "strict": strict},
                "schema": schema,
            }
        if method == "function_calling" and schema is not None:
            name = convert_to_openai_tool(schema, strict=strict)["function"]["name"]
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
            llm = self.bind_tools([schema], tool_choice=name, strict=strict, **bound)
        elif method == "json_schema" and schema is not None:
            function = convert_to_openai_tool(schema, strict=strict)["function"]
            json_schema: dict[str, Any] = {
                "name": function["name"],
                "schema": function.get("parameters") or {},
            }
            if function.get("description"):
                json_schema["description"] = function["description"]
            if strict is not None:
                json_schema["strict"] = strict
            response_format = {"type": "json_schema", "json_schema": json_schema}
            llm = self.bind(response_format=response_format, **bound)
        else:
            llm = self.bind(response_format={"type": "json_object"}, **bound)
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
        with_fallback = parse.with_fallbacks([no_parse], exception_key="parsing_error")
        return RunnableMap(raw=llm) | with_fallback


def _choices(n: int | None) -> int:
    return 1 if n is None else n


def _chat_result(message: AIMessage) -> ChatResult:
    return ChatResult(
        generations=[ChatGeneration(message=message)],
        llm_output={"model_name": message.response_metadata.get("model_name")},
    )


@contextmanager
def _closing(events: Iterator[StreamEvent]) -> Iterator[Iterator[StreamEvent]]:
    """Close the transport's stream (and its connection) when the caller stops early."""
    try:
        yield events
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


@asynccontextmanager
async def _aclosing(
    events: AsyncIterator[StreamEvent],
) -> AsyncIterator[AsyncIterator[StreamEvent]]:
    try:
        yield events
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
