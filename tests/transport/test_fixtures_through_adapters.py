"""The seed page's real answers and the documented stream shapes, through both frameworks.

The transport's own tests replay these; here they go through ChatMiniMaxM3 and
MiniMaxM3 as a user calls them, over httpx.MockTransport, so a bug in a framework's
conversion (chunk merging, partial responses) cannot hide behind a correct transport.
The streams arrive cut at random places, one read per piece.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage
from replaying import random_cuts
from test_stream_fixtures import EXPECTED

from langchain_minimax_m3 import ChatMiniMaxM3
from llama_index_minimax_m3 import MiniMaxM3

SEEDS = [
    "capital_of_france",
    "haiku_long_reasoning",
    "multi_turn_no_reasoning",
    "system_prompt_recipe",
]


def serving(pieces: list[bytes], content_type: str) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(pieces), headers={"content-type": content_type})

    return httpx.Client(transport=httpx.MockTransport(answer))


def models(client: httpx.Client) -> tuple[ChatMiniMaxM3, MiniMaxM3]:
    settings: dict[str, Any] = {"api_key": "k", "base_url": "http://server.test", "max_retries": 0}
    return ChatMiniMaxM3(http_client=client, **settings), MiniMaxM3(http_client=client, **settings)


def langchain_stream(model: ChatMiniMaxM3) -> Any:
    merged: Any = None
    for chunk in model.stream("hi"):
        merged = chunk if merged is None else merged + chunk
    return merged


def llama_stream(model: MiniMaxM3) -> Any:
    responses: Iterator[Any] = model.stream_chat([ChatMessage(role="user", content="hi")])
    *_, last = responses
    return last


@pytest.mark.parametrize("name", SEEDS)
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "asked-to-stream"])
def test_a_seed_answer_reads_the_same_in_both_frameworks(
    name: str, streamed: bool, seed_response: Callable[[str], dict[str, Any]]
) -> None:
    # A server that ignores stream: true answers with the whole body, as the seeds are.
    seed = seed_response(name)
    message, usage = seed["choices"][0]["message"], seed["usage"]
    body = json.dumps(seed).encode()
    lc, li = models(serving([body], "application/json"))

    answer = langchain_stream(lc) if streamed else lc.invoke("hi")
    assert answer.content == message["content"]
    assert answer.additional_kwargs.get("reasoning_content", "") == message["reasoning_content"]
    assert answer.usage_metadata["input_tokens"] == usage["prompt_tokens"]
    assert answer.usage_metadata["output_tokens"] == usage["completion_tokens"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert answer.usage_metadata["input_token_details"]["cache_read"] == cached
    assert answer.response_metadata["finish_reason"] == "stop"

    question = [ChatMessage(role="user", content="hi")]
    response = llama_stream(li) if streamed else li.chat(question)
    assert response.message.content == message["content"]
    thinking = "".join(
        block.content for block in response.message.blocks if block.block_type == "thinking"
    )
    assert thinking == message["reasoning_content"]
    assert response.raw["usage"]["prompt_tokens"] == usage["prompt_tokens"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_documented_stream_cut_anywhere_reads_right_in_both_frameworks(
    name: str, sse_body: Callable[[str], bytes]
) -> None:
    expected = EXPECTED[name]
    body = sse_body(name)
    rng = random.Random(name)
    for _ in range(5):
        cuts = random_cuts(len(body), rng, rng.randint(2, 30))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        lc, li = models(serving(pieces, "text/event-stream"))

        merged = langchain_stream(lc)
        assert merged.content == expected["text"]
        assert merged.additional_kwargs.get("reasoning_content", "") == expected["reasoning"]
        calls = [(c["name"], json.dumps(c["args"])) for c in merged.tool_calls]
        assert calls == [(c.name, c.arguments) for c in expected.get("tool_calls", [])]

        *partial, last = li.stream_chat([ChatMessage(role="user", content="hi")])
        assert (last.message.content or "") == expected["text"]
        selections = li.get_tool_calls_from_response(last, error_on_no_tool_call=False)
        assert [(s.tool_name, json.dumps(s.tool_kwargs)) for s in selections] == calls
        # Every partial response shows each call's arguments so far: a prefix of the
        # call's whole arguments, never out of order or mixed with another call's.
        final = [c.arguments for c in expected.get("tool_calls", [])]
        for response in partial:
            shown = response.message.additional_kwargs.get("tool_calls", [])
            for raw, whole in zip(shown, final, strict=False):
                assert whole.startswith(raw["function"]["arguments"])
