"""The walk's shortcut changes nothing: the same order as the plain walk, and backward's bits unchanged.

`topological_order` appends a wide node whose operands were all met at
once, without walking them. `plain_order` below is the walk without that
shortcut (the engine's before it), the reference for every order here; and
`plain_backward` is backward on that order, so gradients must agree bit for
bit, nan, inf and -0.0 included.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Value, topological_order
from autograd.testing import Expression, expressions
from nn import MLP, losses


def plain_order(root: Value, leaves: bool = False) -> list[Value]:
    """The depth-first post-order in operand order, every operand looked at one by one."""
    if root.is_leaf:
        return [root] if leaves else []
    order: list[Value] = []
    visited = {root}
    stack: list[tuple[Value, Iterator[Any]]] = [(root, iter(root.operands))]
    while stack:
        node, operands = stack[-1]
        for operand in operands:
            if type(operand) is float:
                continue
            if operand.is_leaf:
                if leaves and operand not in visited:
                    visited.add(operand)
                    order.append(operand)
                continue
            if operand in visited:
                continue
            visited.add(operand)
            stack.append((operand, iter(operand.operands)))
            break
        else:
            stack.pop()
            order.append(node)
    return order


def plain_backward(root: Value) -> None:
    """`Value.backward` on `plain_order`, with the same skip of zero-gradient nodes."""
    order = plain_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0 if order else root.grad + 1.0
    for node in reversed(order):
        g, edges = node.grad, node._edges
        if g == 0.0 and math.isfinite(sum(edges[1::2])):
            continue
        for operand, local in zip(edges[0::2], edges[1::2]):
            if type(operand) is not float:
                operand.grad += local * g


def bits(x: float) -> bytes:
    """A float's eight bytes: tells -0.0 from 0.0, and one nan from another."""
    return struct.pack("<d", x)


def assert_same_orders(values: list[Value]) -> None:
    for root in values:
        assert topological_order(root) == plain_order(root)
        assert topological_order(root, leaves=True) == plain_order(root, leaves=True)


SPECIAL = [0.0, -0.0, 1.0, -2.5, 0.5, 3.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-320]
OPS = ["add", "mul", "div", "relu", "neg", "sqrt", "tanh", "sum", "dot", "linear"]
WIDTH = {"add": (2, 2), "mul": (2, 2), "div": (2, 2), "sum": (1, 6), "dot": (2, 9), "linear": (3, 13)}
"""How many arguments a step takes (one when not listed)."""


@st.composite
def recipes(draw: st.DrawFn) -> tuple[list[float], list[bool], list[tuple[str, list[Any]]]]:
    """Leaf data (special floats among them), which leaf gradients start at -0.0, and steps.

    A step is an operation and its arguments: an int picks an earlier Value (a
    leaf or a node, so nodes are shared), a float is a constant. Wide steps
    (sum, dot, linear) reuse the same Values often, which is what the shortcut is for.
    """
    data = draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=4))
    minus_zero = draw(st.lists(st.booleans(), min_size=len(data), max_size=len(data)))
    steps: list[tuple[str, list[Any]]] = []
    for k in range(draw(st.integers(1, 12))):
        pick = st.integers(0, len(data) + k - 1)
        argument = st.one_of(pick, pick, pick, st.sampled_from(SPECIAL))
        op = draw(st.sampled_from(OPS))
        least, most = WIDTH.get(op, (1, 1))
        steps.append((op, draw(st.lists(argument, min_size=least, max_size=most))))
    return data, minus_zero, steps


def build(recipe: tuple[list[float], list[bool], list[tuple[str, list[Any]]]]) -> list[Value]:
    """The leaves, then one Value per step that could be computed (a step outside its domain is left out)."""
    data, minus_zero, steps = recipe
    pool = [Value(x) for x in data]
    for leaf, flag in zip(pool, minus_zero):
        if flag:
            leaf.grad = -0.0
    for op, arguments in steps:
        args = [pool[a % len(pool)] if isinstance(a, int) else a for a in arguments]
        n = (len(args) - 1) // 2
        try:
            if op in ("add", "mul", "div"):
                a, b = args
                results = [a + b if op == "add" else a * b if op == "mul" else a / b]
            elif op in ("relu", "neg", "sqrt", "tanh"):
                (a,) = args
                results = [-a if op == "neg" else getattr(Value(a) if type(a) is float else a, op)()]
            elif op == "sum":
                results = [autograd.sum(args)]
            elif op == "dot":
                results = [autograd.dot(args[:n], args[n : 2 * n], args[-1])]
            else:  # two rows on shared inputs: the fused path of a layer
                m = len(args) // 3
                results = autograd.linear([args[:m], args[m : 2 * m]], args[2 * m : 3 * m], [args[-1], 0.0])
        except (ArithmeticError, ValueError):
            continue
        pool += [r for r in results if isinstance(r, Value)]
    return pool


