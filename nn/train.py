"""Training: forward pass, loss, backward pass, gradient descent; over the whole set or in batches.

`train` runs the loop and returns a `History` of the loss and accuracy at
every step. The batch size chooses the flavour of gradient descent: the whole
set (batch, the default), a shuffled mini-batch each step (reshuffled every
epoch from the seed), or one example at a time (stochastic, batch size 1).
Given held-out data, it also measures the loss there after every step, and
with a patience it stops early when that loss stops improving, keeping the
best parameters.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import Value, no_grad
from autograd.collector import collector_paused
from nn import losses
from nn.clip import clip_grad_norm, clip_grad_value
from nn.compiled import CompiledSteps, forward
from nn.layers import MLP
from nn.module import Module, evaluating
from nn.optim import SGD, Optimizer

__all__ = [
    "LABELS",
    "LOSSES",
    "Evaluation",
    "History",
    "Record",
    "TrainingDivergedError",
    "accuracy",
    "batches",
    "evaluate",
    "predict",
    "train",
]

LOSSES: dict[str, Callable[[Sequence[Any], Sequence[Any]], Value]] = {
    "hinge": losses.hinge,
    "mse": losses.mean_squared_error,
    "bce": losses.binary_cross_entropy_with_logits,
    "cross_entropy": losses.softmax_cross_entropy,
}
"""Loss names for `train` and the command line."""

LABELS: dict[str, str] = {"hinge": "pm1", "mse": "pm1", "bce": "01", "cross_entropy": "index"}
"""The labels each loss expects, as `nn.datasets.make` names them: -1/+1, 0/1 or class indices."""


@dataclass(frozen=True)
class Record:
    """One training step: its number, the batch's loss and accuracy, and the learning rate used.

    With validation data, also the mean loss there after the step's update
    (without penalties); None otherwise.
    """

    step: int
    loss: float
    accuracy: float
    lr: float
    validation_loss: float | None = None


@dataclass
class History:
    """The records of a training run, one per step; with early stopping, where it stopped and what it kept."""

    records: list[Record] = field(default_factory=list)
    best_step: int | None = None
    """With a patience: the step after which the validation loss was lowest, whose parameters were kept."""
    stopped_early: bool = False
    """True when the patience ran out before the last step."""
    compiled: int = 0
    """How many steps ran compiled (``train(compile=True)``); the others ran on the dynamic engine."""

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.records]

    @property
    def validation_losses(self) -> list[float]:
        """The validation loss after each step (empty when training had no validation data)."""
        return [r.validation_loss for r in self.records if r.validation_loss is not None]

    @property
    def accuracies(self) -> list[float]:
        return [r.accuracy for r in self.records]

    @property
    def final(self) -> Record:
        if not self.records:
            raise ValueError("the history is empty: no step was run")
        return self.records[-1]


@dataclass(frozen=True)
class Evaluation:
    """A model measured on a whole set: the fraction classified correctly and the mean loss (no penalty)."""

    accuracy: float
    loss: float
    size: int


DIVERGENCE_FACTOR = 1e6
"""Training has diverged when a step's loss exceeds this factor times the first step's (or times 1, if larger)."""


def check_loss(step: int, loss: float, ceiling: float, history: History) -> float:
    """The divergence ceiling after `step`'s loss, or TrainingDivergedError when the loss has diverged.

    Diverged: the loss is not finite, or exceeds `DIVERGENCE_FACTOR` times the
    first step's loss (or times 1, if larger). Step 0 sets the ceiling; both
    backends (`train`, `nn.torch_train.train_torch`) check every step with it.
    """
    if not math.isfinite(loss):
        raise TrainingDivergedError(step, f"the loss is {loss}", history)
    if step == 0:
        return DIVERGENCE_FACTOR * max(loss, 1.0)
    if loss > ceiling:
        raise TrainingDivergedError(
            step, f"the loss grew to {loss:.3g}, over {DIVERGENCE_FACTOR:g} times its start", history
        )
    return ceiling


class TrainingDivergedError(ArithmeticError):
    """The loss stopped being a finite number, or exploded: the learning rate is usually too large.

    Attributes:
        step: the step at which it happened.
        history: the records of the steps before it.
    """

    def __init__(self, step: int, reason: str, history: History) -> None:
        super().__init__(f"training diverged at step {step}: {reason}; try a smaller learning rate")
        self.step = step
        self.history = history


def batches(n: int, batch_size: int | None, rng: random.Random) -> Any:
    """Endless batches of example indices: all of them, or shuffled batches that cover each epoch."""
    if batch_size is None or batch_size >= n:
        while True:
            yield list(range(n))
    while True:
        order = list(range(n))
        rng.shuffle(order)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def _threshold(loss: str, labels: Sequence[float]) -> float:
    """The score that separates the classes: 0, or 0.5 for squared error on 0/1 labels."""
    return 0.5 if loss == "mse" and min(labels) >= 0 else 0.0


def _correct(output: Any, target: float, loss: str, threshold: float) -> bool:
    if loss == "cross_entropy":
        scores = [o.data if isinstance(o, Value) else o for o in output]
        return scores.index(max(scores)) == int(target)
    score = output.data if isinstance(output, Value) else output
    return (score > threshold) == (target == 1)


def _check_data(X: Sequence[Sequence[float]], y: Sequence[float], loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if len(X) != len(y):
        raise ValueError(f"{len(X)} examples but {len(y)} labels")
    if not X:
        raise ValueError("no examples to train on")


def train(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    alpha: float = 1e-4,
    l1: float = 0.0,
    clip: float | None = None,
    clip_value: float | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence[float]] | None = None,
    patience: int | None = None,
    seed: int | None = None,
    progress: bool = True,
    callback: Callable[[int, list[Value]], None] | None = None,
    compile: bool = False,
) -> History:
    """Train `model` on `(X, y)` for `steps` steps and return the history.

    Args:
        model: a model mapping a point to one score (binary losses) or one
            logit per class ("cross_entropy").
        X, y: points and labels (-1/+1 or 0/1 for two classes, indices for more).
        loss: "hinge", "mse", "bce" (logits, two classes) or "cross_entropy".
        optimizer: by default SGD with micrograd's schedule (1.0 decaying to 0.1).
        steps: how many updates.
        batch_size: None for the whole set, k for shuffled mini-batches, 1 for stochastic.
        alpha: the weight of the L2 penalty on the parameters (0 for none).
        l1: the weight of the L1 penalty, l1 * sum(|p|) (0, the default, for none).
        clip: clip the gradients' joint 2-norm to this (`nn.clip_grad_norm`) after
            backward and before the update; None for no clipping.
        clip_value: cut each gradient to [-clip_value, clip_value]
            (`nn.clip_grad_value`), after `clip` if both are given.
        validation: held-out points and labels ``(X_val, y_val)``: after each
            step the mean loss there (no penalty, no graph) goes into the
            history's `validation_losses`.
        patience: with `validation`, stop when the validation loss has not
            improved for this many steps, and restore the parameters of the
            step where it was lowest (``history.best_step``); they are
            restored at the end of a run that was not stopped too. None (the
            default) never stops early.
        seed: for the shuffling of mini-batches.
        progress: show progress on stderr: a bar (tqdm) on a terminal, else
            about ten plain lines.
        callback: called at each step after backward (and clipping) and
            before the update, with the step and the parameters (their
            ``.data`` and ``.grad`` are that step's): to record a run, as
            `nn.replay.Recorder` does.
        compile: run each step as compiled Python (`nn.compiled`): traced
            once per batch size, then forward and backward without building
            a graph, many times faster, with the same numbers to the last bit.
            A step that cannot be compiled runs on the dynamic engine, and an
            `autograd.CompileWarning` says so once.

    The model is put in training mode (`Module.train`) and left in it;
    the validation loss is measured in evaluation mode (no dropout, running
    statistics for batch normalisation). Call ``model.eval()`` before using
    the trained model. A model with batch normalisation (`MLP.norms`) is run
    on each batch at once, by `MLP.forward_batch`, and needs batches of at
    least 2 examples; early stopping keeps its running statistics with the
    parameters.

    Raises:
        TrainingDivergedError: the loss became infinite or nan, grew past
            `DIVERGENCE_FACTOR` times the first step's loss (or times 1, if
            larger), a number overflowed, or (with `clip`) the gradients' norm
            was not finite; the exception carries the history
            up to that step.

    Example:
        >>> from nn import MLP, datasets
        >>> X, y = datasets.xor(40, seed=0)
        >>> history = train(MLP(2, [8, 1], seed=0), X, y, steps=5, progress=False)
        >>> len(history.records)
        5
    """
    _check_data(X, y, loss)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, not {steps!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, not {batch_size!r}")
    if isinstance(l1, bool) or not isinstance(l1, (int, float)) or not (math.isfinite(l1) and l1 >= 0):
        raise ValueError(f"l1 must be a finite number >= 0, not {l1!r}")
    if validation is not None:
        if not isinstance(validation, tuple) or len(validation) != 2:
            raise ValueError("validation must be a pair (X_val, y_val)")
        _check_data(*validation, loss)
    if patience is not None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive int or None, not {patience!r}")
        if validation is None:
            raise ValueError("patience needs validation data: give validation=(X_val, y_val)")
    for name, limit in (("clip", clip), ("clip_value", clip_value)):
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, (int, float)) or not (math.isfinite(limit) and limit > 0)
        ):
            raise ValueError(f"{name} must be a finite number > 0 or None, not {limit!r}")
    from nn.optim import linear_decay

    optimizer = optimizer or SGD(model.parameters(), lr=linear_decay(1.0, 0.1, steps))
    loss_fn = LOSSES[loss]
    parameters = model.parameters()
    buffers = [b for _, b in model.named_buffers()] if isinstance(model, Module) else []
    threshold = _threshold(loss, y)
    history = History()
    if isinstance(model, Module):
        model.train()  # dropout on; measuring the held-out loss switches it off for a moment
    feed = batches(len(X), batch_size, random.Random(seed))
    compiled = CompiledSteps(model, loss, X, y, alpha=alpha, l1=l1, penalised=parameters) if compile else None
    report = _progress(steps) if progress else None
    best, best_step, kept = math.inf, -1, []  # early stopping: the lowest validation loss, its step and parameters
    ceiling = math.inf  # the divergence ceiling, set by the first step's loss (see check_loss)
    try:
        for step in range(steps):
            with collector_paused():  # our graphs hold no cycles: the collector has nothing to find
                indices = next(feed)
                targets = [y[i] for i in indices]
                if loss == "cross_entropy":
                    targets = [int(t) for t in targets]
                lr = optimizer.lr
                optimizer.zero_grad()
                done = None if compiled is None else compiled.run(indices)  # fills the gradients
                if done is not None:
                    history.compiled += 1
                    loss_value, outputs = done
                    ceiling = check_loss(step, loss_value, ceiling, history)
                else:
                    if isinstance(model, MLP) and model.norms:  # batch normalisation sees the whole batch at once
                        outputs = model.forward_batch([X[i] for i in indices])
                    else:
                        outputs = [model(X[i]) for i in indices]
                    try:
                        total = losses.penalised(loss_fn(outputs, targets), parameters, alpha, l1)
                        loss_value = total.data
                        ceiling = check_loss(step, loss_value, ceiling, history)
                        total.backward()
                    except OverflowError as error:
                        raise TrainingDivergedError(step, str(error), history) from error
                    del total
                if clip is not None:
                    norm = clip_grad_norm(parameters, clip)
                    if not math.isfinite(norm):
                        raise TrainingDivergedError(step, f"the gradients' norm is {norm}", history)
                if clip_value is not None:
                    clip_grad_value(parameters, clip_value)
                if callback is not None:
                    callback(step, parameters)
                optimizer.step()
                correct = sum(_correct(o, t, loss, threshold) for o, t in zip(outputs, targets))
                measured = None if validation is None else _mean_loss(model, *validation, loss)
                record = Record(step, loss_value, correct / len(indices), lr, measured)
                del outputs  # the step's graph is freed here, before the collector runs again
                history.records.append(record)
                if report is not None:
                    report(record)
                if patience is not None and measured is not None:
                    if measured < best:  # a nan is never an improvement
                        best, best_step, kept = measured, step, [p.data for p in parameters + buffers]
                    elif step - best_step >= patience:
                        history.stopped_early = step + 1 < steps
                        break
    finally:
        if report is not None:
            report(None)
    if kept:  # the best parameters, when the validation loss was ever finite
        history.best_step = best_step
        for p, data in zip(parameters + buffers, kept):
            p.data = data
    return history


def _mean_loss(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], loss: str) -> float:
    """The loss function's mean over a whole set (no penalty), in evaluation mode, recording no graph."""
    targets: list[Any] = [int(t) for t in y] if loss == "cross_entropy" else list(y)
    with no_grad(), evaluating(model):
        return LOSSES[loss]([model(x) for x in X], targets).data


