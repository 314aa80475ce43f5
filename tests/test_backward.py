"""backward, grad and no_grad: the accumulation semantics, the classic traps, and graph lifetime."""

from __future__ import annotations

import gc
import math
import random
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given

import autograd
from autograd import Primitive, Value, grad, no_grad, topological_order
from autograd.testing import Expression, expressions


class TestBackwardTraps:
    def test_reused_node_accumulates(self) -> None:
        a = Value(3.0)
        b = a + a
        c = b + b
        c.backward()
        assert a.grad == 4.0
        assert b.grad == 2.0

    def test_same_value_on_both_sides_of_a_product(self) -> None:
        a = Value(3.0)
        (a * a).backward()
        assert a.grad == 6.0

    def test_diamond(self) -> None:
        x = Value(0.7)
        left, right = x.tanh(), x.exp()
        y = left * right
        y.backward()
        expected = (1 - math.tanh(0.7) ** 2) * math.exp(0.7) + math.tanh(0.7) * math.exp(0.7)
        assert x.grad == pytest.approx(expected, rel=1e-15)

    def test_stacked_diamonds(self) -> None:
        # y = x^(2^n) built as n squarings of a node reused twice: 2^n paths from y to x.
        x = Value(1.001)
        y = x
        for _ in range(10):
            y = y * y
        y.backward()
        assert x.grad == pytest.approx(2**10 * 1.001 ** (2**10 - 1), rel=1e-12)

    def test_backward_twice_doubles_leaves_and_keeps_intermediates(self) -> None:
        x, w = Value(2.0), Value(-1.5)
        h = x * w
        y = h.tanh()
        y.backward()
        first = (x.grad, w.grad, h.grad, y.grad)
        y.backward()
        assert (x.grad, w.grad) == (2 * first[0], 2 * first[1])
        assert (h.grad, y.grad) == first[2:]

    def test_intermediates_show_this_calls_gradients(self) -> None:
        x = Value(1.0)
        h = x * 3
        (h * 2).backward()
        assert h.grad == 2.0
        (h * 5).backward()  # a different root through the same intermediate
        assert h.grad == 5.0
        assert x.grad == 3 * 2 + 3 * 5  # the leaf kept accumulating

    def test_backward_of_a_leaf_accumulates_one(self) -> None:
        x = Value(4.0)
        x.backward()
        x.backward()
        assert x.grad == 2.0

    def test_constants_receive_nothing(self) -> None:
        x = Value(2.0)
        y = 3.0 * x + 1.0
        y.backward()
        assert x.grad == 3.0
        assert y.operands[1] == 1.0

    def test_zero_grad_by_assignment_between_steps(self) -> None:
        x = Value(2.0)
        (x * x).backward()
        x.grad = 0.0
        (x * x).backward()
        assert x.grad == 4.0