class TestSameOrder:
    @given(recipes())
    def test_on_drawn_graphs_with_shared_nodes(self, recipe: Any) -> None:
        assert_same_orders(build(recipe))

    @given(expressions(ops=["relu", "abs", "mul", "add", "sub", "dot", "sum", "tanh", "sqrt"], size=(1, 10)))
    def test_on_drawn_expressions(self, expression: Expression) -> None:
        leaves = [Value(x) for x in expression.point]
        assert_same_orders([v for v in expression.trace(*leaves) if isinstance(v, Value)])

    def test_on_the_moons_demo_network(self) -> None:
        loss, _ = moons_loss(seed=5)
        assert len(plain_order(loss)) > 1000
        assert_same_orders([loss])

    def test_a_wide_node_with_one_new_operand_first_or_last(self) -> None:
        a, b = Value(0.5), Value(-1.5)
        met = a * b  # walked first: a and b are met before the wide nodes
        first, last = autograd.sum([a - b, a, b, a]), autograd.sum([a, b, a, a + b])
        assert_same_orders([autograd.sum([met, first]), autograd.sum([met, last])])
        assert len(topological_order(autograd.sum([met, last]))) == 4

    def test_on_a_deep_chain(self) -> None:
        x = Value(0.5)
        y = x
        for _ in range(3000):
            y = autograd.sum([y * 0.999, x, y, x])  # wide nodes, one new operand each
        assert_same_orders([y])


class TestSameGradients:
    @given(recipes())
    def test_bit_for_bit_on_drawn_graphs_with_nan_inf_and_minus_zero(self, recipe: Any) -> None:
        expected, actual = build(recipe), build(recipe)
        plain_backward(expected[-1])
        actual[-1].backward()
        assert [bits(v.grad) for v in actual] == [bits(v.grad) for v in expected]

    def test_the_cases_of_the_skip(self) -> None:
        def graph() -> list[Value]:
            x, y, z = Value(0.0), Value(2.0), Value(1e308)
            y.grad = z.grad = -0.0
            # sqrt'(0) is inf under a zero gradient: processed, nan arrives at x; x * y has a zero
            # gradient and finite locals: skipped, y keeps -0.0; z * z has a zero gradient and
            # locals whose sum overflows: processed, as before, so z's -0.0 becomes +0.0
            terms = [x.sqrt() * 0.0, (x * y).relu(), (z * z) * 0.0]
            return [x, y, z, autograd.sum(terms)]

        expected, actual = graph(), graph()
        plain_backward(expected[-1])
        actual[-1].backward()
        assert [bits(v.grad) for v in actual] == [bits(v.grad) for v in expected]
        x, y, z, _ = actual
        assert math.isnan(x.grad)
        assert bits(y.grad) == bits(-0.0)
        assert bits(z.grad) == bits(0.0)

    def test_bit_for_bit_on_the_moons_demo_network(self) -> None:
        expected, _ = moons_loss(seed=5)
        actual, parameters = moons_loss(seed=5)
        plain_backward(expected)
        actual.backward()
        reference = plain_order(expected, leaves=True)
        assert [bits(v.grad) for v in topological_order(actual, leaves=True)] == [bits(v.grad) for v in reference]
        assert sum(p.grad == 0.0 for p in parameters) > 0  # dead units: zero gradients that backward skips


def moons_loss(seed: int) -> tuple[Value, list[Value]]:
    """The moons demo's loss on 30 points: MLP 2-16-16-1, hinge plus L2 (the benchmark's graph, smaller)."""
    random.seed(seed)
    model = MLP(2, [16, 16, 1])
    parameters = model.parameters()
    rng = random.Random(seed)
    points = [[rng.uniform(-1.5, 2.5), rng.uniform(-1.0, 1.5)] for _ in range(30)]
    labels = [1.0 if rng.random() < 0.5 else -1.0 for _ in points]
    scores = [model([Value(a), Value(b)]) for a, b in points]
    return losses.hinge(scores, labels) + losses.l2_penalty(parameters, 1e-4), parameters
