"""Helpers shared by the benchmark scripts: environment, interleaved timing, tables, verdicts.

Import this module before TensorFlow: it quiets TensorFlow's C++ logging and puts the repository
root on `sys.path`, so every script runs as `.venv/bin/python benchmarks/<name>.py`.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep the tables readable
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

__all__ = ["REPO_ROOT", "interleave", "machine_line", "median", "print_table", "rss_mb",
           "verdict"]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def interleave(candidates: dict[str, Callable[[], float | None]], reps: int
               ) -> dict[str, list[float]]:
    """Times each candidate `reps` times, alternating the order every repetition.

    Machine load drifts (the benchmark machine is shared), so A and B are measured side by
    side: A B, B A, A B, ... A candidate may return its own duration (e.g. to exclude setup);
    otherwise the wall time of the call is used.

    Returns:
        Seconds per repetition for each candidate, in the order measured.
    """
    names = list(candidates)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        order = names if rep % 2 == 0 else names[::-1]
        for name in order:
            start = time.perf_counter()
            measured = candidates[name]()
            seconds[name].append(time.perf_counter() - start if measured is None else measured)
    return seconds


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Prints a Markdown table (so it can be pasted into benchmarks/README.md as is)."""
    cells = [[_format(cell) for cell in row] for row in rows]
    widths = [max(len(str(header)), *(len(row[i]) for row in cells)) if cells else len(header)
              for i, header in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _format(cell: object) -> str:
    if isinstance(cell, float):
        return f"{cell:,.0f}" if abs(cell) >= 100 else f"{cell:.3g}"
    return str(cell)


def verdict(value: float, target: float, *, at_least: bool = True) -> str:
    """PASS when `value` meets `target` (>= when `at_least`, else <), MISS otherwise."""
    ok = value >= target if at_least else value < target
    return "PASS" if ok else "MISS"


def rss_mb() -> float:
    """Resident memory of this process in MB, from /proc/self/status (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def machine_line() -> str:
    """One line describing the machine and the load on it, for the record."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    versions = [f"python {platform.python_version()}"]
    for module in ("tensorflow", "jax", "keras", "keras_tuner", "optuna"):
        version = getattr(sys.modules.get(module), "__version__", None)  # None: not loaded
        if version is not None:
            versions.append(f"{module} {version}")
    return (f"machine: {os.cpu_count()} CPUs ({model}), {memory_gb:.1f} GB RAM, "
            f"load average {load}; {', '.join(versions)}; "
            f"{time.strftime('%Y-%m-%d %H:%M')}")
