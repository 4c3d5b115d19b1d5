"""``ChatMiniMaxM3``: MiniMax M3 as a LangChain chat model.

Only framework glue lives here: the class, its settings and how a call becomes a
``ChatRequest``. Conversions are in ``convert``, errors in ``errors``, the
``content_blocks`` translator in ``content_blocks``; all I/O is the shared transport's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing, closing
from operator import itemgetter
from typing import Any, Literal

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
from pydantic import ConfigDict

# Imported for its side effect: it registers the "minimax" content-block translator.
import langchain_minimax_m3.content_blocks  # noqa: F401
from langchain_minimax_m3.convert import (
    messages_to_neutral,
    result_to_ai_message,
    tool_cache_marker,
    tool_choice_to_neutral,
    tool_to_spec,
    with_last_block_marked,
)
from langchain_minimax_m3.errors import langchain_errors
from langchain_minimax_m3.profile import model_profile
from langchain_minimax_m3.stream import GenerationChunks
from langchain_minimax_m3.tool_schemas import to_openai_tool
from minimax_m3.adapter import AdapterSettings, unknown_call_options
from minimax_m3.credentials import without_credentials
from minimax_m3.providers import get_provider
from minimax_m3.tokens import estimate_messages_tokens, estimate_text_tokens
from minimax_m3.types import ChatRequest

__all__ = ["ChatMiniMaxM3"]


class ChatMiniMaxM3(AdapterSettings, BaseChatModel):
    """MiniMax M3 chat model: reasoning kept, every provider, one pooled transport.

    Setup:
        Install the package with the LangChain extra and set your key:

        ```bash
        pip install "./minimax-m3[langchain]"  # a clone; the README lists other ways
        export MINIMAX_API_KEY="your-api-key"
        ```

        Other hosts: ``provider="cloudflare"`` (``CLOUDFLARE_API_TOKEN`` and
        ``CLOUDFLARE_ACCOUNT_ID``), ``provider="runware"`` (``RUNWARE_API_KEY``) or
        ``provider="openai-compatible"`` with ``base_url`` for a self-hosted server.
        Mainland China: ``base_url="https://api.minimaxi.com"`` or ``MINIMAX_BASE_URL``.

    Key init args — completion params:
        model, thinking (``"adaptive"`` | ``"disabled"``), temperature, top_p,
        max_tokens, stop, n, extra_body. Each is also a per-call option.

    Key init args — client params:
        provider, api, api_key, base_url, account_id, timeout, max_retries,
        http_client, http_async_client, default_headers, gateway_id, poll_interval.

        Every setting is declared once, with its type, default and description, in
        ``minimax_m3.settings`` (``ConnectionSettings`` and ``ModelSettings``), and both
        frameworks' classes take the same ones. ``streaming=True`` streams under the
        hood in ``invoke`` too.

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

    model_config = ConfigDict(extra="forbid", defer_build=False)

    streaming: bool = False
    """Stream under the hood in ``invoke`` too (callbacks then see every token)."""

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain's serialized form, with credential headers left out like the key."""
        serialized = super().to_json()
        kwargs = serialized.get("kwargs")
        if isinstance(kwargs, dict) and kwargs.get("default_headers"):
            kwargs["default_headers"] = without_credentials(kwargs["default_headers"])
        return serialized

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
        # A webhook URL carries Runware's webhook credentials in its query string.
        return {"api_key": env, "webhook_url": "RUNWARE_WEBHOOK_URL"}

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """What callbacks and traces are told of a call, a webhook URL given to the call
        masked as the setting is left out."""
        if kwargs.get("webhook_url") is not None:
            kwargs["webhook_url"] = "**********"
        return super()._get_invocation_params(stop=stop, **kwargs)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "provider": self.provider,
            # Not base_url, as ChatOpenAI leaves out its own: a model loaded where
            # MINIMAX_BASE_URL is set goes there, and is the same model.
            "api": self._transport.api,
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
        model = str(kwargs.get("model") or self.model)
        max_tokens = self._transport.max_tokens_sent(
            model, kwargs.get("max_tokens", self.max_tokens)
        )
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
        options = {k: v for k, v in kwargs.items() if k not in ("stream", "cache_control")}
        if stop is not None:
            options["stop"] = stop
        problem = unknown_call_options(options)
        if problem:
            raise ValueError(f"ChatMiniMaxM3 got {problem}")
        tools = [tool_to_spec(tool) for tool in options.get("tools") or ()]
        neutral = messages_to_neutral(messages)
        if kwargs.get("cache_control") is not None:
            neutral = with_last_block_marked(neutral, kwargs["cache_control"])
        return self.chat_request(
            options,
            messages=neutral,
            tools=tools,
            tool_choice=tool_choice_to_neutral(
                options.get("tool_choice"), [tool.name for tool in tools]
            ),
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
            if request.n == 1:
                results = [self._transport.complete(request)]
            else:
                results = self._transport.complete_all(request)
        return _chat_result(*(result_to_ai_message(r, model=request.model) for r in results))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors():
            if request.n == 1:
                results = [await self._transport.acomplete(request)]
            else:
                results = await self._transport.acomplete_all(request)
        return _chat_result(*(result_to_ai_message(r, model=request.model) for r in results))

    # LangChain's stream() reports each chunk to the callbacks (on_llm_new_token), so
    # these two only translate; they differ in nothing but the loop.

    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        # Several results come in one answer, never as a stream: inside a streaming
        # graph or astream_events, n > 1 is then still a call that works.
        n = kwargs.get("n", self.n)
        if isinstance(n, int) and n > 1:
            return False
        return super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._build_request(messages, stop, kwargs)
        chunks = GenerationChunks(request.model)
        with langchain_errors(), closing(self._transport.stream(request)) as events:
            for event in events:
                yield chunks(event)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._build_request(messages, stop, kwargs)
        with langchain_errors():
            chunks = GenerationChunks(request.model)
            # contextlib's aclosing is a class, not another async generator for asyncio.run to
            # finalize beside this one when a stream is abandoned.
            async with aclosing(self._transport.astream(request)) as events:
                async for event in events:
                    yield chunks(event)

    # --- token counts -------------------------------------------------------------

    def get_num_tokens(self, text: str) -> int:
        """About how many tokens M3 makes of ``text``, worked out offline (see
        ``minimax_m3.tokens`` for how, and its measured error)."""
        return estimate_text_tokens(text)

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """About how many tokens ``messages`` (and ``tools``) come to, offline and cached, so
        ``trim_messages(..., token_counter=model)`` can call it often. Counts add up: parts
        of a history counted apart sum to the whole. A request costs the provider's own
        preamble on top (``minimax_m3.tokens.REQUEST_OVERHEAD``, about 170 tokens);
        ``count_tokens`` asks the provider for the whole figure."""
        specs = [tool_to_spec(tool) for tool in tools or ()]
        return estimate_messages_tokens(messages_to_neutral(messages), specs)

    def get_token_ids(self, text: str) -> list[int]:
        if self.custom_get_token_ids is not None:
            return self.custom_get_token_ids(text)
        raise NotImplementedError(
            "M3's tokenizer is not available offline, so there are no token ids; "
            "get_num_tokens and get_num_tokens_from_messages estimate counts, and "
            "count_tokens asks the provider"
        )

    def count_tokens(self, messages: LanguageModelInput, **kwargs: Any) -> int:
        """The exact prompt tokens of ``messages``, counted by the provider (MiniMax's
        ``/anthropic/v1/messages/count_tokens``); takes a call's options (``tools``,
        ``model``, ``thinking``). Other providers document no counter: a ValueError says
        so before anything is sent."""
        request = self._build_request(self._convert_input(messages).to_messages(), None, kwargs)
        with langchain_errors():
            return self._transport.count_tokens(request)

    async def acount_tokens(self, messages: LanguageModelInput, **kwargs: Any) -> int:
        """``count_tokens``, awaited."""
        request = self._build_request(self._convert_input(messages).to_messages(), None, kwargs)
        with langchain_errors():
            return await self._transport.acount_tokens(request)

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
            tools: The tools the model may call; ``{"type": "search"}`` and
                ``{"type": "codeInterpreter"}`` are Runware's built-in tools, which the
                provider runs itself (native tasks only).
            tool_choice: ``"auto"``, ``"none"``, ``"any"`` or ``"required"`` (some tool
                must be called), ``True`` (the only tool, or any when there are
                several), or a tool's name. MiniMax takes no named choice, so a named
                tool is sent alone with ``"required"``.
            parallel_tool_calls: Whether the model may call several tools at once.
            strict: Passed to the schema conversion (``additionalProperties: false``).
            kwargs: Other call arguments to bind.
        """
        builtin = [tool for tool in tools if is_builtin_tool(tool)]
        formatted = [
            _with_cache_marker(to_openai_tool(tool, strict=strict), tool)
            for tool in tools
            if tool not in builtin
        ]
        if builtin:
            # Runware's search and codeInterpreter run at the provider: offered by type,
            # never among the functions an agent would run.
            kwargs["builtin_tools"] = [*(kwargs.get("builtin_tools") or ()), *builtin]
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


def _with_cache_marker(formatted: dict[str, Any], tool: Any) -> dict[str, Any]:
    """The OpenAI tool dict a tool binds as, with the tool's cache marker beside its
    function, where ``tool_to_spec`` finds it again (the conversion drops it)."""
    marker = tool_cache_marker(tool)
    return formatted if marker is None else {**formatted, "cache_control": dict(marker)}


def _chat_result(*messages: AIMessage) -> ChatResult:
    """One generation per answer: several where ``n`` asked for them (Runware)."""
    return ChatResult(
        generations=[ChatGeneration(message=message) for message in messages],
        llm_output={"model_name": messages[0].response_metadata.get("model_name")},
    )


def is_builtin_tool(tool: object) -> bool:
    """A provider's own tool as LangChain users pass it: a dict that is its type alone
    (``{"type": "search"}``), unlike OpenAI's and Anthropic's function tool dicts."""
    return isinstance(tool, dict) and set(tool) == {"type"} and tool["type"] != "function"
