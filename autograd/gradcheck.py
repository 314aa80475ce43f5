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
from collections.abc import Callable, Sequence
from typing import Any

from autograd.engine import Value, no_grad
from autograd.functional import grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_gradient"]

Function = Callable[..., Any]


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree.

    A subclass of AssertionError, so that a failed check inside a test reads as
    a test failure (and hypothesis shrinks it like one).
    """


def _point(inputs: Sequence[Value | float]) -> list[float]:
    if isinstance(inputs, (Value, int, float)):
        raise TypeError("inputs must be a sequence of numbers or Values; wrap a single one in a list")
    point = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            point.append(x.data)
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            point.append(float(x))
        else:
            raise TypeError(f"inputs[{i}] must be a number or a Value, not {type(x).__name__}")
    if not point:
        raise ValueError("gradcheck needs at least one input")
    if not all(math.isfinite(x) for x in point):
        raise ValueError(f"gradcheck needs finite inputs, got {point}")
    return point


def _check_tolerances(eps: float, atol: float, rtol: float) -> None:
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
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
    """Central differences of `f` (Values to a Value) at `point`, one per input."""
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
    return grad(_output(f, leaves), leaves)


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    if math.isnan(analytic) or math.isnan(numeric):
        return False
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _report(title: str, rows: list[tuple[str, float, float]], atol: float, rtol: float) -> tuple[bool, str]:
    lines = [title, f"  {'input':<10} {'analytic':>22} {'numeric':>22} {'error':>10}"]
    ok = True
    for name, analytic, numeric in rows:
        good = _close(analytic, numeric, atol, rtol)
        ok &= good
        error = abs(analytic - numeric)
        lines.append(
            f"  {name:<10} {analytic:>22.15g} {numeric:>22.15g} {error:>10.2e}" + ("" if good else "  <- mismatch")
        )
    lines.append(f"  (a derivative passes when |analytic - numeric| <= {atol:g} + {rtol:g} * |numeric|)")
    return ok, "\n".join(lines)


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
    point = _point(inputs)
    analytic = _first_derivatives(f, point)
    numeric = numerical_gradient(f, point, eps)
    rows = [(f"x[{i}]", a, n) for i, (a, n) in enumerate(zip(analytic, numeric))]
    ok, message = _report(f"gradcheck at {point}:", rows, atol, rtol)
    if not ok and raise_exception:
        raise GradcheckError(message)
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
    point = _point(inputs)
    leaves = [Value(x) for x in point]
    firsts = grad(_output(f, leaves), leaves, create_graph=True)
    analytic = [grad(first, leaves) for first in firsts]
    rows = []
    for j in range(len(point)):
        up, down = list(point), list(point)
        up[j] += eps
        down[j] -= eps
        column = [(a - b) / (2 * eps) for a, b in zip(_first_derivatives(f, up), _first_derivatives(f, down))]
        rows += [(f"x[{i}],x[{j}]", analytic[i][j], column[i]) for i in range(len(point))]
    ok, message = _report(f"gradgradcheck at {point}:", rows, atol, rtol)
    if not ok and raise_exception:
        raise GradcheckError(message)
    return ok