class TestZeroGradientsAreNotPassedOn:
    """backward skips a node whose gradient is 0: adding 0 * local would change nothing, except 0 * inf."""

    def test_zero_times_an_infinite_slope_is_still_nan(self) -> None:
        x = Value(0.0)
        (x.sqrt() * 0.0).backward()  # sqrt'(0) = inf, and 0 * inf is nan, as in PyTorch
        assert math.isnan(x.grad)
        y = Value(0.0)
        y.sqrt().relu().backward()  # relu'(0) = 0 sends a zero gradient into sqrt
        assert math.isnan(y.grad)

    def test_a_zero_gradient_still_resets_the_node(self) -> None:
        x = Value(-1.0)
        h = x * 2.0
        (h * 3.0).backward()
        assert h.grad == 3.0
        h.relu().backward()  # relu'(-2) = 0: h is reached with gradient 0 and must show it
        assert h.grad == 0.0
        assert x.grad == 6.0

    def test_a_leaf_gradient_set_to_minus_zero_keeps_its_sign(self) -> None:
        # the documented exception: adding +0.0 would turn -0.0 into +0.0, and skipping does not add
        x = Value(-1.0)
        x.grad = -0.0
        (x * 2.0).relu().backward()
        assert math.copysign(1.0, x.grad) == -1.0

    @given(expressions(ops=["relu", "abs", "mul", "add", "sub", "dot", "sum", "tanh", "sqrt"], size=(1, 10)))
    def test_backward_equals_the_plain_chain_rule_bit_for_bit(self, expression: Expression) -> None:
        leaves = [Value(x) for x in expression.point]
        out = expression.evaluate(*leaves)
        if not isinstance(out, Value):
            return
        expected = plain_backward(out)
        out.backward()
        for node in [*leaves, *topological_order(out)]:
            assert repr(node.grad) == repr(expected.get(node, 0.0)), str(expression)  # repr tells -0.0 and nan

    def test_a_relu_network_where_most_gradients_are_zero(self) -> None:
        rng = random.Random(3)
        layers = [
            ([[Value(rng.uniform(-1, 1)) for _ in range(nin)] for _ in range(nout)], [Value(0.0) for _ in range(nout)])
            for nin, nout in ((2, 16), (16, 16), (16, 1))
        ]
        parameters = [w for weights, _ in layers for row in weights for w in row] + [b for _, bs in layers for b in bs]

        def hinge(point: list[float], label: float) -> Value:
            h: list[Any] = point
            for weights, biases in layers:
                h = [z.relu() for z in autograd.linear(weights, h, biases)]
            return (1 - label * h[0]).relu()

        loss = autograd.sum([hinge([0.1 * i - 2.0, 0.07 * i - 1.0], (-1) ** i) for i in range(40)])
        order = topological_order(loss)
        expected = plain_backward(loss)
        loss.backward()
        assert sum(1 for node in order if expected.get(node, 0.0) == 0.0) > len(order) // 4  # the case it is for
        assert [repr(p.grad) for p in parameters] == [repr(expected.get(p, 0.0)) for p in parameters]
        assert [node.grad for node in order] == [expected.get(node, 0.0) for node in order]


def plain_backward(out: Value) -> dict[Value, float]:
    """The chain rule with no shortcut: every node, every edge, into a dictionary."""
    grads = {out: 1.0}
    for node in reversed(topological_order(out)):
        g = grads.get(node, 0.0)
        for parent, local in zip(node.parents, node.local_grads):
            grads[parent] = grads.get(parent, 0.0) + local * g
    return grads


class TestTopologicalOrder:
    def test_parents_come_before_children_and_leaves_are_left_out(self) -> None:
        x, y = Value(1.0), Value(2.0)
        a = x * y
        b = a + x
        c = b * a
        order = topological_order(c)
        assert order[-1] is c
        assert set(order) == {a, b, c}
        position = {node: i for i, node in enumerate(order)}
        for node in order:
            for parent in node.parents:
                if not parent.is_leaf:
                    assert position[parent] < position[node]

    def test_order_is_deterministic(self) -> None:
        def build() -> list[str]:
            xs = [Value(float(i)) for i in range(6)]
            ys = [xs[i] * xs[(i + 1) % 6] for i in range(6)]
            z = autograd.sum([y.tanh() for y in ys]) + ys[0]
            return [f"{n.op}:{n.data!r}" for n in topological_order(z)]

        assert build() == build()


class TestDeepGraphs:
    def test_a_chain_deeper_than_the_recursion_limit(self) -> None:
        depth = 5 * sys.getrecursionlimit()
        x = Value(1.0)
        y = x
        for _ in range(depth):
            y = y * 0.9999 + 0.5
        y.backward()
        assert x.grad == pytest.approx(0.9999**depth, rel=1e-9)
        g = grad(y, [x])[0]
        assert g == x.grad
        del y  # freeing it must not recurse either


