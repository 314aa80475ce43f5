"""`grad`: derivatives as return values, and derivatives of derivatives.

`Value.backward()` writes gradients into ``.grad``. `grad` instead returns
them and touches no ``.grad``; with ``create_graph=True`` it returns Values
whose own graphs lead back to the inputs, so they can be differentiated again
(second derivatives, Hessian-vector products, Newton's method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

from autograd.engine import Value, backpropagate, enable_grad, sweep_lock, topological_order

__all__ = ["grad"]


@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: Literal[False] = False) -> list[float]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: Literal[True]) -> list[Value]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: bool) -> list[float] | list[Value]: ...


def grad(output: Value, inputs: Sequence[Value], *, create_graph: bool = False) -> list[float] | list[Value]:
    """The derivatives of `output` with respect to each of `inputs`.

    It runs backward's own sweep (`autograd.backpropagate`) and then puts back
    every ``.grad`` it found, so the floats are the bits ``backward()`` gives.
    Calls from several threads take turns with each other and with backward.

    Args:
        output: the Value to differentiate.
        inputs: Values that `output` may depend on (leaves or intermediate
            nodes). An input that `output` does not depend on gets 0.
        create_graph: return Values recorded in a new graph, built by running
            each primitive's derivative rule on Values, so the results can be
            differentiated again. Otherwise return floats.

    Returns:
        One derivative per input, in order.

    Example:
        >>> x = Value(3.0)
        >>> y = x * x * x
        >>> (dy,) = grad(y, [x], create_graph=True)
        >>> dy.data, grad(dy, [x])[0]
        (27.0, 18.0)
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, not {type(output).__name__}")
    if isinstance(inputs, Value):
        raise TypeError("grad: inputs must be a sequence of Values; wrap a single Value in a list")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, not {type(x).__name__}")
    with sweep_lock:  # it writes every .grad it reaches, as backward does: one sweep at a time
        every = topological_order(output, leaves=True)
        reached = set(every)
        saved = [value.grad for value in every]
        try:
            for value in every:
                value.grad = 0.0
            if not create_graph:
                output.grad = 1.0
                backpropagate([node for node in every if not node.is_leaf])
                return [x.grad if x in reached else 0.0 for x in inputs]
            with enable_grad():
                output.grad = Value(1.0)  # type: ignore[assignment]  # while the sweep runs, gradients are Values
                backpropagate([node for node in every if not node.is_leaf], _rule_on_values)
                found = [x.grad if x in reached else 0.0 for x in inputs]
                return [g if isinstance(g, Value) else Value(g) for g in found]
        finally:
            for value, saved_grad in zip(every, saved):
                value.grad = saved_grad


def _rule_on_values(node: Value) -> Sequence[Any]:
    """The node's local derivatives as Values: its primitive's rule run on its operands and itself."""
    op = node.primitive
    assert op is not None  # the sweep visits computed nodes only
    try:
        return op.derivatives(*node.operands, node)
    except TypeError as error:
        raise TypeError(
            f"the derivative rule of {op.name!r} cannot run on Values ({error}); write it with "
            "arithmetic and autograd's functions (autograd.exp, autograd.cos, ...) instead of math's"
        ) from error
