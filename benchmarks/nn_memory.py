"""Memory across training steps: each step's graph is freed, so traced memory stays flat.

Trains micrograd's demo setup (100 moons points, MLP(2, [16, 16, 1]), hinge plus
L2, SGD) with the cyclic garbage collector switched off, so that only reference
counting frees memory, and prints the memory traced by tracemalloc after every
10 steps.

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
    parser.add_argument("--steps", type=int, default=100)
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
        baseline = baseline if baseline is not None else current
        if step % 10 == 0 or step == 1:
            rows.append([str(step), f"{current / 1024:.1f}", f"{peak / 1024:.1f}"])
    growth = (current - baseline) / (args.steps - 1) if args.steps > 1 else 0.0
    print(table(rows))
    print(f"growth per step after the first: {growth:.1f} bytes (cyclic collector off)")


if __name__ == "__main__":
    main()
