"""Memory across training steps: each step's graph is freed, so traced memory stays flat.

Trains micrograd's demo setup (100 moons points, MLP(2, [16, 16, 1]), hinge plus
L2, SGD) with the cyclic garbage collector switched off, so that only reference
counting frees memory, and prints the memory traced by tracemalloc after every
50 steps. The first steps fill CPython's free lists of small tuples and floats
(memory it keeps for reuse, which tracemalloc still counts), so growth is
measured over the second half of the run.

    python benchmarks/nn_memory.py [--steps 100]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    from nn import MLP, SGD, datasets, linear_decay, losses

    X, y = datasets.moons(100, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    parameters = model.parameters()
    optimizer = SGD(parameters, lr=linear_decay(1.0, 0.1, args.steps))
    gc.disable()
    tracemalloc.start()
    rows = [["step", "traced memory (KiB)", "peak during the step (KiB)"]]
    baseline = None
    for step in range(1, args.steps + 1):
        tracemalloc.reset_peak()
        loss = losses.hinge([model(x) for x in X], y) + losses.l2_penalty(parameters, 1e-4)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        del loss
        current, peak = tracemalloc.get_traced_memory()
        if step == args.steps // 2:
            baseline = current
        if step % 50 == 0 or step == 1:
            rows.append([str(step), f"{current / 1024:.1f}", f"{peak / 1024:.1f}"])
    print(table(rows))
    if baseline is not None:
        growth = (current - baseline) / (args.steps - args.steps // 2)
        print(f"growth per step from step {args.steps // 2} to {args.steps}: {growth:.1f} bytes (cyclic collector off)")


if __name__ == "__main__":
    main()
