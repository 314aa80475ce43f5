"""``python -m nn``: train a small network, measure a trained one, or ask it about points.

``python -m nn train`` is the main job. By default it is micrograd's demo: 100
moons points, ``MLP(2, [16, 16, 1])``, hinge loss plus a 1e-4 L2 penalty, SGD
with the learning rate decaying from 1.0 to 0.1 over the steps. It writes to
``--out`` (by default ``runs/<dataset>``):

- ``metrics.json``: the results and every setting of the run (see below);
- ``model.json``: the trained model (load it with ``nn.MLP.from_file``);
- ``loss.png``: each step's batch loss and batch accuracy;
- ``boundary.png``: the decision boundary over the training points;
- ``explorer.html``: the trained network and its loss on that same training point, to
  step through forward and backward (see `autograd.explore`);
- ``training.html``: the run replayed: the loss curve, the decision boundary every few
  steps, each parameter and its gradient at each step (see `nn.replay`);
- ``graph.svg``: one first-layer neuron on one training point, after backward,
  with non-zero gradients of that point's loss; its title says which.

In ``metrics.json``, ``accuracy`` and ``loss`` are the trained model's on the
whole training set (the loss without the penalties); ``heldout_accuracy`` and
``heldout_loss`` the same on fresh points from the same generator, drawn with
``--heldout-seed``; ``last_batch_loss`` and ``last_batch_accuracy`` are the last
step's, on its batch, before its update (the loss with the penalty);
``history`` holds every step's batch numbers. With ``--patience N``, training
measures the loss on the held-out points after every step (``history`` then
holds them as ``heldout_loss``), stops when it has not improved for N steps,
and keeps the parameters of the best step (``best_step``, its index in the
``history`` lists, counted from 0; and ``stopped_early``); the held-out numbers
then describe the set that chose the model, no longer fresh points. ``settings`` records every
option but ``--out``, ``--config`` and ``--no-progress``, keyed by its name
with underscores for dashes: ``python -m nn train --config metrics.json``
repeats the run exactly, and options given as well override the file's.

``python -m nn eval --model model.json`` measures a trained model on fresh
points (by default 1000 moons points drawn with seed 1338, the held-out seed of
a default training run). ``python -m nn predict --model model.json x1 x2``
prints the model's output and predicted class for a point; give several points
one after the other, as ``x1 x2 x1 x2``. ``python -m nn export --model
model.json -o model.onnx`` writes a trained model for other frameworks (ONNX,
or PyTorch with ``-o model.pt``).

``--backend torch`` runs the same training on PyTorch tensors (the torch
extra; ``--device cuda`` for a GPU) and writes the same outputs: the final loss
agrees with the scalar engine's to about 1e-15 on the demo.

Outputs are written together: a run renders them into a staging folder inside
``--out`` and then moves them all into place, so a folder holds one run's set or
the one before it. The folder is made and locked before training (a second run
into it is refused), and Ctrl-C leaves it as it was.

Limits: at most 100,000 steps, 10,000 training points, 100,000 held-out points,
and 16 hidden layers of at most 1024 units. Training has diverged when the loss
is not finite or grows past a million times its first value (at least 1).

Exit statuses: 0 on success, 2 for bad options (one line on stderr), 1 when the
run fails (training diverges, the output folder cannot be written or is in use
by another run), and 130 when interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autograd.files import write_atomically
from autograd.render import RendererNotFoundError, RenderError
from nn import datasets
from nn.bridge import MissingExtraError
from nn.layers import ACTIVATIONS, INITS, MLP
from nn.module import ModelFileError, write_json_atomically
from nn.onnx_export import ONNX_OPSET, to_onnx
from nn.optim import SGD, Adagrad, Adam, Optimizer, RMSprop, linear_decay
from nn.replay import Recorder, network_page, training_page
from nn.torch_bridge import save_torch
from nn.train import LABELS, LOSSES, Evaluation, History, TrainingDivergedError, evaluate, predict, train

__all__ = ["SETTINGS", "main"]

TRAIN_EXAMPLES = """\
examples:
  python -m nn train --dataset moons --steps 100 --seed 1337
  python -m nn train --dataset circles --hidden 8,8 --activation tanh --optimizer adam --lr 0.05
  python -m nn train --dataset spirals --classes 3 --loss cross_entropy --hidden 32,32 --steps 300
  python -m nn train --dataset xor --batch-size 10 --no-progress
  python -m nn train --config runs/moons/metrics.json --out runs/again"""

EVAL_EXAMPLES = """\
examples:
  python -m nn eval --model runs/moons/model.json
  python -m nn eval --model runs/spirals/model.json --dataset spirals --samples 300 --seed 7"""

PREDICT_EXAMPLES = """\
examples:
  python -m nn predict --model runs/moons/model.json 0.5 -0.2
  python -m nn predict --model runs/moons/model.json 0.5 -0.2 1.5 0.3   (two points)
  python -m nn predict --model runs/moons/model.json -- -1e-3 0.5       (-- before a number like -1e-3)"""

EXPORT_EXAMPLES = """\
examples:
  python -m nn export --model runs/moons/model.json -o model.onnx   (needs: pip install 'chainrule[onnx]')
  python -m nn export --model runs/moons/model.json -o model.pt     (needs: pip install 'chainrule[torch]')"""


EVAL_DESCRIPTION = """\
Measure a trained model on fresh points from a dataset's generator: its accuracy and mean loss.

