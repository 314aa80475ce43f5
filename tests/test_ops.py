"""Every primitive against central differences of an independent reference, across its domain.

The references are written with `math` and plain floats, not with the engine's
forward functions, so a wrong forward is caught as well as a wrong derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

import autograd
from autograd import Value, dot


@dataclass(frozen=True)
class OpCase:
    name: str
    on_values: Callable[..., Value]  # builds the expression from Values (or numbers)
    reference: Callable[..., float]  # the same function on floats, written independently
    points: Sequence[tuple[float, ...]]  # where to check, inside the domain


def grid(lo: float, hi: float, n: int = 23, avoid: Sequence[float] = ()) -> list[float]:
    """n points spread over [lo, hi], nudged away from the points in `avoid` (kinks, poles)."""
    points = [lo + (hi - lo) * (i + 0.37) / n for i in range(n)]
    return [p + 0.01 if any(abs(p - a) < 1e-3 for a in avoid) else p for p in points]


def pairs(xs: Sequence[float], ys: Sequence[float]) -> list[tuple[float, float]]:
    return [(x, y) for x in xs for y in ys[::5]]


ANYWHERE = grid(-4.0, 4.0)
POSITIVE = grid(0.05, 6.0)
NONZERO = grid(-4.0, 4.0, avoid=[0.0])

CASES = [
    OpCase("add", lambda x, y: x + y, lambda x, y: x + y, pairs(ANYWHERE, ANYWHERE)),
    OpCase("add number", lambda x: x + 2.5, lambda x: x + 2.5, [(x,) for x in ANYWHERE]),
    OpCase("radd number", lambda x: 2.5 + x, lambda x: 2.5 + x, [(x,) for x in ANYWHERE]),
    OpCase("sub", lambda x, y: x - y, lambda x, y: x - y, pairs(ANYWHERE, ANYWHERE)),
    OpCase("rsub number", lambda x: 1.5 - x, lambda x: 1.5 - x, [(x,) for x in ANYWHERE]),
    OpCase("mul", lambda x, y: x * y, lambda x, y: x * y, pairs(ANYWHERE, ANYWHERE)),
    OpCase("mul self", lambda x: x * x, lambda x: x * x, [(x,) for x in ANYWHERE]),
    OpCase("div", lambda x, y: x / y, lambda x, y: x / y, pairs(ANYWHERE, NONZERO)),
    OpCase("rdiv number", lambda x: 3.0 / x, lambda x: 3.0 / x, [(x,) for x in NONZERO]),
    OpCase("pow int", lambda x: x**3, lambda x: x * x * x, [(x,) for x in ANYWHERE]),
    OpCase("pow negative int", lambda x: x**-2, lambda x: 1.0 / (x * x), [(x,) for x in NONZERO]),
    OpCase("pow fraction", lambda x: x**0.5, math.sqrt, [(x,) for x in POSITIVE]),
    OpCase("rpow number", lambda x: 2.0**x, lambda x: math.exp(x * math.log(2.0)), [(x,) for x in ANYWHERE]),
    OpCase("pow value", lambda x, y: x**y, lambda x, y: math.exp(y * math.log(x)), pairs(POSITIVE, ANYWHERE)),
    OpCase("neg", lambda x: -x, lambda x: -x, [(x,) for x in ANYWHERE]),
    OpCase("abs", abs, lambda x: x if x > 0 else -x, [(x,) for x in NONZERO]),
    OpCase("exp", lambda x: x.exp(), math.exp, [(x,) for x in ANYWHERE]),
    OpCase("log", lambda x: x.log(), math.log, [(x,) for x in POSITIVE]),
    OpCase("sqrt", lambda x: x.sqrt(), lambda x: x**0.5, [(x,) for x in POSITIVE]),
    OpCase(
        "tanh", lambda x: x.tanh(), lambda x: (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1), [(x,) for x in ANYWHERE]
    ),
    OpCase("sigmoid", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + math.exp(-x)), [(x,) for x in ANYWHERE]),
    OpCase("relu", lambda x: x.relu(), lambda x: max(x, 0.0), [(x,) for x in NONZERO]),
    OpCase("leaky_relu", lambda x: x.leaky_relu(), lambda x: max(x, 0.0) + 0.01 * min(x, 0.0), [(x,) for x in NONZERO]),
    OpCase(
        "leaky_relu slope",
        lambda x, slope: autograd.leaky_relu(x, slope),
        lambda x, slope: max(x, 0.0) + slope * min(x, 0.0),
        pairs(NONZERO, grid(-1.0, 1.0)),
    ),
    OpCase("sin", lambda x: x.sin(), math.sin, [(x,) for x in ANYWHERE]),
    OpCase("cos", lambda x: x.cos(), math.cos, [(x,) for x in ANYWHERE]),
    OpCase(
        "sum",
        lambda a, b, c: autograd.sum([a, b, 2.0, c, a]),
        lambda a, b, c: a + b + 2.0 + c + a,
        [(x, -x / 2, x * x) for x in ANYWHERE],
    ),
    OpCase(
        "dot",
        lambda w0, w1, x0, x1, b: dot([w0, w1, 0.5], [x0, x1, w0], b),
        lambda w0, w1, x0, x1, b: b + w0 * x0 + w1 * x1 + 0.5 * w0,
        [(x, 1 - x, x / 3, 2.0, -x) for x in ANYWHERE],
    ),
]


def central_difference(f: Callable[..., float], point: tuple[float, ...], i: int) -> float:
    """d f / d x_i at `point` by the five-point stencil (error O(h^4))."""
    h = 1e-3 * min(1.0, abs(point[i])) if point[i] else 1e-3  # small near poles, where curvature is large

    def at(offset: float) -> float:
        shifted = list(point)
        shifted[i] += offset
        return f(*shifted)

    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_gradient_matches_central_differences(case: OpCase) -> None:
    for point in case.points:
        inputs = [Value(p) for p in point]
        out = case.on_values(*inputs)
        assert out.data == pytest.approx(case.reference(*point), rel=1e-12, abs=1e-12), point
        out.backward()
        for i, x in enumerate(inputs):
            expected = central_difference(case.reference, point, i)
            assert x.grad == pytest.approx(expected, rel=1e-7, abs=1e-8), f"d/dx{i} at {point}"
