"""The rule table: one `Primitive` per scalar operation, and nothing else.

Each row names a primitive, its forward function on floats, and its local
derivatives: ``derivatives(*operands, out)`` returns d(out)/d(operand) for each
operand. A rule may use ``out``, the result, when that is cheaper
(d exp(x)/dx = exp(x) = out). The keyword fields say how the operation is
drawn (`symbol`), which Python operator records it (`operator`), how many
operands it takes (`arity`) and where it is smooth (`smooth`: the points
property tests draw from). Drawing, the command line, forward mode and the
testing strategies read these rows; none of them lists operations itself.

Rules are written with arithmetic, comparisons and the primitives below, so
they run on floats (when a node is recorded, and in forward mode) and on
Values (when `autograd.grad(..., create_graph=True)` differentiates a rule
again).

Adding a unary operation is one row here, a `Value` method that calls it, and
its tests; ``tests/test_table.py`` checks that every row is reachable
everywhere. `leaky_relu` shows a function of two operands: its method takes
the second, the slope, as an argument, and a number there is a constant.

Forward functions raise errors that name the operation and the value:
ValueError outside a domain, ZeroDivisionError for a division by zero,
OverflowError where the float result would be infinite.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from functools import reduce
from typing import Any

from autograd.primitive import Primitive, data_of

__all__ = ["KINK_MARGIN", "PRIMITIVES", "dot_operands", "split_dot"]

KINK_MARGIN = 0.05
"""How far `smooth` keeps points from a kink (abs, relu and leaky_relu at 0)."""

# -- forward functions that check their domain ------------------------------------------


def _divide(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"division by zero in '/': {x!r} / {y!r}")
    return x / y


def _power(x: float, y: float) -> float:
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"division by zero in '**': 0.0 ** {y!r} (a negative power of zero)")
    if x < 0.0 and math.isfinite(y) and not y.is_integer():
        raise ValueError(f"'**' of a negative base {x!r} with a non-integer exponent {y!r} has no real value")
    try:
        return x**y  # type: ignore[no-any-return]
    except OverflowError:
        raise OverflowError(f"'**' overflow: {x!r} ** {y!r} is too large for a float") from None


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp overflow: exp({x!r}) is too large for a float (x > 709.78)") from None


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log of {x!r}: log is defined only for x > 0")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt of {x!r}: sqrt is defined only for x >= 0")
    return math.sqrt(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: exp of a non-positive number.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # keeps nan as nan, as torch.relu does


def _leaky_relu(x: float, slope: float) -> float:
    return x if x > 0.0 else x * slope  # as torch: nan stays nan, and 0 * slope keeps its sign


def _sum(*xs: float) -> float:
    acc = 0.0
    for x in xs:
        acc += x
    return acc


# -- dot's operands: the one place their layout is written ---------------------------------


def dot_operands(weights: Sequence[Any], inputs: Sequence[Any], bias: Any) -> tuple[Any, ...]:
    """The operands of a `dot` node: ``(w_0, ..., w_n-1, x_0, ..., x_n-1, bias)``."""
    return (*weights, *inputs, bias)


def split_dot(operands: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any], Any]:
    """(weights, inputs, bias) from a `dot` node's operands; the inverse of `dot_operands`."""
    n = (len(operands) - 1) // 2
    return operands[:n], operands[n : 2 * n], operands[-1]


_DOT_JS = """(...operands) => {
  const n = (operands.length - 1) / 2;
  let out = operands[operands.length - 1];
  for (let i = 0; i < n; i++) out += operands[i] * operands[n + i];
  return out;
}"""
_DOT_DERIVATIVES_JS = """(...args) => {
  const n = (args.length - 2) / 2;
  return [...args.slice(n, 2 * n), ...args.slice(0, n), 1];
}"""
"""`_dot` and `_dot_derivatives` in JavaScript, with the operand layout of `dot_operands`; below, as Python source."""


def _dot_py(*operands: str) -> str:
    weights, inputs, bias = split_dot(operands)
    return " + ".join((bias, *(f"{w} * {x}" for w, x in zip(weights, inputs))))


def _dot_derivatives_py(*args: str) -> tuple[str, ...]:
    weights, inputs, _ = split_dot(args[:-1])
    return (*inputs, *weights, "1.0")


def _dot(*operands: float) -> float:
    # bias + w0*x0 + w1*x1 + ..., added left to right: the rounding of the written-out sum
    weights, inputs, bias = split_dot(operands)
    total: float = reduce(operator.add, map(operator.mul, weights, inputs), bias)
    return total


# -- derivative rules that need more than one line ------------------------------------


