"""The engine: the `Value` node, how an operation records itself, and backward.

Read it top to bottom, after the rule table (`autograd.rules`): what a node
holds (a float, its gradient, the primitive that made it, and an *edge* per
operand: the operand with the local derivative d(node)/d(operand)); how an
operator records a node; backward, ``operand.grad += local * node.grad`` once
per edge in reverse topological order, naming no operation; the walk that
gives that order; and threads: `no_grad` (per thread) and the lock that lets
one sweep at a time write gradients. Fast paths live in `autograd.fused`.

Nodes refer only to their parents, never to their children, so the graph has
no reference cycles: once nothing refers to an output, it is freed at once.
"""

from __future__ import annotations

import numbers
import operator
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from math import isfinite
from typing import Any

from autograd import rules
from autograd.primitive import Primitive, as_float, check_text

__all__ = ["Value", "backpropagate", "enable_grad", "is_grad_enabled", "no_grad", "topological_order"]


# Value's operators and functions, each recording one node through `_binary` or `_unary` (below).


def _operator(op: Primitive, reflected: bool = False) -> Callable[[Value, Any], Value]:
    if reflected:
        return lambda self, other: _binary(op, other, self)
    return lambda self, other: _binary(op, self, other)


def _function(op: Primitive, doc: str) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return _unary(op, self)

    method.__name__, method.__doc__ = op.name, doc
    return method


def _ordering(compare: Callable[[float, float], bool]) -> Callable[[Value, object], bool]:
    def method(self: Value, other: object) -> bool:
        c = other.data if isinstance(other, Value) else _constant(other)
        return NotImplemented if c is None else compare(self.data, c)

    return method


