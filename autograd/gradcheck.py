"""Checking derivatives against central differences: `gradcheck` and `gradgradcheck`.

Both evaluate your function at the given point, compute its derivatives with
the engine, and compare each one with the symmetric difference quotient

    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error shrinks like eps^2. A derivative passes when
``|analytic - numeric| <= atol + rtol * |numeric|``. On a mismatch the error
message lists every input with both numbers, so you can see which one is off.

Example:
    >>> from autograd import Value, gradcheck
    >>> gradcheck(lambda x, y: (x * y).tanh() + y.exp(), [0.3, -1.2])
    True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd.engine import Value, enable_grad, no_grad, topological_order
from autograd.functional import grad
from autograd.primitive import data_of

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_gradient"]

Function = Callable[..., Any]


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree.

    A subclass of AssertionError: a mismatch is a failed check, not bad input
    (bad input raises TypeError or ValueError). So ``assert gradcheck(...)``
    and a bare ``gradcheck(...)`` fail a test the same way, pytest reports it
    as a test failure, and hypothesis shrinks it like any failed assertion.
    """


def _point(inputs: Sequence[Value | float]) -> tuple[list[float], list[str]]:
    """The inputs' numbers, and a name for each: ``x[i]``, with the Value's label if it has one."""
    if isinstance(inputs, (Value, numbers.Real)):
        raise TypeError("inputs must be a sequence of numbers or Values; wrap a single one in a list")
    point, names = [], []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            point.append(x.data)
            names.append(f"x[{i}]" + (f" ({x.label})" if x.label else ""))
        elif isinstance(x, numbers.Real) and not isinstance(x, bool):
            point.append(float(x))
            names.append(f"x[{i}]")
        else:
            raise TypeError(f"inputs[{i}] must be a number or a Value, not {type(x).__name__}")
    if not point:
        raise ValueError("gradcheck needs at least one input")
    if not all(math.isfinite(x) for x in point):
        raise ValueError(f"gradcheck needs finite inputs, got {point}")
    return point, names


def _check_tolerances(eps: float, atol: float, rtol: float) -> None:
    for name, x in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{name} must be a number, not {type(x).__name__}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, not {eps!r}")
    if not (atol >= 0 and rtol >= 0):
        raise ValueError(f"atol and rtol must be >= 0, not {atol!r} and {rtol!r}")


def _output(f: Function, leaves: list[Value]) -> Value:
    out = f(*leaves)
    if isinstance(out, (list, tuple)):
        raise TypeError(f"f must return one scalar Value, not a {type(out).__name__} of {len(out)}")
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, not {type(out).__name__}")
    return out


def _value(f: Function, point: list[float]) -> float:
    with no_grad():
        return _output(f, [Value(x) for x in point]).data


