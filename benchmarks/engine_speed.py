"""The engine against micrograd on micrograd's own moons demo, with micrograd's own nn code.

Both sides run micrograd's `nn.MLP` and the demo's training step; the only
difference is the Value class underneath (for ours, `micrograd.nn.Value` is
replaced by `autograd.Value`). So it is the same graph and the same
arithmetic: the parameters after the steps must agree to 1e-9 relative.

    python benchmarks/engine_speed.py            # driver: alternate, print a table
    python benchmarks/engine_speed.py --runs 5 --steps 10

Needs micrograd==0.1.0 (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate, median, relative_difference, table
from moons_demo import MoonsDemo


def worker(implementation: str, steps: int) -> None:
    import micrograd.engine
    import micrograd.nn

    if implementation == "chainrule":
        import autograd

        micrograd.nn.Value = autograd.Value  # micrograd's nn looks Value up at call time
        value_class = autograd.Value
    else:
        value_class = micrograd.engine.Value
    demo = MoonsDemo(value_class, micrograd.nn.MLP)
    seconds = []
    for k in range(steps):
        start = time.perf_counter()
        loss, accuracy = demo.step(k)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "loss": loss, "accuracy": accuracy, "parameters": demo.parameters()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="processes per implementation (default 5)")
    parser.add_argument("--steps", type=int, default=8, help="training steps per process (default 8)")
    parser.add_argument("--worker", choices=["chainrule", "micrograd"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    script = str(Path(__file__).resolve())
    results = alternate(
        {name: [script, "--worker", name, "--steps", str(args.steps)] for name in ("micrograd", "chainrule")},
        args.runs,
    )
    step = {name: median([median(r["seconds"]) for r in runs]) for name, runs in results.items()}
    drift = max(
        relative_difference(ours["parameters"], theirs["parameters"])
        for ours, theirs in zip(results["chainrule"], results["micrograd"])
    )
    print(f"micrograd's moons demo step, micrograd's nn code, median of {args.runs} processes x {args.steps} steps")
    print(
        table(
            [
                ["Value class", "median step (ms)", "speed-up vs micrograd"],
                ["micrograd 0.1.0", f"{step['micrograd'] * 1e3:.1f}", "1.0x"],
                ["chainrule", f"{step['chainrule'] * 1e3:.1f}", f"{step['micrograd'] / step['chainrule']:.1f}x"],
            ]
        )
    )
    print(f"largest relative parameter difference after {args.steps} steps: {drift:.2e}")
    if drift > 1e-9:
        sys.exit("parameters differ by more than 1e-9 relative")


if __name__ == "__main__":
    main()
