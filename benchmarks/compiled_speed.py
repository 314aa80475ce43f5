"""Compiled training steps (`nn.train(compile=True)`) against the dynamic engine, micrograd, PyTorch and a C++ port.

Three networks train on 100 points with micrograd's demo loss (hinge plus
1e-4 L2) and schedule (SGD, 1.0 decaying to 0.1 over 100 steps), relu hidden
layers and a linear output:

- 2-16-16-1: micrograd's moons demo (`moons_demo.make_moons`, seed 1337);
- 2-64-64-1: the same points, wider layers;
- 8-256-256-1: 100 points uniform in [-1, 1]^8 from ``random.Random(1337)``,
  labelled +1 where ``x0 * x1 + x2 - x3 > 0`` and -1 elsewhere.

Every row starts from micrograd's initial weights for the network
(``random.seed(1337)`` then ``MLP(nin, sizes)``: micrograd's MLP and
chainrule's draw the same numbers); each runs in its own process, the
processes alternating (A B A B ...). The rows:

- micrograd: micrograd==0.1.0, its own nn.MLP and Value, the demo's loop
  (`moons_demo.MoonsDemo`, generalised to the network).
- chainrule dynamic: ``nn.train(..., compile=False)``, the graph built and
  walked every step.
- chainrule compiled: ``nn.train(..., compile=True)``: the step traced once
  and run as written-out Python. Its "compile" column is a cold
  ``CompiledSteps(...)._compile(...)`` (trace, write, compile one step),
  timed first thing in the process.
- chainrule compiled, train/100: the whole ``train(model, X, y, steps=100,
  progress=False, compile=True)`` divided by 100, tracing and compiling
  included (its own process).
- PyTorch scalar mode: one 0-dim float64 tensor with requires_grad per
  weight, the network built number by number as micrograd builds it, then
  ``backward()``: PyTorch used the way a scalar engine is used.
- PyTorch tensors: float64, the whole batch with matmuls, one thread.
- nanograd-bgriebel: a C++ scalar engine with Python bindings (module
  ``nanograd_bgriebel``), its own MultiLayerPerceptron given micrograd's
  weights; only if it is installed.

The two chainrule rows inside `train` are timed from its callback, called
once per step after backward: the time between successive callbacks is one
whole step (update, bookkeeping, forward, backward), so a run of n + 1 steps
gives n step times, and the compiled row's first step (which traces and
compiles) is not among them. The other rows time each step of their own loop.

The last column is the largest relative difference of the parameters, after
the same number of steps, from micrograd's (or, where micrograd was not run,
from chainrule dynamic's). The slow rows (micrograd, PyTorch scalar mode,
nanograd) run fewer processes and steps on the two larger networks
(``--slow-runs``, ``--slow-steps``); parameters are compared after that many
steps there. micrograd on 8-256-256-1 builds about 14 million Values per step
and is left out unless ``--micrograd-large`` is given (see the README). The
micrograd worker raises Python's recursion limit: micrograd's backward sorts
the graph recursively, and the L2 penalty's chain of additions (one per
parameter) is deeper than the default limit from 2-64-64-1 on. The table also
gives each row's processes x steps and the largest peak resident memory of
its processes.

    python benchmarks/compiled_speed.py [--runs 3] [--steps 8] [--sizes 2-16-16-1,2-64-64-1,8-256-256-1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

# this checkout's autograd and nn, not those of an editable install that may point at another work tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import alternate, installed, median, relative_difference, table
from moons_demo import MoonsDemo, TorchDemo, make_moons

SEED = 1337
ALPHA = 1e-4
SCHEDULE_STEPS = 100
"""The learning rate decays from 1.0 to 0.1 over this many steps, as in micrograd's demo."""
NETWORKS = {"2-16-16-1": (2, [16, 16, 1]), "2-64-64-1": (2, [64, 64, 1]), "8-256-256-1": (8, [256, 256, 1])}
DEMO = "2-16-16-1"
LARGE = "8-256-256-1"
SLOW = ("micrograd", "pytorch scalar", "nanograd-bgriebel")
"""The rows that run fewer processes and steps on the larger networks."""


