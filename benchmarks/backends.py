"""Where the scalar engine is outgrown: a training step of `python -m nn train` on each backend, by data size.

The demo network (2-16-16-1, hinge loss, full batch, SGD) on moons of 100 to
3,000 points, with `nn.train` (chainrule's scalar engine) and with
`nn.torch_train.train_torch` (the same run on float64 tensors, CPU, one
thread). Each size and backend runs in its own process, alternating; the table
shows median step times and steps per second.

    python benchmarks/backends.py [--runs 3] [--sizes 100,300,1000,3000]

Needs the torch extra.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate, median, table


def worker(backend: str, size: int, steps: int) -> None:
    from nn import MLP, datasets, train

    X, y = datasets.moons(size, seed=1337)
    model = MLP(2, [16, 16, 1], seed=1337)
    times: list[float] = []
    if backend == "torch":
        import torch

        from nn.torch_train import train_torch

        torch.set_num_threads(1)
        train_torch(MLP(2, [16, 16, 1], seed=1), X, y, steps=2)  # warm up
        run = lambda: train_torch(model, X, y, steps=steps)  # noqa: E731
    else:
        run = lambda: train(model, X, y, steps=steps, progress=False)  # noqa: E731
    for _ in range(3):  # each time a whole run of `steps` steps, its conversions included, per step
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) / steps)
    print(json.dumps({"seconds": times}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="processes per backend and size (default 3)")
    parser.add_argument("--sizes", default="100,300,1000,3000", help="training points (default 100,300,1000,3000)")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        backend, size, steps = args.worker
        worker(backend, int(size), int(steps))
        return
    script = str(Path(__file__).resolve())
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = [["points", "scalar step (ms)", "torch step (ms)", "scalar steps/s", "torch steps/s", "torch faster"]]
    for size in sizes:
        steps = "10" if size <= 300 else "3"
        results = alternate({b: [script, "--worker", b, str(size), steps] for b in ("scalar", "torch")}, args.runs)
        step = {b: median([statistics.median(r["seconds"]) for r in runs]) for b, runs in results.items()}
        rows.append([
            str(size), f"{step['scalar'] * 1e3:.1f}", f"{step['torch'] * 1e3:.2f}",
            f"{1 / step['scalar']:.1f}", f"{1 / step['torch']:.0f}", f"{step['scalar'] / step['torch']:.0f}x",
        ])  # fmt: skip
    print("one full-batch training step of the 2-16-16-1 demo network, median of processes")
    print(table(rows))


if __name__ == "__main__":
    main()
