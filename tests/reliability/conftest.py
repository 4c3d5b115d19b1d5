"""Fixtures of the reliability suite, and the writer of its REPORT.md.

The report is written at the end of a session that ran every reliability case and saw
each one pass; a partial run (``-k``, ``-x`` stopping early, a failure) leaves the
committed file alone, so what is committed is what a full run produces.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from rel_helpers import (
    ASYNC_CALLS,
    BAD_INPUT,
    FAULT,
    FUZZ_EXAMPLES,
    KEY,
    LEDGER,
    POOL_LIMIT,
    PROPERTY_EXAMPLES,
    SECRET,
    STREAMS,
    THREADS,
    Clients,
    Driver,
    all_drivers,
)

from minimax_m3.pools import aclose_shared_clients
from minimax_m3.testing import MiniMaxEmulator

HERE = Path(__file__).parent
REPORT = HERE / "REPORT.md"


@pytest.fixture
def emulator() -> Iterator[MiniMaxEmulator]:
    """The emulator, requiring the suite's key: every call proves the key was sent."""
    with MiniMaxEmulator(api_key=KEY) as emu:
        yield emu


@pytest.fixture(params=all_drivers(), ids=str)
def driver(request: pytest.FixtureRequest) -> Driver:
    """Each test taking it runs through both adapters, sync and async, stream and not."""
    param: Driver = request.param
    return param


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    """Clients of the test's own; tests check and close them, this only tidies up."""
    own = Clients()
    yield own
    await own.aclose()


@pytest.fixture
async def shared_pools() -> AsyncIterator[None]:
    """For tests that use the transport's pooled clients: close this loop's before it ends."""
    yield
    await aclose_shared_clients()


# --- REPORT.md --------------------------------------------------------------------------


class _Run:
    def __init__(self) -> None:
        self.selected: list[str] = []
        self.deselected = 0
        self.outcomes: dict[str, str] = {}


_RUN = _Run()


def _is_ours(nodeid: str) -> bool:
    return nodeid.replace("\\", "/").split("::", 1)[0].startswith("tests/reliability/")


def pytest_deselected(items: list[pytest.Item]) -> None:
    _RUN.deselected += sum(1 for item in items if _is_ours(item.nodeid))


def pytest_collection_finish(session: pytest.Session) -> None:
    _RUN.selected = [item.nodeid for item in session.items if _is_ours(item.nodeid)]


def pytest_runtest_setup(item: pytest.Item) -> None:
    LEDGER.current = item.nodeid


def pytest_runtest_teardown(item: pytest.Item) -> None:
    LEDGER.current = None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _is_ours(report.nodeid):
        return
    if report.failed:
        _RUN.outcomes[report.nodeid] = "failed"
    elif report.when == "call" and _RUN.outcomes.get(report.nodeid) != "failed":
        if hasattr(report, "wasxfail"):
            # A strict xfail that failed as expected: a known, named limit, not a pass.
            _RUN.outcomes[report.nodeid] = "xfailed"
        else:
            _RUN.outcomes[report.nodeid] = "skipped" if report.skipped else "passed"
    elif report.skipped and report.nodeid not in _RUN.outcomes:
        _RUN.outcomes[report.nodeid] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    selected = _RUN.selected
    files = {nodeid.split("::", 1)[0].rsplit("/", 1)[-1] for nodeid in selected}
    complete = (
        files == {path.name for path in HERE.glob("test_rel_*.py")}
        and not _RUN.deselected
        and all(_RUN.outcomes.get(nodeid) in ("passed", "xfailed") for nodeid in selected)
    )
    if not complete:
        return
    known = sorted(n for n in selected if _RUN.outcomes.get(n) == "xfailed")
    text = render_report([n for n in selected if n not in known], known)
    if not REPORT.exists() or REPORT.read_text() != text:
        REPORT.write_text(text)


def _module_summary(path: Path) -> str:
    """The first line of a test module's docstring."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def render_report(nodeids: list[str], known: Sequence[str] = ()) -> str:
    figures: Counter[str] = Counter()
    for nodeid in nodeids:
        figures.update(LEDGER.by_test.get(nodeid, Counter()))
    per_file: Counter[str] = Counter(
        nodeid.split("::", 1)[0].rsplit("/", 1)[-1] for nodeid in nodeids
    )
    lines = [
        "# Reliability report",
        "",
        "Written by `tests/reliability/conftest.py` at the end of a run in which every case of",
        "`tests/reliability` passed (`make test` runs them all). Do not edit by hand: a full",
        "run rewrites it, and a committed copy that differs from what a run writes is stale.",
        "",
        "Every case runs against the loopback emulator (`minimax_m3.testing`) over real",
        "sockets; fault, stream and secret cases go through both adapters (LangChain",
        "`ChatMiniMaxM3`, LlamaIndex `MiniMaxM3`), sync and async, streaming and not.",
        "",
        "| figure | count |",
        "|---|---:|",
        f"| cases run | {len(nodeids):,} |",
        f"| {FAULT} | {figures[FAULT]:,} |",
        f"| {BAD_INPUT} | {figures[BAD_INPUT]:,} |",
        f"| {SECRET} | {figures[SECRET]:,} |",
        "",
        "What each figure counts:",
        "",
        "- *cases run*: test cases collected and passed in `tests/reliability`.",
        "- *faults survived*: injected faults (HTTP errors, in-band error codes, refused,",
        "  reset, dropped, truncated, malformed, stalled and slow connections, cancelled",
        "  calls; from a raw socket: bodies dripping a byte at a time, streams of keep-alive",
        "  pings only, gzip bombs whole and in one stream event; an event loop per call",
        "  under a low descriptor limit) each met with the exact typed error, attempt count",
        "  and an empty pool, or with a correct answer after retrying.",
        "- *bad inputs tried*: invalid arguments refused before sending, with an error that",
        "  names the argument and what is allowed, while the emulator logged no request.",
        "- *secrets checks*: places searched for the API key or another credential (reprs,",
        "  errors and every exception in their chain, log records, serialized and pickled",
        "  objects, callbacks' serialized data, every part of every request but the",
        "  Authorization header, a redirected request) that held neither it nor its start.",
        "",
        "| file | cases | what it covers |",
        "|---|---:|---|",
    ]
    for name in sorted(per_file):
        lines.append(f"| `{name}` | {per_file[name]:,} | {_module_summary(HERE / name)} |")
    lines += [
        "",
        f"Load, on the transport's shared pools (at most {POOL_LIMIT} connections):",
        f"{ASYNC_CALLS:,} concurrent async calls and {STREAMS} concurrent streams through",
        f"both adapters, and {THREADS} threads sharing one model of each adapter: every call",
        "answered correctly, no error, and the emulator never saw more connections open at",
        "once than the pool allows.",
        "",
        f"Hypothesis budgets per run: {PROPERTY_EXAMPLES} examples per property, "
        f"{FUZZ_EXAMPLES} per fuzzing target.",
        "",
    ]
    if known:
        lines += ["Known limits, each a strict xfail that says why (fixed, it fails the run):", ""]
        lines += [f"- `{nodeid}`" for nodeid in known]
        lines.append("")
    return "\n".join(lines)
