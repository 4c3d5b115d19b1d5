from __future__ import annotations

from minimax_m3.reasoning import segments_from_records, segments_to_records
from minimax_m3.types import ReasoningSegment

ITEM = {
    "type": "reasoning.text",
    "id": "reasoning-text-1",
    "format": "MiniMax-response-v1",
    "index": 0,
    "text": "plan",
}
THINKING = {"type": "thinking", "thinking": "plan", "signature": "fa86efec"}


def test_provider_objects_round_trip_verbatim() -> None:
    segments = [
        ReasoningSegment("plan", wire="chat_completions", data=ITEM),
        ReasoningSegment("plan", wire="anthropic_messages", data=THINKING),
    ]
    records = segments_to_records(segments)
    assert records == [ITEM, THINKING]
    assert segments_from_records(records) == segments


def test_plain_text_reasoning_becomes_a_minimax_item() -> None:
    [record] = segments_to_records([ReasoningSegment("from <think> tags")])
    assert record == {**ITEM, "text": "from <think> tags"}
    [segment] = segments_from_records([record])
    assert (segment.text, segment.wire) == ("from <think> tags", "chat_completions")


def test_records_are_copies_and_junk_is_skipped() -> None:
    records = segments_to_records([ReasoningSegment("plan", wire="chat_completions", data=ITEM)])
    records[0]["text"] = "changed"
    assert ITEM["text"] == "plan"
    assert segments_from_records([None, "x", {"type": "thinking"}]) == [  # type: ignore[list-item]
        ReasoningSegment("", wire="anthropic_messages", data={"type": "thinking"})
    ]
    assert segments_from_records(None) == []
