"""Hypothesis strategies for property tests of derivatives: yours and the engine's.

Not imported by ``import autograd`` (it needs hypothesis): import it as
``autograd.testing``.

- `floats_in(lo, hi)`: finite floats in an interval, optionally kept away from points such as kinks.
- `values(lo, hi)`: Values with such data.
- `expressions(...)`: random expression DAGs over the engine's operations,
  drawn together with a point at which every intermediate result lies inside
  its operation's domain. Nodes may use earlier nodes several times, so the
  graphs have shared subexpressions. Choose the operations, the number of
  leaves and the number of operations; hypothesis shrinks a failing
  expression to a small one.

An `Expression` evaluates on anything the engine's functions accept: Values
(reverse mode), floats, `autograd.forward.Dual` (forward mode), or, given a
table of functions, tensors of another library. It prints as readable math.

Example, a user's property test:

    from hypothesis import given
    from autograd import gradcheck
    from autograd.testing import expressions

    @given(expressions(ops=["add", "mul", "tanh", "exp"], leaves=2, size=(1, 6)))
    def test_my_engine_agrees_with_central_differences(expression):
        assert gradcheck(expression.evaluate, expression.point)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import autograd
from autograd.engine import Primitive, Value

__all__ = ["OPS", "Expression", "Op", "expressions", "floats_in", "op_from_primitive", "values"]

LIMIT = 1e3
"""Intermediate results stay below this in absolute value, so that central differences stay accurate."""
MARGIN = 0.05
"""How far arguments keep from a domain's edge or a kink."""


@dataclass(frozen=True)
class Op:
    """An operation an expression may use.

    Attributes:
        name: how the expression prints it, and the key for a table of functions.
        arity: 1 or 2.
        apply: the function, applied to whatever the expression is evaluated on.
        allowed: which argument values (floats) keep the operation inside its
            domain and away from kinks.
        symbol: for binary operators, the infix symbol to print ("+", "*", ...).
    """

    name: str
    arity: int
    apply: Callable[..., Any]
    allowed: Callable[..., bool]
    symbol: str = ""


def _anywhere(*_: float) -> bool:
    return True


def _away_from_zero(x: float, *_: float) -> bool:
    return abs(x) > MARGIN


OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op("add", 2, lambda a, b: a + b, _anywhere, "+"),
        Op("sub", 2, lambda a, b: a - b, _anywhere, "-"),
        Op("mul", 2, lambda a, b: a * b, _anywhere, "*"),
        Op("div", 2, lambda a, b: a / b, lambda a, b: abs(b) > 0.2, "/"),
        Op("pow", 2, lambda a, b: a**b, lambda a, b: 0.2 < a < 10 and abs(b) < 3, "**"),
        Op("square", 1, lambda a: a**2, _anywhere),
        Op("neg", 1, lambda a: -a, _anywhere),
        Op("abs", 1, abs, _away_from_zero),
        Op("exp", 1, autograd.exp, lambda a: a < 5),
        Op("log", 1, autograd.log, lambda a: a > 0.2),
        Op("sqrt", 1, autograd.sqrt, lambda a: a > 0.2),
        Op("tanh", 1, autograd.tanh, _anywhere),
        Op("sigmoid", 1, autograd.sigmoid, _anywhere),
        Op("relu", 1, autograd.relu, _away_from_zero),
        Op("sin", 1, autograd.sin, _anywhere),
        Op("cos", 1, autograd.cos, _anywhere),
    ]
}
"""The engine's operations, as expressions use them, by name."""


