"""`make demo`: MiniMax M3 streaming its reasoning, then its answer, then a tool round.

Uses the live API when MINIMAX_API_KEY is set, and otherwise the loopback emulator in
minimax_m3.testing (scripted replies, no network), and says which.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from minimax_m3 import ChatRequest, Message, StreamEnd, Transport
from minimax_m3.types import ReasoningDelta, TextDelta, ToolSpec

DIM, BOLD, RESET = "\033[2m", "\033[1m", "\033[0m"
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)


@contextmanager
def open_transport() -> Iterator[Transport]:
    if os.environ.get("MINIMAX_API_KEY"):
        print(f"{BOLD}Using the live MiniMax API{RESET} (MINIMAX_API_KEY is set).\n")
        yield Transport()
        return
    from minimax_m3.testing import MiniMaxEmulator, Reply, ToolCallReply

    print(
        f"{BOLD}Using the loopback emulator{RESET}: no MINIMAX_API_KEY set, replies are scripted.\n"
    )
    with MiniMaxEmulator(require_reasoning_replay=True) as emulator:
        emulator.queue(
            Reply(
                reasoning="Speed is distance over time: 120 km in 1.5 h is 80 km/h.",
                text="The train averages **80 km/h**.",
                chunk_size=4,
                event_delay=0.02,
            ),
            Reply(
                reasoning="I should look the weather up rather than guess.",
                tool_calls=[ToolCallReply("get_weather", {"city": "Lisbon"})],
            ),
            Reply(
                reasoning="The tool says 24°C and sunny; answer briefly.",
                text="It is sunny in Lisbon, 24°C.",
            ),
        )
        yield Transport(api_key="emulator", base_url=emulator.base_url)


def stream_answer(transport: Transport, question: str) -> None:
    print(f"{BOLD}Q:{RESET} {question}")
    request = ChatRequest(model="MiniMax-M3", messages=[Message(role="user", content=question)])
    thinking = False
    for event in transport.stream(request):
        if isinstance(event, ReasoningDelta):
            if not thinking:
                print(f"{DIM}thinking: ", end="")
                thinking = True
            print(f"{DIM}{event.text}{RESET}", end="", flush=True)
        elif isinstance(event, TextDelta):
            if thinking:
                print(f"{RESET}\n{BOLD}A:{RESET} ", end="")
                thinking = False
            print(event.text, end="", flush=True)
        elif isinstance(event, StreamEnd) and event.result.usage:
            usage = event.result.usage
            print(f"\n{DIM}[{usage.input_tokens} in, {usage.output_tokens} out]{RESET}\n")


def tool_round(transport: Transport) -> None:
    question = "What's the weather in Lisbon?"
    print(f"{BOLD}Q:{RESET} {question}")
    history = [Message(role="user", content=question)]
    first = transport.complete(ChatRequest(model="MiniMax-M3", messages=history, tools=[WEATHER]))
    print(f"{DIM}thinking: {first.reasoning_text}{RESET}")
    for call in first.tool_calls:
        print(f"{DIM}tool call: {call.name}({call.parsed_arguments()}){RESET}")
    # The assistant turn goes back with its reasoning, so the model keeps its train of
    # thought across the tool call (the emulator here refuses a turn without it).
    history.append(first.to_message())
    history += [
        Message(role="tool", tool_call_id=call.id, content="24°C, sunny")
        for call in first.tool_calls
    ]
    second = transport.complete(ChatRequest(model="MiniMax-M3", messages=history, tools=[WEATHER]))
    print(f"{DIM}thinking: {second.reasoning_text}{RESET}")
    print(f"{BOLD}A:{RESET} {second.text}")


def main() -> int:
    with open_transport() as transport:
        stream_answer(transport, "A train covers 120 km in 90 minutes. Average speed?")
        tool_round(transport)
    return 0


if __name__ == "__main__":
    sys.exit(main())
