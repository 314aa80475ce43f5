"""Compiled training steps for `nn.train(compile=True)`: the step traced once, then run as written-out Python.

The step of a model and a loss (plus its penalties) is traced for one
example and written out by `autograd.compile_batch`: forward and backward
for one example, in a loop over the batch. It gives the gradients
``total.backward()`` gives, bit for bit, without building a graph. Steps are
kept by batch size (a last partial batch gets its own) and by the model's
structure: if that changes (an activation replaced, a parameter list
changed), the step is traced again.

What makes a step compilable: an `nn.MLP` without batch normalisation and
without active dropout (both make each step's graph depend on the batch or
on a random mask), a loss from `nn.losses.TERMS`, and rows of numbers. When
that fails, or when a compiled step meets an error or a number that is not
finite, the step runs on the dynamic engine instead, which gives its own
result or its own error, and an `autograd.CompileWarning` says so, once.
"""

from __future__ import annotations

import math
import warnings
import weakref
from array import array
from collections.abc import Sequence
from typing import Any

from autograd import CompileError, CompileWarning, Value, compile_batch
from autograd.compiler import CompiledBatch, CompiledMap, compile_map
from nn import losses
from nn.layers import MLP

__all__ = ["READABLE", "CompiledSteps", "forward", "source"]

READABLE = 5000
"""Models with at most this many parameters get their names (L0_n3_w1) in the written-out step."""


class CompiledSteps:
    """The compiled steps of one training run: ``loss, outputs = steps.run(indices)`` fills the gradients.

    Args:
        model: the model being trained.
        loss: a name of `nn.losses.TERMS`.
        X, y: the training set.
        alpha, l1: the weights of the L2 and L1 penalties (`nn.losses.penalised`).
        penalised: the parameters the penalties are on (the model's by default),
            as the dynamic step has them.
    """

    def __init__(
        self,
        model: Any,
        loss: str,
        X: Sequence[Sequence[float]],
        y: Sequence[float],
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        penalised: Sequence[Value] | None = None,
    ) -> None:
        self.model, self.loss, self.alpha, self.l1 = model, loss, alpha, l1
        self.penalised = penalised
        self.steps: dict[tuple[int, Any], tuple[CompiledBatch, list[Value]]] = {}
        """Each compiled step, by batch size and structure, with the parameters in the order it takes them."""
        self.warned = False
        self.reason = _refusal(model, loss)
        self.rows: list[tuple[float, ...]] = []
        if self.reason is None:
            targets = [int(t) for t in y] if loss == "cross_entropy" else list(y)  # as the dynamic step has them
            losses.check_targets(loss, targets, len(model.layers[-1].neurons))  # the loss's checks, all at once
            try:
                self.rows = [(*map(_number, x), _number(t)) for x, t in zip(X, targets)]
            except TypeError as error:
                self.reason = str(error)

    def run(self, indices: Sequence[int]) -> tuple[float, list[Any]] | None:
        """Run the step on the examples at `indices`: the loss and the outputs; None to run it dynamically.

        On success every parameter's ``.grad`` holds its gradient, as after
        ``zero_grad()`` and ``total.backward()``.
        """
        if self.reason is not None:
            self._fall_back(self.reason)
            return None
        key = (len(indices), _structure(self.model))
        if key not in self.steps:
            try:
                self.steps[key] = self._compile(indices)
            except CompileError as error:
                self.reason = str(error)
                self._fall_back(self.reason)
                return None
        step, parameters = self.steps[key]
        before = array("d", [p.grad for p in parameters])
        if before.tobytes() != bytes(8 * len(before)):  # backward() would add to these: it is the one to run
            self._fall_back("a parameter's gradient is not zero before the step (zero_grad did not reach it)")
            return None
        rows = self.rows
        try:
            loss, outputs, grads = step([p.data for p in parameters], [rows[i] for i in indices])
        except (ArithmeticError, ValueError) as error:
            self._fall_back(f"{type(error).__name__} in the compiled step ({error})")
            return None
        if not (math.isfinite(loss) and all(map(math.isfinite, grads))):
            self._fall_back("a loss or gradient that is not finite")
            return None
        for p, g in zip(parameters, grads):
            p.grad = g
        return loss, outputs

    def _compile(self, indices: Sequence[int]) -> tuple[CompiledBatch, list[Value]]:
        model, term = self.model, losses.TERMS[self.loss]
        own = model.parameters()
        penalised = own if self.penalised is None else list(self.penalised)
        known = {id(p) for p in own}
        parameters = own + [p for p in penalised if id(p) not in known]

        def example(xs: list[Value]) -> tuple[Value, Any]:
            output = model(xs[:-1])
            return term(output, xs[-1]), output

        # readable names where the source is meant to be read; p0, p1, ... compile faster for large models
        names = [_short(name) for name, _ in model.named_parameters()] if len(parameters) <= READABLE else []
        names += [f"penalised{k}" for k in range(len(parameters) - len(own))] if names else []
        step = compile_batch(
            parameters,
            example,
            lambda terms: losses.penalised(losses.mean(terms), penalised, self.alpha, self.l1),
            self.rows[indices[0]],
            len(indices),
            names,
        )
        return step, parameters

    def _fall_back(self, reason: str) -> None:
        if not self.warned:
            self.warned = True
            warnings.warn(f"compiled training: {reason}; running on the dynamic engine", CompileWarning, stacklevel=4)
        return None


