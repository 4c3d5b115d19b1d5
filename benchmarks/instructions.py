"""Instructions per call and per streamed chunk, counted by valgrind's callgrind.

Wall-clock time on a shared machine varies by a quarter from run to run; the number of
instructions a contender executes does not. :func:`per_unit` runs one contender in one
child process under callgrind (the loopback server stays outside valgrind, in its own
process) and returns its instructions per call and per streamed chunk.

Only what runs inside ``functools.reduce`` is counted (``--toggle-collect``), and each
``reduce`` ends in a dump of its own (``--dump-after``: ``OUT.1``, ``OUT.2``, ...), so
one process gives both figures and pays the slow start-up under valgrind (imports take
about 40 s there) once. The child wraps each measured region as
``functools.reduce(lambda _, __: work(), [0, 1])`` and names the dump file that region
produced; a region that produced more than one dump (library code calling ``reduce``
inside it, which would also have switched counting off) is an error, not a figure.

With ``history`` turns, a third region is one call given an agent history of that many
turns (``benchmarks.workloads``, answered from memory), as the scaling series time it.

``python -m benchmarks.instructions NAME ROOT CALLS CHUNKS [TURNS]`` is the child (it expects
callgrind around it); ``python -m benchmarks.instructions --check [NAME ...]`` starts a
server and prints the figures for the named contenders (raw httpx and the transport by
default).
"""

from __future__ import annotations

import functools
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "functools_reduce"
"""The C function whose calls delimit what is counted."""
_OUT = "BENCH_CALLGRIND_OUT"
"""The environment variable telling the child where callgrind writes its dumps."""
WARM_CALLS = 10
"""Unmeasured calls before the call region. Python 3.11 specializes a function's code only
after it has run several times (eight, then with back-off): after two warm-up calls, the
next ten counted came out 8-11 % dearer per call than the ten after them; after ten, they
agree within 0.5 %. One warm-up stream is enough: its thousands of chunks warm the
per-chunk code, and the next streams agree within 0.2 %."""
_TOTALS = re.compile(rb"^totals:\s*(\d+)\s*$", re.MULTILINE)


def available() -> bool:
    """Whether valgrind is on ``PATH``."""
    return shutil.which("valgrind") is not None


def per_unit(
    name: str, root: str, *, calls: int, chunks: int, history: int = 0, timeout: float = 900
) -> dict[str, float] | None:
    """Instructions per call (`contender.call()` against `root + "/json"`) and per streamed
    chunk (one `contender.stream()` of `root + f"/sse/{chunks}"`, divided by `chunks`) for
    the contender `BUILDERS[name]`, counted in one child process under callgrind; with
    ``history``, also per invoke given a history of that many turns.
    Returns {"call": ..., "chunk": ..., "history": ...}, or None when valgrind is missing."""
    if not available():
        return None
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "-q",
            f"--toggle-collect={MARK}",
            f"--dump-after={MARK}",
            f"--callgrind-out-file={out}",
            # The venv's python (a symlink to the real binary): valgrind runs the binary,
            # and the interpreter still finds the venv from the path it was started by.
            sys.executable,
            "-m",
            "benchmarks.instructions",
            name,
            root,
            str(calls),
            str(chunks),
            str(history),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0", _OUT: out}
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{name} under callgrind exited with {done.returncode}:\n{done.stderr[-4000:]}"
            )
        dumps: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
        call = _totals(Path(tmp, dumps["call"]))
        stream = _totals(Path(tmp, dumps["stream"]))
        figures = {"call": call / calls, "chunk": stream / chunks}
        if "history" in dumps:
            figures["history"] = float(_totals(Path(tmp, dumps["history"])))
    return figures


def _totals(dump: Path) -> int:
    found = _TOTALS.search(dump.read_bytes())
    if found is None:
        raise RuntimeError(f"no 'totals:' line in the callgrind dump {dump.name}")
    return int(found.group(1))


def _dumps(out: str) -> set[str]:
    """The names of the dump files callgrind has written so far (``OUT.1``, ...)."""
    folder, stem = os.path.split(out)
    prefix = stem + "."
    return {entry for entry in os.listdir(folder) if entry.startswith(prefix) and entry != stem}


def _region(work: Callable[[], object], out: str) -> str:
    """Runs ``work`` once as a counted region; returns the name of the dump it produced."""
    gc.collect()
    before = _dumps(out)
    operands: list[object] = [0, 1]
    functools.reduce(lambda _, __: work(), operands)
    made = sorted(_dumps(out) - before)
    if len(made) != 1:
        raise RuntimeError(
            f"a measured region produced {len(made)} callgrind dumps ({made}), not 1: "
            f"either this is not running under callgrind with --dump-after={MARK}, or "
            "code inside the region calls functools.reduce itself"
        )
    return made[0]


def _child(name: str, root: str, calls: int, chunks: int, turns: int, out: str) -> dict[str, str]:
    """Builds the contender as the runner does, warms it up and measures both regions."""
    from benchmarks.contenders import BUILDERS

    caller = BUILDERS[name](root + "/json", 0, 0)
    streamer = BUILDERS[name](root + f"/sse/{chunks}", chunks, 0)
    items: list[int] = []

    def repeat() -> None:
        for _ in range(calls):
            caller.call()

    # Each contender is warmed just before its own region: httpx drops a connection idle
    # for 5 s, and under valgrind the call region alone can take longer than that, so
    # warming both first could leave the stream region paying for a fresh connection.
    for _ in range(WARM_CALLS):
        caller.call()
    gc.collect()
    gc.freeze()
    call_dump = _region(repeat, out)
    streamer.stream()
    gc.collect()
    gc.freeze()
    stream_dump = _region(lambda: items.append(streamer.stream()), out)
    if not items or items[0] < 1:
        raise RuntimeError(f"{name}'s stream yielded nothing")
    dumps = {"call": call_dump, "stream": stream_dump, "items": str(items[0])}
    if turns:
        from benchmarks.workloads import build

        invoke = build("history", name, turns)
        if invoke is not None:
            # A long history runs the per-message code thousands of times a call: two
            # calls specialize it, and only the per-call code is left less warm.
            invoke()
            invoke()
            gc.collect()
            gc.freeze()
            dumps["history"] = _region(invoke, out)
    return dumps


def _check(names: list[str], calls: int = 20, chunks: int = 2000, turns: int = 800) -> None:
    from benchmarks.server import ServerProcess

    with ServerProcess() as root:
        for name in names:
            started = time.perf_counter()
            figures = per_unit(name, root, calls=calls, chunks=chunks, history=turns)
            seconds = time.perf_counter() - started
            if figures is None:
                print("valgrind is not on PATH")
                return
            history = figures.get("history")
            print(
                f"{name}: {figures['call']:,.0f} instructions per call, "
                f"{figures['chunk']:,.0f} per chunk"
                + ("" if history is None else f", {history:,.0f} per {turns}-turn invoke")
                + f" ({seconds:.0f} s)",
                flush=True,
            )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--check"]:
        _check(argv[1:] or ["raw httpx", "minimax_m3 Transport"])
        return
    out = os.environ.get(_OUT)
    if out is None or len(argv) not in (4, 5):
        raise SystemExit(
            "usage: python -m benchmarks.instructions --check [NAME ...]\n"
            "(NAME ROOT CALLS CHUNKS [TURNS] is the child that per_unit runs under callgrind)"
        )
    name, root, calls, chunks, *turns = argv
    print(
        json.dumps(_child(name, root, int(calls), int(chunks), int(turns[0]) if turns else 0, out))
    )


if __name__ == "__main__":
    main(sys.argv[1:])
