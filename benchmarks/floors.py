"""Each framework's floor: a chat model that answers from memory, with no I/O at all.

Timing one of these through the framework's public entry points (``invoke``, ``chat``,
``stream``, ...) gives what the framework itself costs per call and per chunk; the
distance from there to an adapter is the adapter's and its transport's share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
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
from llama_index.core.llms.llm import LLM

ANSWER = "The capital of France is **Paris**."


def floor_tokens(chunks: int, size: int = 0) -> tuple[str, ...]:
    """``chunks`` tokens like the server's, or ``size`` bytes in its big-answer chunks.

    Made before anything is measured: a floor has its answer in memory already.
    """
    if not size:
        return tuple(f" t{i}" for i in range(chunks))
    from benchmarks.server import BIG_CHUNK, big_text

    text = big_text(size)
    return tuple(text[at : at + BIG_CHUNK] for at in range(0, size, BIG_CHUNK))


class FloorChatModel(BaseChatModel):
    """LangChain's floor: a fixed answer, or its ``tokens`` one by one when streamed."""

    tokens: tuple[str, ...] = ()
    call_fragments: bool = False
    """Stream the tokens as the argument fragments of one tool call instead of text."""

    @property
    def _llm_type(self) -> str:
        return "benchmark-floor"

    def _result(self) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=ANSWER))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result()

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for index, token in enumerate(self.tokens):
            yield self._chunk(index, token)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for index, token in enumerate(self.tokens):
            yield self._chunk(index, token)

    def _chunk(self, index: int, token: str) -> ChatGenerationChunk:
        if not self.call_fragments:
            return ChatGenerationChunk(message=AIMessageChunk(content=token))
        first = index == 0
        fragment = tool_call_chunk(
            name="search" if first else None,
            args=token,
            id="call_function_bench_1" if first else None,
            index=0,
        )
        return ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[fragment]))


class FloorLLM(LLM):
    """LlamaIndex's floor: a fixed answer, or ``chunks`` tokens as cumulative responses,
    the way every LlamaIndex LLM streams."""

    tokens: tuple[str, ...] = ()

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True, model_name="benchmark-floor")

    @staticmethod
    def _response() -> ChatResponse:
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=ANSWER))

    def _gen(self) -> ChatResponseGen:
        text = ""
        for token in self.tokens:
            text += token
            message = ChatMessage(role=MessageRole.ASSISTANT, content=text)
            yield ChatResponse(message=message, delta=token)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response()

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._response()

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        async def gen() -> ChatResponseAsyncGen:
            for response in self._gen():
                yield response

        return gen()

    # Completion is not measured; LLM requires these four all the same.

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return CompletionResponse(text=ANSWER)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        yield CompletionResponse(text=ANSWER, delta=ANSWER)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        async def gen() -> CompletionResponseAsyncGen:
            yield CompletionResponse(text=ANSWER, delta=ANSWER)

        return gen()