def dataset(network: str) -> tuple[list[list[float]], list[float]]:
    """The network's 100 training points and their -1/+1 labels."""
    nin, _ = NETWORKS[network]
    if nin == 2:
        return make_moons(seed=SEED)
    rng = random.Random(SEED)
    points = [[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(100)]
    labels = [1.0 if x[0] * x[1] + x[2] - x[3] > 0 else -1.0 for x in points]
    return points, labels


def initial_parameters(network: str) -> list[float]:
    """micrograd's MLP parameters after random.seed(1337), in its order: each neuron's weights, then its bias 0."""
    nin, sizes = NETWORKS[network]
    random.seed(SEED)
    parameters: list[float] = []
    for a, b in zip([nin, *sizes], sizes):
        for _ in range(b):
            parameters += [random.uniform(-1, 1) for _ in range(a)] + [0.0]
    return parameters


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / SCHEDULE_STEPS


class Run:
    """Step times and the parameters after `compare` steps, for the worker's JSON line."""

    def __init__(self, compare: int) -> None:
        self.compare = compare
        self.seconds: list[float] = []
        self.parameters: list[float] = []
        self.extra: dict[str, Any] = {}

    def timed(self, steps: int, step: Any, parameters: Any) -> Run:
        """Run `step(k)` for k < steps, timing each; keep the parameters after `compare` of them."""
        for k in range(steps):
            start = time.perf_counter()
            step(k)
            self.seconds.append(time.perf_counter() - start)
            if k + 1 == self.compare:
                self.parameters = parameters()
        return self

    def json(self) -> str:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        return json.dumps({"seconds": self.seconds, "parameters": self.parameters, "max_rss_mib": rss, **self.extra})


class Demo(MoonsDemo):
    """micrograd's demo step (`MoonsDemo`) on any of the networks and its data."""

    def __init__(self, value_class: Any, mlp_class: Any, network: str) -> None:
        nin, sizes = NETWORKS[network]
        random.seed(SEED)  # micrograd's nn draws its weights from the global generator
        self.value_class = value_class
        self.model = mlp_class(nin, sizes)
        self.points, self.labels = dataset(network)


class NanogradModel:
    """nanograd-bgriebel's MultiLayerPerceptron given micrograd's weights, with micrograd's model interface."""

    def __init__(self, network: str) -> None:
        import nanograd_bgriebel

        nin, sizes = NETWORKS[network]
        self.net = nanograd_bgriebel.MultiLayerPerceptron(nin, sizes)  # relu hidden layers, a linear output
        self.params = self.net.get_parameters()  # each neuron's weights, then its bias, as micrograd
        for p, data in zip(self.params, initial_parameters(network), strict=True):
            p.data = data

    def __call__(self, x: list[Any]) -> Any:
        return self.net(x)[0]  # a list of one Value

    def parameters(self) -> list[Any]:
        return self.params

    def zero_grad(self) -> None:
        self.net.zero_grad()


class NanogradDemo(Demo):
    def __init__(self, network: str) -> None:
        import nanograd_bgriebel

        self.value_class = nanograd_bgriebel.Value
        self.model = NanogradModel(network)
        self.points, self.labels = dataset(network)

    def step(self, k: int, total_steps: int = SCHEDULE_STEPS) -> tuple[float, float]:
        total_loss, accuracy = self.loss()
        self.model.zero_grad()
        total_loss.backwards()  # its name for backward
        rate = learning_rate(k)
        for p in self.model.parameters():
            p.data -= rate * p.grad
        return total_loss.data, accuracy


def run_micrograd(network: str, steps: int, compare: int) -> Run:
    import micrograd.engine
    import micrograd.nn

    # micrograd's backward sorts the graph recursively, one level per link of the longest chain: the L2
    # penalty's sum adds the parameters one by one (4,417 of them on 2-64-64-1), past Python's default limit
    sys.setrecursionlimit(1_000_000)
    demo = Demo(micrograd.engine.Value, micrograd.nn.MLP, network)
    return Run(compare).timed(steps, demo.step, demo.parameters)


def run_nanograd(network: str, steps: int, compare: int) -> Run:
    demo = NanogradDemo(network)
    return Run(compare).timed(steps, demo.step, demo.parameters)


def chainrule_model(network: str) -> Any:
    from nn import MLP

    nin, sizes = NETWORKS[network]
    random.seed(SEED)  # the global generator, as micrograd: the same weights
    return MLP(nin, sizes)


def run_chainrule(network: str, steps: int, compare: int, compile: bool = False) -> Run:
    """`nn.train` for steps + 1 steps, timed between successive callbacks: `steps` whole steps."""
    from nn import SGD, linear_decay, train

    run = Run(compare)
    points, labels = dataset(network)
    if compile:  # a cold trace, write and compile of one step, first thing in the process
        from nn.compiled import CompiledSteps

        model = chainrule_model(network)
        steps_ = CompiledSteps(model, "hinge", points, labels, alpha=ALPHA)
        start = time.perf_counter()
        steps_._compile(list(range(len(points))))
        run.extra["compile"] = time.perf_counter() - start
        del model, steps_
    model = chainrule_model(network)
    stamps: list[float] = []

    def callback(step: int, parameters: list[Any]) -> None:
        stamps.append(time.perf_counter())
        if step == compare:  # before this step's update: the parameters after `compare` steps
            run.parameters = [p.data for p in parameters]

    optimizer = SGD(model.parameters(), lr=linear_decay(1.0, 0.1, SCHEDULE_STEPS))
    history = train(
        model, points, labels, loss="hinge", alpha=ALPHA, optimizer=optimizer, steps=max(steps, compare) + 1,
        progress=False, callback=callback, compile=compile,
    )  # fmt: skip
    if compile and history.compiled != len(history.records):
        raise RuntimeError(f"only {history.compiled} of {len(history.records)} steps ran compiled")
    run.seconds = [b - a for a, b in itertools.pairwise(stamps)][:steps]
    return run


def run_compiled(network: str, steps: int, compare: int) -> Run:
    return run_chainrule(network, steps, compare, compile=True)


def run_train100(network: str, steps: int, compare: int) -> Run:
    """train(model, X, y, steps=100, progress=False, compile=True) divided by 100, tracing and compiling included."""
    from nn import train

    points, labels = dataset(network)
    model = chainrule_model(network)
    start = time.perf_counter()
    history = train(model, points, labels, steps=SCHEDULE_STEPS, progress=False, compile=True)
    total = time.perf_counter() - start
    if history.compiled != SCHEDULE_STEPS:
        raise RuntimeError(f"only {history.compiled} of {SCHEDULE_STEPS} steps ran compiled")
    run = Run(compare)
    run.seconds = [total / SCHEDULE_STEPS]
    return run


def run_torch(network: str, steps: int, compare: int) -> Run:
    """PyTorch on float64 tensors, the whole batch at once (`moons_demo.TorchDemo`), one thread."""
    nin, sizes = NETWORKS[network]
    demo = TorchDemo(*dataset(network), nin, sizes, initial_parameters(network))
    return Run(compare).timed(steps, lambda k: demo.step(k, SCHEDULE_STEPS, ALPHA), demo.parameters)


def run_torch_scalar(network: str, steps: int, compare: int) -> Run:
    """PyTorch as a scalar engine: a 0-dim float64 tensor per weight, micrograd's loop number by number."""
    import torch

    torch.set_num_threads(1)
    nin, sizes = NETWORKS[network]
    points, labels = dataset(network)
    parameters = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in initial_parameters(network)]
    layers, position = [], 0
    for a, b in zip([nin, *sizes], sizes):
        starts = [position + j * (a + 1) for j in range(b)]
        neurons = [(parameters[k : k + a], parameters[k + a]) for k in starts]
        position += b * (a + 1)
        layers.append(neurons)
    last = len(layers) - 1

    def model(x: list[Any]) -> Any:
        for i, neurons in enumerate(layers):
            out = []
            for w, b in neurons:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)  # micrograd's Neuron: the bias first
                out.append(act.relu() if i < last else act)
            x = out
        return x[0]

    def step(k: int) -> None:
        inputs = [[torch.tensor(v, dtype=torch.float64) for v in row] for row in points]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * score).relu() for yi, score in zip(labels, scores)]
        total = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in parameters)
        for p in parameters:
            p.grad = None
        total.backward()
        rate = learning_rate(k)
        with torch.no_grad():
            for p in parameters:
                p -= rate * p.grad

    return Run(compare).timed(steps, step, lambda: [p.item() for p in parameters])


