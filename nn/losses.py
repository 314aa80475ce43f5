"""Loss functions: how far a model's outputs are from the targets, as one Value.

Every loss averages over the examples it is given. The two cross-entropies are
numerically stable for any logit: the binary one uses softplus, a primitive
whose derivative is exactly the sigmoid, and the multi-class one subtracts the
largest logit before exponentiating (log-sum-exp).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import autograd
from autograd import Primitive, Value

__all__ = [
    "binary_cross_entropy_with_logits",
    "hinge",
    "l1_penalty",
    "l2_penalty",
    "mean_squared_error",
    "softmax_cross_entropy",
    "softplus",
]


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow: for large x it is x + log(1 + e^-x)
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


softplus = Primitive("softplus", _softplus, lambda x, out: (autograd.sigmoid(x),))
"""log(1 + e^x), stable for any x; its derivative is the logistic sigmoid."""


def _check_pairs(name: str, outputs: Sequence[object], targets: Sequence[object]) -> int:
    if len(outputs) != len(targets):
        raise ValueError(f"{name}: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError(f"{name}: no examples")
    return len(outputs)


def _mean(terms: Sequence[Value | float]) -> Value:
    # multiply by the reciprocal, as micrograd's demo does, so results match it to the last bit
    return autograd.sum(terms) * (1.0 / len(terms))


def mean_squared_error(outputs: Sequence[Value | float], targets: Sequence[float]) -> Value:
    """mean((output - target)^2).

    Example:
        >>> mean_squared_error([Value(1.0), Value(3.0)], [0.0, 1.0]).data
        2.5
    """
    _check_pairs("mean_squared_error", outputs, targets)
    return _mean([(o - t) ** 2 for o, t in zip(outputs, targets)])


def hinge(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """The max-margin loss of micrograd's demo: mean(relu(1 - label * score)), labels -1 or +1.

    Example:
        >>> hinge([Value(2.0), Value(0.5)], [1, 1]).data
        0.25
    """
    _check_pairs("hinge", scores, labels)
    for y in labels:
        if y not in (-1, 1):
            raise ValueError(f"hinge needs labels -1 and +1, got {y!r}")
    return _mean([(1 + -y * s).relu() for y, s in zip(labels, scores)])


def binary_cross_entropy_with_logits(logits: Sequence[Value], labels: Sequence[float]) -> Value:
    """mean(-y log sigmoid(z) - (1 - y) log(1 - sigmoid(z))) for labels 0 or 1 (or -1 for 0).

    Computed as softplus(z) - y z, which never overflows and whose gradient is
    exactly sigmoid(z) - y.

    Example:
        >>> round(binary_cross_entropy_with_logits([Value(0.0)], [1]).data, 6)
        0.693147
    """
    _check_pairs("binary_cross_entropy_with_logits", logits, labels)
    terms = []
    for z, y in zip(logits, labels):
        if y not in (-1, 0, 1):
            raise ValueError(f"binary_cross_entropy_with_logits needs labels 0 and 1 (or -1 and 1), got {y!r}")
        terms.append(softplus(z) - z * (1.0 if y == 1 else 0.0))
    return _mean(terms)


def softmax_cross_entropy(logits: Sequence[Sequence[Value]], targets: Sequence[int]) -> Value:
    """mean(-log softmax(logits)[target]) over examples, with log-sum-exp for stability.

    Example:
        >>> loss = softmax_cross_entropy([[Value(1000.0), Value(0.0)]], [1])
        >>> loss.data
        1000.0
    """
    _check_pairs("softmax_cross_entropy", logits, targets)
    terms = []
    for row, target in zip(logits, targets):
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(row):
            raise ValueError(f"softmax_cross_entropy: target {target!r} is not a class index below {len(row)}")
        # NOTE: the shift m is a constant: softmax does not change when every logit moves by m.
        m = max(z.data for z in row)
        log_sum_exp = autograd.sum([(z - m).exp() for z in row]).log() + m
        terms.append(log_sum_exp - row[target])
    return _mean(terms)


def l1_penalty(parameters: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(|p|) as one fused sum: the lasso's penalty, which pushes small weights to exactly 0.

    Its gradient is alpha * sign(p), with 0 at p = 0 (abs'(0) = 0, a subgradient, as in PyTorch).

    Example:
        >>> w = [Value(-2.0), Value(0.0), Value(0.5)]
        >>> penalty = l1_penalty(w, 0.1)
        >>> penalty.backward()
        >>> penalty.data, [p.grad for p in w]
        (0.25, [-0.1, 0.0, 0.1])
    """
    if not parameters:
        raise ValueError("l1_penalty: no parameters")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"l1_penalty: alpha must be a finite number >= 0, not {alpha!r}")
    return alpha * autograd.sum([abs(p) for p in parameters])


def l2_penalty(parameters: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p^2) as one fused node, the same arithmetic as micrograd's ``alpha * sum(p*p ...)``."""
    if not parameters:
        raise ValueError("l2_penalty: no parameters")
    return alpha * autograd.dot(parameters, parameters)
