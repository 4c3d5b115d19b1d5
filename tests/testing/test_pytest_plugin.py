"""The pytest plugin, as a user's own suite meets it: registered by installing the
package, fixtures ready with no conftest, and nothing changed for suites that use none."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
pytestmark = pytest.mark.filterwarnings(
    "ignore::pydantic.warnings.PydanticDeprecatedSince20",
    "ignore::pydantic.warnings.PydanticDeprecatedSince211",
)


def users_suite(pytester: pytest.Pytester, **files: str) -> None:
    # pytest-asyncio, installed here, warns in a suite that leaves its loop scope unset.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(**files)


def readme_fixture_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("**Fixtures for pytest.**", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "the README's fixtures example is missing"
    return found.group(1)


def test_installing_the_package_registers_the_plugin() -> None:
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert {ep.name: ep.value for ep in plugins}["minimax_m3"] == ("pytest_minimax_m3")


def test_the_readme_fixture_example_passes_as_a_users_suite(pytester: pytest.Pytester) -> None:
    users_suite(pytester, test_user=readme_fixture_snippet())
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_llama_index_model_and_the_session_emulator(pytester: pytest.Pytester) -> None:
    users_suite(
        pytester,
        test_user="""
        from llama_index.core.base.llms.types import ChatMessage
        from minimax_m3.testing import Reply

        SEEN = []

        def test_llm(minimax_emulator, minimax_m3_llm):
            minimax_emulator.queue(Reply(text="42", reasoning="Six times seven."))
            response = minimax_m3_llm.chat([ChatMessage(role="user", content="6*7?")])
            assert response.message.content == "42"
            assert response.message.blocks[0].content == "Six times seven."

        def test_session_one(minimax_emulator_session):
            SEEN.append(minimax_emulator_session)
            minimax_emulator_session.queue(Reply(text="kept"))

        def test_session_two(minimax_emulator_session):
            assert SEEN == [minimax_emulator_session]
            assert minimax_emulator_session.pending == 1

        def test_a_fresh_emulator_per_test(minimax_emulator):
            assert minimax_emulator.requests == [] and minimax_emulator.pending == 0
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_a_missing_framework_skips_naming_the_extra(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import sys

        sys.modules["llama_index"] = None  # as if the extra were not installed

        def test_llm(minimax_m3_llm):
            raise AssertionError("not reached")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.re_match_lines(
        [r'.*needs LlamaIndex: install minimax-m3 with its "llama-index" extra']
    )


def test_suites_that_use_no_fixture_run_as_before(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_of_the_emulator_is_loaded():
            assert "minimax_m3.testing.server" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    listed = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    listed.stdout.fnmatch_lines(["*minimax_emulator*", "*chat_minimax_m3*"])


def test_the_plugin_module_imports_no_emulator_and_no_framework() -> None:
    probe = (
        "import sys, pytest_minimax_m3\n"
        "print(sorted(m for m in ('minimax_m3.testing.server', 'langchain_core', "
        "'llama_index.core', 'httpx') if m in sys.modules))"
    )
    printed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == "[]"
