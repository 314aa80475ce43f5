"""The computation graph: the `Value` node, primitives, and the backward pass.

A `Value` holds one float. Every operation on Values makes a new node that
records, when it is made, the primitive that produced it and its *edges*: each
operand (a parent Value, or a number kept as a constant) with the local
derivative of the output with respect to it. `backward()` is then one generic
loop, ``parent.grad += local * node.grad``, in reverse topological order. It
never names a specific operation; the rules live in `autograd.rules`.

Nodes refer only to their parents, never to themselves or their children, so
the references form a graph without cycles: once nothing refers to its
output, reference counting frees it at once.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from math import isfinite
from operator import countOf
from typing import Any, Union

__all__ = [
    "Primitive",
    "Value",
    "data_of",
    "dot",
    "enable_grad",
    "is_grad_enabled",
    "linear",
    "no_grad",
    "sum_values",
    "topological_order",
]

Operand = Union["Value", float]
"""An operand as recorded in a node: a parent Value, or a number (a constant)."""

Number = int | float

_recording = True
"""False inside `no_grad()`: operations then build no graph."""

_new = object.__new__


class Primitive:
    """A scalar operation: its forward function and its local-derivative rule.

    ``forward(*xs)`` maps floats to a float. ``derivatives(*xs, out)`` returns
    one local derivative d(out)/d(x_i) per operand. Write the rule with
    arithmetic and autograd's functions (``autograd.cos``, ``autograd.log``, ...),
    not `math`: the engine calls it with floats when it records a node, and
    with Values when `autograd.grad(..., create_graph=True)` differentiates it
    again. The same rule serves both.

    A Primitive is a function: called on numbers it returns a float; called
    with at least one Value it returns a Value recorded in the graph.

    Example:
        >>> import math
        >>> from autograd import Primitive, Value, sigmoid
        >>> softplus = Primitive(
        ...     "softplus",
        ...     forward=lambda x: math.log1p(math.exp(x)),
        ...     derivatives=lambda x, out: (sigmoid(x),),
        ... )
        >>> y = softplus(Value(0.0))
        >>> y.backward()
        >>> y.parents[0].grad
        0.5
    """

    __slots__ = ("name", "forward", "derivatives")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivatives: Callable[..., Sequence[Any]],
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Primitive name must be a non-empty str, not {name!r}")
        if not callable(forward):
            raise TypeError(f"Primitive {name!r}: forward must be callable, not {type(forward).__name__}")
        if not callable(derivatives):
            raise TypeError(f"Primitive {name!r}: derivatives must be callable, not {type(derivatives).__name__}")
        self.name = name
        self.forward = forward
        self.derivatives = derivatives

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"

    def __call__(self, *operands: Any) -> Any:
        """Apply the primitive: a float for numbers, a recorded Value otherwise.

        An operand of another kind takes over if its type defines
        ``__apply_primitive__(primitive, operands)``: that is how forward mode's
        dual numbers run every primitive, user-defined ones included.
        """
        datas = []
        has_value = False
        for operand in operands:
            if isinstance(operand, Value):
                datas.append(operand.data)
                has_value = True
            else:
                c = _operand(operand)
                if c is None:
                    return _foreign(self, operands)
                datas.append(c)
        out = _checked_float(self.forward(*datas), self.name, "forward")
        if not has_value:
            return out
        if not _recording:
            return _leaf(out)
        rule = self.derivatives(*datas, out)
        if len(rule) != len(operands):
            raise ValueError(
                f"derivative rule of {self.name!r} returned {len(rule)} local derivatives for {len(operands)} operands"
            )
        recorded = [o if isinstance(o, Value) else d for o, d in zip(operands, datas)]
        local_grads = [_checked_float(local, self.name, "derivatives") for local in rule]
        return _node(out, self, _interleave(recorded, local_grads))


class Value:
    """A scalar in the computation graph: its data, its gradient, and how it was made.

    Args:
        data: a real number (ints and bools are converted to float).
        label: an optional name, shown when the graph is drawn.

    Example:
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b + a
        >>> c.backward()
        >>> a.grad, b.grad
        (-2.0, 2.0)
    """

    __slots__ = ("data", "grad", "label", "_op", "_edges", "__weakref__")

    data: float
    grad: float
    label: str
    _op: Primitive | None
    _edges: tuple[Any, ...]
    """(operand, local derivative) pairs, flattened: ``(x, dx, y, dy, ...)``.

    An operand is a parent Value or, for a number in the expression, a float
    constant; a constant's local derivative is kept but never used. One flat
    tuple per node, rather than two, keeps nodes small and the collector's
    work low.
    """

    def __init__(self, data: Number, label: str = "") -> None:
        if type(data) is not float:
            if isinstance(data, Value):
                raise TypeError("Value() takes a number, not a Value: use Value(v.data) for a detached copy")
            if not isinstance(data, numbers.Real):
                raise TypeError(f"Value data must be a real number, not {type(data).__name__}")
            data = float(data)
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {type(label).__name__}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = None
        self._edges = ()

    # -- what drawing and teaching read -------------------------------------------------

    @property
    def op(self) -> str:
        """The name of the primitive that made this node ("" for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def primitive(self) -> Primitive | None:
        """The primitive that made this node (None for a leaf)."""
        return self._op

    @property
    def operands(self) -> tuple[Operand, ...]:
        """The operands in the order the operation takes them: parent Values and constants."""
        return self._edges[0::2]

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this node was computed from, in operand order (repeats kept)."""
        return tuple(operand for operand in self._edges[0::2] if type(operand) is not float)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each of `parents`, recorded when the node was made."""
        edges = iter(self._edges)
        return tuple(local for operand, local in zip(edges, edges) if type(operand) is not float)

    @property
    def is_leaf(self) -> bool:
        """True for a Value the user created (or one made under `no_grad`)."""
        return self._op is None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # -- arithmetic ----------------------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        return _binary(add, self, other)

    def __radd__(self, other: Number) -> Value:
        return _binary(add, other, self)

    def __sub__(self, other: Value | Number) -> Value:
        if isinstance(other, Value):
            return _binary(add, self, -other)
        c = _operand(other)
        return NotImplemented if c is None else _binary(add, self, -c)

    def __rsub__(self, other: Number) -> Value:
        c = _operand(other)
        return NotImplemented if c is None else _binary(add, -self, c)

    def __mul__(self, other: Value | Number) -> Value:
        return _binary(mul, self, other)

    def __rmul__(self, other: Number) -> Value:
        return _binary(mul, other, self)

    def __truediv__(self, other: Value | Number) -> Value:
        return _binary(div, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        return _binary(div, other, self)

    def __pow__(self, other: Value | Number) -> Value:
        return _binary(power, self, other)

    def __rpow__(self, other: Number) -> Value:
        return _binary(power, other, self)

    def __neg__(self) -> Value:
        return _unary(neg, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(absolute, self)

    # Ordering compares data, so `v > 0` works in rules and loops. Equality stays
    # identity: Values are dictionary keys and set members in every graph walk.
    def __lt__(self, other: Value | Number) -> bool:
        c = _comparable(other)
        return NotImplemented if c is None else self.data < c

    def __le__(self, other: Value | Number) -> bool:
        c = _comparable(other)
        return NotImplemented if c is None else self.data <= c

    def __gt__(self, other: Value | Number) -> bool:
        c = _comparable(other)
        return NotImplemented if c is None else self.data > c

    def __ge__(self, other: Value | Number) -> bool:
        c = _comparable(other)
        return NotImplemented if c is None else self.data >= c

    __hash__ = object.__hash__

    # -- functions -----------------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self."""
        return _unary(exp, self)

    def log(self) -> Value:
        """Natural logarithm; ValueError for self <= 0."""
        return _unary(log, self)

    def sqrt(self) -> Value:
        """Square root; ValueError for self < 0. Its derivative at 0 is inf."""
        return _unary(sqrt, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(tanh, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1 / (1 + e ** -self), stable for any input."""
        return _unary(sigmoid, self)

    def relu(self) -> Value:
        """max(0, self), with relu'(0) = 0."""
        return _unary(relu, self)

    def sin(self) -> Value:
        """Sine."""
        return _unary(sin, self)

    def cos(self) -> Value:
        """Cosine."""
        return _unary(cos, self)

    # -- gradients -----------------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``.grad`` of every Value this one depends on: d(self)/d(that Value).

        Seeds ``self.grad`` with 1 and applies the chain rule once per node, in
        reverse topological order. Leaves (Values you created) accumulate, as in
        PyTorch: call `zero_grad` on them, or set ``.grad = 0.0``, between
        steps. Every other node's gradient is recomputed from zero, so after a
        call each node shows the gradient of this call.

        A node whose gradient is zero (behind a ReLU that is off, or a hinge
        whose margin is met) passes nothing on, unless one of its local
        derivatives is infinite or nan: 0 * inf is nan, and it arrives. The
        gradients are those of adding every zero, to the last bit, with one
        exception: a leaf gradient you set to -0.0 (or to a non-float) before
        the call keeps what you set, where adding +0.0 would make it +0.0.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        if self._op is None:
            self.grad += 1.0
            return
        self.grad = 1.0
        for node in reversed(order):
            g = node.grad
            # NOTE: skipping a node whose gradient is zero changes nothing: each of its
            # terms, 0 * local, is a zero, and adding a zero leaves a gradient as it was
            # (gradients start at +0.0, and sums that start there never become -0.0).
            # Unless a local derivative is infinite or nan: 0 * inf is nan, and must arrive.
            if g == 0.0 and isfinite(sum(node._edges[1::2])):
                continue
            edges = iter(node._edges)
            for operand, local in zip(edges, edges):
                if type(operand) is not float:  # constants have no gradient
                    operand.grad += local * g


def topological_order(root: Value) -> list[Value]:
    """The non-leaf nodes that `root` depends on, every node after its parents.

    The order is deterministic: a depth-first walk over operands in operand
    order. It uses an explicit stack, so graphs of any depth work without
    touching the recursion limit. Leaves are left out: backward needs no step
    for them, and a leaf's gradient only accumulates.
    """
    order: list[Value] = []
    if root._op is None:
        return order
    visited = {root}
    stack: list[tuple[Value, Iterator[Any]]] = [(root, iter(root._edges[0::2]))]
    while stack:
        node, operands = stack[-1]
        for operand in operands:
            if type(operand) is float or operand._op is None or operand in visited:
                continue
            visited.add(operand)
            stack.append((operand, iter(operand._edges[0::2])))
            break
        else:
            stack.pop()
            order.append(node)
    return order


# -- building nodes ------------------------------------------------------------------


def _node(data: float, op: Primitive, edges: tuple[Any, ...]) -> Value:
    out: Value = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    out._edges = edges
    return out


def _leaf(data: float) -> Value:
    out: Value = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = None
    out._edges = ()
    return out


def _unary(op: Primitive, x: Value) -> Value:
    xd = x.data
    out = op.forward(xd)
    if not _recording:
        return _leaf(out)
    return _node(out, op, (x, op.derivatives(xd, out)[0]))


def _binary(op: Primitive, x: Value | Number, y: Value | Number) -> Value:
    """x op y for the operators: the hot path, with numbers taken as constants."""
    if type(y) is Value or isinstance(y, Value):
        yd = y.data
        if type(x) is Value or isinstance(x, Value):
            xd = x.data
            out = op.forward(xd, yd)
            if not _recording:
                return _leaf(out)
            dx, dy = op.derivatives(xd, yd, out)
            return _node(out, op, (x, dx, y, dy))
        c = _operand(x)
        if c is None:
            return NotImplemented  # type: ignore[no-any-return]
        out = op.forward(c, yd)
        if not _recording:
            return _leaf(out)
        dc, dy = op.derivatives(c, yd, out)
        return _node(out, op, (c, dc, y, dy))
    c = _operand(y)
    if c is None:
        return NotImplemented  # type: ignore[no-any-return]
    xd = x.data  # type: ignore[union-attr]
    out = op.forward(xd, c)
    if not _recording:
        return _leaf(out)
    dx, dc = op.derivatives(xd, c, out)
    return _node(out, op, (x, dx, c, dc))


def _operand(x: object) -> float | None:
    """A number as a float constant; None for anything else (the caller returns NotImplemented)."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    return None


def _comparable(x: object) -> float | None:
    return x.data if isinstance(x, Value) else _operand(x)


def _checked_float(x: object, op_name: str, what: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    raise TypeError(f"{what} of primitive {op_name!r} must return real numbers, got {type(x).__name__}")


def data_of(x: Value | Number) -> float:
    """The float inside a Value, or the number itself: for rules that branch on a value."""
    return x.data if isinstance(x, Value) else float(x)


# -- fused n-ary primitives ------------------------------------------------------------


def sum_values(values: Iterable[Value | Number]) -> Value:
    """The sum of many Values as one node (one local derivative of 1 per term).

    Adds left to right, so the result equals ``sum(values)`` to the last bit.

    Example:
        >>> xs = [Value(1.0), Value(2.0), Value(3.5)]
        >>> s = sum_values(xs)
        >>> s.data, len(s.parents)
        (6.5, 3)
    """
    terms = tuple(values)
    if not terms:
        return Value(0.0)
    return _nary(total, terms)


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
    return _weighted_sums((weights,), inputs, (bias,))[0]


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
        named = {"weights": weights, "biases": biases, "inputs": inputs}
        _refuse_non_sequences("linear", named)
        _refuse_non_sequences("linear", {f"row {i} of the weights": row for i, row in enumerate(weights)})
        raise
    if rows != nb:
        raise ValueError(f"linear: {rows} rows of weights but {nb} biases")
    for i, nw in enumerate(widths):
        if nw != nx:
            raise ValueError(f"linear: row {i} has {nw} weights but there are {nx} inputs")
    return _weighted_sums(weights, inputs, biases)


def _refuse_non_sequences(op_name: str, named: Mapping[str, object]) -> None:
    """Raise a TypeError naming the first argument that has no length (called once len() has failed)."""
    for what, items in named.items():
        if not hasattr(items, "__len__"):
            raise TypeError(f"{op_name}: {what} must be a list or tuple, not {type(items).__name__}")


def _weighted_sums(rows: Sequence[Sequence[Any]], inputs: Sequence[Any], biases: Sequence[Any]) -> list[Value]:
    """The nodes of `dot` and `linear`, from rows of weights checked to fit the inputs.

    NOTE: this is the `weighted_sum` rule of `autograd.rules` written out for
    speed, the hot path of every neuron: the same left-to-right sum, and the
    same local derivatives (each weight's is its input, each input's its
    weight, the bias's 1). The tests check that both build identical nodes.
    Rows with constants, and other operand types, take the generic path.
    """
    xs = tuple(inputs)
    n = len(xs)
    if n and countOf(map(type, xs), Value) == n:  # checked at C speed, as in _nary
        x_datas = [x.data for x in xs]
    elif n and set(map(type, xs)) <= _VALUE_OR_FLOAT:
        x_datas = [x if type(x) is float else x.data for x in xs]
    else:
        return [_nary(weighted_sum, (*row, *xs, bias)) for row, bias in zip(rows, biases)]
    m = 2 * n
    nodes = []
    for row, bias in zip(rows, biases):
        if countOf(map(type, row), Value) != n or type(bias) not in _VALUE_OR_FLOAT:
            nodes.append(_nary(weighted_sum, (*row, *xs, bias)))
            continue
        w_datas = [w.data for w in row]
        out = bias if type(bias) is float else bias.data
        for w, x in zip(w_datas, x_datas):
            out += w * x
        if not _recording:
            nodes.append(_leaf(out))
            continue
        edges: list[Any] = [1.0] * (m + m + 2)  # the last slot: the bias's local derivative
        edges[0::2] = (*row, *xs, bias)
        edges[1:m:2] = x_datas
        edges[m + 1 : m + m : 2] = w_datas
        nodes.append(_node(out, weighted_sum, tuple(edges)))
    return nodes


def _nary(op: Primitive, operands: tuple[Any, ...]) -> Value:
    if countOf(map(type, operands), Value) == len(operands):  # all Values: the common case, checked at C speed
        datas = [operand.data for operand in operands]
    else:
        if not set(map(type, operands)) <= _VALUE_OR_FLOAT:  # Value subclasses, ints, other numbers, foreign types
            converted = [operand if isinstance(operand, Value) else _operand(operand) for operand in operands]
            if None in converted:
                return _foreign(op, operands)  # type: ignore[no-any-return]
            operands = tuple(converted)
        datas = [operand if type(operand) is float else operand.data for operand in operands]
        if countOf(map(type, operands), float) == len(operands):  # numbers only: no graph
            return _leaf(op.forward(*datas))
    out = op.forward(*datas)
    if not _recording:
        return _leaf(out)
    return _node(out, op, _interleave(operands, op.derivatives(*datas, out)))


_VALUE_OR_FLOAT = frozenset({Value, float})


def _interleave(operands: Sequence[Any], local_grads: Sequence[Any]) -> tuple[Any, ...]:
    """(x, dx, y, dy, ...) from (x, y, ...) and (dx, dy, ...), at C speed."""
    edges: list[Any] = [None] * (2 * len(operands))
    edges[0::2] = operands
    edges[1::2] = local_grads
    return tuple(edges)


def _foreign(op: Primitive, operands: tuple[Any, ...]) -> Any:
    """Hand the operation to an operand type that knows how to run primitives, or refuse."""
    for operand in operands:
        apply = getattr(type(operand), "__apply_primitive__", None)
        if apply is not None:
            return apply(op, operands)
    for operand in operands:
        if not isinstance(operand, (Value, numbers.Real)):
            raise TypeError(f"{op.name!r} takes Values or real numbers, not {type(operand).__name__}")
    raise AssertionError("unreachable: some operand was neither a Value nor a number")


# -- recording on and off ---------------------------------------------------------------


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block, operations compute values but record no graph.

    Results are leaves, so nothing is kept alive for a backward pass: use it for
    evaluation and for parameter updates. Blocks nest; each restores the
    setting it found. The setting is global to the process (not per thread).

    Example:
        >>> w = Value(3.0)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.is_leaf
        True
    """
    global _recording
    previous, _recording = _recording, False
    try:
        yield
    finally:
        _recording = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph inside this block, even within a `no_grad` block."""
    global _recording
    previous, _recording = _recording, True
    try:
        yield
    finally:
        _recording = previous


def is_grad_enabled() -> bool:
    """True when operations record the graph (outside any `no_grad` block)."""
    return _recording


# The rules need Primitive (above) and Value's operators need the rules: the
# table is imported last so that both modules read top to bottom.
from autograd.rules import (  # noqa: E402
    absolute,
    add,
    cos,
    div,
    exp,
    log,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
    total,
    weighted_sum,
)