def source(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    loss: str = "hinge",
    alpha: float = 1e-4,
    l1: float = 0.0,
    batch_size: int | None = None,
) -> str:
    """The Python that `nn.train(..., compile=True)` runs for one step of `model` on batches of `batch_size`.

    The arguments are `train`'s (the whole set is one batch by default).
    Raises CompileError when the step cannot be compiled, saying why.

    Example:
        >>> from nn import MLP, datasets
        >>> X, y = datasets.xor(4, seed=0)
        >>> print(source(MLP(2, [1], seed=0), X, y, alpha=0.0).splitlines()[0])
        def step(parameters, rows):
    """
    if not X or len(X) != len(y):
        raise ValueError(f"source needs as many labels as points, and some: {len(X)} points, {len(y)} labels")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, not {batch_size!r}")
    steps = CompiledSteps(model, loss, X, y, alpha=alpha, l1=l1)
    if steps.reason is not None:
        raise CompileError(f"this step cannot be compiled: {steps.reason}")
    size = len(X) if batch_size is None else min(batch_size, len(X))  # as `nn.train.batches` takes them
    return steps._compile(list(range(size)))[0].source


_FORWARDS: weakref.WeakKeyDictionary[Any, tuple[Any, CompiledMap]] = weakref.WeakKeyDictionary()
"""Each model's compiled forward pass, with the structure it was traced for."""


def forward(model: Any, X: Sequence[Sequence[float]]) -> list[Any] | None:
    """The model's outputs on the points `X` as floats, by its compiled forward pass; None if it has none.

    The same numbers as calling the model on each point (the same operations
    in the same order); `nn.predict` uses it. None for a model that is not
    an `nn.MLP`, one with batch normalisation or dropout in training mode,
    points that are not rows of numbers, or an error (the dynamic engine then
    gives its own). The compiled pass is kept with the model and traced
    again when its structure changes.
    """
    if not X or not isinstance(model, MLP) or model.norms or (model.dropouts and model.training):
        return None
    try:
        rows = [tuple(map(_number, x)) for x in X]
    except TypeError:
        return None
    parameters = model.parameters()
    key = _structure(model)
    kept = _FORWARDS.get(model)
    if kept is None or kept[0] != key:
        names = [_short(name) for name, _ in model.named_parameters()] if len(parameters) <= READABLE else []
        try:
            kept = _FORWARDS[model] = (key, compile_map(parameters, model, rows[0], names))
        except (CompileError, ArithmeticError, ValueError, TypeError):
            return None
    try:
        return kept[1]([p.data for p in parameters], rows)
    except (ArithmeticError, ValueError):
        return None


def _refusal(model: Any, loss: str) -> str | None:
    """Why the model's step cannot be compiled, or None."""
    if not isinstance(model, MLP):
        return f"a {type(model).__name__} is not an nn.MLP"
    if model.norms:
        return "batch normalisation couples the examples of a batch"
    if model.dropouts and model.training and model.dropouts[0].p > 0.0:
        return "dropout draws a new mask every step"
    if loss not in losses.TERMS:
        return f"the loss {loss!r} has no per-example term"
    return None


def _structure(model: MLP) -> tuple[Any, ...]:
    """What a step's graph depends on besides numbers: each neuron's function, form and parameter objects.

    Cheap enough to check every step (a change retraces); it does not look
    inside a neuron's weight list, so replacing one weight Value of a list
    in place goes unnoticed: replace the list.
    """
    return model.training, *(
        (n._act, n.fused, id(n.w), len(n.w), id(n.b)) for layer in model.layers for n in layer.neurons
    )


def _short(name: str) -> str:
    """A parameter's name as the written-out step spells it: layers.0.neurons.3.w.1 as L0_n3_w1."""
    return name.replace("layers.", "L").replace("neurons.", "n").replace("w.", "w").replace(".", "_")


def _number(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"a training value is a {type(x).__name__}, not a number")
    return float(x)
