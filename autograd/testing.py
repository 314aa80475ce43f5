"""Hypothesis strategies for property tests of derivatives: yours and the engine's.

Not imported by ``import autograd`` (it needs hypothesis): import it as
``autograd.testing``.

- `floats_in(lo, hi)`: finite floats in an interval, optionally kept away from
  points such as kinks; `floats_for(op)`: floats inside one operation's domain.
- `values(lo, hi)`: leaf Values with such data.
- `expressions(...)`: random expression DAGs over the engine's operations
  (`OPS`: the operators, numbers as constant operands, every function, and the
  fused ``sum`` and ``dot``), drawn together with a point at which every
  intermediate result lies inside its operation's domain, away from kinks,
  and below `LIMIT` in size. A node may be used several times, so the graphs
  have shared subexpressions. Choose the operations (yours too, with
  `op_from_primitive`), how many leaves, how many operations and how deep;
  hypothesis shrinks a failing expression to a small one.

An `Expression` is a reusable object: it evaluates on anything the engine's
functions accept (Values for reverse mode, floats, `autograd.Dual` for forward
mode) and, given a table of functions, on another library's tensors. It prints
as readable math, also in hypothesis's report of a failing example.

Example, a user's property test (pytest collects a function like this one;
here it is called directly):

    >>> from hypothesis import given, settings
    >>> from autograd import gradcheck
    >>> from autograd.testing import expressions
    >>> @settings(max_examples=25, deadline=None)
    ... @given(expressions(ops=["add", "mul", "tanh", "exp"], leaves=2, size=(1, 6)))
    ... def test_my_engine_agrees_with_central_differences(expression):
    ...     assert gradcheck(expression.evaluate, expression.point)
    >>> test_my_engine_agrees_with_central_differences()
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from autograd import rules
from autograd.engine import Value, no_grad
from autograd.primitive import Primitive, data_of
from autograd.rules import KINK_MARGIN, PRIMITIVES

__all__ = [
    "LIMIT",
    "MARGIN",
    "OPS",
    "Expression",
    "Op",
    "expressions",
    "floats_for",
    "floats_in",
    "op_from_primitive",
    "values",
]

LIMIT = 1e3
"""Intermediate results stay below this in absolute value, so that central differences stay accurate."""
MARGIN = KINK_MARGIN
"""How far arguments keep from a kink by default (the rule table's margin)."""

Argument = int | float
"""A node's argument: an int indexes an input or an earlier node; a float is a constant."""
Node = tuple[str, tuple[Argument, ...]]


def _anywhere(*_: float) -> bool:
    return True


@dataclass(frozen=True)
class Op:
    """An operation an expression may use.

    Attributes:
        name: the key in a table of operations (and of replacement functions).
        arity: how many arguments it takes.
        apply: the function, applied to whatever the expression is evaluated on.
        allowed: which argument values (floats) keep the operation inside its
            domain and away from kinks.
        template: how it prints, with ``{0}``, ``{1}``, ... for the arguments;
            ``name(...)`` when empty. An operator's template begins with "(".
        constants: whether arguments may be numbers instead of nodes (at
            least one argument is always a node).
    """

    name: str
    arity: int
    apply: Callable[..., Any]
    allowed: Callable[..., bool] = _anywhere
    template: str = ""
    constants: bool = False

    def format(self, *arguments: str) -> str:
        """The operation applied to these argument texts, as readable math.

        Arguments keep their outer parentheses only where the template is an
        operator's, one that begins with "(": ``exp(x0 - x1)``, ``(x0 - x1) * x2``.
        """
        if not self.template.startswith("("):
            arguments = tuple(_unwrapped(a) for a in arguments)
        if self.template:
            return self.template.format(*arguments)
        return f"{self.name}({', '.join(arguments)})"


_PYTHON_OPERATORS: dict[str, tuple[Callable[..., Any], str]] = {
    "+": (lambda a, b: a + b, "({0} + {1})"),
    "*": (lambda a, b: a * b, "({0} * {1})"),
    "/": (lambda a, b: a / b, "({0} / {1})"),
    "**": (lambda a, b: a**b, "({0} ** {1})"),
    "-": (lambda a: -a, "(-{0})"),
}
"""Python's operators: how an expression applies and prints a primitive that has one."""
VARIADIC_ARITY = 5
"""Operands given to a primitive that takes any number: ``sum`` of 5; ``dot`` of 2 weights, 2 inputs and a bias."""


def _op_of(p: Primitive) -> Op:
    """A primitive of the table as an expression operation: its operator, or a call of the primitive itself."""
    arity = VARIADIC_ARITY if p.arity is None else p.arity
    apply, template = _PYTHON_OPERATORS.get(p.operator or "", (p, ""))
    if p.name == "abs":
        apply = abs  # Python's abs(), as a user writes it
    slots = [f"{{{i}}}" for i in range(arity)]
    if p is rules.sum_:  # printed as the call a user writes
        template = f"sum([{', '.join(slots)}])"
    elif p is rules.dot:
        weights, inputs, bias = rules.split_dot(slots)
        template = f"dot([{', '.join(weights)}], [{', '.join(inputs)}], {bias})"
    return Op(p.name, arity, apply, p.smooth, template, constants=arity > 1)


OPS: dict[str, Op] = {
    **{p.name: _op_of(p) for p in PRIMITIVES.values()},
    "sub": Op("sub", 2, lambda a, b: a - b, _anywhere, "({0} - {1})", constants=True),  # a + (-b), two nodes
    "square": Op("square", 1, lambda a: a**2, _anywhere, "({0}**2)"),  # a ** 2.0, a constant exponent
}
"""The engine's operations, as expressions use them, by name: every row of the rule table, and two compositions.

Each primitive appears under its table name (``add``, ``exp``, ``dot``, ...),
applied as a user writes it: with its Python operator when it has one,
otherwise by calling the primitive, which runs on floats, Values and Duals.
Primitives of two or more operands may take numbers as constant operands.
``sub`` and ``square`` are the compositions ``a - b`` and ``a ** 2``. Pass
other functions to `Expression.evaluate` by these names.
"""


def floats_in(lo: float, hi: float, *, avoid: Sequence[float] = (), margin: float = MARGIN) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], at least `margin` away from each point in `avoid`.

    Example:
        >>> from hypothesis import find
        >>> x = find(floats_in(-1.0, 1.0, avoid=[0.0]), lambda x: abs(x) < 0.1)
        >>> 0.05 <= abs(x) < 0.1
        True
    """
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"floats_in needs finite lo < hi, not {lo!r} and {hi!r}")
    if margin < 0:
        raise ValueError(f"floats_in needs margin >= 0, not {margin!r}")
    strategy = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if avoid:
        strategy = strategy.filter(lambda x: all(abs(x - a) >= margin for a in avoid))
    return strategy


def floats_for(op: str | Op, lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    """Floats in [lo, hi] inside a unary operation's domain, away from its kinks (``"log"``: above 0.2).

    Example:
        >>> from hypothesis import find
        >>> find(floats_for("sqrt"), lambda x: True) > 0.2
        True
    """
    chosen = _lookup(op)
    if chosen.arity != 1:
        raise ValueError(f"floats_for needs a unary operation, and {chosen.name!r} takes {chosen.arity} arguments")
    return floats_in(lo, hi).filter(chosen.allowed)


def values(lo: float = -3.0, hi: float = 3.0, *, avoid: Sequence[float] = ()) -> st.SearchStrategy[Value]:
    """Leaf Values whose data are `floats_in(lo, hi, avoid=avoid)`.

    Example:
        >>> from hypothesis import find
        >>> find(values(1.0, 2.0), lambda v: True)
        Value(data=1.0, grad=0.0)
    """
    return floats_in(lo, hi, avoid=avoid).map(Value)


@dataclass(frozen=True, repr=False)
class Expression:
    """A DAG of operations over `leaves` inputs, with a point inside every domain.

    ``nodes[k]`` is ``(op name, arguments)``. An int argument i < leaves is
    input ``x{i}``, i = leaves + k is node k; a float argument is a constant.
    The last node is the output.

    Example:
        >>> e = Expression(1, (("sin", (0,)), ("mul", (1, 1)), ("add", (2, 0.5))), (0.3,))
        >>> print(e)
        t0 = sin(x0); (t0 * t0) + 0.5  at x0=0.3
        >>> round(e.evaluate(0.3), 6), round(e.evaluate(Value(0.3)).data, 6)
        (0.587332, 0.587332)
    """

    leaves: int
    nodes: tuple[Node, ...]
    point: tuple[float, ...]
    ops: Mapping[str, Op] = field(default_factory=lambda: OPS, compare=False)

    def evaluate(self, *inputs: Any, functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        """The output for these inputs (Values, floats, Duals, ...), computed node by node.

        On numbers it returns a float (computed without recording a graph).
        `functions` replaces operations by name, for example with another
        library's ``exp`` and ``log`` to evaluate on its tensors.
        """
        return self.trace(*inputs, functions=functions)[-1]

    def trace(self, *inputs: Any, functions: Mapping[str, Callable[..., Any]] | None = None) -> list[Any]:
        """Every intermediate result: the inputs, then each node's result, in order (as for `evaluate`).

        Example:
            >>> Expression(1, (("exp", (0,)), ("mul", (1, 0))), (0.0,)).trace(0.0)
            [0.0, 1.0, 0.0]
        """
        if len(inputs) != self.leaves:
            raise ValueError(f"this expression takes {self.leaves} inputs, got {len(inputs)}")
        replaced = functions or {}
        if all(isinstance(x, numbers.Real) for x in inputs):
            with no_grad():  # the fused operations return leaf Values even for numbers
                return [data_of(x) for x in self._run(list(inputs), replaced)]
        return self._run(list(inputs), replaced)

    def _run(self, results: list[Any], functions: Mapping[str, Callable[..., Any]]) -> list[Any]:
        for name, arguments in self.nodes:
            function = functions.get(name) or self.ops[name].apply
            results.append(function(*(results[a] if type(a) is int else a for a in arguments)))
        return results

    def uses(self) -> dict[int, int]:
        """How many times each input and node is used as an argument (shared subexpressions have 2+)."""
        counts: dict[int, int] = {}
        for _, arguments in self.nodes:
            for a in arguments:
                if type(a) is int:
                    counts[a] = counts.get(a, 0) + 1
        return counts

    @property
    def depth(self) -> int:
        """The most operations on a path from an input to the output."""
        depths = [0] * self.leaves
        for _, arguments in self.nodes:
            depths.append(1 + max(depths[a] for a in arguments if type(a) is int))
        return depths[-1]

    def __str__(self) -> str:
        """Readable math; nodes used more than once are named t0, t1, ... and defined first."""
        shared = {i for i, n in self.uses().items() if n > 1 and i >= self.leaves}
        texts: list[str] = [f"x{i}" for i in range(self.leaves)]
        definitions: list[str] = []
        for k, (name, arguments) in enumerate(self.nodes):
            text = self.ops[name].format(*(texts[a] if type(a) is int else repr(a) for a in arguments))
            if self.leaves + k in shared:
                definitions.append(f"t{len(definitions)} = {_unwrapped(text)}")
                text = f"t{len(definitions) - 1}"
            texts.append(text)
        point = ", ".join(f"x{i}={x!r}" for i, x in enumerate(self.point))
        return "; ".join([*definitions, _unwrapped(texts[-1])]) + f"  at {point}"

    def __repr__(self) -> str:
        return f"<Expression: {self}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis prints a failing example with this, instead of listing a dataclass's fields
        printer.text(repr(self))

    def __len__(self) -> int:
        return len(self.nodes)


def _unwrapped(text: str) -> str:
    """Drop one pair of outer parentheses when they enclose the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    level = 0
    for i, char in enumerate(text):
        level += (char == "(") - (char == ")")
        if level == 0 and i < len(text) - 1:
            return text  # "(a) + (b)": the first pair closes early
    return text[1:-1]


