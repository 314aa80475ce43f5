"""Loss functions: how far a model's outputs are from the targets, as one Value.

Every loss is the mean of one term per example (`TERMS`, `mean`). The two
cross-entropies are numerically stable for any logit: the binary one uses
softplus, a primitive whose derivative is exactly the sigmoid, and the
multi-class one is one primitive, `cross_entropy`, which subtracts the largest
logit before exponentiating (log-sum-exp) and whose gradient is the textbook
softmax minus one-hot.

A term takes its target as a number or as a Value, and chooses nothing from
``.data``: every choice a target or a value makes is an operation. That is what
lets a compiled training step (`nn.train(compile=True)`) take the targets as
inputs instead of freezing the first batch's into its code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Primitive, Value, data_of

__all__ = [
    "TERMS",
    "binary_cross_entropy_with_logits",
    "check_targets",
    "cross_entropy",
    "hinge",
    "l1_penalty",
    "l2_penalty",
    "mean",
    "mean_squared_error",
    "penalised",
    "softmax_cross_entropy",
    "softplus",
]


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow: for large x it is x + log(1 + e^-x)
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


softplus = Primitive(
    "softplus",
    _softplus,
    lambda x, out: (autograd.sigmoid(x),),
    js=(
        "(x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)))",
        "(x, out) => [x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))]",
    ),
)
"""log(1 + e^x), stable for any x; its derivative is the logistic sigmoid."""


def _check_pairs(name: str, outputs: Sequence[object], targets: Sequence[object]) -> int:
    if len(outputs) != len(targets):
        raise ValueError(f"{name}: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError(f"{name}: no examples")
    return len(outputs)


def _cross_entropy(*operands: float) -> float:
    *logits, target = operands
    m = max(logits)  # NOTE: the shift that keeps exp from overflowing; the loss does not depend on it
    total = 0.0
    for z in logits:
        total += math.exp(z - m)
    return (math.log(total) + m) - logits[_class_index(target, len(logits))]


def _cross_entropy_derivatives(*args: Any) -> tuple[Any, ...]:
    # d/dz_j = softmax(z)_j - [j is the target]; the target, a class index, has no derivative
    *logits, target, _ = args
    t, m = _class_index(data_of(target), len(logits)), max(data_of(z) for z in logits)
    exps = [autograd.exp(z - m) for z in logits]
    total: Any = 0.0
    for e in exps:
        total = total + e
    return (*[e / total - (1.0 if j == t else 0.0) for j, e in enumerate(exps)], 0.0)


def _class_index(target: float, classes: int) -> int:
    if not (target.is_integer() and 0 <= target < classes):
        raise ValueError(f"cross_entropy: target {target!r} is not a class index below {classes}")
    return int(target)


_CROSS_ENTROPY_JS = """(...operands) => {
  const logits = operands.slice(0, -1), t = operands[operands.length - 1];
  if (!(Number.isInteger(t) && t >= 0 && t < logits.length))
    return fail(`cross_entropy: target ${repr(t)} is not a class index below ${logits.length}`);
  const m = Math.max(...logits);
  let total = 0;
  for (const z of logits) total += Math.exp(z - m);
  return Math.log(total) + m - logits[t];
}"""
_CROSS_ENTROPY_DERIVATIVES_JS = """(...args) => {
  const logits = args.slice(0, -2), t = args[args.length - 2];
  const m = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - m));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return [...exps.map((e, j) => e / total - (j === t ? 1 : 0)), 0];
}"""
"""`_cross_entropy` and its derivatives in JavaScript, so that the explorer page can recompute a loss."""

cross_entropy = Primitive(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_derivatives,
    symbol="CE",
    arity=None,
    js=(_CROSS_ENTROPY_JS, _CROSS_ENTROPY_DERIVATIVES_JS),
)
"""``cross_entropy(z_0, ..., z_k-1, target)``: -log softmax(z)[target], one node, for any logits."""


def mean(terms: Sequence[Value | float]) -> Value:
    """The mean of the examples' terms: one sum node, times 1 / n.

    It multiplies by the reciprocal, as micrograd's demo does, so that results
    match it to the last bit.
    """
    return autograd.sum(terms) * (1.0 / len(terms))


def squared_error(output: Value | float, target: Value | float) -> Value:
    """One example's term of `mean_squared_error`: (output - target)^2."""
    return (output - target) ** 2  # type: ignore[return-value]


def hinge_term(score: Value, label: Value | float) -> Value:
    """One example's term of `hinge`: relu(1 - label * score)."""
    return (1 + -label * score).relu()


