"""Timing that is fair between contenders: warm up each, then alternate them round by round.

Every round runs each contender of a group once, in the same order (A B C A B C ...), so
a slow moment of the machine hits all of them alike. The tables show each one's median;
a ratio between two contenders is the median of their ratios round by round, so that a
slow spell of the machine, which lasts longer than one round, cancels out of it rather
than landing on whichever contender it happened to overlap most.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.contenders import Contender

Sample = Callable[[], float]


Rounds = dict[str, list[float]]
"""Each contender's measurements, one per round, in round order."""


def alternate(samples: Sequence[tuple[str, Sample]], rounds: int) -> Rounds:
    """One unmeasured run of each (connections, caches), then ``rounds`` rounds of every
    sample in turn."""
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
    return results


def medians(rounds: Rounds) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in rounds.items()}


def paired_ratio(rounds: Rounds, name: str, other: str) -> float | None:
    """Median over rounds of ``name``'s measurement over ``other``'s in the same round."""
    if name not in rounds or other not in rounds:
        return None
    pairs = [a / b for a, b in zip(rounds[name], rounds[other], strict=True) if b]
    return statistics.median(pairs) if pairs else None


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
