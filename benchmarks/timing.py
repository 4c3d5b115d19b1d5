"""Timing that is fair between contenders: warm up each, then alternate them round by round.

Every round runs each contender of a group once, in the same order (A B C A B C ...), so
a slow moment of the machine hits all of them alike; the report uses each one's median.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.contenders import Contender

Sample = Callable[[], float]


def alternate(samples: Sequence[tuple[str, Sample]], rounds: int) -> dict[str, float]:
    """One unmeasured run of each (connections, caches), then ``rounds`` rounds of every
    sample in turn; return each one's median."""
    for _, sample in samples:
        sample()
    # What exists now (every framework's modules, the contenders, their caches) is left out
    # of garbage collection, so that a collection during one contender's run does not
    # walk a heap the others built; each contender's own garbage is collected as usual.
    gc.collect()
    gc.freeze()
    results: dict[str, list[float]] = {name: [] for name, _ in samples}
    for _ in range(rounds):
        for name, sample in samples:
            gc.collect()
            results[name].append(sample())
    return {name: statistics.median(values) for name, values in results.items()}


def per_call(contender: Contender, calls: int) -> Sample:
    """Seconds per call, over ``calls`` sequential calls."""

    def sample() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            contender.call()
        return (time.perf_counter() - started) / calls

    return sample


def stream_rate(contender: Contender, chunks: int) -> Sample:
    """Chunks per second of one whole stream of ``chunks`` chunks."""

    def sample() -> float:
        started = time.perf_counter()
        contender.stream()
        return chunks / (time.perf_counter() - started)

    return sample


def concurrent_wall(contender: Contender, calls: int, loop: asyncio.AbstractEventLoop) -> Sample:
    """Wall seconds for ``calls`` async calls at once, on ``loop``."""

    async def burst() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(contender.acall() for _ in range(calls)))
        return time.perf_counter() - started

    return lambda: loop.run_until_complete(burst())
