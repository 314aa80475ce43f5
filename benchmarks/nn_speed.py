"""One step of micrograd's moons demo: chainrule's nn against micrograd's nn, micrograd-rust and PyTorch.

Every implementation trains from the same initial weights (micrograd's:
``random.seed(1337)`` then ``MLP(2, [16, 16, 1])``) on the same 100 points,
with the demo's loss (hinge plus 1e-4 L2) and schedule (SGD, 1.0 decaying to
0.1). Each runs in its own process, alternating; the table shows the median
step time and the largest relative difference of the parameters after the
steps from those of the reference that trains the same network.

- micrograd: micrograd==0.1.0 with its own nn.MLP.
- chainrule: nn.MLP (fused dot products), nn.losses, nn.optim, pure Python,
  in the demo's loop: every step wraps the points in Values, as the demo does.
- PyTorch: float64 tensors, the whole batch at once (if torch is installed).
- micrograd-rust: micrograd-rust 0.1.0, a Rust port (module ``micrograd_rust``),
  if it is installed. Its MLP is tanh throughout, so it trains another network
  of the same size; `moons_demo.MicrogradRustDemo` says how its step differs.
  A last row runs chainrule on that same tanh network, where no gradient is
  zero and backward can skip nothing; micrograd-rust's parameters must match
  that row's.

micrograd-rust has no wheel for Linux, and its source distribution asks for
pyo3 0.23, a Rust crate this machine cannot download. It was measured here
built from that source distribution against Debian's packaged crates (pyo3
0.22 and its dependencies from Debian trixie: the `librust-*-dev` packages,
unpacked into a cargo directory source), with one change: the pyo3
requirement in Cargo.toml, from "0.23" to "0.22". No Rust code changes;
``maturin build --release --offline`` then builds a wheel to pip-install into
the same environment.

    python benchmarks/nn_speed.py [--runs 5] [--steps 8]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate, installed, median, relative_difference, table
from moons_demo import MicrogradRustDemo, MoonsDemo, TorchDemo, make_moons, micrograd_initial_parameters

SEED = 1337
ALPHA = 1e-4
TARGET = 40.0
"""The speed-up over micrograd that chainrule's nn aims for."""


def timed_steps(demo: Any, steps: int) -> tuple[list[float], list[float]]:
    """Run a demo's steps, timing each; return the times and the parameters after them."""
    seconds = []
    for k in range(steps):
        start = time.perf_counter()
        demo.step(k)
        seconds.append(time.perf_counter() - start)
    return seconds, demo.parameters()


def run_micrograd(steps: int) -> tuple[list[float], list[float]]:
    import micrograd.engine
    import micrograd.nn

    return timed_steps(MoonsDemo(micrograd.engine.Value, micrograd.nn.MLP, seed=SEED), steps)


def run_micrograd_rust(steps: int) -> tuple[list[float], list[float]]:
    return timed_steps(MicrogradRustDemo(seed=SEED), steps)


def run_chainrule(steps: int, activation: str = "relu", output_activation: str = "linear") -> tuple[Any, Any]:
    from autograd import Value
    from nn import MLP, SGD, linear_decay, losses

    points, labels = make_moons(seed=SEED)
    random.seed(SEED)  # the global generator, as micrograd: the same weights
    model = MLP(2, [16, 16, 1], activation=activation, output_activation=output_activation)
    parameters = model.parameters()
    optimizer = SGD(parameters, lr=linear_decay(1.0, 0.1, 100))
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        inputs = [list(map(Value, row)) for row in points]
        scores = list(map(model, inputs))
        loss = losses.hinge(scores, labels) + losses.l2_penalty(parameters, ALPHA)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds, [p.data for p in parameters]


def run_chainrule_tanh(steps: int) -> tuple[Any, Any]:
    """chainrule on micrograd-rust's network: tanh in every layer, where no gradient is zero."""
    return run_chainrule(steps, activation="tanh", output_activation="tanh")


def run_torch(steps: int) -> tuple[list[float], list[float]]:
    points, labels = make_moons(seed=SEED)
    return timed_steps(TorchDemo(points, labels, 2, [16, 16, 1], micrograd_initial_parameters(SEED)), steps)


RUNNERS = {
    "micrograd": run_micrograd,
    "chainrule": run_chainrule,
    "pytorch": run_torch,
    "micrograd-rust": run_micrograd_rust,
    "chainrule, tanh": run_chainrule_tanh,
}
REFERENCE = {
    "micrograd": "micrograd",
    "chainrule": "micrograd",
    "pytorch": "micrograd",
    "micrograd-rust": "chainrule, tanh",
    "chainrule, tanh": "chainrule, tanh",
}
"""Whose parameters each one's must match after the steps: the same network from the same weights."""
NETWORK = {"micrograd-rust": "tanh", "chainrule, tanh": "tanh"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="processes per implementation (default 5)")
    parser.add_argument("--steps", type=int, default=8, help="training steps per process (default 8)")
    parser.add_argument("--worker", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        seconds, parameters = RUNNERS[args.worker](args.steps)
        print(json.dumps({"seconds": seconds, "parameters": parameters}))
        return
    names = ["micrograd", "chainrule", *installed({"pytorch": "torch", "micrograd-rust": "micrograd_rust"})]
    if "micrograd-rust" in names:
        names.append("chainrule, tanh")
    script = str(Path(__file__).resolve())
    results = alternate({n: [script, "--worker", n, "--steps", str(args.steps)] for n in names}, args.runs)
    step = {name: median([median(r["seconds"]) for r in runs]) for name, runs in results.items()}
    header = ["implementation", "network", "median step (ms)", "speed-up vs micrograd", "max rel. parameter diff"]
    rows = [header]
    for name in names:
        reference = REFERENCE[name]
        drift = max(relative_difference(r["parameters"], results[reference][0]["parameters"]) for r in results[name])
        rows.append(
            [
                name,
                NETWORK.get(name, "micrograd's (ReLU)"),
                f"{step[name] * 1e3:.2f}",
                f"{step['micrograd'] / step[name]:.1f}x",
                f"{drift:.1e} vs {reference}",
            ]
        )
    print(f"micrograd's moons demo, one training step, median of {args.runs} processes x {args.steps} steps")
    print(table(rows))
    ratio = step["micrograd"] / step["chainrule"]
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"target: chainrule at least {TARGET:.0f}x faster than micrograd: {verdict} ({ratio:.1f}x)")


if __name__ == "__main__":
    main()
