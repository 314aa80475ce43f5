"""chainrule's autograd: scalar reverse-mode automatic differentiation.

Build expressions from `Value` objects, call `backward()` on the result, and
read each input's ``.grad``; or ask `grad` for derivatives as return values,
of any order. Derivative rules live in `autograd.rules`, one per primitive;
define your own with `Primitive`.

Example:
    >>> from autograd import Value
    >>> x = Value(0.5, label="x")
    >>> y = (x * 3).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.54212
"""

from autograd.draw import draw_dot, save_graph
from autograd.engine import (
    Primitive,
    Value,
    data_of,
    dot,
    enable_grad,
    is_grad_enabled,
    linear,
    no_grad,
    sum_values,
    topological_order,
)
from autograd.forward import Dual, jvp
from autograd.functional import grad
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd.rules import absolute, cos, exp, log, relu, sigmoid, sin, sqrt, tanh

__version__ = "0.1.0"

__all__ = [
    "Dual",
    "GradcheckError",
    "Primitive",
    "Value",
    "__version__",
    "absolute",
    "cos",
    "data_of",
    "dot",
    "draw_dot",
    "enable_grad",
    "exp",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "jvp",
    "linear",
    "log",
    "no_grad",
    "relu",
    "save_graph",
    "sigmoid",
    "sin",
    "sqrt",
    "sum_values",
    "tanh",
    "topological_order",
]