def _progress(steps: int) -> Callable[[Record | None], None]:
    """Report each record (None: the run ended): a tqdm bar on a terminal, else about ten plain lines."""
    stream = sys.stderr
    if stream.isatty():
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="training", leave=False, file=stream)

        def update_bar(record: Record | None) -> None:
            if record is None:
                bar.close()
                return
            bar.set_postfix(batch_loss=f"{record.loss:.4f}", batch_accuracy=f"{record.accuracy:.0%}", refresh=False)
            bar.update()

        return update_bar
    every = max(1, math.ceil(steps / 10))

    def write_line(record: Record | None) -> None:
        if record is not None and ((record.step + 1) % every == 0 or record.step + 1 == steps):
            print(
                f"training: step {record.step + 1}/{steps}: "
                f"batch loss {record.loss:.6f}, batch accuracy {record.accuracy:.1%}",
                file=stream,
                flush=True,
            )

    return write_line


def predict(model: MLP, X: Sequence[Sequence[float]]) -> list[Any]:
    """The model's outputs as floats (lists of floats for several outputs), in evaluation mode, recording no graph.

    An `nn.MLP`'s forward pass runs compiled (`nn.compiled.forward`): the same numbers, several times faster.
    """
    with no_grad(), evaluating(model):
        compiled = forward(model, X)
        if compiled is not None:
            return compiled
        outputs = [model(x) for x in X]
    return [[o.data for o in out] if isinstance(out, list) else out.data for out in outputs]


