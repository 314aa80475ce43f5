"""Fused operations: ``sum``, ``dot`` and ``linear``, one node where the plain path makes many.

A neuron's weighted sum ``b + w_0*x_0 + w_1*x_1 + ...`` written with operators
makes two nodes per input; `dot` makes one node of the table's ``dot``
primitive, with a local derivative per operand. `sum` does the same for a sum
of many terms. Both give the value of the written-out expression to the last
bit (they add in the same order) and the same gradients.

`linear` is where training spends its time, so it is written out for speed: it
builds exactly the nodes that calling the ``dot`` primitive row by row would
build (``tests/test_linear.py`` checks value, operands and every local
derivative, bit for bit), reading the inputs once for a whole layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import countOf
from typing import Any

from autograd import rules
from autograd.engine import Value, _leaf, _node, is_grad_enabled
from autograd.rules import dot_operands

__all__ = ["dot", "linear", "sum"]

Number = int | float


def sum(values: Iterable[Value | Number]) -> Value:
    """The sum of many Values as one node (one local derivative of 1 per term).

    Adds left to right, so the result equals the builtin ``sum(values)`` to the last bit.

    Example:
        >>> import autograd
        >>> xs = [Value(1.0), Value(2.0), Value(3.5)]
        >>> s = autograd.sum(xs)
        >>> s.data, s.op, len(s.parents)
        (6.5, 'sum', 3)
    """
    if isinstance(values, Value) or not hasattr(values, "__iter__"):
        raise TypeError(f"sum takes a list of Values or numbers, as sum([a, b]), not a {type(values).__name__}")
    terms = tuple(values)
    if not terms:
        return Value(0.0)
    return _as_value(rules.sum_(*terms))


def dot(weights: Sequence[Value | Number], inputs: Sequence[Value | Number], bias: Value | Number = 0.0) -> Value:
    """``bias + w_0*x_0 + w_1*x_1 + ...`` as one node: a neuron's weighted sum.

    Accumulates from the bias left to right, the same arithmetic as
    ``sum((w * x for w, x in zip(weights, inputs)), bias)``, so the result is
    identical to that expression's to the last bit.

    Example:
        >>> w, x, b = [Value(2.0), Value(-1.0)], [3.0, 4.0], Value(0.5)
        >>> z = dot(w, x, b)
        >>> z.backward()
        >>> z.data, w[0].grad, b.grad
        (2.5, 3.0, 1.0)
    """
    try:
        nw, nx = len(weights), len(inputs)
    except TypeError:
        _refuse_non_sequences("dot", {"weights": weights, "inputs": inputs})
        raise
    if nw != nx:
        raise ValueError(f"dot: {nw} weights but {nx} inputs")
    return linear((weights,), inputs, (bias,))[0]


def linear(
    weights: Sequence[Sequence[Value | Number]], inputs: Sequence[Value | Number], biases: Sequence[Value | Number]
) -> list[Value]:
    """One `dot` node per row of `weights`, all on the same inputs: a layer's weighted sums.

    The same nodes as ``[dot(w, inputs, b) for w, b in zip(weights, biases)]``,
    built faster: the inputs are read once for the whole layer.

    Example:
        >>> W = [[Value(1.0), Value(2.0)], [Value(-1.0), Value(0.5)]]
        >>> zs = linear(W, [3.0, 4.0], [Value(0.0), Value(1.0)])
        >>> [z.data for z in zs], [z.op for z in zs]
        ([11.0, 0.0], ['dot', 'dot'])
    """
    try:
        rows, nb, nx = len(weights), len(biases), len(inputs)
        widths = [len(row) for row in weights]
    except TypeError:
        _refuse_non_sequences("linear", {"weights": weights, "biases": biases, "inputs": inputs})
        _refuse_non_sequences("linear", {f"row {i} of the weights": row for i, row in enumerate(weights)})
        raise
    if rows != nb:
        raise ValueError(f"linear: {rows} rows of weights but {nb} biases")
    for i, nw in enumerate(widths):
        if nw != nx:
            raise ValueError(f"linear: row {i} has {nw} weights but there are {nx} inputs")
    return _weighted_sums(weights, inputs, biases)


def _weighted_sums(rows: Sequence[Sequence[Any]], inputs: Sequence[Any], biases: Sequence[Any]) -> list[Value]:
    """The ``dot`` primitive called once per row, specialised to rows of Values on shared inputs.

    NOTE: this writes the ``dot`` rule of `autograd.rules` out for speed, the
    hot path of every neuron: the same left-to-right sum from the bias, and
    the same local derivatives (each weight's is its input, each input's its
    weight, the bias's 1), in the operand layout of `rules.dot_operands`.
    Anything else (constants among the weights, Value subclasses, ints, other
    operand types) calls the primitive itself.
    """
    xs = tuple(inputs)
    n = len(xs)
    if n and countOf(map(type, xs), Value) == n:  # all Values, checked at C speed
        x_datas = [x.data for x in xs]
    elif n and set(map(type, xs)) <= _VALUE_OR_FLOAT:
        x_datas = [x if type(x) is float else x.data for x in xs]
    else:
        return [_as_value(rules.dot(*dot_operands(row, xs, bias))) for row, bias in zip(rows, biases)]
    recording = is_grad_enabled()
    m = 2 * n
    nodes = []
    for row, bias in zip(rows, biases):
        if countOf(map(type, row), Value) != n or type(bias) not in _VALUE_OR_FLOAT:
            nodes.append(_as_value(rules.dot(*dot_operands(row, xs, bias))))
            continue
        w_datas = [w.data for w in row]
        out = bias if type(bias) is float else bias.data
        for w, x in zip(w_datas, x_datas):
            out += w * x
        if not recording:  # the edges would be dropped: do not build them
            nodes.append(_leaf(out))
            continue
        edges: list[Any] = [1.0] * (m + m + 2)  # the last slot: the bias's local derivative
        edges[0::2] = (*row, *xs, bias)  # the layout of `rules.dot_operands`, written out
        edges[1:m:2] = x_datas
        edges[m + 1 : m + m : 2] = w_datas
        nodes.append(_node(out, rules.dot, tuple(edges)))
    return nodes


_VALUE_OR_FLOAT = frozenset({Value, float})


def _as_value(result: Any) -> Value:
    """The primitive's result; a number (every operand was a number) as a leaf Value, so the type is stable."""
    if type(result) is float:
        return Value(result)
    node: Value = result  # a Value (or a Dual, when the operands were Duals)
    return node


def _refuse_non_sequences(op_name: str, named: Mapping[str, object]) -> None:
    """Raise a TypeError naming the first argument that has no length (called once len() has failed)."""
    for what, items in named.items():
        if not hasattr(items, "__len__"):
            raise TypeError(f"{op_name}: {what} must be a list or tuple, not {type(items).__name__}")
