"""Forward mode: dual numbers, and `jvp` for directional derivatives.

A dual number carries a value x and a tangent x_dot, the derivative of x along
a chosen direction. Every primitive maps (x, x_dot) to (f(x), f'(x) x_dot),
and for several operands adds up sum_i (df/dx_i) x_i_dot. The local
derivatives df/dx_i come from the same rules as reverse mode (`autograd.rules`,
and the rules of your own `Primitive`s): one source of truth per primitive.

Which mode is cheaper? For f from n inputs to m outputs, one forward pass
with duals gives one directional derivative (a Jacobian column, for a basis
direction): the full Jacobian costs n passes. One reverse pass gives the
gradient of one output (a Jacobian row): the full Jacobian costs m passes. A
loss (m = 1) with many parameters (large n) is reverse mode's case; a
function of one variable with many outputs is forward mode's.

Example:
    >>> from autograd import jvp
    >>> value, slope = jvp(lambda x, y: x * y + x.sin(), [0.0, 2.0], [1.0, 0.0])
    >>> value, slope  # d/dx at (0, 2) is y + cos x = 3
    (0.0, 3.0)
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd import rules
from autograd.engine import Value
from autograd.primitive import Primitive

__all__ = ["Dual", "jvp"]


class Dual:
    """A number with a tangent: ``Dual(x, x_dot)``.

    Supports the operators and methods of `Value` (made from the rule table,
    below the class), computed by the engine's primitives. Comparisons compare
    the value.
    """

    __slots__ = ("primal", "tangent")

    def __init__(self, primal: float, tangent: float = 0.0) -> None:
        for name, x in (("primal", primal), ("tangent", tangent)):
            if isinstance(x, (Value, Dual)) or not isinstance(x, numbers.Real):
                raise TypeError(f"a Dual's {name} must be a real number, not {type(x).__name__}")
        self.primal = float(primal)
        self.tangent = float(tangent)

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r})"

    @staticmethod
    def __apply_primitive__(primitive: Primitive, operands: Sequence[Any]) -> Dual:
        """Run any primitive on duals: the value forward, the tangent by the primitive's rule."""
        primals: list[float] = []
        tangents: list[float | None] = []
        for operand in operands:
            if isinstance(operand, Dual):
                primals.append(operand.primal)
                tangents.append(operand.tangent)
            elif isinstance(operand, numbers.Real):
                primals.append(float(operand))
                tangents.append(None)  # a constant: no tangent
            else:
                raise TypeError(f"{primitive.name!r} cannot mix Duals with {type(operand).__name__}")
        out = float(primitive.forward(*primals))
        local_grads = primitive.check_locals(primitive.derivatives(*primals, out), len(operands))
        # x_dot of the output: sum_i (d out / d x_i) x_i_dot, over the operands that are not constants
        tangent = 0.0
        for local, t in zip(local_grads, tangents):
            if t is not None:
                tangent += local * t
        return Dual(out, tangent)

    def __sub__(self, other: Any) -> Dual:
        if not isinstance(other, (Dual, numbers.Real)):
            return NotImplemented
        return self + -other  # type: ignore[no-any-return, operator]

    def __rsub__(self, other: Any) -> Dual:
        if not isinstance(other, numbers.Real):
            return NotImplemented
        return -self + other  # type: ignore[no-any-return, operator]

    def __pos__(self) -> Dual:
        return self

    def __lt__(self, other: Any) -> bool:
        return self.primal < _primal(other)

    def __le__(self, other: Any) -> bool:
        return self.primal <= _primal(other)

    def __gt__(self, other: Any) -> bool:
        return self.primal > _primal(other)

    def __ge__(self, other: Any) -> bool:
        return self.primal >= _primal(other)


# Dual's operators and functions come from the table: every primitive with a Python operator, and
# every function of a fixed number of operands, as a method of the same name (abs as Python's abs()).
_OPERATOR_METHODS = {"+": "__add__", "*": "__mul__", "/": "__truediv__", "**": "__pow__"}
_BUILTIN_METHODS = {"abs": "__abs__"}


def _method(primitive: Primitive, reflected: bool = False) -> Callable[..., Any]:
    def method(self: Dual, *other: Any) -> Any:
        if other and (not isinstance(other[0], (Dual, numbers.Real)) or isinstance(other[0], Value)):
            return NotImplemented
        operands = (*other, self) if reflected else (self, *other)
        return Dual.__apply_primitive__(primitive, operands)

    method.__name__ = primitive.name
    method.__doc__ = f"The primitive {primitive.name!r} on dual numbers."
    return method


def _method_like(primitive: Primitive, value_method: Callable[..., Any]) -> Callable[..., Any]:
    """A function of several operands as a method with the signature of Value's: ``d.leaky_relu(slope=0.1)``."""
    signature = inspect.signature(value_method)

    def method(self: Dual, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{primitive.name}(): {error}") from None
        bound.apply_defaults()
        return Dual.__apply_primitive__(primitive, tuple(bound.arguments.values()))

    method.__name__ = primitive.name
    method.__doc__ = f"The primitive {primitive.name!r} on dual numbers, called as on Values."
    return method


for _p in rules.PRIMITIVES.values():
    if _p.operator in _OPERATOR_METHODS:
        setattr(Dual, _OPERATOR_METHODS[_p.operator], _method(_p))
        setattr(Dual, "__r" + _OPERATOR_METHODS[_p.operator][2:], _method(_p, reflected=True))
    elif _p.operator == "-":
        setattr(Dual, "__neg__", _method(_p))  # noqa: B010 (made from the table, like the others)
    elif _p.arity == 1:
        setattr(Dual, _BUILTIN_METHODS.get(_p.name, _p.name), _method(_p))
    elif _p.arity is not None:  # a function of more operands takes the others as Value's method does
        setattr(Dual, _p.name, _method_like(_p, getattr(Value, _p.name)))


def _primal(x: Any) -> float:
    if isinstance(x, Dual):
        return x.primal
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    raise TypeError(f"cannot compare a Dual with {type(x).__name__}")


def jvp(f: Callable[..., Any], primals: Sequence[float], tangents: Sequence[float]) -> tuple[float, float]:
    """f at `primals`, and its derivative along `tangents`: (f(x), J_f(x) . v).

    Args:
        f: a function of scalars written with the engine's operations (the
            same code you would run on Values).
        primals: the point x.
        tangents: the direction v, one number per input.

    Returns:
        The value and the directional derivative, as floats.

    Raises:
        ValueError: `primals` and `tangents` differ in length, or are empty.
        TypeError: `f` returns something other than a number or a Dual.
    """
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    if not primals:
        raise ValueError("jvp needs at least one input")
    out = f(*[Dual(p, t) for p, t in zip(primals, tangents)])
    if isinstance(out, Dual):
        return out.primal, out.tangent
    if isinstance(out, numbers.Real) and not isinstance(out, Value):
        return float(out), 0.0  # f did not depend on its inputs
    raise TypeError(f"jvp: f must return a number, not {type(out).__name__}")