class TestGrad:
    def test_grad_matches_backward_and_touches_no_grad(self) -> None:
        x, w, b = Value(0.5), Value(-2.0), Value(1.0)
        y = (x * w + b).tanh() * x
        dx, dw, db = grad(y, [x, w, b])
        assert (x.grad, w.grad, b.grad) == (0.0, 0.0, 0.0)
        y.backward()
        assert (dx, dw, db) == (x.grad, w.grad, b.grad)

    def test_inputs_that_do_not_matter_get_zero(self) -> None:
        x, unused = Value(2.0), Value(7.0)
        assert grad(x * x, [unused, x]) == [0.0, 4.0]
        (g,) = grad(x * x, [unused], create_graph=True)
        assert isinstance(g, Value)
        assert g.data == 0.0

    def test_derivative_with_respect_to_an_intermediate(self) -> None:
        x = Value(2.0)
        h = x * x
        y = h * 3.0 + h
        assert grad(y, [h, x]) == [4.0, 16.0]
        assert grad(y, [y]) == [1.0]

    def test_second_and_third_derivatives(self) -> None:
        x = Value(0.3)
        y = x.sin() * x.exp()
        (d1,) = grad(y, [x], create_graph=True)
        (d2,) = grad(d1, [x], create_graph=True)
        (d3,) = grad(d2, [x])
        s, c, e = math.sin(0.3), math.cos(0.3), math.exp(0.3)
        assert d1.data == pytest.approx(e * (s + c), rel=1e-14)
        assert d2.data == pytest.approx(2 * e * c, rel=1e-14)
        assert d3 == pytest.approx(2 * e * (c - s), rel=1e-13)

    def test_second_derivatives_of_every_unary_op(self) -> None:
        # (f, f'') pairs written by hand, checked at a point inside every domain.
        cases = {
            "exp": (Value.exp, math.exp),
            "log": (Value.log, lambda x: -1 / x**2),
            "sqrt": (Value.sqrt, lambda x: -0.25 * x**-1.5),
            "tanh": (Value.tanh, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
            "sigmoid": (Value.sigmoid, lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (1 - 2 * s)),
            "sin": (Value.sin, lambda x: -math.sin(x)),
            "cos": (Value.cos, lambda x: -math.cos(x)),
            "pow": (lambda v: v**3.5, lambda x: 3.5 * 2.5 * x**1.5),
            "rpow": (lambda v: 3.0**v, lambda x: math.log(3.0) ** 2 * 3.0**x),
            "div": (lambda v: 2.0 / v, lambda x: 4.0 / x**3),
            "relu": (Value.relu, lambda x: 0.0),
            "abs": (abs, lambda x: 0.0),
        }
        for name, (f, second) in cases.items():
            x = Value(0.7)
            (d1,) = grad(f(x), [x], create_graph=True)
            (d2,) = grad(d1, [x])
            assert d2 == pytest.approx(second(0.7), rel=1e-12, abs=1e-15), name

    def test_mixed_partials_and_hessian_vector_product(self) -> None:
        x, y = Value(1.5), Value(-0.5)
        f = x * x * y + (x * y).exp()
        gx, gy = grad(f, [x, y], create_graph=True)
        # Hessian of x^2 y + e^(xy), by hand
        e = math.exp(1.5 * -0.5)
        hxx, hxy, hyy = 2 * -0.5 + (-0.5) ** 2 * e, 2 * 1.5 + e + 1.5 * -0.5 * e, 1.5**2 * e
        v = (0.3, -2.0)
        hv = grad(gx * v[0] + gy * v[1], [x, y])
        assert hv[0] == pytest.approx(hxx * v[0] + hxy * v[1], rel=1e-13)
        assert hv[1] == pytest.approx(hxy * v[0] + hyy * v[1], rel=1e-13)

    def test_fused_ops_differentiate_twice(self) -> None:
        w, x = Value(2.0), Value(3.0)
        z = autograd.dot([w, w], [x, 1.0], x) * autograd.sum([w, x, w])
        gw, _gx = grad(z, [w, x], create_graph=True)
        # z = (w x + w + x)(2w + x)
        assert gw.data == (x.data + 1) * (2 * w.data + x.data) + 2 * (w.data * x.data + w.data + x.data)
        assert grad(gw, [w, x]) == [2 * (x.data + 1) * 2, (2 * w.data + x.data) + (x.data + 1) + 2 * (w.data + 1)]

    def test_bad_arguments(self) -> None:
        x = Value(1.0)
        with pytest.raises(TypeError, match="output"):
            grad(1.0, [x])  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="sequence"):
            grad(x, x)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match=r"inputs\[1\]"):
            grad(x, [x, 2.0])  # type: ignore[list-item]


