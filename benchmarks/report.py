"""The results as Markdown: the targets with PASS or MISS, the numbers behind them, the machine."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata

PACKAGES = (
    "httpx",
    "pydantic",
    "langchain-core",
    "langchain-openai",
    "openai",
    "llama-index-core",
    "llama-index-llms-openai-like",
)


@dataclass
class Target:
    what: str
    measured: float | None
    goal: float
    at_most: bool = True
    unit: str = "x"
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "SKIP"
        met = self.measured <= self.goal if self.at_most else self.measured >= self.goal
        return "PASS" if met else "MISS"

    def row(self) -> str:
        sign = "<=" if self.at_most else ">="
        measured = "-" if self.measured is None else f"{self.measured:.2f}{self.unit}"
        goal = f"{sign} {self.goal:g}{self.unit}"
        note = f" {self.note}" if self.note else ""
        return f"| {self.what} | {measured} | {goal} | **{self.verdict}**{note} |"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {', '.join(versions)}"
    )


def _micro(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:,.0f} µs"


def _milli(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:,.0f} ms"


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def _count(instructions: float | None) -> str:
    return "-" if instructions is None else f"{instructions:,.0f}"


def _bytes(size: float | None) -> str:
    return "-" if size is None else f"{size:,.0f} B"


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def render(
    *,
    machine_line: str,
    when: str,
    targets: list[Target],
    rows: list[str],
    per_call: dict[str, float],
    stream: dict[str, float],
    burst: dict[str, float],
    memory: dict[str, float],
    imports: dict[str, float],
    notes: list[str],
    settings: str,
    stream_memory: dict[str, float] | None = None,
    counts: dict[str, dict[str, float]] | None = None,
    scaling: list[str] | None = None,
    stream_memory_chunks: int = 0,
    counted_turns: int = 0,
) -> str:
    lines = [
        f"Run {when} on {machine_line}.",
        "",
        settings,
        "",
        "| target | measured | goal | result |",
        "|---|---|---|---|",
        *(target.row() for target in targets),
        "",
        "| contender | per call | instructions per call | stream, chunks/s | "
        "instructions per chunk | 256 async calls | peak memory, 10 MiB | "
        f"peak memory per chunk, {stream_memory_chunks:,}-chunk stream | "
        f"instructions per invoke, {counted_turns:,}-turn history |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    counts = counts or {}
    stream_memory = stream_memory or {}
    for name in rows:
        counted = counts.get(name, {})
        lines.append(
            f"| {name} | {_micro(per_call.get(name))} | {_count(counted.get('call'))} | "
            f"{_rate(stream.get(name))} | {_count(counted.get('chunk'))} | "
            f"{_milli(burst.get(name))} | {_times(memory.get(name))} | "
            f"{_bytes(stream_memory.get(name))} | {_count(counted.get('history'))} |"
        )
    lines += scaling or []
    lines += ["", "| import | seconds |", "|---|---:|"]
    lines += [f"| `{name}` | {seconds:.3f} |" for name, seconds in imports.items()]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def _unit_cost(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    micro = seconds * 1e6
    return f"{micro:,.2f} µs" if micro < 100 else f"{micro:,.0f} µs"


def render_scaling(
    series: list[tuple[str, str, tuple[int, int, int], list[str]]],
    rows: dict[str, dict[str, tuple[list[float | None], float | None, float | None]]],
) -> list[str]:
    """One table per series: cost per unit at each size, its growth, and any extra size.

    ``series`` holds (key, title, sizes, size labels); ``rows[key][contender]`` holds
    (per-unit seconds at each size, growth 16x over 1x, per-unit seconds at the extra
    size or None).
    """
    lines: list[str] = []
    for key, title, _, labels in series:
        table = rows.get(key, {})
        extra = any(value[2] is not None for value in table.values())
        head = [*labels, "16x / 1x"] + (["400,000 (ours)"] if extra else [])
        lines += ["", f"**{title}**", "", "| contender | " + " | ".join(head) + " |"]
        lines.append("|---|" + "---:|" * len(head))
        for name, (costs, growth, more) in table.items():
            cells = [_unit_cost(cost) for cost in costs] + [_times(growth)]
            if extra:
                cells.append(_unit_cost(more))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