_CONSTANT_SLOT = st.sampled_from((False, False, False, True))
"""Whether an argument is a constant: one time in four, shrinking towards a node."""


@st.composite
def _expressions(
    draw: Any,
    ops: Mapping[str, Op],
    leaves: tuple[int, int],
    size: tuple[int, int],
    depth: int | None,
    lo: float,
    hi: float,
) -> Expression:
    count = draw(st.integers(*leaves))
    point = tuple(draw(floats_in(lo, hi)) for _ in range(count))
    data: list[float] = list(point)
    depths: list[int] = [0] * count
    nodes: list[Node] = []
    names = sorted(ops)
    wanted = draw(st.integers(*size))
    attempts = 0
    while len(nodes) < wanted and attempts < 20 * wanted:
        attempts += 1
        op = ops[draw(st.sampled_from(names))]
        # Prefer recent results, so that nodes chain; any earlier one may be reused (shared subexpressions).
        newest = len(data) - 1
        arguments: list[Argument] = [newest - draw(st.integers(0, newest)) for _ in range(op.arity)]
        if op.constants and op.arity > 1:
            for slot in range(op.arity):
                if draw(_CONSTANT_SLOT):
                    arguments[slot] = draw(floats_in(lo, hi))
            if all(type(a) is float for a in arguments):
                arguments[0] = newest
        references = [a for a in arguments if type(a) is int]
        node_depth = 1 + max(depths[a] for a in references)
        if depth is not None and node_depth > depth:
            continue
        arguments_data = [data[a] if type(a) is int else a for a in arguments]
        if not op.allowed(*arguments_data):
            continue
        try:
            result = data_of(op.apply(*arguments_data))
        except (ArithmeticError, ValueError):
            continue
        if not (math.isfinite(result) and abs(result) < LIMIT):
            continue
        nodes.append((op.name, tuple(arguments)))
        data.append(result)
        depths.append(node_depth)
    if not nodes:
        nodes.append(_fallback(ops, point))
    return Expression(count, _live(count, nodes), point, ops)


