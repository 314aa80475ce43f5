"""`BatchNorm`: each unit normalised over a batch of examples, then scaled and shifted by learned parameters.

A model here maps one example at a time, but batch normalisation needs the
whole batch: the mean and variance of a unit are taken over the examples. So
the layer is called on the batch, a list of examples that are each a list of
`n` Values, and returns the normalised batch in the same shape. In an MLP
(``MLP(..., batchnorm=True)``), `MLP.forward_batch` passes the batch through
layer by layer, and `nn.train` calls it for models with batch normalisation.

The rules are PyTorch's ``BatchNorm1d``: in training mode, a unit's values
``x`` over the batch become ``gamma * (x - mean) / sqrt(var + eps) + beta``
with the batch's mean and its biased variance (divided by N); the running
statistics follow ``running = (1 - momentum) * running + momentum * batch``,
with the unbiased variance (divided by N - 1) for ``running_var``. In
evaluation mode the running statistics replace the batch's, so one example
at a time works again. The graph is built from the engine's primitives (sum,
subtraction, product, power), so the gradients are backpropagation's own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import autograd
from autograd import Value
from nn.module import Module

__all__ = ["BatchNorm"]


def _check_number(name: str, value: Any, low: float, high: float, low_open: bool) -> float:
    in_range = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    in_range = in_range and (low < value if low_open else low <= value) and value <= high
    if not in_range:
        bounds = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"BatchNorm {name} must be a number in {bounds}, not {value!r}")
    return float(value)


class BatchNorm(Module):
    """Batch normalisation of `n` units, with learned scale `gamma` (from 1) and shift `beta` (from 0).

    Call it on a batch: a list of examples, each a list of `n` Values (or
    numbers); it returns the normalised batch, a list of lists of Values.
    In training mode the batch needs at least 2 examples (the variance of
    one is 0); in evaluation mode (`eval`) any number works, each example
    normalised by the running statistics alone.

    Args:
        n: the number of units (each example's length).
        eps: added to the variance before its square root, > 0.
        momentum: the weight of each batch in the running statistics, in [0, 1].

    Raises:
        ValueError: a bad `n`, `eps` or `momentum`; when called, a batch of
            the wrong shape, or of one example in training mode.

    Example:
        >>> bn = BatchNorm(1)
        >>> [row[0].data for row in bn([[Value(1.0)], [Value(3.0)]])]  # mean 2, variance 1 (+ eps)
        [-0.999995000037..., 0.999995000037...]
        >>> [v.data for v in bn.running_mean], [v.data for v in bn.running_var]  # unbiased variance: 2
        ([0.2], [1.1])
    """

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"BatchNorm n must be a positive int, not {n!r}")
        self.eps = _check_number("eps", eps, 0.0, math.inf, low_open=True)
        self.momentum = _check_number("momentum", momentum, 0.0, 1.0, low_open=False)
        self.gamma = [Value(1.0) for _ in range(n)]
        self.beta = [Value(0.0) for _ in range(n)]
        # Statistics, not parameters: Values only so that saving and loading treat them as the parameters are.
        self.running_mean = [Value(0.0) for _ in range(n)]
        self.running_var = [Value(1.0) for _ in range(n)]

    def __call__(self, batch: Sequence[Sequence[Value | float]]) -> list[list[Value]]:
        n = len(self.gamma)
        if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence):
            raise ValueError(f"BatchNorm takes a batch: a list of examples, each a list of {n} Values")
        for k, example in enumerate(batch):
            if isinstance(example, (str, bytes, Value)) or not isinstance(example, Sequence) or len(example) != n:
                raise ValueError(f"BatchNorm({n}): example {k} of the batch is not a list of {n} values: {example!r}")
        if not self.training:
            return [[self._by_running_statistics(j, x) for j, x in enumerate(example)] for example in batch]
        if len(batch) < 2:
            raise ValueError(
                f"BatchNorm in training mode needs a batch of at least 2 examples, got {len(batch)}: "
                "the variance of one example is 0 (call eval() to use the running statistics)"
            )
        columns = [self._normalise(j, [example[j] for example in batch]) for j in range(n)]
        return [list(row) for row in zip(*columns)]

    def _normalise(self, j: int, xs: list[Value | float]) -> list[Value]:
        """Unit `j` over the batch, by the batch's statistics; the running statistics take a step."""
        size = len(xs)
        mean = autograd.sum(xs) / size
        centred = [x - mean for x in xs]
        variance = autograd.sum([c * c for c in centred]) / size  # biased, as PyTorch normalises
        scale = (variance + self.eps) ** -0.5
        m = self.momentum
        self.running_mean[j].data = (1 - m) * self.running_mean[j].data + m * mean.data
        unbiased = variance.data * size / (size - 1)
        self.running_var[j].data = (1 - m) * self.running_var[j].data + m * unbiased
        return [c * scale * self.gamma[j] + self.beta[j] for c in centred]

    def _by_running_statistics(self, j: int, x: Value | float) -> Value:
        scale = 1.0 / math.sqrt(self.running_var[j].data + self.eps)
        return (x - self.running_mean[j].data) * scale * self.gamma[j] + self.beta[j]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for j, g in enumerate(self.gamma):
            yield f"gamma.{j}", g
        for j, b in enumerate(self.beta):
            yield f"beta.{j}", b

    def named_buffers(self) -> Iterator[tuple[str, Value]]:
        for j, v in enumerate(self.running_mean):
            yield f"running_mean.{j}", v
        for j, v in enumerate(self.running_var):
            yield f"running_var.{j}", v

    def config(self) -> dict[str, Any]:
        return {"n": len(self.gamma), "eps": self.eps, "momentum": self.momentum}

    def __repr__(self) -> str:
        return f"BatchNorm({len(self.gamma)}, eps={self.eps:g}, momentum={self.momentum:g})"
