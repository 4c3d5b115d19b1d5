"""Every example runs offline against the emulator, so none can go stale."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from test_demo import assert_cache_figures, cache_turns

import examples.langchain
import examples.llama_index

# llama-index's agent workflows touch pydantic's deprecated attributes; nothing of ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
    "ignore:is_running called from within a step:DeprecationWarning",
)

EXAMPLES = sorted(
    f"{package.__name__}.{module.name}"
    for package in (examples.langchain, examples.llama_index)
    for module in pkgutil.iter_modules(package.__path__)
)
# What each example must print: its scripted answer reached the user intact.
EXPECTED = {
    "examples.langchain.cloudflare": "The capital of France is **Paris**.",
    "examples.langchain.image_input": "It is a plain red square.",
    "examples.langchain.invoke_and_stream": "green lights, then morning.",
    "examples.langchain.runware": "Bonjour encore !",
    "examples.langchain.self_hosted_vllm": "tool calls: [('current_time', {'zone': 'UTC'})]",
    "examples.langchain.structured_output": "CityFacts(name='Paris', country='France'",
    "examples.langchain.tools_agent": "answer: Lisbon is sunny: 24°C, which is 75.2°F.",
    "examples.llama_index.chat": "Because distance over time is the definition.",
    "examples.llama_index.function_agent": "answer: Four coffees cost 14.0.",
    "examples.llama_index.rag": 'chat: Pass thinking="disabled".',
    "examples.llama_index.structured_predict": "Invoice(number='INV-7', total=120.5",
}


def test_every_example_has_an_expectation() -> None:
    assert sorted(EXPECTED) == EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_offline(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY", "VLLM_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    importlib.import_module(name).main()
    out = capsys.readouterr().out
    assert "[offline:" in out
    assert EXPECTED[name] in out


@pytest.mark.parametrize(
    "name", ["examples.langchain.tools_agent", "examples.llama_index.function_agent"]
)
def test_agent_examples_print_their_cache_hit_share(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("MINIMAX_API_KEY", "CLOUDFLARE_API_TOKEN", "RUNWARE_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    importlib.import_module(name).main()
    assert_cache_figures(cache_turns(capsys.readouterr().out))
