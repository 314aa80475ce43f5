"""At points where a derivative overflows, the rules run on Values give the floats the rules give.

`grad(..., create_graph=True)` runs each rule again on Values; it must give the
bits `grad()` (and so `backward()`) gives, inf where that gives inf, and never
raise where that does not.
"""

from __future__ import annotations

import itertools
import math
import struct

import pytest

from autograd import Value, grad
from autograd.rules import PRIMITIVES, Primitive

PRONE = [1e-160, -1e-160, 1e-300, 5e-324, -5e-324, 1e154, -1e154, 1e200, 1e308, -1e308, 709.0, 710.0, -745.0, 0.0, 2.0]
"""Points where a square, a reciprocal, an exponential or a power leaves the float range."""
EXPONENTS = [-1.0, -2.0, -3.0, 0.5, 2.0, 3.0, 1e-300, 400.0]


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def outcome(primitive: Primitive, point: tuple[float, ...], create_graph: bool) -> list[bytes] | str:
    xs = [Value(x) for x in point]
    try:
        out = primitive(*xs)
    except (ArithmeticError, ValueError) as error:
        return type(error).__name__
    try:
        found = grad(out, xs, create_graph=create_graph)
    except (ArithmeticError, ValueError) as error:
        return type(error).__name__
    return [bits(g.data if isinstance(g, Value) else g) for g in found]


def points(primitive: Primitive) -> list[tuple[float, ...]]:
    if primitive.arity == 1:
        return [(x,) for x in PRONE]
    if primitive.name == "pow":
        return list(itertools.product(PRONE, EXPONENTS + PRONE[:6]))
    if primitive.arity == 2:
        return list(itertools.product(PRONE, PRONE))
    if primitive.name == "dot":
        return [(w, x, 1.0) for w, x in itertools.product(PRONE, PRONE)]
    return [(a, b, 3.0) for a, b in itertools.product(PRONE, PRONE)]


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_create_graph_gives_the_float_derivatives_at_overflow(name: str) -> None:
    primitive = PRIMITIVES[name]
    differ = []
    for point in points(primitive):
        on_floats = outcome(primitive, point, create_graph=False)
        on_values = outcome(primitive, point, create_graph=True)
        if on_floats != on_values:
            differ.append((point, on_floats, on_values))
    assert differ == [], f"{len(differ)} points differ, first: {differ[:3]}"


def test_the_reported_case() -> None:
    x = Value(1e-160)
    (dx,) = grad(x**-1, [x], create_graph=True)
    assert dx.data == -math.inf
    assert grad(x**-1, [x]) == [-math.inf]
