"""Run competing implementations in separate processes, alternating, and report medians.

A benchmark script has two halves: a *worker* that runs one implementation and
prints one JSON object on its last line of output, and a *driver* that calls
`alternate` to run every worker several times, interleaved (A B A B ...) so
that machine noise falls on all of them alike. Each run is a fresh process with
the default garbage-collector settings.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def run_worker(argv: Sequence[str], timeout: float = 1800.0) -> dict[str, Any]:
    """Run one worker process and return the JSON object it printed last."""
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def alternate(workers: Mapping[str, Sequence[str]], runs: int) -> dict[str, list[dict[str, Any]]]:
    """Run each named worker `runs` times, interleaved, reversing the order every other round."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in workers}
    names = list(workers)
    for round_ in range(runs):
        for name in names if round_ % 2 == 0 else reversed(names):
            results[name].append(run_worker(workers[name]))
            print(f"  round {round_ + 1}/{runs}: {name} done", file=sys.stderr)
    return results


def installed(modules: Mapping[str, str]) -> list[str]:
    """The names whose module can be imported, in order; says on stderr which rows are left out and why."""
    names = []
    for name, module in modules.items():
        if importlib.util.find_spec(module) is None:
            print(f"({module} is not installed: the {name} row is left out)", file=sys.stderr)
        else:
            names.append(name)
    return names


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def relative_difference(a: Sequence[float], b: Sequence[float]) -> float:
    """The largest |a_i - b_i| / max(|a_i|, |b_i|, tiny) over two equally long lists."""
    if len(a) != len(b):
        raise ValueError(f"cannot compare {len(a)} numbers with {len(b)}")
    return max((abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a, b)), default=0.0)


def table(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table from rows of cells (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
