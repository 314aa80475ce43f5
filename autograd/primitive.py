"""`Primitive`: one scalar operation, with everything the rest of chainrule needs to know about it.

A primitive is a row of the table in `autograd.rules`: its name, its forward
function on floats, its local-derivative rule, and the facts that drawing,
the command line, the testing strategies and forward mode read from it (the
symbol drawn, the Python operator that records it, how many operands it
takes, where it is smooth). Nothing else in the project lists operations.

This module imports nothing of the project. A primitive does not know what a
graph node is: called with an operand whose type defines
``__apply_primitive__(primitive, operands)`` (the engine's `Value`, forward
mode's `Dual`), it hands the call to that type; called on numbers alone, it
returns a float.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Primitive", "as_float", "check_text", "data_of"]


def _anywhere(*_: float) -> bool:
    return True


def check_text(text: str, what: str) -> str:
    """`text`, when every picture format can hold it; a ValueError naming `what` for a NUL or a lone surrogate.

    Names and labels are drawn as text in SVG, PNG and PDF alike, and handed to
    the renderer as UTF-8: a NUL ends a C string, and a lone surrogate has no
    UTF-8 form. Every other character can be drawn. Not a str: a TypeError.
    """
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if "\0" in text:
        raise ValueError(f"{what} {text!r} contains a NUL character, which no picture can hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{what} {text!r} contains a lone surrogate ({text[error.start]!r}), which has no UTF-8 form"
        ) from None
    return text


class Primitive:
    """A scalar operation: its forward function, its local-derivative rule, and how it is shown.

    Args:
        name: one word, the same everywhere: ``v.op``, the drawing, the
            command line's function name, the testing strategies' key. Any
            text but a NUL or a lone surrogate (ValueError: no picture holds them).
        forward: ``forward(*xs)`` maps floats to a float.
        derivatives: ``derivatives(*xs, out)`` returns one local derivative
            d(out)/d(x_i) per operand. Write it with arithmetic and autograd's
            functions (``autograd.cos``, ``autograd.log``, ...), not `math`:
            the engine calls it with floats when it records a node, and with
            Values when ``autograd.grad(..., create_graph=True)``
            differentiates it again. The same rule serves both.
        symbol: what a drawing shows in the operation's circle (the name by default).
        operator: the Python operator that records it on Values (``"+"``;
            ``"-"`` for negation), or None for a function called by name.
        arity: how many operands it takes; None for any number (``sum``, ``dot``).
        smooth: a predicate on float operands: True where the operation is
            defined, differentiable, and away from kinks, so that central
            differences are accurate there. Property tests draw points from it,
            and `gradcheck` names the nodes that fall outside it.
        js: the forward function and the derivative rule in JavaScript, as two
            arrow-function sources, so that the explorer page can recompute a
            graph when a leaf is edited (see `autograd.explore`). They may call
            ``fail(message)`` to refuse a value outside the domain, and
            ``repr(x)`` to write a number as Python does. Without them, a graph
            that uses the primitive is shown and stepped, but not edited.
        py: the forward function and the derivative rule as Python source
            templates, for compiled steps (`autograd.compile`): the forward an
            expression, the rule a tuple of expressions (one per operand) or
            one expression whose value is that tuple. Placeholders: ``{0}``,
            ``{1}``, ... the operands, ``{out}`` the result, ``{forward}`` and
            ``{derivatives}`` this primitive's own two functions. A primitive
            of any arity gives two functions instead, from the operands'
            sources (and ``out``'s) to that source. They may use the names
            of the `math` module (``exp``, ``tanh``, ``inf``, ...) and Python's
            builtins, and must compute exactly what `forward` and
            `derivatives` compute, to the bit. Without them, compiled code
            calls the two functions.

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

    __slots__ = ("name", "forward", "derivatives", "symbol", "operator", "arity", "smooth", "js", "py")

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivatives: Callable[..., Sequence[Any]],
        *,
        symbol: str | None = None,
        operator: str | None = None,
        arity: int | None = 1,
        smooth: Callable[..., bool] = _anywhere,
        js: tuple[str, str] | None = None,
        py: tuple[Any, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Primitive name must be a non-empty str, not {name!r}")
        check_text(name, "Primitive name")
        for what, function in (("forward", forward), ("derivatives", derivatives), ("smooth", smooth)):
            if not callable(function):
                raise TypeError(f"Primitive {name!r}: {what} must be callable, not {type(function).__name__}")
        if symbol is not None and (not isinstance(symbol, str) or not symbol):
            raise TypeError(f"Primitive {name!r}: symbol must be a non-empty str, not {symbol!r}")
        if js is not None and (len(js) != 2 or not all(isinstance(source, str) for source in js)):
            raise TypeError(f"Primitive {name!r}: js must be two JavaScript sources (forward, derivatives)")
        if py is not None and (len(py) != 2 or not all(isinstance(t, (str, tuple)) or callable(t) for t in py)):
            raise TypeError(f"Primitive {name!r}: py must be two Python source templates (forward, derivatives)")
        if symbol is not None:
            check_text(symbol, f"Primitive {name!r}: symbol")
        if arity is not None and (type(arity) is not int or arity < 1):
            raise ValueError(f"Primitive {name!r}: arity must be a positive int or None, not {arity!r}")
        self.name = name
        self.forward = forward
        self.derivatives = derivatives
        self.symbol = symbol or name
        self.operator = operator
        self.arity = arity
        self.smooth = smooth
        self.js = js
        self.py = py

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"

    def __call__(self, *operands: Any) -> Any:
        """Apply the primitive: a float for numbers; a Value (or Dual, ...) otherwise.

        An operand whose type defines ``__apply_primitive__(primitive,
        operands)`` takes the call over: that is how the engine records a node
        and how forward mode's dual numbers run every primitive, user-defined
        ones included.
        """
        for operand in operands:
            apply = getattr(type(operand), "__apply_primitive__", None)
            if apply is not None:
                return apply(self, operands)
        datas = []
        for operand in operands:
            if not isinstance(operand, numbers.Real):
                raise TypeError(f"{self.name!r} takes Values or real numbers, not {type(operand).__name__}")
            datas.append(float(operand))
        return as_float(self.forward(*datas), self.name, "forward")

    def check_locals(self, local_grads: Sequence[Any], count: int) -> list[float]:
        """The rule's results as floats, or an error naming this primitive (for rules written by users)."""
        if len(local_grads) != count:
            raise ValueError(
                f"derivative rule of {self.name!r} returned {len(local_grads)} local derivatives for {count} operands"
            )
        return [as_float(local, self.name, "derivatives") for local in local_grads]


def as_float(x: object, op_name: str, what: str) -> float:
    """`x` as a float when it is a real number; a TypeError naming the primitive otherwise."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"{what} of primitive {op_name!r} must return real numbers, got {type(x).__name__}")


def data_of(x: Any) -> float:
    """The float inside a graph node (its ``.data``), or the number itself: for rules that branch on a value."""
    if isinstance(x, numbers.Real):
        return float(x)
    return x.data  # type: ignore[no-any-return]