def _power_derivatives(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    # NOTE: the conventions follow PyTorch. A zero exponent has d/dx = 0 (for a Value exponent it
    # stays the expression y * x**(y-1), whose own derivative in y is 1/x, not 0); at
    # x = 0 an exponent in (0, 1) has an infinite slope. d/dy = out * log(x)
    # needs x > 0: at x = 0 it is 0, and for a negative base (only integer
    # exponents are defined there) it is nan, as in torch.
    xd, yd = data_of(x), data_of(y)
    if yd == 0.0 and (xd == 0.0 or isinstance(y, float)):
        dx: Any = 0.0  # a constant only where it cannot matter: a float exponent, or a zero base
    elif xd == 0.0 and yd < 1.0:
        dx = math.inf
    elif isinstance(x, float) and isinstance(y, float):
        dx = y * _power_or_inf(x, y - 1.0)
    else:
        try:
            dx = y * x ** (y - 1.0)
        except OverflowError:  # NOTE: as on floats, inf; the graph then stops here (what follows is inf or nan)
            dx = y * _power_or_inf(xd, yd - 1.0)
    if xd > 0.0:
        dy: Any = out * log(x)
    elif xd == 0.0:
        dy = 0.0
    else:
        dy = math.nan
    return dx, dy


_POWER_JS = """(x, y) => {
  if (x === 0 && y < 0) return fail(`division by zero in '**': 0.0 ** ${repr(y)} (a negative power of zero)`);
  if (x < 0 && Number.isFinite(y) && !Number.isInteger(y))
    return fail(`'**' of a negative base ${repr(x)} with a non-integer exponent ${repr(y)} has no real value`);
  const out = x ** y;
  if (!Number.isFinite(out) && Number.isFinite(x) && Number.isFinite(y))
    return fail(`'**' overflow: ${repr(x)} ** ${repr(y)} is too large for a float`);
  return out;
}"""
_POWER_DERIVATIVES_JS = """(x, y, out) => {
  const dx = y === 0 ? 0 : x === 0 && y < 1 ? Infinity : y * x ** (y - 1);
  const dy = x > 0 ? out * Math.log(x) : x === 0 ? 0 : NaN;
  return [dx, dy];
}"""
"""`_power` and `_power_derivatives` on floats, in JavaScript (where every number is a float)."""


def _power_or_inf(x: float, y: float) -> float:
    try:
        return x**y  # type: ignore[no-any-return]
    except OverflowError:  # the power itself fit; its derivative does not
        return math.copysign(math.inf, x) if y.is_integer() and y % 2 else math.inf


def _sum_derivatives(*args: Any) -> tuple[float, ...]:
    return (1.0,) * (len(args) - 1)


def _dot_derivatives(*args: Any) -> tuple[Any, ...]:
    weights, inputs, _ = split_dot(args[:-1])
    return (*inputs, *weights, 1.0)  # each weight's slope is its input, each input's its weight


def _sign(x: Any) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _off_kink(x: float) -> bool:
    return abs(x) > KINK_MARGIN


def _leaky_relu_derivatives(x: Any, slope: Any, out: Any) -> tuple[Any, Any]:
    # NOTE: at x = 0 the slope in x is `slope`, as in torch (relu'(0) = 0 is the case slope = 0);
    # in the slope it is x on the negative side, where the output is x * slope, else 0.
    return (1.0 if x > 0.0 else slope), (x if x < 0.0 else 0.0)


# -- the table -----------------------------------------------------------------------------
# name, forward, local derivatives d(out)/d(operand); then how it is drawn, written and checked,
# the same two functions in JavaScript for the explorer page, and as Python source for compiled steps.
add = Primitive("add", operator.add, lambda x, y, out: (1.0, 1.0), symbol="+", operator="+", arity=2,
                js=("(x, y) => x + y", "(x, y, out) => [1, 1]"), py=("{0} + {1}", ("1.0", "1.0")))  # fmt: skip
mul = Primitive("mul", operator.mul, lambda x, y, out: (y, x), symbol="×", operator="*", arity=2,
                js=("(x, y) => x * y", "(x, y, out) => [y, x]"), py=("{0} * {1}", ("{1}", "{0}")))  # fmt: skip
div = Primitive("div", _divide, lambda x, y, out: (1.0 / y, -out / y), symbol="÷", operator="/", arity=2,
                smooth=lambda x, y: abs(y) > 0.2,
                js=("(x, y) => y === 0 ? fail(`division by zero in '/': ${repr(x)} / ${repr(y)}`) : x / y",
                    "(x, y, out) => [1 / y, -out / y]"),
                py=("{0} / {1}", ("1.0 / {1}", "-{out} / {1}")))  # fmt: skip
pow_ = Primitive("pow", _power, _power_derivatives, symbol="^", operator="**", arity=2,
                 smooth=lambda x, y: 0.2 < x < 10 and abs(y) < 3,
                 js=(_POWER_JS, _POWER_DERIVATIVES_JS),
                 py=("{forward}({0}, {1})", "{derivatives}({0}, {1}, {out})"))  # fmt: skip
neg = Primitive("neg", operator.neg, lambda x, out: (-1.0,), symbol="−x", operator="-",
                js=("(x) => -x", "(x, out) => [-1]"), py=("-{0}", ("-1.0",)))  # fmt: skip
abs_ = Primitive("abs", abs, lambda x, out: (_sign(x),), smooth=_off_kink,  # NOTE: abs'(0) = 0
                 js=("(x) => Math.abs(x)", "(x, out) => [x > 0 ? 1 : x < 0 ? -1 : 0]"),
                 py=("abs({0})", ("1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0",)))  # fmt: skip
exp = Primitive("exp", _exp, lambda x, out: (out,), smooth=lambda x: x < 5,
                js=("(x) => (Math.exp(x) === Infinity && x !== Infinity ? fail(`exp overflow: exp(${repr(x)}) is too "
                    "large for a float (x > 709.78)`) : Math.exp(x))", "(x, out) => [out]"),
                py=("exp({0})", ("{out}",)))  # fmt: skip
log = Primitive("log", _log, lambda x, out: (1.0 / x,), smooth=lambda x: x > 0.2,
                js=("(x) => x <= 0 ? fail(`log of ${repr(x)}: log is defined only for x > 0`) : Math.log(x)",
                    "(x, out) => [1 / x]"), py=("log({0})", ("1.0 / {0}",)))  # fmt: skip
sqrt = Primitive("sqrt", _sqrt, lambda x, out: (0.5 / out if data_of(out) != 0.0 else math.inf,),  # NOTE: inf at 0
                 smooth=lambda x: x > 0.2,
                 js=("(x) => x < 0 ? fail(`sqrt of ${repr(x)}: sqrt is defined only for x >= 0`) : Math.sqrt(x)",
                     "(x, out) => [out !== 0 ? 0.5 / out : Infinity]"),
                 py=("sqrt({0})", ("0.5 / {out} if {out} != 0.0 else inf",)))  # fmt: skip
tanh = Primitive("tanh", math.tanh, lambda x, out: (1.0 - out * out,),
                 js=("(x) => Math.tanh(x)", "(x, out) => [1 - out * out]"),
                 py=("tanh({0})", ("1.0 - {out} * {out}",)))  # fmt: skip
sigmoid = Primitive("sigmoid", _sigmoid, lambda x, out: (out * (1.0 - out),),
                    js=("(x) => x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))",
                        "(x, out) => [out * (1 - out)]"),
                    py=("{forward}({0})", ("{out} * (1.0 - {out})",)))  # fmt: skip
relu = Primitive("relu", _relu, lambda x, out: (1.0 if x > 0.0 else 0.0,), smooth=_off_kink,  # NOTE: relu'(0) = 0
                 js=("(x) => (x <= 0 ? 0 : x)", "(x, out) => [x > 0 ? 1 : 0]"),
                 py=("0.0 if {0} <= 0.0 else {0}", ("1.0 if {0} > 0.0 else 0.0",)))  # fmt: skip
leaky_relu = Primitive("leaky_relu", _leaky_relu, _leaky_relu_derivatives, arity=2,
                        smooth=lambda x, slope: _off_kink(x),
                        js=("(x, slope) => (x > 0 ? x : x * slope)",
                            "(x, slope, out) => [x > 0 ? 1 : slope, x < 0 ? x : 0]"),
                        py=("{0} if {0} > 0.0 else {0} * {1}",
                            ("1.0 if {0} > 0.0 else {1}", "{0} if {0} < 0.0 else 0.0")))  # fmt: skip
sin = Primitive("sin", math.sin, lambda x, out: (cos(x),), js=("(x) => Math.sin(x)", "(x, out) => [Math.cos(x)]"),
                py=("sin({0})", ("cos({0})",)))  # fmt: skip
cos: Primitive = Primitive("cos", math.cos, lambda x, out: (-sin(x),),
                           js=("(x) => Math.cos(x)", "(x, out) => [-Math.sin(x)]"),
                           py=("cos({0})", ("-sin({0})",)))  # fmt: skip
sum_ = Primitive("sum", _sum, _sum_derivatives, symbol="Σ", arity=None,
                 js=("(...xs) => xs.reduce((acc, x) => acc + x, 0)",
                     "(...args) => args.slice(1).map(() => 1)"),
                 py=(lambda *xs: " + ".join(("0.0", *xs)), lambda *args: ("1.0",) * (len(args) - 1)))  # fmt: skip
dot = Primitive("dot", _dot, _dot_derivatives, symbol="w·x+b", arity=None,
                js=(_DOT_JS, _DOT_DERIVATIVES_JS), py=(_dot_py, _dot_derivatives_py))  # fmt: skip

PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (add, mul, div, pow_, neg, abs_, exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, sin, cos, sum_, dot)
}
"""Every built-in primitive by name, in table order."""
