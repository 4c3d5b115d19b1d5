"""The byte comparison the agent tests rely on can fail, on exactly the differences that
break a prefix cache: one byte in an earlier message, key order, separators, the tools."""

from __future__ import annotations

import pytest
from prefix_bytes import assert_appends_only, prompt_bytes

TURN_1 = (
    b'{"model":"MiniMax-M3","messages":[{"role":"system","content":"Be brief."},'
    b'{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}'
)
TURN_2 = (
    b'{"model":"MiniMax-M3","messages":[{"role":"system","content":"Be brief."},'
    b'{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}],'
    b'"tools":[{"type":"function","function":{"name":"f"}}]}'
)


def test_an_appended_message_passes() -> None:
    assert_appends_only(TURN_1, TURN_2)
    assert prompt_bytes(TURN_2).messages[2] == '{"role":"assistant","content":"Hello"}'


@pytest.mark.parametrize(
    ("later", "problem"),
    [
        (TURN_2.replace(b"Be brief.", b"Be brief!"), "message 0 changed"),
        (TURN_2.replace(b'"role":"user","content"', b'"content"'), "message 1 changed"),
        (
            TURN_2.replace(b'{"role":"user","content":"Hi"}', b'{"role": "user","content":"Hi"}'),
            "message 1",
        ),
        (TURN_2.replace(b'{"name":"f"}', b'{"name":"g"}'), "the tools changed"),
        (TURN_2.replace(b'"model":"MiniMax-M3"', b'"model":"MiniMax-M2"'), "outside the messages"),
        (TURN_1, "no message was appended"),
    ],
    ids=["one-byte", "key-dropped", "separator", "tools", "rest", "nothing-appended"],
)
def test_a_difference_before_the_new_messages_fails(later: bytes, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        assert_appends_only(TURN_1, later)


def test_a_reordered_key_in_an_earlier_message_fails() -> None:
    reordered = TURN_2.replace(b'{"role":"user","content":"Hi"}', b'{"content":"Hi","role":"user"}')
    with pytest.raises(AssertionError, match="message 1 changed"):
        assert_appends_only(TURN_1, reordered)


def test_runware_task_uuid_is_the_one_allowed_difference() -> None:
    def task(uuid: str, messages: bytes) -> bytes:
        return (
            b'[{"taskType":"textInference","taskUUID":"' + uuid.encode() + b'",'
            b'"model":"minimax:m3@0","settings":{"systemPrompt":"Be brief."},'
            b'"messages":[' + messages + b"]}]"
        )

    first = task("u-1", b'{"role":"user","content":"Hi"}')
    second = task("u-2", b'{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo"}')
    assert_appends_only(first, second)
    assert prompt_bytes(second).system == '"Be brief."'
    with pytest.raises(AssertionError, match="system prompt"):
        assert_appends_only(first, second.replace(b"Be brief.", b"Be short."))
