"""Bytes per step of the chain ``y = y * 0.999999 + 0.5``, and a million-step chain end to end.

Memory is measured with tracemalloc: the growth of traced memory while the
forward chain is built, divided by the number of steps. Each implementation runs
in its own process. The depth check builds 1,000,000 steps, runs backward, and
compares the gradient with the exact 0.999999 ** n, without touching the
recursion limit (micrograd's recursive topological sort fails near 1,000).

    python benchmarks/engine_memory.py
    python benchmarks/engine_memory.py --steps 20000 --depth 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate, median, table


def value_class(implementation: str) -> type:
    if implementation == "chainrule":
        from autograd import Value
    else:
        from micrograd.engine import Value
    return Value  # type: ignore[no-any-return]


def memory_worker(implementation: str, steps: int) -> None:
    value = value_class(implementation)
    x = value(1.0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(steps):
        y = y * 0.999999 + 0.5
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(json.dumps({"bytes_per_step": (after - before) / steps, "data": y.data}))


def depth_worker(implementation: str, depth: int) -> None:
    value = value_class(implementation)
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    x = value(1.0)
    y = x
    try:
        for _ in range(depth):
            y = y * 0.999999 + 0.5
        y.backward()
        error = None
    except RecursionError as exc:
        error = f"RecursionError: {exc}"
    seconds = time.perf_counter() - start
    exact = 0.999999**depth
    grad = None if error else x.grad
    relative_error = None if error else abs(grad - exact) / exact
    del y  # freeing a deep graph must not recurse either
    print(
        json.dumps(
            {
                "depth": depth,
                "seconds": seconds,
                "grad": grad,
                "exact": exact,
                "relative_error": relative_error,
                "error": error,
                "recursion_limit_unchanged": sys.getrecursionlimit() == limit,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20_000, help="chain length for the memory measurement")
    parser.add_argument("--depth", type=int, default=1_000_000, help="chain length for the depth check")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--implementation", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "memory":
        memory_worker(args.implementation, args.steps)
        return
    if args.worker == "depth":
        depth_worker(args.implementation, args.depth)
        return
    script = str(Path(__file__).resolve())
    memory = alternate(
        {
            name: [script, "--worker", "memory", "--implementation", name, "--steps", str(args.steps)]
            for name in ("micrograd", "chainrule")
        },
        args.runs,
    )
    per_step = {name: median([r["bytes_per_step"] for r in runs]) for name, runs in memory.items()}
    print(f"memory per step of y = y * 0.999999 + 0.5 (tracemalloc, {args.steps} steps, median of {args.runs})")
    print(
        table(
            [
                ["Value class", "bytes per step"],
                ["micrograd 0.1.0", f"{per_step['micrograd']:.0f}"],
                ["chainrule", f"{per_step['chainrule']:.0f}"],
            ]
        )
    )
    depth = {
        name: alternate({name: [script, "--worker", "depth", "--implementation", name, "--depth", str(d)]}, 1)[name][0]
        for name, d in (("chainrule", args.depth), ("micrograd", min(args.depth, 5_000)))
    }
    print()
    rows = [["Value class", "steps", "forward + backward (s)", "gradient", "relative error"]]
    for name, r in depth.items():
        if r["error"]:
            rows.append([name, str(r["depth"]), "-", r["error"][:40], "-"])
        else:
            rows.append(
                [name, str(r["depth"]), f"{r['seconds']:.2f}", f"{r['grad']:.12g}", f"{r['relative_error']:.1e}"]
            )
    print(table(rows))
    ours = depth["chainrule"]
    if per_step["chainrule"] > 450 or ours["error"] or ours["relative_error"] > 1e-9:
        sys.exit("chainrule missed a target: <= 450 bytes per step, and the deep chain exact to 1e-9")


if __name__ == "__main__":
    main()
