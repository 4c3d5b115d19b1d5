"""Peak memory while one contender streams a big answer, in a process of its own.

``python -m benchmarks.memory NAME ROOT SIZE [big|sse]`` builds the contender, streams a
small answer first (imports, connections and caches are not the answer's cost), then
traces Python allocations with tracemalloc while it reads the whole answer (``SIZE``
bytes, or ``SIZE`` chunks with ``sse``), and prints one JSON line: the traced peak and
the growth of the process's peak RSS.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from benchmarks.contenders import BUILDERS

ROOT = Path(__file__).resolve().parent.parent


def measure(name: str, root: str, size: int, kind: str = "big") -> dict[str, float]:
    """``kind`` "big": a ``size``-byte answer in 4 KiB chunks; "sse": ``size`` chunks."""
    BUILDERS[name](f"{root}/sse/10", 10, 0).stream()
    if kind == "sse":
        contender = BUILDERS[name](f"{root}/sse/{size}", size, 0)
    else:
        contender = BUILDERS[name](f"{root}/big/{size}", 0, size)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    started = time.perf_counter()
    items = contender.stream()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"peak": peak, "rss_growth": rss_after - rss_before, "items": items, "s": seconds}


def peak_in_subprocess(
    name: str, root: str, size: int, timeout: float = 300, kind: str = "big"
) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", name, root, str(size), kind],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])))
