"""chainrule's autograd: scalar reverse-mode automatic differentiation.

Build expressions from `Value` objects, call `backward()` on the result, and
read each input's ``.grad``; or ask `grad` for derivatives as return values,
of any order. Every operation is one row of the table in `autograd.rules`;
define your own with `Primitive`.

The reading path: `autograd.rules` (the table), `autograd.engine` (the node,
how it records, backward), `autograd.fused` (the fast paths).

Drawing needs graphviz, which is imported when `draw_dot`, `save_graph` or
`explore` (the interactive page) is first used, not by ``import autograd``.

Example:
    >>> from autograd import Value
    >>> x = Value(0.5, label="x")
    >>> y = (x * 3).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.54212
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autograd import rules as _rules
from autograd.collector import collector_paused
from autograd.compiler import CompileError, CompileWarning, compile_batch
from autograd.compiler import compile as compile
from autograd.engine import Value, backpropagate, enable_grad, is_grad_enabled, no_grad, topological_order
from autograd.forward import Dual, jvp
from autograd.functional import grad
from autograd.fused import dot, linear
from autograd.fused import sum as sum
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd.primitive import Primitive, data_of

# Every function of the rule table under its name: autograd.exp, autograd.tanh, autograd.abs, ...
# (the fused sum and dot above are the functions a user calls for those two).
_FUNCTIONS = {p.name: p for p in _rules.PRIMITIVES.values() if p.operator is None and p.arity is not None}
globals().update(_FUNCTIONS)

if TYPE_CHECKING:
    from autograd.draw import draw_dot, save_graph
    from autograd.explorer import explore

__version__ = "0.1.0"
__distribution__ = "chainrule"
"""The distribution this package belongs to: `nn` checks it, to refuse another project's `autograd`."""

__all__ = [
    "CompileError",
    "CompileWarning",
    "Dual",
    "GradcheckError",
    "Primitive",
    "Value",
    "__version__",
    "backpropagate",
    "collector_paused",
    "compile_batch",
    "data_of",
    "dot",
    "draw_dot",
    "enable_grad",
    "explore",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "jvp",
    "linear",
    "no_grad",
    "save_graph",
    "topological_order",
    *sorted(set(_FUNCTIONS) - {"abs"}),  # abs, sum and compile stay out: a star import must not replace Python's own
]


def __getattr__(name: str) -> Any:
    """Import drawing (and graphviz with it) when `draw_dot`, `save_graph` or `explore` is first asked for."""
    if name in ("draw_dot", "save_graph"):
        from autograd import draw

        return getattr(draw, name)
    if name == "explore":
        from autograd.explorer import explore

        return explore
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