def logistic_term(logit: Value, label: Value | float) -> Value:
    """One example's term of `binary_cross_entropy_with_logits`: softplus(z) - z * [label is 1].

    The indicator is relu(label): 1 for label 1, 0 for 0 or -1, an operation
    rather than an ``if``, so that a compiled step takes the label as an input.
    """
    term: Value = softplus(logit) - logit * autograd.relu(label)
    return term


def cross_entropy_term(logits: Sequence[Value], target: Value | float) -> Value:
    """One example's term of `softmax_cross_entropy`: the `cross_entropy` primitive."""
    return cross_entropy(*logits, target)  # type: ignore[no-any-return]


def check_targets(loss: str, targets: Sequence[Any], classes: int = 2) -> None:
    """The targets a loss of `TERMS` accepts, or a ValueError naming the first it does not.

    hinge: -1 and +1; bce: 0 and 1 (or -1 and 1); cross_entropy: an int
    class index below `classes`; mse: any number. The losses check their
    targets with it, and a compiled training run checks a whole data set.
    """
    for y in targets:
        if loss == "hinge" and y not in (-1, 1):
            raise ValueError(f"hinge needs labels -1 and +1, got {y!r}")
        if loss == "bce" and y not in (-1, 0, 1):
            raise ValueError(f"binary_cross_entropy_with_logits needs labels 0 and 1 (or -1 and 1), got {y!r}")
        if loss == "cross_entropy" and (isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < classes):
            raise ValueError(f"softmax_cross_entropy: target {y!r} is not a class index below {classes}")


TERMS: dict[str, Callable[[Any, Any], Value]] = {
    "hinge": hinge_term,
    "mse": squared_error,
    "bce": logistic_term,
    "cross_entropy": cross_entropy_term,
}
"""Each loss's term for one example, from the model's output and the target, by the names `nn.train` uses."""


def mean_squared_error(outputs: Sequence[Value | float], targets: Sequence[float]) -> Value:
    """mean((output - target)^2).

    Example:
        >>> mean_squared_error([Value(1.0), Value(3.0)], [0.0, 1.0]).data
        2.5
    """
    _check_pairs("mean_squared_error", outputs, targets)
    return mean([squared_error(o, t) for o, t in zip(outputs, targets)])


def hinge(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """The max-margin loss of micrograd's demo: mean(relu(1 - label * score)), labels -1 or +1.

    Example:
        >>> hinge([Value(2.0), Value(0.5)], [1, 1]).data
        0.25
    """
    _check_pairs("hinge", scores, labels)
    check_targets("hinge", labels)
    return mean([hinge_term(s, y) for s, y in zip(scores, labels)])


def binary_cross_entropy_with_logits(logits: Sequence[Value], labels: Sequence[float]) -> Value:
    """mean(-y log sigmoid(z) - (1 - y) log(1 - sigmoid(z))) for labels 0 or 1 (or -1 for 0).

    Computed as softplus(z) - y z, which never overflows and whose gradient is
    exactly sigmoid(z) - y.

    Example:
        >>> round(binary_cross_entropy_with_logits([Value(0.0)], [1]).data, 6)
        0.693147
    """
    _check_pairs("binary_cross_entropy_with_logits", logits, labels)
    check_targets("bce", labels)
    return mean([logistic_term(z, y) for z, y in zip(logits, labels)])


def softmax_cross_entropy(logits: Sequence[Sequence[Value]], targets: Sequence[int]) -> Value:
    """mean(-log softmax(logits)[target]) over examples, with log-sum-exp for stability.

    Example:
        >>> loss = softmax_cross_entropy([[Value(1000.0), Value(0.0)]], [1])
        >>> loss.data
        1000.0
    """
    _check_pairs("softmax_cross_entropy", logits, targets)
    for row, target in zip(logits, targets):
        check_targets("cross_entropy", [target], len(row))
    return mean([cross_entropy_term(row, target) for row, target in zip(logits, targets)])


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


def penalised(total: Value, parameters: Sequence[Value], alpha: float = 0.0, l1: float = 0.0) -> Value:
    """`total` plus the L2 penalty (weight `alpha`), then the L1 penalty (`l1`), each only if its weight is not 0.

    How `nn.train` adds its penalties to the loss, in a dynamic step and in a compiled one alike.
    """
    if alpha:
        total = total + l2_penalty(parameters, alpha)
    if l1:
        total = total + l1_penalty(parameters, l1)
    return total


def l2_penalty(parameters: Sequence[Value], alpha: float) -> Value:
    """alpha * sum(p^2) as one fused node, the same arithmetic as micrograd's ``alpha * sum(p*p ...)``."""
    if not parameters:
        raise ValueError("l2_penalty: no parameters")
    return alpha * autograd.dot(parameters, parameters)
