"""The emulator as a self-hosted vLLM or SGLang server: with M3's parsers, and without."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from minimax_m3.testing import Layout, MiniMaxEmulator, ProviderOptions, Reply, ToolCallReply

M = "]<]minimax[>["
USER = {"role": "user", "content": "Weather in Paris?"}
CALL = ToolCallReply("get_weather", {"city": "Paris", "days": 3, "metric": True, "skip": None})
# M3's own markup, as its chat template's to_xml renders a call: None is left out.
M3_BLOCK = (
    f"{M}<tool_call>\n"
    f'{M}<invoke name="get_weather">{M}<city>Paris{M}</city>{M}<days>3{M}</days>'
    f"{M}<metric>true{M}</metric>{M}</invoke>\n"
    f"{M}</tool_call>"
)


def post(emulator: MiniMaxEmulator, server: str, **extra: Any) -> httpx.Response:
    body = {"model": "MiniMax-M3", "messages": [USER], **extra}
    url = emulator.self_hosted_base_url(server) + "/chat/completions"  # type: ignore[arg-type]
    return httpx.post(url, json=body, timeout=5.0)


def streamed_content(response: httpx.Response) -> tuple[list[str], list[dict[str, Any]]]:
    lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    chunks = [json.loads(line) for line in lines if line != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    return [d["content"] for d in deltas if d.get("content")], deltas


@pytest.mark.parametrize(
    ("server", "field"), [("vllm", "reasoning"), ("sglang", "reasoning_content")]
)
def test_with_parsers_reasoning_and_calls_come_in_their_fields(
    emulator: MiniMaxEmulator, server: str, field: str
) -> None:
    emulator.queue(Reply(text="", reasoning="Look it up.", tool_calls=[CALL]))
    message = post(emulator, server).json()["choices"][0]["message"]
    assert message[field] == "Look it up."
    assert message["content"] is None
    assert "reasoning_details" not in message
    assert [c["function"]["name"] for c in message["tool_calls"]] == ["get_weather"]
    assert "base_resp" not in post(emulator, server).json()


@pytest.mark.parametrize(
    ("mode", "content"),
    [
        (None, f"<mm:think>Look it up.</mm:think>Checking.\n{M3_BLOCK}"),
        ("adaptive", f"<mm:think>Look it up.</mm:think>Checking.\n{M3_BLOCK}"),
        # The template wrote the opener into the prompt, so the output starts inside.
        ("enabled", f"Look it up.</mm:think>Checking.\n{M3_BLOCK}"),
        # The template closed reasoning before the answer: the model does not think.
        ("disabled", f"Checking.\n{M3_BLOCK}"),
    ],
)
def test_without_parsers_the_model_output_is_the_content(
    emulator: MiniMaxEmulator, mode: str | None, content: str
) -> None:
    emulator.queue(Reply(text="Checking.", reasoning="Look it up.", tool_calls=[CALL]))
    extra = {"chat_template_kwargs": {"thinking_mode": mode}} if mode else {}
    choice = post(emulator, "raw", **extra).json()["choices"][0]
    assert choice["message"]["content"] == content
    assert "tool_calls" not in choice["message"]
    assert "reasoning_content" not in choice["message"]
    assert choice["finish_reason"] == "stop"


def test_m2_markup_on_request(emulator: MiniMaxEmulator) -> None:
    emulator.queue(
        Reply(tool_calls=[ToolCallReply("f", {"x": 1})], layout=Layout(tool_markup="m2"))
    )
    content = post(emulator, "raw").json()["choices"][0]["message"]["content"]
    m2 = '<minimax:tool_call>\n<invoke name="f">\n<parameter name="x">1</parameter>\n</invoke>'
    assert content == m2 + "\n</minimax:tool_call>"


def test_raw_chunks_are_sent_exactly_and_joined_when_not_streamed(
    emulator: MiniMaxEmulator,
) -> None:
    pieces = ("pla", "n</mm:", "think>", "ans", "wer")
    emulator.queue(Reply(raw_chunks=pieces), Reply(raw_chunks=pieces))
    with httpx.stream(
        "POST",
        emulator.self_hosted_base_url("raw") + "/chat/completions",
        json={"model": "MiniMax-M3", "messages": [USER], "stream": True},
    ) as response:
        sent, _ = streamed_content(response)
    assert tuple(sent) == pieces
    whole = post(emulator, "raw").json()["choices"][0]["message"]["content"]
    assert whole == "plan</mm:think>answer"


def test_a_reply_may_name_its_own_server(emulator: MiniMaxEmulator) -> None:
    emulator.queue(Reply(text="Hi", reasoning="Greet.", provider=ProviderOptions(server="vllm")))
    message = httpx.post(
        emulator.base_url + "/v1/chat/completions",
        json={"model": "MiniMax-M3", "messages": [USER]},
    ).json()["choices"][0]["message"]
    assert (message["reasoning"], message["content"]) == ("Greet.", "Hi")


def test_unknown_server_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match=r"ProviderOptions\.server must be one of"):
        ProviderOptions(server="tgi")  # type: ignore[arg-type]
    with MiniMaxEmulator() as emulator, pytest.raises(ValueError, match="server must be"):
        emulator.self_hosted_base_url("tgi")  # type: ignore[arg-type]


def test_role_root_is_accepted_as_the_real_api_does(emulator: MiniMaxEmulator) -> None:
    # MiniMax's Provider Verifier, case 11_01: a "root" message is answered with 200.
    emulator.queue(Reply(text="ok"))
    body = {"model": "MiniMax-M3", "messages": [{"role": "root", "content": "Be brief."}, USER]}
    response = httpx.post(emulator.base_url + "/v1/chat/completions", json=body)
    assert response.status_code == 200
    bad = {**body, "messages": [{"role": "wizard", "content": "x"}, USER]}
    assert httpx.post(emulator.base_url + "/v1/chat/completions", json=bad).status_code == 400


def replay(emulator: MiniMaxEmulator, server: str, assistant: dict[str, Any]) -> int:
    call_id = assistant["tool_calls"][0]["id"]
    result = {"role": "tool", "tool_call_id": call_id, "content": "sunny"}
    emulator.queue(Reply(text="Sunny."))
    return post(emulator, server, messages=[USER, assistant, result]).status_code


@pytest.mark.parametrize("server", ["vllm", "sglang", "raw"])
def test_replay_must_be_inline_byte_for_byte_and_only_once(
    emulator: MiniMaxEmulator, server: str
) -> None:
    emulator.require_reasoning_replay = True
    reasoning = "Look it up, then answer. "  # ends in white space: kept exactly
    emulator.queue(Reply(reasoning=reasoning, tool_calls=[CALL]))
    message = post(emulator, server).json()["choices"][0]["message"]
    # A parser gives the call its id; from raw markup the client makes one up.
    call_id = message["tool_calls"][0]["id"] if server != "raw" else "call_made_up"
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps(CALL.arguments)},
    }
    turn = {"role": "assistant", "tool_calls": [call]}
    exact = {**turn, "content": f"<mm:think>{reasoning}</mm:think>"}
    assert replay(emulator, server, exact) == 200
    # M3's template reads <mm:think>: M2's tag is not the same reasoning to it.
    assert replay(emulator, server, {**turn, "content": f"<think>{reasoning}</think>"}) == 400
    stripped = {**turn, "content": f"<mm:think>{reasoning.strip()}</mm:think>"}
    assert replay(emulator, server, stripped) == 400
    assert replay(emulator, server, {**exact, "reasoning_content": reasoning}) == 400
    assert replay(emulator, server, {**turn, "content": "", "reasoning_content": reasoning}) == 400
    assert replay(emulator, server, {**turn, "content": ""}) == 400


def test_a_markup_call_is_found_again_whatever_types_the_client_gave_its_arguments(
    emulator: MiniMaxEmulator,
) -> None:
    # The client types markup values by its own schema, so a call issued with {"x": 1}
    # may come back as {"x": "1"}: it is still the call whose reasoning must come back.
    emulator.require_reasoning_replay = True
    emulator.queue(Reply(reasoning="Plan.", tool_calls=[ToolCallReply("f", {"x": 1})]))
    post(emulator, "raw")
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": "1"}'}}
    turn = {"role": "assistant", "tool_calls": [call]}
    assert replay(emulator, "raw", {**turn, "content": ""}) == 400
    assert replay(emulator, "raw", {**turn, "content": "<mm:think>Plan.</mm:think>"}) == 200