class TestNoGrad:
    def test_records_nothing_and_nests(self) -> None:
        w = Value(2.0)
        with no_grad():
            assert not autograd.is_grad_enabled()
            with no_grad():
                inner = w * 3
            after_inner = w * 3
        outside = w * 3
        assert inner.is_leaf
        assert after_inner.is_leaf
        assert not outside.is_leaf
        assert autograd.is_grad_enabled()

    def test_restores_the_setting_after_an_error(self) -> None:
        with pytest.raises(ZeroDivisionError), no_grad():
            Value(1.0) / 0
        assert autograd.is_grad_enabled()

    def test_as_a_decorator(self) -> None:
        @no_grad()
        def evaluate(v: Value) -> Value:
            return v.tanh() + autograd.dot([v], [2.0])

        assert evaluate(Value(0.1)).is_leaf

    def test_enable_grad_inside_no_grad(self) -> None:
        with no_grad(), autograd.enable_grad():
            assert not (Value(1.0) * 2).is_leaf


class TestUserPrimitives:
    softplus = Primitive(
        "softplus",
        forward=lambda x: math.log1p(math.exp(x)),
        derivatives=lambda x, out: (autograd.sigmoid(x),),
    )
    hypot = Primitive("hypot", math.hypot, lambda x, y, out: (x / out, y / out))

    def test_works_with_backward_and_grad_alike(self) -> None:
        x = Value(0.4)
        y = self.softplus(x) * 2
        assert y.op == "mul"
        assert y.parents[0].op == "softplus"
        y.backward()
        assert x.grad == pytest.approx(2 / (1 + math.exp(-0.4)), rel=1e-15)
        assert grad(y, [x]) == [x.grad]
        (d1,) = grad(y, [x], create_graph=True)
        s = 1 / (1 + math.exp(-0.4))
        assert grad(d1, [x])[0] == pytest.approx(2 * s * (1 - s), rel=1e-14)

    def test_binary_with_a_constant_operand(self) -> None:
        x = Value(3.0)
        h = self.hypot(x, 4.0)
        assert h.data == 5.0
        assert h.parents == (x,)
        assert h.operands == (x, 4.0)
        assert grad(h, [x]) == [0.6]

    def test_numbers_in_numbers_out(self) -> None:
        assert self.hypot(3, 4) == 5.0

    def test_bad_definitions_are_refused(self) -> None:
        with pytest.raises(TypeError, match="name"):
            Primitive("", math.sin, lambda x, out: (1.0,))
        with pytest.raises(TypeError, match="forward"):
            Primitive("f", 3, lambda x, out: (1.0,))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="derivatives"):
            Primitive("f", math.sin, None)  # type: ignore[arg-type]

    def test_rule_with_the_wrong_number_of_derivatives(self) -> None:
        broken = Primitive("broken", math.hypot, lambda x, y, out: (1.0,))
        with pytest.raises(ValueError, match="'broken' returned 1 local derivatives for 2 operands"):
            broken(Value(1.0), Value(2.0))

    def test_forward_that_returns_a_non_number(self) -> None:
        bad = Primitive("bad", lambda x: "oops", lambda x, out: (1.0,))
        with pytest.raises(TypeError, match="forward of primitive 'bad'"):
            bad(Value(1.0))

    def test_rule_written_with_math_explains_create_graph(self) -> None:
        mathy = Primitive("mathy", math.sin, lambda x, out: (math.cos(x),))
        x = Value(0.2)
        assert grad(mathy(x), [x]) == [math.cos(0.2)]
        with pytest.raises(TypeError, match="'mathy' cannot run on Values"):
            grad(mathy(x), [x], create_graph=True)


class TestGraphLifetime:
    @pytest.fixture
    def cyclic_collector_off(self) -> Iterator[None]:
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()

    @pytest.mark.usefixtures("cyclic_collector_off")
    def test_a_dropped_graph_is_freed_by_reference_counting(self) -> None:
        x, w = Value(0.5), Value(-1.0)
        h = (x * w + 1.0).tanh()
        y = autograd.sum([h, h * h, autograd.dot([w], [h], 0.1)]) ** 2
        y.backward()
        grad(y, [x], create_graph=True)
        refs = [weakref.ref(node) for node in topological_order(y)]
        assert len(refs) > 5
        del h, y
        assert all(ref() is None for ref in refs)
        assert x.grad != 0.0  # the leaves live on with their gradients

    @pytest.mark.usefixtures("cyclic_collector_off")
    def test_a_second_order_graph_is_freed_too(self) -> None:
        x = Value(0.5)
        (d1,) = grad(x.sin() * x, [x], create_graph=True)
        refs = [weakref.ref(node) for node in topological_order(d1)]
        del d1
        assert all(ref() is None for ref in refs)
