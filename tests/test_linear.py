"""`dot` and `linear` build, on their fast path, exactly the node the rule table describes.

The reference is the `dot` primitive of `autograd.rules` called as a
function, which runs its forward function and its derivative rule through the
generic path. Both must give the same value, the same operands (the very same
objects) and the same local derivatives, to the last bit.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Dual, Value, jvp, linear, no_grad, rules
from autograd.testing import floats_in


def record(node: Any) -> tuple[Any, ...]:
    """What a node holds, comparable exactly: the value, the op, each operand's identity and each local's bits."""
    if type(node) is float:  # the rule on numbers alone: a number, where dot and linear give a leaf
        node = Value(node)
    edges = node._edges
    operands = tuple(("const", repr(o)) if type(o) is float else ("value", id(o)) for o in edges[0::2])
    return repr(node.data), node.op, operands, tuple(map(repr, edges[1::2]))


def reference(row: list[Any], xs: list[Any], bias: Any) -> Any:
    return rules.dot(*rules.dot_operands(row, xs, bias))


numbers = floats_in(-3, 3)
inputs = st.lists(st.one_of(numbers.map(Value), numbers, st.integers(-3, 3)), min_size=0, max_size=6)


class TestSameNodesAsTheRule:
    @given(inputs, st.integers(1, 4), st.data())
    def test_linear_equals_the_rule_row_by_row(self, xs: list[Any], rows: int, data: st.DataObject) -> None:
        weights = [[Value(data.draw(numbers)) for _ in xs] for _ in range(rows)]
        biases = [data.draw(st.one_of(numbers.map(Value), numbers)) for _ in range(rows)]
        nodes = linear(weights, xs, biases)
        assert len(nodes) == rows
        for node, row, bias in zip(nodes, weights, biases):
            assert record(node) == record(reference(row, xs, bias))

    @given(inputs, st.data())
    def test_dot_equals_the_rule(self, xs: list[Any], data: st.DataObject) -> None:
        row = [data.draw(st.one_of(numbers.map(Value), numbers)) for _ in xs]  # constants among the weights too
        bias = Value(data.draw(numbers))
        assert record(autograd.dot(row, xs, bias)) == record(reference(row, xs, bias))

    def test_gradients_flow_to_weights_inputs_and_biases(self) -> None:
        w = [[Value(1.0), Value(-2.0)], [Value(0.5), Value(3.0)]]
        x = [Value(2.0), Value(-1.0)]
        b = [Value(0.25), Value(-0.75)]
        z0, z1 = linear(w, x, b)
        (z0 * z1).backward()  # d/dz0 = z1, d/dz1 = z0
        assert (z0.data, z1.data) == (2.0 + 2.0 + 0.25, 1.0 - 3.0 - 0.75)
        assert [v.grad for v in w[0]] == [2.0 * -2.75, -1.0 * -2.75]  # x * dz0
        assert [v.grad for v in w[1]] == [2.0 * 4.25, -1.0 * 4.25]  # x * dz1
        assert [v.grad for v in x] == [1.0 * -2.75 + 0.5 * 4.25, -2.0 * -2.75 + 3.0 * 4.25]  # sum over rows of w * dz
        assert [v.grad for v in b] == [-2.75, 4.25]

    def test_a_value_subclass_takes_the_generic_path_and_is_kept(self) -> None:
        class Named(Value):
            pass

        w, x = [Named(2.0)], [Value(3.0)]
        (node,) = linear([w], x, [Value(1.0)])
        assert node.operands[0] is w[0]
        assert node.data == 7.0


class TestModes:
    def test_under_no_grad_the_results_are_leaves(self) -> None:
        w, x, b = [[Value(2.0), Value(3.0)]], [Value(1.0), 4.0], [Value(-1.0)]
        with no_grad():
            (z,) = linear(w, x, b)
        assert z.is_leaf
        assert z.data == 13.0

    def test_numbers_only_give_a_leaf(self) -> None:
        (z,) = linear([[2.0, 3.0]], [1.0, 4.0], [0.5])
        assert z.is_leaf
        assert z.data == 14.5

    def test_dual_numbers_run_through_linear(self) -> None:
        def f(a: Any, c: Any) -> Any:
            z0, z1 = linear([[a, 2.0], [c, a]], [c, 1.5], [0.5, a])
            return z0 * z1

        value, tangent = jvp(f, [1.0, 2.0], [1.0, 0.0])
        # z0 = a c + 3.5, z1 = c^2 + 1.5 a + a: d/da (z0 z1) = c z1 + 2.5 z0
        assert value == 5.5 * 6.5
        assert tangent == 2.0 * 6.5 + 2.5 * 5.5
        assert isinstance(linear([[Dual(1.0)]], [2.0], [0.0])[0], Dual)


class TestErrors:
    def test_shapes_must_fit(self) -> None:
        x = [Value(1.0), Value(2.0)]
        with pytest.raises(ValueError, match="2 rows of weights but 1 biases"):
            linear([[Value(1.0)] * 2] * 2, x, [Value(0.0)])
        with pytest.raises(ValueError, match="row 1 has 3 weights but there are 2 inputs"):
            linear([[Value(1.0)] * 2, [Value(1.0)] * 3], x, [0.0, 0.0])
        with pytest.raises(ValueError, match="dot: 1 weights but 2 inputs"):
            autograd.dot([Value(1.0)], x)

    def test_arguments_that_are_not_sequences_are_named(self) -> None:
        w = Value(1.0)
        with pytest.raises(TypeError, match="linear: inputs must be a list or tuple, not int"):
            linear([[w]], 5, [0.0])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="linear: biases must be a list or tuple, not float"):
            linear([[w]], [1.0], 0.0)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="linear: row 0 of the weights must be a list or tuple, not Value"):
            linear([w], [1.0], [0.0])  # type: ignore[list-item]  # one neuron's weights, not rows of them
        with pytest.raises(TypeError, match="dot: weights must be a list or tuple, not Value"):
            autograd.dot(w, [1.0])  # type: ignore[arg-type]

    def test_empty_layers_and_empty_rows(self) -> None:
        assert linear([], [Value(1.0)], []) == []
        (z,) = linear([[]], [], [Value(0.5)])
        assert (z.op, z.data, z.operands) == ("dot", 0.5, (z.operands[0],))

    def test_other_operand_types_are_named(self) -> None:
        with pytest.raises(TypeError, match="'dot' takes Values or real numbers, not str"):
            linear([[Value(1.0)]], ["a"], [0.0])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="not NoneType"):
            linear([[Value(1.0)]], [Value(1.0)], [None])  # type: ignore[list-item]