def _fallback(ops: Mapping[str, Op], point: tuple[float, ...]) -> Node:
    """One operation on one input, for when no drawn operation fitted; rejects the draw if none fits."""
    for name in sorted(ops):
        op = ops[name]
        for i, x in enumerate(point):
            if op.allowed(*[x] * op.arity):
                try:
                    result = data_of(op.apply(*[x] * op.arity))
                except (ArithmeticError, ValueError):
                    continue
                if math.isfinite(result) and abs(result) < LIMIT:
                    return (name, (i,) * op.arity)
    reject()  # no operation fits at this point: hypothesis draws another example


def _live(leaves: int, nodes: list[Node]) -> tuple[Node, ...]:
    """Only the nodes the output depends on, renumbered in order."""
    needed = {leaves + len(nodes) - 1}
    for k in range(len(nodes) - 1, -1, -1):
        if leaves + k in needed:
            needed.update(a for a in nodes[k][1] if type(a) is int)
    index = {i: i for i in range(leaves)}
    live: list[Node] = []
    for k, (name, arguments) in enumerate(nodes):
        if leaves + k in needed:
            index[leaves + k] = leaves + len(live)
            live.append((name, tuple(index[a] if type(a) is int else a for a in arguments)))
    return tuple(live)


def _lookup(op: str | Op) -> Op:
    if isinstance(op, Op):
        return op
    if op in OPS:
        return OPS[op]
    raise ValueError(f"unknown operation {op!r}; choose from {', '.join(OPS)} or pass an Op")