def numerical_gradient(f: Function, point: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Central differences of `f` (Values to a Value) at `point`, one per input.

    `f` runs on leaf Values under `no_grad`, so no graph is recorded.

    Example:
        >>> [round(d, 6) for d in numerical_gradient(lambda x, y: x * y, [2.0, 3.0])]
        [3.0, 2.0]
    """
    point = list(point)
    gradient = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += eps
        down[i] -= eps
        gradient.append((_value(f, up) - _value(f, down)) / (2 * eps))
    return gradient


def _first_derivatives(f: Function, point: list[float]) -> list[float]:
    leaves = [Value(x) for x in point]
    with enable_grad():  # also when the caller is inside a no_grad() block
        out = _output(f, leaves)
    return grad(out, leaves)


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    if math.isnan(analytic) or math.isnan(numeric):
        return False
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _report(title: str, rows: list[tuple[str, float, float]], atol: float, rtol: float) -> tuple[bool, str]:
    """Whether every row passes, and a table of all of them with the mismatches marked."""
    width = max(10, *(len(name) for name, _, _ in rows))
    lines = [title, f"  {'derivative':<{width}} {'analytic':>22} {'numeric':>22} {'error':>10}"]
    failures = 0
    for name, analytic, numeric in rows:
        good = _close(analytic, numeric, atol, rtol)
        failures += not good
        error = abs(analytic - numeric)
        mark = "" if good else "  <- mismatch"
        lines.append(f"  {name:<{width}} {analytic:>22.15g} {numeric:>22.15g} {error:>10.2e}{mark}")
    lines.append(f"  (a derivative passes when |analytic - numeric| <= {atol:g} + {rtol:g} * |numeric|)")
    if failures:
        lines[0] += f" {failures} of {len(rows)} derivatives differ from central differences"
    return not failures, "\n".join(lines)


def gradcheck(
    f: Function,
    inputs: Sequence[Value | float],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare reverse-mode gradients of `f` at `inputs` with central differences.

    Args:
        f: a function from Values to one Value.
        inputs: the point, as numbers or Values (only their data is used; no
            ``.grad`` is touched).
        eps: the step of the central differences.
        atol, rtol: the tolerance, absolute and relative to the numeric value.
        raise_exception: raise `GradcheckError` on a mismatch (default), or return False.

    Returns:
        True when every derivative matches.

    Raises:
        GradcheckError: a mismatch, listing each input's analytic and numeric derivative.
        TypeError: `f` does not return one Value, or an input is not a number.
        ValueError: no inputs, or a bad eps or tolerance.
    """
    _check_tolerances(eps, atol, rtol)
    point, names = _point(inputs)
    analytic = _first_derivatives(f, point)
    numeric = numerical_gradient(f, point, eps)
    rows = [(f"d/d{name}", a, n) for name, a, n in zip(names, analytic, numeric)]
    ok, message = _report(f"gradcheck at {point} (eps={eps:g}):", rows, atol, rtol)
    if not ok and raise_exception:
        raise GradcheckError(message + _rough_spots(f, point))
    return ok


def gradgradcheck(
    f: Function,
    inputs: Sequence[Value | float],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare second derivatives (the Hessian) of `f` with central differences of its gradient.

    The analytic Hessian comes from ``grad(..., create_graph=True)``, each row
    by differentiating one first derivative again; the numeric one from
    central differences of the reverse-mode gradient. Arguments, results and
    errors as for `gradcheck`.

    Example:
        >>> gradgradcheck(lambda x, y: x * x * y + y.sin(), [1.5, 0.4])
        True
    """
    _check_tolerances(eps, atol, rtol)
    point, names = _point(inputs)
    leaves = [Value(x) for x in point]
    with enable_grad():
        out = _output(f, leaves)
    firsts = grad(out, leaves, create_graph=True)
    analytic = [grad(first, leaves) for first in firsts]
    rows = []
    for j in range(len(point)):
        up, down = list(point), list(point)
        up[j] += eps
        down[j] -= eps
        column = [(a - b) / (2 * eps) for a, b in zip(_first_derivatives(f, up), _first_derivatives(f, down))]
        rows += [(f"d2/d{names[i]} d{names[j]}", analytic[i][j], column[i]) for i in range(len(point))]
    ok, message = _report(f"gradgradcheck at {point} (eps={eps:g}):", rows, atol, rtol)
    if not ok and raise_exception:
        raise GradcheckError(message + _rough_spots(f, point))
    return ok


def _rough_spots(f: Function, point: list[float]) -> str:
    """A note naming the operations of `f` evaluated outside where their table entry says they are smooth.

    There (at a kink, near a domain's edge, where a function is steep) central
    differences can be wrong while the derivative rule is right: the note says
    which operation to suspect before the rule.
    """
    leaves = [Value(x) for x in point]
    with enable_grad():
        out = _output(f, leaves)
    rough = []
    for node in topological_order(out):
        op, datas = node.primitive, [data_of(operand) for operand in node.operands]
        if op is not None and not op.smooth(*datas):
            rough.append(f"{op.name}({', '.join(f'{x:.6g}' for x in datas)})")
    if not rough:
        return ""
    shown = ", ".join(rough[:5]) + (f" and {len(rough) - 5} more" if len(rough) > 5 else "")
    return (
        f"\n  note: central differences are unreliable where an operation is not smooth (a kink, a domain's "
        f"edge), and f evaluates {shown} there: suspect the check before the rule"
    )
