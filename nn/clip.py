"""Gradient clipping: shrink the gradients before an update, so that one bad step cannot throw the weights far.

`clip_grad_norm` scales every gradient by one factor when their joint norm is
larger than `max_norm` (the direction is kept); `clip_grad_value` cuts each
gradient to [-clip_value, clip_value] on its own. They are PyTorch's
``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``, on the ``.grad``
of Values: the same arguments, the same eps in the scale factor, the same
results (tests/test_torch_nn.py). Call them after ``backward()`` and before the
optimizer's ``step()``; `nn.train` does, given ``clip=`` or ``clip_value=``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd import Value

__all__ = ["clip_grad_norm", "clip_grad_value"]

EPS = 1e-6
"""Added to the norm in the scale factor ``max_norm / (norm + EPS)``, as in torch: no division by zero."""


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
    return float(value)


def _values(parameters: Sequence[Value]) -> list[Value]:
    values = list(parameters)
    for p in values:
        if not isinstance(p, Value):
            raise TypeError(f"parameters must be Values, not {type(p).__name__}")
    return values


def _power(x: float, p: float) -> float:
    try:
        return math.pow(x, p)
    except OverflowError:  # a float power past the largest float: torch gives inf
        return math.inf


def clip_grad_norm(parameters: Sequence[Value], max_norm: float, norm_type: float = 2.0) -> float:
    """Scale the gradients so that their joint norm is at most about `max_norm`; returns the norm before.

    The total norm is ``(sum |g|^p)^(1/p)`` over every gradient, with p =
    `norm_type` (``math.inf``: the largest ``|g|``). When it exceeds
    `max_norm`, every gradient is multiplied by ``max_norm / (norm + 1e-6)``.
    As in torch, a norm that is inf or nan is returned, and makes the
    gradients nan: `nn.train` then stops with TrainingDivergedError.

    Args:
        parameters: the Values whose ``.grad`` to clip.
        max_norm: the largest norm allowed, a number > 0.
        norm_type: p > 0, or ``math.inf`` (also given as "inf"). torch's other
            choices, 0 (a count) and -inf (the smallest), are not norms and refused.

    Example:
        >>> a, b = Value(0.0), Value(0.0)
        >>> a.grad, b.grad = 3.0, 4.0
        >>> clip_grad_norm([a, b], max_norm=1.0)
        5.0
        >>> round(a.grad, 6), round(b.grad, 6)
        (0.6, 0.8)
    """
    values = _values(parameters)
    max_norm = _positive("max_norm", max_norm)
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        p = math.nan
    if isinstance(norm_type, bool) or not p > 0:
        raise ValueError(f"norm_type must be a number > 0 or inf, not {norm_type!r}")
    if not values:
        return 0.0
    if p == math.inf:
        total = max(abs(v.grad) for v in values)
        if any(math.isnan(v.grad) for v in values):
            total = math.nan  # max() would skip a nan after the first element
    elif p == 2.0:
        total = math.sqrt(sum(v.grad * v.grad for v in values))  # sum, not fsum: an overflow is inf, as in torch
    else:
        total = _power(sum(_power(abs(v.grad), p) for v in values), 1.0 / p)
    coefficient = max_norm / (total + EPS)
    if coefficient < 1.0 or math.isnan(coefficient):  # torch clamps it to at most 1; a factor of 1 changes nothing
        for v in values:
            v.grad *= coefficient
    return total


def clip_grad_value(parameters: Sequence[Value], clip_value: float) -> None:
    """Cut each gradient to [-clip_value, clip_value] (a nan stays nan, as in torch).

    Example:
        >>> a, b = Value(0.0), Value(0.0)
        >>> a.grad, b.grad = 3.0, -0.2
        >>> clip_grad_value([a, b], 0.5)
        >>> a.grad, b.grad
        (0.5, -0.2)
    """
    values = _values(parameters)
    clip_value = _positive("clip_value", clip_value)
    for v in values:
        if v.grad > clip_value:
            v.grad = clip_value
        elif v.grad < -clip_value:
            v.grad = -clip_value
