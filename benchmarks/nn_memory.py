"""Memory across training steps: each step's graph is freed, so memory stays flat.

Two measurements of micrograd's demo setup (100 moons points, MLP(2, [16, 16, 1]),
hinge plus L2, SGD):

1. chainrule alone, with the cyclic garbage collector switched off, so that
   only reference counting frees memory: the memory traced by tracemalloc
   after every 50 steps. The first steps fill CPython's free lists of small
   tuples and floats (memory it keeps for reuse, which tracemalloc still
   counts), so growth is measured over the second half of the run.
2. chainrule (dynamic and compiled), micrograd and micrograd-rust (when installed) side by side, each
   in its own process with the default collector: the resident set size
   after every step, and its growth per step over the second half.

    python benchmarks/nn_memory.py [--steps 600] [--rss-steps 60]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
from array import array
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import installed, run_worker, table
from moons_demo import MicrogradRustDemo, MoonsDemo

MiB = 1024 * 1024


def traced_chainrule(steps: int) -> None:
    from nn import MLP, SGD, datasets, linear_decay, losses

    X, y = datasets.moons(100, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    parameters = model.parameters()
    optimizer = SGD(parameters, lr=linear_decay(1.0, 0.1, steps))
    # readings go into arrays allocated up front: the bookkeeping itself must not show as growth
    current, peak = array("q", [0] * (steps + 1)), array("q", [0] * (steps + 1))
    gc.disable()
    tracemalloc.start()
    for step in range(1, steps + 1):
        tracemalloc.reset_peak()
        loss = losses.hinge([model(x) for x in X], y) + losses.l2_penalty(parameters, 1e-4)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        del loss
        current[step], peak[step] = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.enable()
    rows = [["step", "traced memory (KiB)", "peak during the step (KiB)"]]
    for step in [1, *range(50, steps + 1, 50)]:
        rows.append([str(step), f"{current[step] / 1024:.1f}", f"{peak[step] / 1024:.1f}"])
    print(table(rows))
    growth = (current[steps] - current[steps // 2]) / (steps - steps // 2)
    print(f"growth per step from step {steps // 2} to {steps}: {growth:.1f} bytes (cyclic collector off)")


def resident_bytes() -> int:
    """This process's resident set size (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def chainrule_step() -> Callable[[int], object]:
    from autograd import Value
    from nn import MLP, SGD, linear_decay, losses
    from nn.datasets import moons

    points, labels = moons(100, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    parameters = model.parameters()
    optimizer = SGD(parameters, lr=linear_decay(1.0, 0.1, 100))

    def step(k: int) -> float:
        scores = [model(list(map(Value, row))) for row in points]
        loss = losses.hinge(scores, labels) + losses.l2_penalty(parameters, 1e-4)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.data

    return step


def compiled_step() -> Callable[[int], object]:
    """The compiled step of `nn.train(compile=True)`: no graph at all, so nothing to free."""
    from nn import MLP, SGD
    from nn.compiled import CompiledSteps
    from nn.datasets import moons

    points, labels = moons(100, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    optimizer = SGD(model.parameters(), lr=0.05)  # constant: a long run must not diverge into the guards
    steps = CompiledSteps(model, "hinge", points, labels, alpha=1e-4)
    batch = list(range(len(points)))

    def step(k: int) -> float:
        optimizer.zero_grad()
        done = steps.run(batch)
        assert done is not None, "the demo's step compiles"
        optimizer.step()
        return done[0]

    return step


def micrograd_step() -> Callable[[int], object]:
    import micrograd.engine
    import micrograd.nn

    return MoonsDemo(micrograd.engine.Value, micrograd.nn.MLP).step


WORKERS: dict[str, Callable[[], Callable[[int], object]]] = {
    "chainrule": chainrule_step,
    "chainrule, compiled": compiled_step,
    "micrograd": micrograd_step,
    "micrograd-rust": lambda: MicrogradRustDemo().step,
}
MODULES = {"chainrule": "nn", "chainrule, compiled": "nn", "micrograd": "micrograd", "micrograd-rust": "micrograd_rust"}


def rss_worker(name: str, steps: int) -> None:
    step = WORKERS[name]()
    resident = []
    for k in range(steps):
        step(k % 100)
        resident.append(resident_bytes())
    print(json.dumps({"resident": resident}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600, help="steps of the tracemalloc run (default 600)")
    parser.add_argument("--rss-steps", type=int, default=60, help="steps of each side-by-side run (default 60)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 2 or args.rss_steps < 2:
        parser.error("--steps and --rss-steps must be at least 2: growth is measured over the second half")
    if args.worker:
        rss_worker(args.worker, args.rss_steps)
        return
    print(f"1. chainrule, {args.steps} steps, traced by tracemalloc")
    traced_chainrule(args.steps)
    rows = [["implementation", "resident after step 1 (MiB)", f"after step {args.rss_steps} (MiB)", "growth per step"]]
    script = str(Path(__file__).resolve())
    half = args.rss_steps // 2
    for name in installed(MODULES):
        resident = run_worker([script, "--worker", name, "--rss-steps", str(args.rss_steps)])["resident"]
        growth = (resident[-1] - resident[half - 1]) / (len(resident) - half)
        rows.append([name, f"{resident[0] / MiB:.1f}", f"{resident[-1] / MiB:.1f}", f"{growth / MiB:+.2f} MiB"])
    print(f"\n2. resident set size, {args.rss_steps} steps each, default collector; growth over the second half")
    print(table(rows))


if __name__ == "__main__":
    main()
