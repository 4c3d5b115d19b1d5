"""Stream faults that every wire format shares: pauses, garbage, delays."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from minimax_m3.testing import Fault, MiniMaxEmulator

USER = {"role": "user", "content": "Hi"}


def anthropic(emu: MiniMaxEmulator) -> tuple[str, Any]:
    body = {"model": "MiniMax-M3", "max_tokens": 64, "messages": [USER], "stream": True}
    return emu.base_url + "/anthropic/v1/messages", body


def cloudflare_chat(emu: MiniMaxEmulator) -> tuple[str, Any]:
    url = emu.cloudflare_base_url + "/accounts/a/ai/v1/chat/completions"
    return url, {"model": "minimax/m3", "messages": [USER], "stream": True}


def cloudflare_messages(emu: MiniMaxEmulator) -> tuple[str, Any]:
    url = emu.cloudflare_base_url + "/accounts/a/ai/v1/messages"
    return url, {"model": "minimax/m3", "max_tokens": 64, "messages": [USER], "stream": True}


def runware_task(emu: MiniMaxEmulator) -> tuple[str, Any]:
    task = {
        "taskType": "textInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "minimax:m3@0",
        "messages": [USER],
        "deliveryMethod": "stream",
    }
    return emu.runware_base_url, [task]


def runware_chat(emu: MiniMaxEmulator) -> tuple[str, Any]:
    url = emu.runware_base_url + "/chat/completions"
    return url, {"model": "minimax:m3@0", "messages": [USER], "stream": True}


FORMATS: dict[str, Callable[[MiniMaxEmulator], tuple[str, Any]]] = {
    "anthropic": anthropic,
    "cloudflare chat": cloudflare_chat,
    "cloudflare messages": cloudflare_messages,
    "runware task": runware_task,
    "runware chat": runware_chat,
}
PARAMS = pytest.mark.parametrize("request_for", FORMATS.values(), ids=list(FORMATS))


@PARAMS
def test_stall_pauses_then_resumes(
    emulator: MiniMaxEmulator, request_for: Callable[[MiniMaxEmulator], tuple[str, Any]]
) -> None:
    emulator.queue(Fault(stall_after_events=2, stall_seconds=0.3))
    url, body = request_for(emulator)

    started = time.monotonic()
    with httpx.stream("POST", url, json=body, timeout=5.0) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]

    assert time.monotonic() - started >= 0.3
    assert len(lines) > 3


@PARAMS
def test_malformed_lines_and_delay(
    emulator: MiniMaxEmulator, request_for: Callable[[MiniMaxEmulator], tuple[str, Any]]
) -> None:
    emulator.queue(Fault(malformed_sse=True, delay=0.3))
    url, body = request_for(emulator)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, json=body, timeout=0.1)
    emulator.queue(Fault(malformed_sse=True))
    with httpx.stream("POST", url, json=body, timeout=5.0) as response:
        lines = list(response.iter_lines())

    assert "this line is not server-sent events" in lines
