"""The neutral types built by the thousand get a faster ``__init__``
(``minimax_m3.types._set_through_slots``); these tests hold it to the one dataclasses
would have generated: the same signature, the same instances, still frozen."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError
from typing import Any

import pytest

from minimax_m3 import types
from minimax_m3.types import (
    Message,
    ReasoningDelta,
    ReasoningSegment,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    _set_through_slots,
)

FAST = (TextPart, ReasoningSegment, ToolCall, Message, TextDelta, ReasoningDelta, ToolCallDelta)
SAMPLE: dict[type, dict[str, Any]] = {
    TextPart: {"text": "hi", "cache_control": {"type": "ephemeral"}},
    ReasoningSegment: {"text": "think", "wire": "chat_completions", "data": {"type": "x"}},
    ToolCall: {"id": "call_1", "name": "forecast", "arguments": '{"city": "Paris"}'},
    Message: {
        "role": "assistant",
        "content": "ok",
        "tool_calls": (ToolCall("call_1", "forecast"),),
        "tool_call_id": None,
        "reasoning": (ReasoningSegment("think"),),
        "name": "bot",
    },
    TextDelta: {"text": "a", "response_id": "resp_1"},
    ReasoningDelta: {"text": "r", "response_id": "resp_1"},
    ToolCallDelta: {"index": 1, "id": "c", "name": "n", "arguments": "{", "response_id": "r"},
}


def stock_twin(cls: type) -> type:
    """The same fields as ``cls`` under dataclasses' own generated ``__init__``."""
    specs = [
        (f.name, f.type, dataclasses.field(default=f.default, repr=f.repr, compare=f.compare))
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=True, slots=True)


@pytest.mark.parametrize("cls", FAST, ids=lambda cls: cls.__name__)
def test_the_signature_is_the_generated_one(cls: type) -> None:
    ours = inspect.signature(cls).parameters
    stock = inspect.signature(stock_twin(cls)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in stock.values()
    ]


@pytest.mark.parametrize("cls", FAST, ids=lambda cls: cls.__name__)
def test_instances_hold_what_was_given_by_keyword_or_position(cls: type) -> None:
    values = SAMPLE[cls]
    by_name = cls(**values)
    by_position = cls(*values.values())
    assert by_name == by_position
    assert {f.name: getattr(by_name, f.name) for f in dataclasses.fields(cls)} == values
    assert repr(by_name) == repr(stock_twin(cls)(**values))


@pytest.mark.parametrize("cls", FAST, ids=lambda cls: cls.__name__)
def test_instances_stay_frozen_hashable_and_picklable(cls: type) -> None:
    made = cls(**SAMPLE[cls])
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(FrozenInstanceError):
        setattr(made, first, "changed")
    with pytest.raises(FrozenInstanceError):
        delattr(made, first)
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.deepcopy(made) == made
    assert dataclasses.replace(made) == made
    # ReasoningSegment's data and TextPart's cache marker are dicts here, which
    # dataclasses' hash would refuse too.
    if cls not in (ReasoningSegment, TextPart):
        assert hash(copy.copy(made)) == hash(made)


@pytest.mark.parametrize("cls", FAST, ids=lambda cls: cls.__name__)
def test_wrong_arguments_fail_as_a_dataclass_does(cls: type) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        cls(**SAMPLE[cls], nope=1)
    with pytest.raises(TypeError, match=r"missing \d required positional argument"):
        cls()


def test_fields_it_cannot_build_are_refused_at_definition() -> None:
    @dataclasses.dataclass(slots=True, frozen=True)
    class Listed:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Listed\.items: only plain fields"):
        _set_through_slots(Listed)

    @dataclasses.dataclass(slots=True, frozen=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="__post_init__"):
        _set_through_slots(Checked)


def test_every_type_given_the_fast_init_is_covered_here() -> None:
    fast = {
        value
        for value in vars(types).values()
        if isinstance(value, type)
        and value.__module__ == types.__name__
        and getattr(value.__init__, "__code__", None) is not None
        and "_set_" in " ".join(value.__init__.__code__.co_names)
    }
    assert fast == set(FAST)
