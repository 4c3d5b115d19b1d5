"""The scaling series: cost per unit of work at 1x, 4x and 16x, for us, the peers and the
floors, in one run, with answers replayed from memory (:mod:`benchmarks.replay`).

A path that copies or rescans what came before costs more per unit as the work grows;
a linear one costs the same (a fixed per-call cost makes the bigger sizes a little
cheaper per unit). Our contenders and the floors run ``rounds`` rounds, each round every
size of every contender in turn, and each keeps its best cost per unit at each size
(this machine's speed varies by a quarter from one minute to the next, and a slow
moment only ever adds); growth is the best cost at 16x over the best at 1x. The peers
run one round (ChatOpenAI reads a 160,000-chunk stream in half a minute), so their
figures are single readings.

Cost is CPU time (``time.process_time``): with nothing to wait for it is the wall time,
less what other processes on the machine take from it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import workloads as w


@dataclass(frozen=True)
class Series:
    key: str
    what: str
    unit: str
    sizes: tuple[int, int, int]
    label: str = "{:,}"

    def name(self, size: int) -> str:
        return self.label.format(size)


SERIES = (
    Series("stream", "streamed answer, reasoning then text", "chunk", (10_000, 40_000, 160_000)),
    Series("tool_args", "streamed tool arguments", "fragment", (1_250, 5_000, 20_000)),
    Series("history", "agent history (reasoning, two calls a turn)", "turn", (50, 200, 800)),
    Series("prompt", "one long prompt", "MB", (1, 4, 16), "{} MB"),
    Series("tools", "tools bound for the call", "tool", (31, 125, 500)),
)
QUICK_SIZES = {
    "stream": (2_000, 8_000, 32_000),
    "tool_args": (500, 2_000, 8_000),
    "history": (25, 100, 400),
    "prompt": (1, 2, 4),
    "tools": (16, 64, 256),
}
GROUPS = ((w.HTTPX_FLOOR, w.TRANSPORT), w.LANGCHAIN, w.LLAMA_INDEX)
PEERS = (w.CHAT_OPENAI, w.OPENAI_LIKE)
OURS = (w.TRANSPORT, w.CHAT_MINIMAX, w.MINIMAX_LLM)

PerUnit = dict[str, dict[int, list[float]]]
"""Seconds per unit, by contender and size, one value per round."""


def quick(series: Series) -> Series:
    sizes = QUICK_SIZES[series.key]
    return Series(series.key, series.what, series.unit, sizes, series.label)


def run_series(series: Series, names: set[str], rounds: int, *, peers: bool = True) -> PerUnit:
    """Every contender at every size, ``rounds`` times over, in one alternation: a ratio
    between two contenders (ours over a floor) compares readings taken moments apart,
    not minutes apart, as per-group alternation did."""
    order = [n for group in GROUPS for n in group if n in names and (peers or n not in PEERS)]
    jobs = {}
    for name in order:
        for size in series.sizes:
            job = w.build(series.key, name, size)
            if job is not None:
                jobs[name, size] = job
    # Every job once, unmeasured, so that caches our adapters keep (a tool's schema) are
    # warm in the first round too; the streams only at their smallest size.
    for (_, size), job in jobs.items():
        if size == series.sizes[0] or series.key != "stream":
            job()
    results: PerUnit = {}
    for round_ in range(rounds):
        for size in series.sizes:
            for name in order:
                job = jobs.get((name, size))
                if job is None or (name in PEERS and round_ > 0):
                    continue
                gc.collect()
                started = time.process_time()
                job()
                seconds = time.process_time() - started
                results.setdefault(name, {}).setdefault(size, []).append(seconds / size)
    return results


def extra_size(series: Series, names: Sequence[str], size: int) -> dict[str, float]:
    """One reading per contender at one more size (400,000 chunks for ours)."""
    out = {}
    for name in names:
        job = w.build(series.key, name, size)
        if job is None:
            continue
        gc.collect()
        started = time.process_time()
        job()
        out[name] = (time.process_time() - started) / size
        del job
    return out


def best_at(per_unit: PerUnit, name: str, size: int) -> float | None:
    """The lowest cost per unit over the rounds: a busy machine only ever adds to a cost."""
    values = per_unit.get(name, {}).get(size)
    return min(values) if values else None


def growth(per_unit: PerUnit, name: str, sizes: tuple[int, int, int]) -> float | None:
    """The best cost per unit at the largest size over the best at the smallest."""
    small, big = best_at(per_unit, name, sizes[0]), best_at(per_unit, name, sizes[-1])
    return big / small if small and big else None


# ---- the whole scaling measure, its targets and its tables ---------------------------

STREAM_EXTRA = 400_000
LANGCHAIN_FLOOR_SUM = (w.LC_FLOOR, w.HTTPX_FLOOR)
LLAMA_INDEX_FLOOR_SUM = (w.LI_FLOOR, w.HTTPX_FLOOR)


@dataclass
class Scaled:
    series: list[Series]
    per_unit: dict[str, PerUnit]
    extra: dict[str, float]
    merge_growth: float | None


def measure_all(names: set[str], *, full: bool, rounds: int) -> Scaled:
    chosen = list(SERIES) if full else [quick(series) for series in SERIES]
    per_unit = {}
    for series in chosen:
        print(f"  {series.what}: {', '.join(series.name(s) for s in series.sizes)} ...", flush=True)
        per_unit[series.key] = run_series(series, names, rounds)
    extra: dict[str, float] = {}
    if full:
        print(f"  {STREAM_EXTRA:,}-chunk streams, ours ...", flush=True)
        extra = extra_size(SERIES[0], [n for n in OURS if n in names], STREAM_EXTRA)
    return Scaled(chosen, per_unit, extra, merge_growth(chosen[0].sizes, rounds))


def merge_growth(sizes: tuple[int, int, int], rounds: int) -> float | None:
    """langchain-core's end-of-stream merge of our chunks, per chunk, 16x over 1x: the
    reasoning deltas then the text, built as ``_stream`` yields them (no I/O)."""
    from langchain_core.outputs.chat_generation import merge_chat_generation_chunks

    from langchain_minimax_m3.stream import GenerationChunks
    from minimax_m3.types import ReasoningDelta, TextDelta

    def chunks(count: int) -> list[object]:
        convert = GenerationChunks(w.MODEL)
        half = count // 2
        made = [convert(ReasoningDelta(f" r{i}")) for i in range(half)]
        return made + [convert(TextDelta(f" t{i}")) for i in range(count - half)]

    small, big = chunks(sizes[0]), chunks(sizes[-1])
    best = [float("inf"), float("inf")]
    for _ in range(max(rounds, 3)):
        for at, made in enumerate((small, big)):
            gc.collect()
            started = time.process_time()
            merge_chat_generation_chunks(made)  # type: ignore[arg-type]
            best[at] = min(best[at], (time.process_time() - started) / len(made))
    return best[1] / best[0] if best[0] else None


def floor_ratio(per_unit: PerUnit, name: str, floors: tuple[str, ...], size: int) -> float | None:
    """``name``'s best cost over the sum of the floors' best costs."""
    ours = best_at(per_unit, name, size)
    parts = [best_at(per_unit, floor, size) for floor in floors]
    if ours is None or None in parts:
        return None
    return ours / sum(parts)  # type: ignore[arg-type]


def tables(scaled: Scaled) -> list[str]:
    from benchmarks.report import render_scaling

    described = []
    rows: dict[str, dict[str, tuple[list[float | None], float | None, float | None]]] = {}
    order = [w.HTTPX_FLOOR, w.TRANSPORT, *w.LANGCHAIN, *w.LLAMA_INDEX]
    for series in scaled.series:
        labels = [series.name(size) for size in series.sizes]
        title = f"{series.what}: cost per {series.unit}"
        described.append((series.key, title, series.sizes, labels))
        measured = scaled.per_unit.get(series.key, {})
        rows[series.key] = {
            name: (
                [best_at(measured, name, size) for size in series.sizes],
                growth(measured, name, series.sizes),
                scaled.extra.get(name) if series.key == "stream" else None,
            )
            for name in order
            if name in measured
        }
    return render_scaling(described, rows)