class Value:
    """A scalar in the computation graph: its data, its gradient, and how it was made.

    Args:
        data: a real number (ints and bools are converted to float).
        label: an optional name, shown when the graph is drawn (a NUL or lone surrogate: ValueError).

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
    """(operand, local derivative) pairs, flattened: ``(x, dx, y, dy, ...)``; one tuple keeps nodes small."""

    def __init__(self, data: float, label: str = "") -> None:
        if type(data) is not float:
            if isinstance(data, Value):
                raise TypeError("Value() takes a number, not a Value: use Value(v.data) for a detached copy")
            if not isinstance(data, numbers.Real):
                raise TypeError(f"Value data must be a real number, not {type(data).__name__}")
            data = float(data)
        if label != "":  # a str that every picture can hold (TypeError, ValueError)
            check_text(label, "Value label")
        self.data, self.grad, self.label, self._op, self._edges = data, 0.0, label, None, ()

    @property
    def op(self) -> str:
        """The name of the primitive that made this node ("" for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def primitive(self) -> Primitive | None:
        """The primitive that made this node (None for a leaf)."""
        return self._op

    @property
    def operands(self) -> tuple[Value | float, ...]:
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
        return f"Value(data={self.data!r}, grad={self.grad!r}{f', label={self.label!r}' if self.label else ''})"

    # -- operators and functions: each records one node of its primitive (`_binary`, `_unary`) --

    def __sub__(self, other: Value | float) -> Value:
        c = other if isinstance(other, Value) else _constant(other)
        return NotImplemented if c is None else self + -c

    def __rsub__(self, other: float) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else -self + c

    def __pos__(self) -> Value:
        return self

    __add__, __radd__ = _operator(rules.add), _operator(rules.add, reflected=True)
    __mul__, __rmul__ = _operator(rules.mul), _operator(rules.mul, reflected=True)
    __truediv__, __rtruediv__ = _operator(rules.div), _operator(rules.div, reflected=True)
    __pow__, __rpow__ = _operator(rules.pow_), _operator(rules.pow_, reflected=True)
    __neg__ = _function(rules.neg, "-self.")
    __abs__ = _function(rules.abs_, "|self|, with abs'(0) = 0.")
    exp = _function(rules.exp, "e ** self.")
    log = _function(rules.log, "Natural logarithm; ValueError for self <= 0.")
    sqrt = _function(rules.sqrt, "Square root; ValueError for self < 0. Its derivative at 0 is inf.")
    tanh = _function(rules.tanh, "Hyperbolic tangent.")
    sigmoid = _function(rules.sigmoid, "Logistic sigmoid 1 / (1 + e ** -self), stable for any input.")
    relu = _function(rules.relu, "max(0, self), with relu'(0) = 0.")
    sin = _function(rules.sin, "Sine.")
    cos = _function(rules.cos, "Cosine.")

    def leaky_relu(self, slope: Value | float = 0.01) -> Value:
        """self if self > 0 else slope * self (a number slope is a constant); its slope at 0 is `slope`, as in torch."""
        return Value.__apply_primitive__(rules.leaky_relu, (self, slope))

    # Ordering compares data, so `v > 0` works in rules and loops. Equality stays
    # identity: Values are dictionary keys and set members in every graph walk.
    __lt__, __le__, __gt__, __ge__ = (_ordering(c) for c in (operator.lt, operator.le, operator.gt, operator.ge))
    __hash__ = object.__hash__

    @staticmethod
    def __apply_primitive__(op: Primitive, operands: Sequence[Any]) -> Value:
        """Any primitive on Values and numbers: the plain way a node is made, with every result checked."""
        datas = []
        for operand in operands:
            c = operand.data if isinstance(operand, Value) else _constant(operand)
            if c is None:
                raise TypeError(f"{op.name!r} takes Values or real numbers, not {type(operand).__name__}")
            datas.append(c)
        out = as_float(op.forward(*datas), op.name, "forward")
        local_grads = op.check_locals(op.derivatives(*datas, out), len(datas))
        recorded = [o if isinstance(o, Value) else d for o, d in zip(operands, datas)]
        return _node(out, op, tuple(item for edge in zip(recorded, local_grads) for item in edge))

    # -- backward --------------------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``.grad`` of every Value this one depends on: d(self)/d(that Value).

        Seeds ``self.grad`` with 1, then `backpropagate`. Leaves (Values you
        created) accumulate, as in PyTorch: set ``.grad = 0.0`` between steps;
        every other node's gradient is recomputed (the plain chain rule's bits,
        but a leaf gradient set to -0.0 stays so). Threads take turns.
        """
        with sweep_lock:
            order = topological_order(self)
            for node in order:
                node.grad = 0.0
            self.grad = 1.0 if order else self.grad + 1.0  # a leaf (no order) accumulates, as leaves do
            backpropagate(order)


# -- how an operation records: a node is made in `_node` alone ----------------------------


def _node(data: float, op: Primitive, edges: tuple[Any, ...]) -> Value:
    """A computed node; a leaf instead when recording is off (inside `no_grad`)."""
    if _threads_off and not _thread.enabled:  # one global read while no thread is in `no_grad`
        return _leaf(data)
    out: Value = _new(Value)  # one assignment a field: faster than unpacking a tuple, on the hottest path
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


_new = object.__new__


def _unary(op: Primitive, x: Value) -> Value:
    """`Value.__apply_primitive__` specialised to one Value and a rule of the table (trusted: no checks)."""
    xd = x.data
    out = op.forward(xd)
    return _node(out, op, (x, op.derivatives(xd, out)[0]))


def _binary(op: Primitive, x: Value | float, y: Value | float) -> Value:
    """`Value.__apply_primitive__` specialised to the operators: two operands, numbers kept as constants."""
    if isinstance(x, Value):
        xd: Any = x.data
    else:
        xd = x = _constant(x)  # type: ignore[assignment]
    if isinstance(y, Value):
        yd: Any = y.data
    else:
        yd = y = _constant(y)  # type: ignore[assignment]
    if xd is None or yd is None:
        return NotImplemented  # type: ignore[no-any-return]
    out = op.forward(xd, yd)
    dx, dy = op.derivatives(xd, yd, out)
    return _node(out, op, (x, dx, y, dy))


def _constant(x: object) -> float | None:
    """A number as a float constant; None for anything else (the caller returns NotImplemented)."""
    if type(x) is float:
        return x
    return float(x) if isinstance(x, numbers.Real) else None


# -- backward ----------------------------------------------------------------------------


def backpropagate(order: list[Value], local_grads: Callable[[Value], Sequence[Any]] | None = None) -> None:
    """The chain rule, once per node of `order`, last first: ``operand.grad += local * node.grad``.

    In reverse topological order a node's ``.grad`` is complete when its turn
    comes. `local_grads(node)` replaces the recorded local derivatives: the
    rules run again on Values, from `autograd.grad`, for gradients as graphs.
    """
    for node in reversed(order):
        g = node.grad
        if local_grads is None:
            edges = node._edges
            # NOTE: skipping a node of gradient zero changes nothing: its terms 0 * local are zeros, which leave
            # gradients as they were (from +0.0 they never become -0.0). Unless a local is inf or nan: 0 * inf is nan.
            if g == 0.0 and isfinite(sum(edges[1::2])):
                continue
            pairs = iter(edges)
            for operand, local in zip(pairs, pairs):
                if type(operand) is not float:  # constants have no gradient
                    operand.grad += local * g
        else:
            for operand, local in zip(node._edges[0::2], local_grads(node)):
                if type(operand) is not float:
                    operand.grad += local * g


# -- the walk ------------------------------------------------------------------------------


def topological_order(root: Value, *, leaves: bool = False) -> list[Value]:
    """The nodes `root` depends on, each after its operands, `root` last.

    A depth-first walk in operand order (deterministic) with an explicit stack, so any
    depth works. Leaves are left out unless `leaves` is true: backward needs no step for them.
    """
    if root._op is None:
        return [root] if leaves else []
    order: list[Value] = []
    known = {root}  # every Value met so far, leaves too
    stack: list[tuple[Value, Iterator[Any]]] = [(root, iter(root._edges[0::2]))]
    while stack:
        node, operands = stack[-1]
        for operand in operands:
            if type(operand) is float or operand in known:
                continue
            known.add(operand)
            if operand._op is None:  # a leaf: no step of its own, and no operands to walk
                if leaves:
                    order.append(operand)
                continue
            below = operand._edges[0::2]
            # NOTE: a wide node whose operands were all met (most neurons of a layer: the same weights and
            # inputs) has nothing new below: its turn is now, after one set test at C speed (not worth it on 1 or 2).
            if len(below) > 2 and known.issuperset(below):
                order.append(operand)
                continue
            stack.append((operand, iter(below)))
            break
        else:
            stack.pop()
            order.append(node)
    return order


# -- threads: grad mode is per thread, as in PyTorch; sweeps that write .grad take turns --------

_threads_off = 0  # how many threads are inside a `no_grad` block; while none is, `_node` reads nothing else
_thread: Any = type("GradMode", (threading.local,), {"enabled": True})()  # `.enabled`: per thread, True at first
_mode_lock = threading.Lock()
sweep_lock = threading.RLock()  # held by `Value.backward` and `autograd.grad`: graphs may share nodes


def no_grad() -> AbstractContextManager[None]:
    """Inside this block, operations compute values but record no graph.

    Results are leaves, so nothing is kept alive for a backward pass: use it for
    evaluation and for parameter updates. Blocks nest; each restores the
    setting it found. The setting is per thread: other threads keep recording.

    Example:
        >>> w = Value(3.0)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.is_leaf
        True
    """
    return _grad_mode(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph inside this block, even within a `no_grad` block."""
    return _grad_mode(True)


def is_grad_enabled() -> bool:
    """True when operations in this thread record the graph (outside any `no_grad` block)."""
    return bool(_thread.enabled)


@contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    global _threads_off
    with _mode_lock:
        previous: bool = _thread.enabled
        _thread.enabled, _threads_off = enabled, _threads_off + previous - enabled  # on to off: one more off
    try:
        yield
    finally:
        with _mode_lock:
            _thread.enabled, _threads_off = previous, _threads_off + enabled - previous
