"""``python -m nn train``: the main job: train a small network and write what it learned.

By default it is micrograd's demo: 100 moons points, ``MLP(2, [16, 16, 1])``,
hinge loss plus a 1e-4 L2 penalty, SGD with the learning rate decaying from
1.0 to 0.1 over the steps. It writes to ``--out``:

- ``metrics.json``: accuracy, loss, steps, seconds and the settings;
- ``model.json``: the trained model (load it with ``nn.MLP.from_file``);
- ``loss.png`` and ``boundary.png``: the loss curve and the decision boundary;
- ``graph.svg``: the graph of one neuron for one input, after backward.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from autograd import Value
from autograd.render import RendererNotFoundError, RenderError
from nn import datasets
from nn.layers import ACTIVATIONS, INITS, MLP, Neuron
from nn.module import write_json_atomically
from nn.optim import SGD, Adam, linear_decay
from nn.train import LOSSES, History, TrainingDivergedError, accuracy, train

__all__ = ["main"]

EXAMPLES = """\
examples:
  python -m nn train --dataset moons --steps 100 --seed 1337 --out runs/moons
  python -m nn train --dataset circles --hidden 8,8 --activation tanh --optimizer adam --lr 0.05
  python -m nn train --dataset spirals --classes 3 --loss cross_entropy --hidden 32,32 --steps 300
  python -m nn train --dataset xor --batch-size 10 --no-progress"""


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be at least 1")
    return sizes


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nn", description="Train small neural networks built on chainrule's autograd.")
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser(
        "train",
        help="train a model and write metrics, the model, plots and a graph",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("--dataset", choices=sorted(datasets.DATASETS), default="moons")
    t.add_argument("--samples", type=_positive_int, default=100, help="number of points (default 100)")
    t.add_argument("--noise", type=float, default=0.1, help="noise of the dataset (default 0.1)")
    t.add_argument("--classes", type=_positive_int, default=3, help="classes for spirals and blobs (default 3)")
    t.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes (default 16,16)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="relu")
    t.add_argument("--init", choices=INITS, default="uniform")
    t.add_argument("--loss", choices=sorted(LOSSES), help="default: hinge, or cross_entropy for 3+ classes")
    t.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default="sgd")
    t.add_argument("--lr", type=_rate, help="learning rate (default: SGD decays 1.0 to 0.1; Adam 0.05)")
    t.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty weight (default 1e-4)")
    t.add_argument("--steps", type=_positive_int, default=100)
    t.add_argument("--batch-size", type=_positive_int, help="default: the whole set; 1 is stochastic")
    t.add_argument("--seed", type=int, default=1337)
    t.add_argument("--out", type=Path, default=Path("runs/moons"), help="output folder (default runs/moons)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Returns:
        The exit status: 0 on success, 2 for bad options, and 1 when the run
        fails: training diverges, or an output cannot be written (a folder
        that cannot be made, no program to render the graph).
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        return _train(args)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except (_ArgumentError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except (TrainingDivergedError, RendererNotFoundError, RenderError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1


def _train(args: argparse.Namespace) -> int:
    multiclass = args.dataset in ("spirals", "blobs")
    loss = args.loss or ("cross_entropy" if multiclass and args.classes > 2 else "hinge")
    if multiclass:
        X, y = _multiclass_data(args)
        classes = args.classes
        if classes == 2 and loss != "cross_entropy" and loss != "bce":
            y = [1.0 if label == 1 else -1.0 for label in y]  # class indices 0/1 as the -1/+1 of hinge and mse
    else:
        labels = "01" if loss == "bce" else "pm1"
        X, y = datasets.DATASETS[args.dataset](args.samples, noise=args.noise, seed=args.seed, labels=labels)
        classes = 2
    if loss == "cross_entropy":
        outputs = classes
    elif classes > 2:
        raise ValueError(f"--loss {loss} handles two classes; use --loss cross_entropy for {classes}")
    else:
        outputs = 1
    model = MLP(2, [*args.hidden, outputs], activation=args.activation, init=args.init, seed=args.seed)
    optimizer = _optimizer(args, model)
    started = time.perf_counter()
    history = train(
        model, X, y, loss=loss, optimizer=optimizer, steps=args.steps, batch_size=args.batch_size,
        alpha=args.alpha, seed=args.seed, progress=not args.no_progress,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    final = history.final
    train_accuracy = accuracy(model, X, y, loss=loss)
    sizes = "-".join(str(n) for n in [2, *args.hidden, outputs])
    print(f"model: MLP {sizes}, {args.activation}, {len(model.parameters())} parameters; loss {loss}; {args.optimizer}")
    print(f"{args.steps} steps in {seconds:.2f} s: loss {final.loss:.6f}, training accuracy {train_accuracy:.1%}")
    _write_outputs(args, model, X, y, history, loss, train_accuracy, seconds)
    print(f"wrote metrics.json, model.json, loss.png, boundary.png, graph.svg to {args.out}")
    return 0


def _multiclass_data(args: argparse.Namespace) -> tuple[list[list[float]], list[float]]:
    if args.classes < 2:
        raise ValueError("--classes must be at least 2")
    if args.dataset == "spirals":
        return datasets.spirals(args.samples, classes=args.classes, noise=args.noise, seed=args.seed)
    return datasets.blobs(args.samples, centers=args.classes, noise=args.noise, seed=args.seed)


def _optimizer(args: argparse.Namespace, model: MLP) -> SGD | Adam:
    if args.optimizer == "adam":
        return Adam(model.parameters(), lr=args.lr or 0.05)
    lr = args.lr or linear_decay(1.0, 0.1, args.steps)
    return SGD(model.parameters(), lr=lr, momentum=0.9 if args.optimizer == "momentum" else 0.0)


def _write_outputs(
    args: argparse.Namespace,
    model: MLP,
    X: list[list[float]],
    y: list[float],
    history: History,
    loss: str,
    train_accuracy: float,
    seconds: float,
) -> None:
    from autograd import save_graph
    from nn.plot import plot_decision_boundary, plot_history

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        "accuracy": train_accuracy,
        "loss": history.final.loss,
        "steps": args.steps,
        "seconds": seconds,
        "dataset": args.dataset,
        "samples": args.samples,
        "architecture": [2, *args.hidden, model.config()["nouts"][-1]],
        "activation": args.activation,
        "loss_function": loss,
        "optimizer": args.optimizer,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "history": {"loss": history.losses, "accuracy": history.accuracies},
    }
    write_json_atomically(out / "metrics.json", metrics)
    model.save(out / "model.json")
    plot_history(history, title=f"{args.dataset}: loss and accuracy").savefig(out / "loss.png", dpi=100)
    plot_decision_boundary(model, X, y, title=f"{args.dataset}: decision boundary").savefig(
        out / "boundary.png", dpi=100
    )
    save_graph(_one_neuron(model, X[0]), out / "graph.svg")


def _one_neuron(model: MLP, x: list[float]) -> Value:
    """The first neuron of the first layer, on the first input, built elementwise, after backward."""
    trained = model.layers[0].neurons[0]
    neuron = Neuron(len(trained.w), trained.activation, fused=False, seed=0)
    for mine, theirs in zip(neuron.parameters(), trained.parameters()):
        mine.data = theirs.data
    for i, w in enumerate(neuron.w):
        w.label = f"w{i + 1}"
    neuron.b.label = "b"
    inputs = [Value(value, label=f"x{i + 1}") for i, value in enumerate(x)]
    out = neuron(inputs)
    out.label = "out"
    out.backward()
    return out
