"""``python -m minimax_m3.testing`` and its JSON reply file: served from a process of its
own, as curl or a JavaScript app would meet it, and every mistake in the file named."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from minimax_m3.testing import Fault, Reply, StreamShape, ToolCallReply
from minimax_m3.testing.reply_file import ReplyFileError, read_reply_file, replies_from_json

README = Path(__file__).parents[2] / "README.md"
CHAT = {
    "model": "MiniMax-M3",
    "messages": [{"role": "user", "content": "Hi"}],
    "reasoning_split": True,
}


def readme_reply_file() -> str:
    section = README.read_text(encoding="utf-8").split("**As a server of its own**", 1)[1]
    found = re.search(r"```json\n(.*?)```", section, re.S)
    assert found is not None, "the README's reply-file example is missing"
    return found.group(1)


def serve(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "minimax_m3.testing", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def drain(client: httpx.Client, url: str) -> None:
    with client.stream("POST", url, json={**CHAT, "stream": True}) as response:
        for _ in response.iter_lines():
            pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    replies = tmp_path / "replies.json"
    replies.write_text(readme_reply_file(), encoding="utf-8")
    with serve("--replies", str(replies), "--api-key", "cli-key") as server:
        try:
            assert server.stdout is not None
            first = server.stdout.readline().strip()
            assert first.startswith("listening on http://127.0.0.1:"), first
            yield first.removeprefix("listening on "), server
        finally:
            if server.poll() is None:
                server.terminate()
            server.communicate(timeout=10)


def test_the_readme_reply_file_is_answered_in_order(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    base, server = served
    headers = {"authorization": "Bearer cli-key"}
    url = base + "/v1/chat/completions"
    with httpx.Client(headers=headers, timeout=10) as client:
        assert client.post(url, json=CHAT, headers={"authorization": "Bearer no"}).status_code == (
            401
        )
        first = client.post(url, json=CHAT).json()
        message = first["choices"][0]["message"]
        assert (message["content"], message["reasoning_content"]) == (
            "Hi!",
            "The user greets me.",
        )

        with client.stream("POST", url, json={**CHAT, "stream": True}) as response:
            events = [
                json.loads(line.removeprefix("data: "))
                for line in response.iter_lines()
                if line.startswith("data: {")
            ]
        arguments = "".join(
            call["function"].get("arguments", "")
            for event in events
            for choice in event["choices"]
            for call in choice["delta"].get("tool_calls", [])
        )
        assert json.loads(arguments) == {"city": "Lisbon"}

        limited = client.post(url, json=CHAT)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")

        with pytest.raises(httpx.RemoteProtocolError):
            drain(client, url)

        echoed = client.post(url, json=CHAT).json()
        assert echoed["choices"][0]["message"]["content"] == "Emulated reply to: Hi"
    server.terminate()
    assert server.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("arguments", "second_read"), [((), True), (("--no-prompt-cache",), False)]
)
def test_the_prompt_cache_is_modelled_unless_switched_off(
    arguments: tuple[str, ...], second_read: bool
) -> None:
    long_prompt = {**CHAT, "messages": [{"role": "system", "content": "Be exact. " * 300}]}
    with serve(*arguments) as server:
        try:
            assert server.stdout is not None
            base = server.stdout.readline().strip().removeprefix("listening on ")
            with httpx.Client(timeout=10) as client:
                reads = [
                    client.post(base + "/v1/chat/completions", json=long_prompt).json()["usage"][
                        "prompt_tokens_details"
                    ]["cached_tokens"]
                    for _ in range(2)
                ]
        finally:
            server.terminate()
            server.communicate(timeout=10)
    assert reads[0] == 0
    assert (reads[1] > 0) is second_read


def test_a_misspelt_field_stops_the_server_naming_where_it_is(tmp_path: Path) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text('[{"text": "ok"}, {"stream": {"chunk_sise": 3}}]', encoding="utf-8")
    server = serve("--replies", str(replies))
    _, error = server.communicate(timeout=30)
    assert server.returncode == 2
    assert "[1].stream: unknown field(s) ['chunk_sise'] for StreamShape" in error
    assert "chunk_size" in error  # what is allowed


def test_a_port_out_of_range_is_refused() -> None:
    server = serve("--port", "70000")
    _, error = server.communicate(timeout=30)
    assert server.returncode == 2
    assert "--port must be 0-65535, got 70000" in error


def test_every_kind_of_entry_becomes_its_dataclass() -> None:
    items = replies_from_json(
        {
            "replies": [
                {
                    "text": "a",
                    "tool_calls": [{"name": "f", "arguments": '{"x": 1}', "id": "c1"}],
                    "stream": {"chunk_size": 2},
                    "usage": {"prompt_tokens": 3},
                    "raw_chunks": ["a"],
                },
                {"fault": {"status": 200, "body": "not json", "headers": {"x-a": "b"}}},
                {"fault": {"reply": {"text": "cut"}, "truncate_json_after_events": 1}},
            ]
        }
    )
    assert items == [
        Reply(
            text="a",
            tool_calls=[ToolCallReply("f", '{"x": 1}', "c1")],
            stream=StreamShape(chunk_size=2),
            usage={"prompt_tokens": 3},
            raw_chunks=("a",),
        ),
        Fault(status=200, body=b"not json", headers={"x-a": "b"}),
        Fault(reply=Reply(text="cut"), truncate_json_after_events=1),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"reply": []}, "replies: unknown key(s) ['reply']; the object holds 'replies'"),
        ("text", "replies: expected a list of replies"),
        (["hi"], "replies[0]: expected an object, got a string"),
        ([{"txt": "a"}], "replies[0]: unknown field(s) ['txt'] for Reply"),
        ([{"tool_calls": {"name": "f"}}], "replies[0].tool_calls: expected a list"),
        ([{"tool_calls": [{"nam": "f"}]}], "replies[0].tool_calls[0]: unknown field(s) ['nam']"),
        ([{"stream": {"chunk_size": 0}}], "replies[0].stream: StreamShape.chunk_size must be >= 1"),
        ([{"fault": {"status": 700}}], "replies[0].fault: Fault.status must be an HTTP status"),
        ([{"fault": {}, "text": "a"}], "replies[0]: a fault entry holds only 'fault'"),
        ([{"fault": {"reply": {"txt": 1}}}], "replies[0].fault.reply: unknown field(s) ['txt']"),
        ([{"usage": {"tokens": 1}}], "replies[0]: Reply.usage has unknown keys ['tokens']"),
    ],
)
def test_each_mistake_is_named_where_it_is(document: object, message: str) -> None:
    with pytest.raises(ReplyFileError) as raised:
        replies_from_json(document)
    assert message in str(raised.value)


def test_a_file_that_is_not_json_or_not_there(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"text": "a"},\n  {"text": }]', encoding="utf-8")
    with pytest.raises(ReplyFileError, match=r"broken.json: not JSON \(line 2, column 12"):
        read_reply_file(broken)
    with pytest.raises(ReplyFileError, match="cannot read the reply file"):
        read_reply_file(tmp_path / "missing.json")