The default seed, 1338, is the held-out seed of a training run with the default --seed 1337, so
it repeats that run's heldout_accuracy and heldout_loss; for another run, give its heldout_seed
(in its metrics.json), and never its training seed. Exit status 2 for bad options."""

PREDICT_DESCRIPTION = """\
Print a trained model's output for points, and the class it predicts: the sign of a single
output (+1 or -1), or the index of the largest of several outputs. Give a point's coordinates,
and several points one after the other. Exit status 2 for bad options."""


EXPORT_DESCRIPTION = """\
Write a trained model for other frameworks; the output's suffix says which:

.onnx  an ONNX model: a Gemm and an activation per layer, float64, input "input" [N, nin],
       output "output" [N, nout]; run it with onnxruntime, for example.
.pt    a PyTorch file (torch.save): the state dict of a Sequential of float64 Linear and
       activation modules, and its architecture. Rebuild the Sequential with torch alone:

         saved = torch.load("model.pt", weights_only=True)
         model = torch.nn.Sequential(*(
             getattr(torch.nn, kind)(*args, **({"dtype": torch.float64} if kind in ("Linear", "BatchNorm1d") else {}))
             for kind, *args in saved["architecture"]))
         model.load_state_dict(saved["state_dict"])

The output is written whole or not at all. Exit status 2 for bad options (a model file that is not
chainrule's, a suffix other than these), 1 when the output cannot be written or the framework's
package is not installed (the message gives the pip command)."""


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(_name_the_option(message))


def _name_the_option(message: str) -> str:
    """argparse's "argument --samples/-n: must be ..." as "--samples must be ..."."""
    found = re.match(r"argument ([^:/\s]+)(?:/\S+)?: (.*)", message, re.DOTALL)
    if not found:
        return message
    option, text = found.groups()
    return f"{option} {text}" if text.startswith(("must ", "is ")) else f"{option}: {text}"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's lines, and shows each option's default after its help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if action.option_strings and default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            shown = ",".join(map(str, default)) if isinstance(default, list) else str(default)
            text += f" (default: {shown.replace('%', '%%')})"
        return text


def _described(text: str) -> dict[str, Any]:
    """A subcommand's description, as plain text kept in its lines."""
    return {"description": _plain(text), "formatter_class": _HelpFormatter}


def _plain(text: str) -> str:
    """A docstring as help text: without reST's double backticks and single-backtick references."""
    return re.sub(r"``([^`]*)``|`([^`]*)`", lambda m: m.group(1) or m.group(2), text)


def _at_least(least: int) -> Callable[[str], int]:
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
        return value

    return whole_number


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text!r}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}")
    return value


def _probability(text: str) -> float:
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), not {text!r}")
    return value


