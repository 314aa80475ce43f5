"""Property tests over random expression DAGs: every way of differentiating agrees.

Reverse mode, forward mode and central differences; backward() and grad();
first and second derivatives; linearity; and the accumulation semantics, on
random DAGs over all operations and on DAGs of each operation alone. The last
tests check the checkers: a deliberately wrong rule is found, and shrunk to the
smallest expression that shows it.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Dual, GradcheckError, Primitive, Value, grad, gradcheck, gradgradcheck, jvp
from autograd.testing import LIMIT, OPS, Expression, expressions, floats_in, op_from_primitive, values


def at_point(expression: Expression) -> tuple[list[Value], Value]:
    leaves = [Value(x) for x in expression.point]
    return leaves, expression.evaluate(*leaves)


def check_first_derivatives(expression: Expression) -> None:
    """Forward mode equals reverse mode (both run the same rules), and reverse mode equals central differences."""
    leaves, out = at_point(expression)
    reverse = grad(out, leaves)
    for i in range(expression.leaves):
        direction = [1.0 if j == i else 0.0 for j in range(expression.leaves)]
        value, forward = jvp(expression.evaluate, expression.point, direction)
        assert value == out.data, str(expression)
        assert forward == pytest.approx(reverse[i], rel=1e-12, abs=1e-12), str(expression)
    gradcheck(expression.evaluate, expression.point, atol=1e-5, rtol=1e-4)


def check_second_derivatives(expression: Expression) -> None:
    gradgradcheck(expression.evaluate, expression.point, atol=1e-4, rtol=1e-3)


@given(expressions())
def test_reverse_forward_and_central_differences_agree(expression: Expression) -> None:
    check_first_derivatives(expression)


# NOTE: x0 ** x1 at x1 = 0, where the rule's special case for a zero exponent must keep d2/dx0 dx1 = 1 / x0.
@example(Expression(2, (("pow", (0, 1)),), (2.0, 0.0)))
@given(expressions(size=(1, 6)))
def test_second_derivatives(expression: Expression) -> None:
    check_second_derivatives(expression)


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=15)
@given(data=st.data())
def test_every_op_alone(name: str, data: st.DataObject) -> None:
    # DAGs of one operation only (chains and shared uses of it), so that every op is checked on every run.
    expression = data.draw(expressions(ops=[name], size=(1, 4)), label="expression")
    assert {op for op, _ in expression.nodes} == {name}
    check_first_derivatives(expression)
    check_second_derivatives(expression)


@given(expressions())
def test_backward_equals_grad(expression: Expression) -> None:
    leaves, out = at_point(expression)
    expected = grad(out, leaves)
    assert all(leaf.grad == 0.0 for leaf in leaves)  # grad() touched nothing
    out.backward()
    assert [leaf.grad for leaf in leaves] == expected


@given(expressions(), floats_in(-3, 3), floats_in(-3, 3))
def test_gradients_are_linear(expression: Expression, a: float, b: float) -> None:
    def other(*xs: Value) -> Value:  # any function defined everywhere will do
        return autograd.sum([x.sin() * x for x in xs])

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
    # The terms a leaf adds up, one per edge into it: their size bounds the rounding of the second sum.
    size = {leaf: 0.0 for leaf in leaves}
    for node, g in inner:
        for parent, local in zip(node.parents, node.local_grads):
            if parent in size:
                size[parent] += abs(local * g)
    out.backward()
    for leaf, g in zip(leaves, first):
        # doubled up to rounding: a leaf reached by several paths adds each term onto the previous call's sum
        assert leaf.grad == pytest.approx(2 * g, rel=1e-14, abs=1e-14 * size[leaf]), str(expression)
    assert all(node.grad == g for node, g in inner)


@given(st.lists(values(-2, 2), min_size=1, max_size=6))
def test_dot_equals_the_written_out_sum(xs: list[Value]) -> None:
    weights = [Value(0.5 - i) for i in range(len(xs))]
    fused = autograd.dot(weights, xs, 0.25)
    written = sum((w * x for w, x in zip(weights, xs)), Value(0.25))
    assert fused.data == written.data
    assert grad(fused, xs) == grad(written, xs)


# -- the strategy keeps its promises -------------------------------------------------


@given(expressions(size=(1, 10)))
def test_every_intermediate_is_inside_its_domain(expression: Expression) -> None:
    data = list(expression.point)
    trace = expression.trace(*expression.point)
    for name, arguments in expression.nodes:
        op = OPS[name]
        assert len(arguments) == op.arity
        assert any(type(a) is int for a in arguments), "every node depends on an input"
        assert all(a < len(data) for a in arguments if type(a) is int), "arguments come before their node"
        operands = [data[a] if type(a) is int else a for a in arguments]
        assert op.allowed(*operands), (name, operands)
        data.append(autograd.data_of(op.apply(*operands)))
        assert math.isfinite(data[-1])
        assert abs(data[-1]) < LIMIT
    assert trace == data
    assert expression.evaluate(*expression.point) == data[-1]


@given(expressions())
def test_floats_values_and_duals_evaluate_alike(expression: Expression) -> None:
    on_floats = expression.evaluate(*expression.point)
    assert type(on_floats) is float
    assert at_point(expression)[1].data == on_floats
    on_duals = expression.evaluate(*[Dual(x) for x in expression.point])
    assert isinstance(on_duals, Dual)
    assert on_duals.primal == on_floats
    assert on_duals.tangent == 0.0


@given(expressions(size=(3, 10), depth=2))
def test_depth_is_bounded(expression: Expression) -> None:
    assert 1 <= expression.depth <= 2


def test_strategy_draws_shared_subexpressions_constants_and_every_op() -> None:
    seen_ops: set[str] = set()
    shared = constants = 0

    @settings(max_examples=300, derandomize=True, database=None)
    @given(expressions(size=(4, 10)))
    def collect(expression: Expression) -> None:
        nonlocal shared, constants
        seen_ops.update(name for name, _ in expression.nodes)
        shared += any(n > 1 for i, n in expression.uses().items() if i >= expression.leaves)
        constants += any(type(a) is float for _, arguments in expression.nodes for a in arguments)

    collect()
    assert seen_ops == set(OPS)
    assert shared > 30
    assert constants > 30


def test_expressions_print_as_math() -> None:
    e = Expression(
        2,
        (("sub", (0, 1)), ("exp", (2,)), ("mul", (3, 3)), ("neg", (0,)), ("dot", (4, 5, 1, 1.5, 2.0))),
        (0.5, -1.0),
    )
    assert str(e) == "t0 = exp(x0 - x1); dot([t0 * t0, -x0], [x1, 1.5], 2.0)  at x0=0.5, x1=-1.0"
    assert repr(e) == f"<Expression: {e}>"
    assert e.depth == 4
    x0, x1 = 0.5, -1.0
    t0 = math.exp(x0 - x1)
    assert e.evaluate(x0, x1) == 2.0 + t0 * t0 * x1 + -x0 * 1.5


def test_expression_strategy_arguments() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        expressions(ops=["tan"])
    with pytest.raises(ValueError, match="at least one operation"):
        expressions(ops=[])
    with pytest.raises(ValueError, match="leaves"):
        expressions(leaves=0)
    with pytest.raises(ValueError, match="size"):
        expressions(size=(3, 2))
    with pytest.raises(ValueError, match="depth"):
        expressions(depth=0)
    with pytest.raises(ValueError, match="lo < hi"):
        floats_in(1.0, 0.0)
    with pytest.raises(ValueError, match="inputs"):
        Expression(1, (("neg", (0,)),), (1.0,)).evaluate(1.0, 2.0)
    with pytest.raises(TypeError, match="Primitive"):
        op_from_primitive(math.sin)  # type: ignore[arg-type]


# -- the checkers catch a wrong rule --------------------------------------------------------

# A deliberately wrong derivative, through the public extension point: 1.01 cos x instead of cos x.
bad_sin = Primitive("bad_sin", math.sin, lambda x, out: (1.01 * autograd.cos(x),))
WITH_BAD_SIN = expressions(ops=["add", "mul", "tanh", "exp", "sin", op_from_primitive(bad_sin)], size=(1, 8))
SEARCH = settings(max_examples=2000, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def test_a_search_finds_a_wrong_rule_and_shrinks_it_to_the_smallest_expression() -> None:
    def wrong(expression: Expression) -> bool:
        return not gradcheck(expression.evaluate, expression.point, raise_exception=False)

    minimal = find(WITH_BAD_SIN, wrong, settings=SEARCH)
    assert minimal.leaves == 1
    assert minimal.nodes == (("bad_sin", (0,)),)
    assert str(minimal) == "bad_sin(x0)  at x0=0.0"


def test_the_property_suite_fails_on_a_wrong_rule_and_reports_the_smallest_expression() -> None:
    # The suite's own first-derivative property, pointed at operations that include the wrong rule.
    # Forward and reverse mode share the rule and agree; the comparison with central differences fails.
    @SEARCH
    @given(WITH_BAD_SIN)
    def property_with_bad_sin(expression: Expression) -> None:
        check_first_derivatives(expression)

    with pytest.raises(GradcheckError, match=r"d/dx\[0\] .*mismatch") as caught:
        property_with_bad_sin()
    report = "\n".join(getattr(caught.value, "__notes__", []))
    assert "expression=<Expression: bad_sin(x0)  at x0=0.0>" in report