def floats_in(lo: float, hi: float, *, avoid: Sequence[float] = (), margin: float = MARGIN) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], at least `margin` away from each point in `avoid`."""
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"floats_in needs finite lo < hi, not {lo!r} and {hi!r}")
    strategy = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if avoid:
        strategy = strategy.filter(lambda x: all(abs(x - a) >= margin for a in avoid))
    return strategy


def values(lo: float = -3.0, hi: float = 3.0, *, avoid: Sequence[float] = ()) -> st.SearchStrategy[Value]:
    """Leaf Values whose data are `floats_in(lo, hi, avoid=avoid)`."""
    return floats_in(lo, hi, avoid=avoid).map(Value)


@dataclass(frozen=True)
class Expression:
    """A DAG of operations over `leaves` inputs, with a point inside every domain.

    ``nodes[k]`` is ``(op name, argument indices)``; index i < leaves is input
    ``x{i}``, index leaves + k is node k. The last node is the output.
    """

    leaves: int
    nodes: tuple[tuple[str, tuple[int, ...]], ...]
    point: tuple[float, ...]
    ops: Mapping[str, Op] = field(default_factory=lambda: OPS, compare=False, repr=False)

    def evaluate(self, *inputs: Any, functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        """The output for these inputs (Values, floats, Duals, ...), computed node by node.

        `functions` replaces the operations by name, for example with another
        library's ``exp`` and ``log`` to evaluate on its tensors.
        """
        if len(inputs) != self.leaves:
            raise ValueError(f"this expression takes {self.leaves} inputs, got {len(inputs)}")
        results = list(inputs)
        for name, arguments in self.nodes:
            function = (functions or {}).get(name) or self.ops[name].apply
            results.append(function(*(results[i] for i in arguments)))
        return results[-1]

    def uses(self) -> dict[int, int]:
        """How many times each input and node is used as an argument (shared subexpressions have 2+)."""
        counts: dict[int, int] = {}
        for _, arguments in self.nodes:
            for i in arguments:
                counts[i] = counts.get(i, 0) + 1
        return counts

    def __str__(self) -> str:
        """Readable math; nodes used more than once are named t0, t1, ... and defined first."""
        shared = {i for i, n in self.uses().items() if n > 1 and i >= self.leaves}
        texts: list[str] = [f"x{i}" for i in range(self.leaves)]
        definitions: list[str] = []
        for k, (name, arguments) in enumerate(self.nodes):
            op = self.ops[name]
            parts = [texts[i] for i in arguments]
            if op.arity == 2:
                text = f"({parts[0]} {op.symbol} {parts[1]})"
            elif name == "square":
                text = f"{parts[0]}**2"
            elif name == "neg":
                text = f"-{parts[0]}"
            else:
                text = f"{name}({parts[0]})"
            index = self.leaves + k
            if index in shared:
                definitions.append(f"t{len(definitions)} = {text}")
                text = f"t{len(definitions) - 1}"
            texts.append(text)
        output = texts[-1]
        if output.startswith("(") and output.endswith(")"):
            output = output[1:-1]
        point = ", ".join(f"x{i}={x!r}" for i, x in enumerate(self.point))
        return "; ".join([*definitions, output]) + f"  at {point}"

    def __len__(self) -> int:
        return len(self.nodes)


@st.composite
def _expressions(
    draw: Any,
    ops: Mapping[str, Op],
    leaves: tuple[int, int],
    size: tuple[int, int],
    lo: float,
    hi: float,
) -> Expression:
    count = draw(st.integers(*leaves))
    point = tuple(draw(floats_in(lo, hi)) for _ in range(count))
    data: list[float] = list(point)
    nodes: list[tuple[str, tuple[int, ...]]] = []
    names = sorted(ops)
    wanted = draw(st.integers(*size))
    attempts = 0
    while len(nodes) < wanted and attempts < 20 * wanted:
        attempts += 1
        name = draw(st.sampled_from(names))
        op = ops[name]
        # Prefer recent results, so that nodes chain; any earlier one may be reused (shared subexpressions).
        newest = len(data) - 1
        arguments = tuple(newest - draw(st.integers(0, newest)) for _ in range(op.arity))
        arguments_data = [data[i] for i in arguments]
        if not op.allowed(*arguments_data):
            continue
        try:
            result = float(op.apply(*arguments_data))
        except (ArithmeticError, ValueError):
            continue
        if not (math.isfinite(result) and abs(result) < LIMIT):
            continue
        nodes.append((name, arguments))
        data.append(result)
    if not nodes:  # nothing fitted: fall back to an operation that fits anywhere
        nodes.append(("neg", (0,)) if "neg" in ops else (names[0], (0,) * ops[names[0]].arity))
    return Expression(count, _live(count, nodes), point, ops)


def _live(leaves: int, nodes: list[tuple[str, tuple[int, ...]]]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Only the nodes the output depends on, renumbered in order."""
    needed = {leaves + len(nodes) - 1}
    for k in range(len(nodes) - 1, -1, -1):
        if leaves + k in needed:
            needed.update(nodes[k][1])
    index = {i: i for i in range(leaves)}
    live: list[tuple[str, tuple[int, ...]]] = []
    for k, (name, arguments) in enumerate(nodes):
        if leaves + k in needed:
            index[leaves + k] = leaves + len(live)
            live.append((name, tuple(index[i] for i in arguments)))
    return tuple(live)


def expressions(
    ops: Sequence[str | Op] | None = None,
    *,
    leaves: int | tuple[int, int] = (1, 3),
    size: int | tuple[int, int] = (1, 8),
    lo: float = -2.0,
    hi: float = 2.0,
) -> st.SearchStrategy[Expression]:
    """Random expression DAGs with a point where every operation is inside its domain.

    Args:
        ops: operation names from `OPS`, or your own `Op` objects (for
            example wrapping a `Primitive` you defined); all of `OPS` by default.
        leaves: how many inputs, or a (min, max) range.
        size: how many operations, or a (min, max) range.
        lo, hi: the range of the inputs' values.
    """
    table: dict[str, Op] = {}
    for op in OPS.values() if ops is None else ops:
        if isinstance(op, Op):
            table[op.name] = op
        elif op in OPS:
            table[op] = OPS[op]
        else:
            raise ValueError(f"unknown operation {op!r}; choose from {', '.join(OPS)} or pass an Op")
    if not table:
        raise ValueError("expressions needs at least one operation")
    leaf_range = (leaves, leaves) if isinstance(leaves, int) else leaves
    size_range = (size, size) if isinstance(size, int) else size
    if leaf_range[0] < 1 or leaf_range[0] > leaf_range[1]:
        raise ValueError(f"leaves must be at least 1, not {leaves!r}")
    if size_range[0] < 1 or size_range[0] > size_range[1]:
        raise ValueError(f"size must be at least 1, not {size!r}")
    return _expressions(table, leaf_range, size_range, lo, hi)


def op_from_primitive(primitive: Primitive, allowed: Callable[..., bool] = _anywhere) -> Op:
    """An `Op` for a unary `Primitive` of your own, so that expressions can use it."""
    return Op(primitive.name, 1, primitive, allowed)