def _rate(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be a positive number below 1e6, not {text!r}")
    return value


def _at_most(most: int, parse: Callable[[str], int]) -> Callable[[str], int]:
    def bounded(text: str) -> int:
        value = parse(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}, not {value:,}")
        return value

    return bounded


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"must be layer sizes of at least 1, comma-separated as 16,16, not {text!r}")
    if len(sizes) > MAX_LAYERS or max(sizes) > MAX_WIDTH:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_LAYERS} layers of at most {MAX_WIDTH} units each, not {text!r}"
        )
    return sizes


MAX_STEPS = 100_000
"""The most training steps `train` accepts."""
MAX_SAMPLES = 10_000
"""The most training points (a step on 100,000 points takes a minute and gigabytes in a scalar engine)."""
MAX_HELDOUT = 100_000
"""The most held-out points."""
MAX_LAYERS = 16
"""The most hidden layers."""
MAX_WIDTH = 1024
"""The most units in a hidden layer."""


EXPORTS: dict[str, Callable[[MLP, Path], Path]] = {".onnx": to_onnx, ".pt": save_torch}
"""What ``export`` writes for each suffix of its output."""


SETTINGS: dict[str, dict[str, Any]] = {
    "dataset": {"choices": sorted(datasets.DATASETS), "default": "moons", "help": "the toy dataset"},
    "samples": {"type": _at_most(MAX_SAMPLES, _at_least(2)), "default": 100, "help": "training points"},
    "noise": {"type": _non_negative, "default": 0.1, "help": "standard deviation of the noise on each coordinate"},
    "classes": {
        "type": _at_least(2),
        "help": "classes (default: 3 for spirals and blobs; moons, circles and xor have 2)",
    },
    "hidden": {"type": _sizes, "default": [16, 16], "help": "hidden layer sizes, comma-separated"},
    "activation": {
        "choices": [a for a in ACTIVATIONS if a != "linear"],
        "default": "relu",
        "help": "activation of the hidden layers (the output layer is linear)",
    },
    "init": {"choices": INITS, "default": "uniform", "help": "weight initialisation"},
    "dropout": {
        "type": _probability,
        "default": 0.0,
        "help": "probability of dropping each hidden unit in training steps (inverted dropout; default: 0, "
        "none); every measurement, plot and page uses the model in evaluation mode, without dropout",
    },
    "loss": {"choices": sorted(LOSSES), "help": "loss (default: hinge, or cross_entropy for 3 or more classes)"},
    "optimizer": {
        "choices": ["sgd", "momentum", "adagrad", "rmsprop", "adam"],
        "default": "sgd",
        "help": "update rule (momentum: SGD with momentum 0.9; the others as in torch.optim)",
    },
    "lr": {
        "type": _rate,
        "help": "learning rate (default: for sgd and momentum 1.0 decaying linearly to 0.1 over the steps; "
        "adagrad 0.1, rmsprop 0.01, adam 0.05)",
    },
    "alpha": {"type": _non_negative, "default": 1e-4, "help": "weight of the L2 penalty added to the loss"},
    "l1": {
        "type": _non_negative,
        "default": 0.0,
        "help": "weight of the L1 penalty, l1 * sum(|p|), added to the loss (default: 0, none)",
    },
    "clip": {
        "type": _positive,
        "help": "clip the gradients' joint 2-norm to this before each update (default: none)",
    },
    "clip_value": {"type": _positive, "help": "cut each gradient to [-this, this] before each update (default: none)"},
    "steps": {"type": _at_most(MAX_STEPS, _at_least(1)), "default": 100, "help": "training steps (updates)"},
    "patience": {
        "type": _at_least(1),
        "help": "stop when the held-out loss has not improved for this many steps, keeping the best step's "
        "parameters (default: none, run every step)",
    },
    "batch_size": {
        "type": _at_least(1),
        "help": "points per step, shuffled each epoch (default: the whole set; 1 is stochastic)",
    },
    "seed": {"type": _integer, "default": 1337, "help": "seed of the training points, the weights and the batches"},
    "heldout_samples": {
        "type": _at_most(MAX_HELDOUT, _at_least(2)),
        "default": 1000,
        "help": "held-out points to measure the model on",
    },
    "heldout_seed": {"type": _integer, "help": "seed of the held-out points (default: --seed plus 1)"},
    "backend": {
        "choices": ["scalar", "torch"],
        "default": "scalar",
        "help": "scalar: chainrule's own engine; torch: the same run on PyTorch tensors (the torch extra)",
    },
    "device": {"choices": ["cpu", "cuda"], "default": "cpu", "help": "where --backend torch runs"},
}
"""The options of ``train`` that decide its result, keyed as ``metrics.json`` records them."""


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nn", description="Train small neural networks built on chainrule's autograd.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,eval,predict,export}")
    t = commands.add_parser(
        "train",
        help="train a model and write metrics, the model, plots and a graph",
        epilog=TRAIN_EXAMPLES,
        **_described(__doc__ or ""),
    )
    for name, spec in SETTINGS.items():
        t.add_argument(_option(name), **spec)
    t.add_argument("--out", type=Path, help="output folder (default: runs/<dataset>)")
    t.add_argument("--config", type=Path, help="a metrics.json (or JSON settings) to repeat; options given override it")
    t.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines on stderr")
    t.add_argument(
        "--no-compile",
        action="store_true",
        help="run every step on the dynamic engine, building and walking its graph (default: compiled steps, "
        "which give the same numbers many times faster)",
    )

    def on_a_model(name: str, summary: str, epilog: str, description: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=summary, epilog=epilog, **_described(description))
        command.add_argument("--model", type=Path, required=True, help="a model.json written by train")
        return command

    e = on_a_model("eval", "measure a trained model on fresh points", EVAL_EXAMPLES, EVAL_DESCRIPTION)
    e.add_argument("--dataset", **{k: v for k, v in SETTINGS["dataset"].items() if k != "help"}, help="the dataset")
    e.add_argument("--samples", type=_at_least(2), default=1000, help="points to draw")
    e.add_argument(
        "--seed", type=_integer, default=datasets.HELDOUT_SEED, help="seed of the points; not the model's training seed"
    )
    e.add_argument("--noise", **SETTINGS["noise"])
    e.add_argument("--classes", type=_at_least(2), help="classes (default: the model's outputs, or 2 for one output)")
    e.add_argument("--loss", choices=sorted(LOSSES), help="loss (default: hinge, or cross_entropy for several outputs)")

    p = on_a_model("predict", "print a trained model's output for points", PREDICT_EXAMPLES, PREDICT_DESCRIPTION)
    p.add_argument(
        "coordinates", type=_number, nargs="+", help="a point's coordinates; several points one after the other"
    )

    x = on_a_model("export", "write a trained model as ONNX or for PyTorch", EXPORT_EXAMPLES, EXPORT_DESCRIPTION)
    x.add_argument(
        "-o", "--output", type=Path, required=True, help=f"the file to write, ending in {' or '.join(EXPORTS)}"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Returns:
        The exit status: 0 on success, 2 for bad options, and 1 when the run
        fails: training diverges, or an output cannot be written (a folder
        that cannot be made, no program to render the graph, an export whose
        framework is not installed).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train" and args.config is not None:
            args = _with_config(parser, args.config, argv[argv.index("train") + 1 :])
        command = {"train": _train, "eval": _eval, "predict": _predict, "export": _export}[args.command]
        with warnings.catch_warnings():  # a note on one line, not a warning's source line
            warnings.showwarning = _note
            return command(args)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except (_ArgumentError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except (TrainingDivergedError, RendererNotFoundError, RenderError, MissingExtraError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; no output was written", file=sys.stderr)
        return 130


def _engine_text(compiled: int, steps: int) -> str:
    if compiled == steps:
        return "compiled steps"
    return "dynamic engine" if compiled == 0 else f"{compiled} compiled steps, {steps - compiled} on the dynamic engine"


def _note(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"note: {message}", file=sys.stderr)


def _with_config(parser: argparse.ArgumentParser, path: Path, options: list[str]) -> argparse.Namespace:
    """The options of ``train`` read from a config file, then from the command line, which has the last word."""
    config = _config_argv(path)
    try:
        parser.parse_args(["train", *config])
    except _ArgumentError as error:
        raise _ArgumentError(f"--config {path}: {error}") from None
    return parser.parse_args(["train", *config, *options])


def _config_argv(path: Path) -> list[str]:
    """The settings of a metrics.json (or of a JSON object of settings) as command-line options."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise _ArgumentError(f"--config: cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise _ArgumentError(f"--config: {path} is not valid JSON: {error}") from None
    settings = document.get("settings", document) if isinstance(document, dict) else document
    if not isinstance(settings, dict):
        raise _ArgumentError(f"--config: {path} holds no settings: give a metrics.json written by train")
    unknown = [name for name in settings if name not in SETTINGS]
    if unknown:
        raise _ArgumentError(
            f"--config {path}: unknown settings {', '.join(map(repr, unknown))}; known: {', '.join(SETTINGS)}"
        )
    tokens: list[str] = []
    for name, value in settings.items():
        if value is None:
            continue  # the option's default
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            text = ",".join(map(str, value))
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = repr(value) if isinstance(value, float) else str(value)  # repr: the float to the last bit
        else:
            raise _ArgumentError(f"--config {path}: {name} must be a number, a name or a list of sizes, not {value!r}")
        tokens.append(f"{_option(name)}={text}")  # one token: a value such as -1e-3 is not taken for an option
    return tokens


# -- train ------------------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    _resolve(args)
    with claimed(args.out) as staging:  # before training: a folder we cannot write, or one in use, fails at once
        return _train_into(args, staging)


def _train_into(args: argparse.Namespace, staging: Path) -> int:
    labels = LABELS[args.loss]
    data = {"noise": args.noise, "classes": args.classes, "labels": labels}
    X, y = datasets.make(args.dataset, args.samples, seed=args.seed, **data)
    heldout_set = datasets.heldout(
        args.dataset, args.heldout_samples, seed=args.heldout_seed, training_seed=args.seed, **data
    )
    outputs = args.classes if args.loss == "cross_entropy" else 1
    model = MLP(
        2, [*args.hidden, outputs], activation=args.activation, init=args.init, dropout=args.dropout, seed=args.seed
    )
    optimizer = _optimizer(args, model)
    dropout = f"dropout {args.dropout:g}, " if args.dropout else ""
    print(f"model: MLP {'-'.join(map(str, [2, *args.hidden, outputs]))}, {args.activation}, {dropout}", end="")
    print(f"{len(model.parameters())} parameters; {args.loss} loss; {args.optimizer}, lr {_rate_text(args)}")
    recorder = Recorder(model, X, steps=args.steps)
    started = time.perf_counter()
    if args.backend == "torch":
        from nn.torch_train import train_torch

        history = train_torch(
            model, X, y, loss=args.loss, optimizer=optimizer, steps=args.steps, batch_size=args.batch_size,
            alpha=args.alpha, seed=args.seed, device=args.device, callback=recorder,
        )  # fmt: skip
    else:
        history = train(
            model, X, y, loss=args.loss, optimizer=optimizer, steps=args.steps, batch_size=args.batch_size,
            alpha=args.alpha, l1=args.l1, clip=args.clip, clip_value=args.clip_value, seed=args.seed,
            progress=not args.no_progress, callback=recorder,
            validation=heldout_set if args.patience else None, patience=args.patience, compile=not args.no_compile,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    model.eval()  # from here on the trained model is measured and drawn as it predicts: no dropout
    whole = evaluate(model, X, y, loss=args.loss)
    heldout = evaluate(model, *heldout_set, loss=args.loss)
    final = history.final
    engine = "PyTorch" if args.backend == "torch" else _engine_text(history.compiled, len(history.records))
    print(f"{len(history.records)} steps, {_batches_text(args)}, in {seconds:.2f} s ({engine})")
    if history.best_step is not None:
        ended = (
            f"stopped early: no improvement for {args.patience} steps" if history.stopped_early else "ran every step"
        )
        print(f"{ended}; kept the parameters after step {history.best_step + 1}, of the lowest held-out loss")
    print(f"last step's batch: loss {final.loss:.6f} ({_penalties_text(args)}), accuracy {final.accuracy:.1%}")
    print(f"training set, all {whole.size} points: {_scores_text(whole, args.loss)} (the trained model; no penalty)")
    which = "points that chose the step kept" if args.patience else "fresh points"
    print(f"held-out set, {heldout.size} {which} (seed {args.heldout_seed}): {_scores_text(heldout, args.loss)}")
    caption = _write_outputs(args, staging, model, X, y, history, whole, heldout, seconds)
    print(f"graph.svg: {caption}")
    _write_pages(args, staging, model, X, y, history, recorder)
    names = publish(staging, args.out)
    print(f"wrote {', '.join(names)} to {args.out}")
    return 0


# -- the output folder: one run at a time, and a run's outputs together ------------------

LOCK_NAME = ".chainrule.lock"
"""The lock file `train` holds in its output folder while it runs (left there, empty)."""
STAGING_PREFIX = ".chainrule-staging-"
"""Outputs are written into a folder of this name inside the output folder, then moved into place."""


class FolderInUseError(OSError):
    """Another run is writing to the same output folder."""


@contextmanager
def claimed(out: Path) -> Iterator[Path]:
    """The output folder, made and locked for this run, and a staging folder inside it for the outputs.

    The lock (``flock`` on `LOCK_NAME`) refuses a second run into the same
    folder; making the folder and its lock file checks, before any training,
    that it can be written. Staging folders left by a run that was killed are
    removed. On any failure or interruption, the staging folder goes, and a
    folder this run made is removed again: the folder is left as it was.
    """
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = (out / LOCK_NAME).open("a")
    except OSError as error:
        raise OSError(f"cannot write to {out}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderInUseError(
                f"{out} is in use by another run of python -m nn train; wait for it to finish, or give another --out"
            ) from None
        for stale in out.glob(STAGING_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
        published = False
        try:
            yield staging
            published = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if created and not published:
                shutil.rmtree(out, ignore_errors=True)
    finally:
        lock.close()


def publish(staging: Path, out: Path) -> list[str]:
    """Move every staged output into `out`, with Ctrl-C held back until all are moved; returns their names.

    Each move is one rename in the same file system, so the old set of outputs
    is replaced by the new one in a few milliseconds, and an interruption
    cannot fall between two files.
    """
    names = sorted(path.name for path in staging.iterdir())
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        for name in names:
            os.replace(staging / name, out / name)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return names


def _resolve(args: argparse.Namespace) -> None:
    """Fill in the defaults that depend on other options, and refuse options that do not fit together."""
    several = args.dataset not in datasets.TWO_CLASS
    if args.classes is None:
        args.classes = 3 if several else 2
    elif not several and args.classes != 2:
        raise _ArgumentError(f"--classes must be 2 for {args.dataset}, not {args.classes}: it has two classes")
    if args.loss is None:
        args.loss = "cross_entropy" if args.classes > 2 else "hinge"
    elif args.loss != "cross_entropy" and args.classes > 2:
        raise _ArgumentError(f"--loss {args.loss} handles two classes; use --loss cross_entropy for {args.classes}")
    for name in ("samples", "heldout_samples"):
        if getattr(args, name) < args.classes:
            raise _ArgumentError(f"{_option(name)} must be at least --classes ({args.classes})")
    if args.heldout_seed is None:
        args.heldout_seed = args.seed + 1
    elif args.heldout_seed == args.seed:
        raise _ArgumentError(f"--heldout-seed must differ from --seed ({args.seed}): the points would be the same")
    if args.out is None:
        args.out = Path("runs") / args.dataset
    if args.backend == "torch":
        given = [f"--{n}" for n in ("l1", "clip", "clip_value", "patience", "dropout") if getattr(args, n)]
        if args.optimizer in ("adagrad", "rmsprop"):
            given.append(f"--optimizer {args.optimizer}")
        if given:
            raise _ArgumentError(
                f"--backend torch does not take {', '.join(o.replace('_', '-') for o in given)} yet: "
                "it runs plain or momentum SGD and Adam with the L2 penalty, without dropout; "
                "use --backend scalar for these"
            )


ADAPTIVE: dict[str, tuple[type[Optimizer], float]] = {
    "adagrad": (Adagrad, 0.1),
    "rmsprop": (RMSprop, 0.01),
    "adam": (Adam, 0.05),
}
"""The optimizers with a constant learning rate, and that rate when --lr is not given."""


def _optimizer(args: argparse.Namespace, model: MLP) -> Optimizer:
    if args.optimizer in ADAPTIVE:
        kind, rate = ADAPTIVE[args.optimizer]
        return kind(model.parameters(), lr=args.lr or rate)
    lr = args.lr or linear_decay(1.0, 0.1, args.steps)
    return SGD(model.parameters(), lr=lr, momentum=0.9 if args.optimizer == "momentum" else 0.0)


def _rate_text(args: argparse.Namespace) -> str:
    if args.lr is not None:
        return f"{args.lr:g}"
    if args.optimizer in ADAPTIVE:
        return f"{ADAPTIVE[args.optimizer][1]:g}"
    return f"1.0 decaying linearly to 0.1 over {args.steps} steps"


def _penalties_text(args: argparse.Namespace) -> str:
    names = [name for name, weight in (("L2", args.alpha), ("L1", args.l1)) if weight]
    return f"with the {' and '.join(names)} {'penalties' if len(names) > 1 else 'penalty'}" if names else "no penalty"


def _batches_text(args: argparse.Namespace) -> str:
    if args.batch_size is None or args.batch_size >= args.samples:
        return f"each on the whole set of {args.samples} points"
    return f"each on a batch of {args.batch_size} of the {args.samples} points, shuffled each epoch"


def _scores_text(result: Evaluation, loss: str) -> str:
    return f"accuracy {result.accuracy:.1%}, {loss} loss {result.loss:.6f}"


def _write_outputs(
    args: argparse.Namespace,
    out: Path,
    model: MLP,
    X: list[list[float]],
    y: list[float],
    history: History,
    whole: Evaluation,
    heldout: Evaluation,
    seconds: float,
) -> str:
    """Write every output; returns the caption of graph.svg."""
    from autograd import save_graph
    from nn.plot import neuron_graph, plot_decision_boundary, plot_history

    metrics: dict[str, Any] = {
        "accuracy": whole.accuracy,
        "loss": whole.loss,
        "heldout_accuracy": heldout.accuracy,
        "heldout_loss": heldout.loss,
        "last_batch_loss": history.final.loss,
        "last_batch_accuracy": history.final.accuracy,
        "seconds": seconds,
        "architecture": [2, *args.hidden, model.config()["nouts"][-1]],
        "parameters": len(model.parameters()),
        "settings": {name: getattr(args, name) for name in SETTINGS},
        "history": {
            "batch_loss": history.losses,
            "batch_accuracy": history.accuracies,
            "lr": [r.lr for r in history.records],
        },
    }
    if args.patience:
        metrics["history"]["heldout_loss"] = history.validation_losses
        metrics["best_step"] = history.best_step
        metrics["stopped_early"] = history.stopped_early
    write_json_atomically(out / "metrics.json", metrics)
    model.save(out / "model.json")
    title = f"{args.dataset}: per-step batch loss ({_penalties_text(args)}) and accuracy\nsteps {_batches_text(args)}"
    plot_history(history, title=title).savefig(out / "loss.png", dpi=100)
    plot_decision_boundary(model, X, y, title=f"{args.dataset}: decision boundary").savefig(
        out / "boundary.png", dpi=100
    )
    picture = neuron_graph(model, X, y, loss=args.loss)
    save_graph(picture.drawing, out / "graph.svg")
    return picture.caption


def _write_pages(
    args: argparse.Namespace, out: Path, model: MLP, X: list[list[float]], y: list[float], history: History,
    recorder: Recorder,
) -> None:  # fmt: skip
    """explorer.html (the trained network on graph.svg's point) and training.html (the run, replayed)."""
    from nn.plot import neuron_graph

    point = neuron_graph(model, X, y, loss=args.loss).point
    where = ", ".join(f"{v:.4g}" for v in X[point])
    title = f"{args.dataset}: the trained network on training point {point} ({where}), {args.loss} loss"
    network_page(model, X[point], y[point], loss=args.loss, title=title).save(out / "explorer.html")
    page = training_page(
        recorder, history, X, y, title=f"{args.dataset}: {len(history.records)} training steps replayed"
    )
    write_atomically(out / "training.html", page.encode("utf-8"))


# -- eval and predict -------------------------------------------------------------------


def _load(path: Path) -> MLP:
    try:
        return MLP.from_file(path)
    except ModelFileError as error:
        raise _ArgumentError(f"--model: {error}") from None


def _eval(args: argparse.Namespace) -> int:
    model = _load(args.model)
    config = model.config()
    outputs = config["nouts"][-1]
    if config["nin"] != 2:
        raise _ArgumentError(f"--model: the model takes {config['nin']} inputs; the datasets' points have 2")
    loss = args.loss or ("cross_entropy" if outputs > 1 else "hinge")
    if loss == "cross_entropy":
        if outputs < 2:
            raise _ArgumentError("--loss cross_entropy needs a model with one output per class; this one has 1")
        classes = args.classes or outputs
        if classes != outputs:
            raise _ArgumentError(f"--classes must be {outputs}, the model's outputs (one per class), not {classes}")
    else:
        if outputs != 1:
            raise _ArgumentError(f"--loss {loss} needs a model with one output; this one has {outputs}")
        classes = args.classes or 2
        if classes != 2:
            raise _ArgumentError(f"--classes must be 2 for --loss {loss}, not {classes}")
    if args.dataset in datasets.TWO_CLASS and classes != 2:
        raise _ArgumentError(f"--classes must be 2 for {args.dataset}, not {classes}: it has two classes")
    if args.samples < classes:
        raise _ArgumentError(f"--samples must be at least the number of classes ({classes})")
    X, y = datasets.make(
        args.dataset, args.samples, noise=args.noise, seed=args.seed, classes=classes, labels=LABELS[loss]
    )
    result = evaluate(model, X, y, loss=loss)
    print(
        f"{args.dataset}, {result.size} points (seed {args.seed}, noise {args.noise:g}): {_scores_text(result, loss)}"
    )
    return 0


def _predict(args: argparse.Namespace) -> int:
    model = _load(args.model)
    nin = model.config()["nin"]
    numbers: list[float] = args.coordinates
    if len(numbers) % nin:
        several = f" (or a multiple of {nin} for several points)" if nin > 1 else ""
        raise _ArgumentError(f"the model takes {nin} coordinates per point: give {nin}{several}, not {len(numbers)}")
    points = [numbers[k : k + nin] for k in range(0, len(numbers), nin)]
    for point, output in zip(points, predict(model, points)):
        where = ", ".join(f"{c:g}" for c in point)
        if isinstance(output, list):
            scores = ", ".join(f"{o:.6g}" for o in output)
            print(f"{where}: outputs {scores} -> class {output.index(max(output))}")
        else:
            print(f"{where}: output {output:.6g} -> class {'+1' if output > 0 else '-1'}")
    return 0


# -- export -----------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    output: Path = args.output
    write = EXPORTS.get(output.suffix)
    if write is None:
        raise _ArgumentError(f"--output must end in {' or '.join(EXPORTS)}, not {output.name!r}")
    model = _load(args.model)
    try:
        write(model, output)
    except OSError as error:
        file_in_the_way = next((p for p in output.parents if p.exists() and not p.is_dir()), None)
        reason = f"{file_in_the_way} is a file, not a folder" if file_in_the_way else error.strerror or error
        raise OSError(f"cannot write {output}: {reason}") from None
    nin, nouts = model.config()["nin"], model.config()["nouts"]
    sizes = "-".join(map(str, [nin, *nouts]))
    if write is to_onnx:
        shapes = f"input 'input' [N, {nin}], output 'output' [N, {nouts[-1]}]"
        print(f"wrote {output}: ONNX (opset {ONNX_OPSET}) of MLP {sizes}, float64, {shapes}")
    else:
        print(f"wrote {output}: a PyTorch state dict and architecture of MLP {sizes}, float64 (see export --help)")
    return 0
