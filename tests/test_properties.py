"""Property tests over random expression DAGs: every way of differentiating agrees.

Reverse mode, forward mode and central differences; backward() and grad();
first and second derivatives; linearity; and the accumulation semantics. The
last test checks the checker: a deliberately wrong rule is found and shrunk to
the smallest expression that shows it.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Primitive, Value, grad, gradcheck, gradgradcheck, jvp
from autograd.testing import Expression, expressions, floats_in, op_from_primitive, values


def at_point(expression: Expression) -> tuple[list[Value], Value]:
    leaves = [Value(x) for x in expression.point]
    return leaves, expression.evaluate(*leaves)


@given(expressions())
def test_reverse_forward_and_central_differences_agree(expression: Expression) -> None:
    leaves, out = at_point(expression)
    reverse = grad(out, leaves)
    for i in range(expression.leaves):
        direction = [1.0 if j == i else 0.0 for j in range(expression.leaves)]
        value, forward = jvp(expression.evaluate, expression.point, direction)
        assert value == out.data
        assert forward == pytest.approx(reverse[i], rel=1e-12, abs=1e-12), str(expression)
    assert gradcheck(expression.evaluate, expression.point, atol=1e-5, rtol=1e-4)


@given(expressions())
def test_backward_equals_grad(expression: Expression) -> None:
    leaves, out = at_point(expression)
    expected = grad(out, leaves)
    assert all(leaf.grad == 0.0 for leaf in leaves)  # grad() touched nothing
    out.backward()
    assert [leaf.grad for leaf in leaves] == expected


@given(expressions(size=(1, 6)))
def test_second_derivatives(expression: Expression) -> None:
    assert gradgradcheck(expression.evaluate, expression.point, atol=1e-4, rtol=1e-3)


@given(expressions(), floats_in(-3, 3), floats_in(-3, 3))
def test_gradients_are_linear(expression: Expression, a: float, b: float) -> None:
    def other(*xs: Value) -> Value:  # any function defined everywhere will do
        return autograd.sum_values([x.sin() * x for x in xs])

    leaves, f = at_point(expression)
    g = other(*leaves)
    combined = grad(a * f + b * g, leaves)
    separate = [a * df + b * dg for df, dg in zip(grad(f, leaves), grad(g, leaves))]
    assert combined == pytest.approx(separate, rel=1e-12, abs=1e-12)


@given(expressions())
def test_backward_twice_doubles_leaves_and_keeps_intermediates(expression: Expression) -> None:
    leaves, out = at_point(expression)
    out.backward()
    first = [leaf.grad for leaf in leaves]
    inner = [(node, node.grad) for node in autograd.topological_order(out)]
    out.backward()
    # doubled up to rounding: a leaf reached by several paths adds each term onto the previous call's sum
    # (relative to the size of the terms, which may cancel: cos(x) + (x - x) sums -sin(x) + 1 - 1)
    assert [leaf.grad for leaf in leaves] == pytest.approx([2 * g for g in first], rel=1e-14, abs=1e-13)
    assert all(node.grad == g for node, g in inner)


@given(st.lists(values(-2, 2), min_size=1, max_size=6))
def test_dot_equals_the_written_out_sum(xs: list[Value]) -> None:
    weights = [Value(0.5 - i) for i in range(len(xs))]
    fused = autograd.dot(weights, xs, 0.25)
    written = sum((w * x for w, x in zip(weights, xs)), Value(0.25))
    assert fused.data == written.data
    assert grad(fused, xs) == grad(written, xs)


def test_strategy_draws_shared_subexpressions_and_every_op() -> None:
    seen_ops: set[str] = set()
    shared = 0

    @settings(max_examples=300, derandomize=True, database=None)
    @given(expressions(size=(4, 10)))
    def collect(expression: Expression) -> None:
        nonlocal shared
        seen_ops.update(name for name, _ in expression.nodes)
        shared += any(n > 1 for i, n in expression.uses().items() if i >= expression.leaves)

    collect()
    assert seen_ops == set(autograd.testing.OPS)
    assert shared > 10


# A deliberately wrong derivative, through the public extension point: 1.01 cos x instead of cos x.
bad_sin = Primitive("bad_sin", math.sin, lambda x, out: (1.01 * autograd.cos(x),))


def test_the_suite_finds_a_wrong_rule_and_shrinks_it_to_the_smallest_expression() -> None:
    strategy = expressions(ops=["add", "mul", "tanh", "exp", "sin", op_from_primitive(bad_sin)], size=(1, 8))

    def wrong(expression: Expression) -> bool:
        return not gradcheck(expression.evaluate, expression.point, raise_exception=False)

    minimal = find(
        strategy,
        wrong,
        settings=settings(max_examples=2000, derandomize=True, database=None, suppress_health_check=list(HealthCheck)),
    )
    assert minimal.leaves == 1
    assert minimal.nodes == (("bad_sin", (0,)),)
    assert str(minimal) == "bad_sin(x0)  at x0=0.0"


def test_expression_strategy_arguments() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        expressions(ops=["tan"])
    with pytest.raises(ValueError, match="leaves"):
        expressions(leaves=0)
    with pytest.raises(ValueError, match="lo < hi"):
        floats_in(1.0, 0.0)