def _bounds(name: str, value: int | tuple[int, int], least: int) -> tuple[int, int]:
    low, high = (value, value) if isinstance(value, int) else value
    if low < least or low > high:
        raise ValueError(f"{name} must be at least {least} (a number or a (min, max) range), not {value!r}")
    return low, high


def expressions(
    ops: Sequence[str | Op] | None = None,
    *,
    leaves: int | tuple[int, int] = (1, 3),
    size: int | tuple[int, int] = (1, 8),
    depth: int | None = None,
    lo: float = -2.0,
    hi: float = 2.0,
) -> st.SearchStrategy[Expression]:
    """Random expression DAGs with a point where every operation is inside its domain.

    Operations are drawn one by one; each takes earlier nodes or inputs
    (recent ones more often, any of them possibly again) and, where allowed,
    constants. One whose arguments at the point fall outside its domain, near
    a kink, or whose result is not finite or exceeds `LIMIT`, is drawn again.
    Nodes the output does not depend on are dropped.

    Args:
        ops: operation names from `OPS`, or your own `Op` objects (for
            example from `op_from_primitive`); all of `OPS` by default.
        leaves: how many inputs, or a (min, max) range (an input may go unused).
        size: how many operations to draw, or a (min, max) range.
        depth: the most operations on any path from an input to the output
            (no limit by default).
        lo, hi: the range of the inputs' values and of constants.

    Raises:
        ValueError: an unknown operation, none at all, or a bad range.
    """
    table: dict[str, Op] = {}
    for op in OPS.values() if ops is None else ops:
        chosen = _lookup(op)
        table[chosen.name] = chosen
    if not table:
        raise ValueError("expressions needs at least one operation")
    leaf_range = _bounds("leaves", leaves, 1)
    size_range = _bounds("size", size, 1)
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth!r}")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"expressions needs finite lo < hi, not {lo!r} and {hi!r}")
    return _expressions(table, leaf_range, size_range, depth, lo, hi)


def op_from_primitive(
    primitive: Primitive,
    allowed: Callable[..., bool] = _anywhere,
    *,
    arity: int = 1,
    template: str = "",
    constants: bool = False,
) -> Op:
    """An `Op` for a `Primitive` of your own, so that expressions can use it.

    Example:
        >>> import math
        >>> from autograd import Primitive, cos
        >>> my_sin = Primitive("my_sin", math.sin, lambda x, out: (cos(x),))
        >>> op = op_from_primitive(my_sin)
        >>> print(Expression(1, (("my_sin", (0,)),), (0.5,), {"my_sin": op}))
        my_sin(x0)  at x0=0.5
    """
    if not isinstance(primitive, Primitive):
        raise TypeError(f"op_from_primitive needs a Primitive, not {type(primitive).__name__}")
    if arity < 1:
        raise ValueError(f"arity must be at least 1, not {arity!r}")
    return Op(primitive.name, arity, primitive, allowed, template, constants)