def evaluate(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], loss: str = "hinge") -> Evaluation:
    """The accuracy and the mean `loss` of `model` on the whole set `(X, y)`, in evaluation mode, recording no graph.

    The loss is the loss function's alone, without the penalties training
    adds, so that it compares across sets and runs.

    Example:
        >>> from nn import MLP, datasets
        >>> X, y = datasets.moons(20, seed=0)
        >>> evaluate(MLP(2, [4, 1], seed=0), X, y).size
        20
    """
    _check_data(X, y, loss)
    targets: list[Any] = [int(t) for t in y] if loss == "cross_entropy" else list(y)
    with no_grad(), evaluating(model):
        outputs = [model(x) for x in X]
        mean = LOSSES[loss](outputs, targets).data
    threshold = _threshold(loss, y)
    correct = sum(_correct(o, t, loss, threshold) for o, t in zip(outputs, targets))
    return Evaluation(correct / len(X), mean, len(X))


def accuracy(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], loss: str = "hinge") -> float:
    """The fraction of examples the model classifies correctly (threshold or argmax, as `loss` implies)."""
    _check_data(X, y, loss)
    outputs = predict(model, X)
    threshold = _threshold(loss, y)
    return sum(_correct(o, t, loss, threshold) for o, t in zip(outputs, y)) / len(X)
