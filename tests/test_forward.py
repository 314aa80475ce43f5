"""Forward mode: dual numbers agree with reverse mode on every op, and use the same rules."""

from __future__ import annotations

import math
import operator

import pytest
from test_ops import CASES, OpCase

import autograd
from autograd import Dual, Primitive, Value, grad, jvp, rules


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_forward_equals_reverse_on_every_op(case: OpCase) -> None:
    for point in case.points[::4]:
        leaves = [Value(p) for p in point]
        reverse = grad(case.on_values(*leaves), leaves)
        for i in range(len(point)):
            direction = [1.0 if j == i else 0.0 for j in range(len(point))]
            value, slope = jvp(case.on_values, point, direction)
            assert value == case.on_values(*[Value(p) for p in point]).data
            assert slope == pytest.approx(reverse[i], rel=1e-12, abs=1e-14), (case.name, point, i)


def test_directional_derivative_is_the_gradient_dotted_with_the_direction() -> None:
    def f(x: Value, y: Value, z: Value) -> Value:
        return (x * y).tanh() + z.exp() * x - y / z

    point, direction = [0.3, -0.7, 1.2], [0.5, 2.0, -1.0]
    leaves = [Value(p) for p in point]
    gradient = grad(f(*leaves), leaves)
    _, slope = jvp(f, point, direction)
    assert slope == pytest.approx(sum(g * d for g, d in zip(gradient, direction)), rel=1e-13)


def test_user_primitives_run_forward_with_their_own_rule() -> None:
    cube = Primitive("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    assert jvp(lambda x: cube(x) * 2, [2.0], [1.0]) == (16.0, 24.0)
    wrong = Primitive("wrong", lambda x: x**3, lambda x, out: (2 * x * x,))
    # One rule serves both modes, so a wrong rule gives the same wrong slope in both (8, not 12):
    # comparing forward with reverse cannot catch it, comparing with central differences does.
    x = Value(2.0)
    (reverse,) = grad(wrong(x), [x])
    _, forward = jvp(lambda v: wrong(v), [2.0], [1.0])
    assert forward == reverse == 8.0
    assert not autograd.gradcheck(lambda v: wrong(v), [2.0], raise_exception=False)


def test_a_wrong_rule_is_caught_by_checking_jvp_against_central_differences() -> None:
    # The forward-mode counterpart of gradcheck: the directional derivative from jvp against the
    # central difference along the same direction. This is how forward mode catches a wrong rule.
    wrong_sin = Primitive("wrong_sin", math.sin, lambda x, out: (1.01 * autograd.cos(x),))
    point, direction, eps = [0.4, 1.5], [0.6, -0.8], 1e-6

    def f(x: Value, y: Value) -> Value:
        return wrong_sin(x) * y + y.exp()

    def plain(t: float) -> float:
        x, y = (p + t * d for p, d in zip(point, direction))
        return math.sin(x) * y + math.exp(y)

    _, forward = jvp(f, point, direction)
    numeric = (plain(eps) - plain(-eps)) / (2 * eps)
    assert abs(forward - numeric) > 1e-3  # the 1% error in d sin shows along this direction
    _, right = jvp(lambda x, y: x.sin() * y + y.exp(), point, direction)
    assert right == pytest.approx(numeric, rel=1e-8)


def test_fused_ops_and_functions_accept_duals() -> None:
    def f(w: Dual, x: Dual) -> Dual:
        return autograd.dot([w, x], [x, 3.0], 1.0) + autograd.sum([w, w])  # type: ignore[return-value]

    value, slope = jvp(f, [2.0, 5.0], [1.0, 0.0])
    assert (value, slope) == (1.0 + 10.0 + 15.0 + 4.0, 5.0 + 2.0)
    assert autograd.exp(Dual(0.0, 1.0)).tangent == 1.0


def test_domain_errors_are_the_engines() -> None:
    with pytest.raises(ValueError, match=r"log of -1\.0"):
        jvp(lambda x: x.log(), [-1.0], [1.0])
    with pytest.raises(ZeroDivisionError, match="'/'"):
        jvp(lambda x: 1 / x, [0.0], [1.0])


def test_constants_and_comparisons() -> None:
    assert jvp(lambda x: 3.0, [1.0], [1.0]) == (3.0, 0.0)
    assert jvp(lambda x: 2 - x + x**2 - 1 / x, [2.0], [1.0]) == (3.5, -1 + 4 + 0.25)
    d = Dual(1.5, 1.0)
    assert d > 1 and d <= 1.5 and not d < 1  # noqa: PT018


def test_reflected_operators_with_numbers() -> None:
    # written-out derivatives at x = 1.5: d/dx 2**x = 2**x ln 2, d/dx x**x = x**x (ln x + 1), d/dx 3/x = -3/x**2
    x = 1.5
    assert jvp(lambda v: 2.0**v, [x], [1.0])[1] == pytest.approx(2.0**x * math.log(2.0), rel=1e-14)
    assert jvp(lambda v: v**v, [x], [1.0])[1] == pytest.approx(x**x * (math.log(x) + 1), rel=1e-14)
    assert jvp(lambda v: 3.0 / v, [x], [1.0])[1] == pytest.approx(-3.0 / x**2, rel=1e-14)
    assert jvp(lambda v: 1 - v, [x], [2.0]) == (1 - x, -2.0)
    assert jvp(lambda v: +abs(-v), [x], [1.0]) == (x, 1.0)


def test_a_user_primitive_with_several_operands_and_a_constant() -> None:
    hypot = Primitive("hypot", math.hypot, lambda x, y, out: (x / out, y / out))
    value, slope = jvp(lambda x: hypot(x, 4.0), [3.0], [1.0])
    assert (value, slope) == (5.0, 3.0 / 5.0)  # the constant 4.0 carries no tangent
    value, slope = jvp(lambda x, y: hypot(x, y), [3.0, 4.0], [1.0, 1.0])
    assert slope == pytest.approx(7.0 / 5.0, rel=1e-15)


def test_a_rule_of_the_wrong_length_is_refused_as_in_reverse_mode() -> None:
    short = Primitive("short", operator.mul, lambda x, y, out: (y,))
    with pytest.raises(ValueError, match="'short' returned 1 local derivatives for 2 operands"):
        jvp(lambda x: short(x, x), [2.0], [1.0])
    with pytest.raises(ValueError, match="'short' returned 1 local derivatives for 2 operands"):
        short(Value(2.0), Value(3.0))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(lambda x, y: x, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        jvp(lambda: 1.0, [], [])
    with pytest.raises(TypeError, match="must return a number"):
        jvp(lambda x: [x], [1.0], [1.0])
    with pytest.raises(TypeError, match="real number"):
        Dual("a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Dual(1.0, 1.0) + Value(1.0)  # type: ignore[operator]
    with pytest.raises(TypeError, match="cannot mix Duals with Value"):
        rules.add(Dual(1.0), Value(1.0))
    with pytest.raises(TypeError, match="must return real numbers"):
        Primitive("odd", abs, lambda x, out: ("one",))(Dual(1.0, 1.0))
    assert math.isnan(Dual(math.nan).primal)