RUNNERS = {
    "micrograd": run_micrograd,
    "chainrule dynamic": run_chainrule,
    "chainrule compiled": run_compiled,
    "chainrule compiled, train/100": run_train100,
    "pytorch scalar": run_torch_scalar,
    "pytorch tensors": run_torch,
    "nanograd-bgriebel": run_nanograd,
}
LABEL = {
    "micrograd": "micrograd 0.1.0",
    "chainrule dynamic": "chainrule dynamic",
    "chainrule compiled": "**chainrule compiled**",
    "chainrule compiled, train/100": "chainrule compiled, train(steps=100)/100",
    "pytorch scalar": "PyTorch scalar mode",
    "pytorch tensors": "PyTorch tensors (1 thread)",
    "nanograd-bgriebel": "nanograd-bgriebel (C++)",
}
MODULES = {"pytorch scalar": "torch", "pytorch tensors": "torch", "nanograd-bgriebel": "nanograd_bgriebel"}


INFO = {
    "compiled step >= 1000x micrograd's": "compiled step, speed-up vs micrograd",
    "train(steps=100, compile=True)/100 >= 500x micrograd's step": "train(steps=100, compile=True)/100 vs micrograd",
    "dynamic >= 100x micrograd": "dynamic step, speed-up vs micrograd",
    "compiled >= 400x PyTorch scalar mode": "compiled step, speed-up vs PyTorch scalar mode",
    "compiled within 5x of PyTorch tensors (compiled / torch <= 5)": "compiled step / PyTorch tensors step",
}
"""How each demo target's ratio is named on the other networks, where it is information only."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="processes per implementation (default 3)")
    parser.add_argument("--steps", type=int, default=8, help="timed training steps per process (default 8)")
    parser.add_argument("--slow-runs", type=int, default=1, help="processes of the slow rows on larger networks")
    parser.add_argument("--slow-steps", type=int, default=1, help="steps of the slow rows on larger networks")
    parser.add_argument("--sizes", default=",".join(NETWORKS), help="networks, comma-separated (default: all three)")
    parser.add_argument("--micrograd-large", action="store_true", help=f"run micrograd on {LARGE} too")
    parser.add_argument("--worker", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--network", choices=sorted(NETWORKS), help=argparse.SUPPRESS)
    parser.add_argument("--compare", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(RUNNERS[args.worker](args.network, args.steps, args.compare).json())
        return
    networks = [n.strip() for n in args.sizes.split(",") if n.strip()]
    for network in networks:
        if network not in NETWORKS:
            parser.error(f"unknown network {network!r}; choose from {', '.join(NETWORKS)}")
    names = [n for n in RUNNERS if n not in MODULES or n in installed(MODULES)]
    script = str(Path(__file__).resolve())
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    plans: dict[str, dict[str, tuple[int, int]]] = {}
    for network in networks:
        rows = [n for n in names if not (n == "micrograd" and network == LARGE and not args.micrograd_large)]
        slow = (args.slow_runs, args.slow_steps)
        plan = {n: slow if n in SLOW and network != DEMO else (args.runs, args.steps) for n in rows}
        plans[network] = plan
        compare = min(s for n, (_, s) in plan.items() if n != "chainrule compiled, train/100")
        print(f"{network}:", file=sys.stderr)
        results[network] = {}
        for group in sorted({r for r, _ in plan.values()}, reverse=True):  # the slow rows alternate among themselves
            members = {n: s for n, (r, s) in plan.items() if r == group}
            workers = {
                n: [script, "--worker", n, "--network", network, "--steps", str(s), "--compare", str(compare)]
                for n, s in members.items()
            }
            results[network].update(alternate(workers, group))
    report(networks, results, plans, args)


def report(networks: list[str], results: Any, plans: Any, args: Any) -> None:
    step = {
        net: {name: median([median(r["seconds"]) for r in runs]) for name, runs in res.items()}
        for net, res in results.items()
    }
    compile_ms = {
        net: median([r["compile"] for r in res["chainrule compiled"]]) * 1e3
        for net, res in results.items()
        if "chainrule compiled" in res
    }
    header = ["network", "implementation", "median step (ms)", "speed-up vs micrograd", "compile (ms)"]
    rows = [[*header, "max rel. parameter diff", "processes x steps", "peak RSS (MiB)"]]
    for net in networks:
        res, times = results[net], step[net]
        reference = "micrograd" if "micrograd" in res else "chainrule dynamic"
        for name in [n for n in RUNNERS if n in res]:  # the rows in a fixed order, whichever group ran first
            runs = res[name]
            if name == "chainrule compiled, train/100":
                diff = "- (100 steps)"
            elif name == reference:
                diff = "the reference"
            else:
                d = max(relative_difference(r["parameters"], res[reference][0]["parameters"]) for r in runs)
                diff = f"{d:.1e}" + ("" if reference == "micrograd" else " vs dynamic")
            runs_, steps_ = plans[net][name]
            rows.append(
                [
                    net,
                    LABEL[name],
                    f"{times[name] * 1e3:.3g}" if times[name] < 1 else f"{times[name] * 1e3:.0f}",
                    f"{times['micrograd'] / times[name]:.1f}x" if "micrograd" in times else "-",
                    f"{compile_ms[net]:.0f}"
                    if name == "chainrule compiled"
                    else "included"
                    if name == "chainrule compiled, train/100"
                    else "",
                    diff,
                    f"{runs_} x {steps_}" if name != "chainrule compiled, train/100" else f"{runs_} x 100",
                    f"{max(r['max_rss_mib'] for r in runs):.0f}",
                ]
            )
    print(
        f"Training steps on 100 points, hinge + 1e-4 L2, SGD 1.0 -> 0.1; median over processes of each process's"
        f" median step; {args.runs} processes x {args.steps} steps, the slow rows (micrograd, PyTorch scalar mode,"
        f" nanograd) on the larger networks {args.slow_runs} x {args.slow_steps}, parameters compared after the"
        f" fewest steps of the network's rows"
    )
    print(table(rows))
    if not args.micrograd_large and LARGE in networks:
        print(f"micrograd is not run on {LARGE} (about 14 million Values per step): see --micrograd-large")
    print()
    for net in networks:
        t = step[net]
        lines: list[tuple[str, float, float]] = []  # (the target, the ratio measured, the least ratio that meets it)
        if "micrograd" in t:
            lines.append(("compiled step >= 1000x micrograd's", t["micrograd"] / t["chainrule compiled"], 1000))
            lines.append(
                (
                    "train(steps=100, compile=True)/100 >= 500x micrograd's step",
                    t["micrograd"] / t["chainrule compiled, train/100"],
                    500,
                )
            )
            lines.append(("dynamic >= 100x micrograd", t["micrograd"] / t["chainrule dynamic"], 100))
        if "pytorch scalar" in t:
            lines.append(("compiled >= 400x PyTorch scalar mode", t["pytorch scalar"] / t["chainrule compiled"], 400))
        if "pytorch tensors" in t:
            lines.append(
                (
                    "compiled within 5x of PyTorch tensors (compiled / torch <= 5)",
                    t["chainrule compiled"] / t["pytorch tensors"],
                    -5,  # at most 5
                )
            )
        for what, ratio, least in lines:
            if net != DEMO:  # the speed targets are the demo's; elsewhere the ratios are information
                print(f"{net} (no target there): {INFO[what]}: {ratio:.1f}x")
                continue
            met = ratio <= -least if least < 0 else ratio >= least
            print(f"target {net}: {what}: {'met' if met else 'NOT met'} ({ratio:.1f}x)")
        limit = {DEMO: 50.0, LARGE: 2000.0}.get(net)
        if limit is not None and net in compile_ms:
            met = compile_ms[net] <= limit
            print(
                f"target {net}: compile <= {limit:.0f} ms: {'met' if met else 'NOT met'}"
                f" ({compile_ms[net]:.0f} ms, {compile_ms[net] / limit:.2f}x the limit)"
            )


if __name__ == "__main__":
    main()
