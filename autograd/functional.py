"""`grad`: derivatives as return values, and derivatives of derivatives.

`Value.backward()` writes gradients into ``.grad``. `grad` instead returns
them and touches no ``.grad``; with ``create_graph=True`` it returns Values
whose own graphs lead back to the inputs, so they can be differentiated again
(second derivatives, Hessian-vector products, Newton's method).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, overload

from autograd.engine import Value, enable_grad, topological_order

__all__ = ["grad"]


@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: Literal[False] = False) -> list[float]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: Literal[True]) -> list[Value]: ...
@overload
def grad(output: Value, inputs: Sequence[Value], *, create_graph: bool) -> list[float] | list[Value]: ...


def grad(output: Value, inputs: Sequence[Value], *, create_graph: bool = False) -> list[float] | list[Value]:
    """The derivatives of `output` with respect to each of `inputs`.

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
    if create_graph:
        with enable_grad():
            return _cotangents_as_values(output, inputs)
    return _cotangents_as_floats(output, inputs)


def _cotangents_as_floats(output: Value, inputs: list[Value]) -> list[float]:
    cotangent: dict[Value, float] = {output: 1.0}
    for node in reversed(topological_order(output)):
        g = cotangent.get(node)
        if g is None:
            continue
        edges = iter(node._edges)
        for operand, local in zip(edges, edges):
            if type(operand) is not float:  # a Value, not a constant
                cotangent[operand] = cotangent.get(operand, 0.0) + local * g
    return [cotangent.get(x, 0.0) for x in inputs]


def _cotangents_as_values(output: Value, inputs: list[Value]) -> list[Value]:
    cotangent: dict[Value, Value] = {output: Value(1.0)}
    for node in reversed(topological_order(output)):
        g = cotangent.get(node)
        if g is None:
            continue
        op = node._op
        assert op is not None  # topological_order yields only non-leaf nodes
        local_grads = _rule_on_values(op.name, op.derivatives, node)
        for operand, local in zip(node.operands, local_grads):
            if type(operand) is float:  # a constant
                continue
            term = g if type(local) is float and local == 1.0 else local * g
            previous = cotangent.get(operand)  # type: ignore[arg-type]
            cotangent[operand] = term if previous is None else previous + term  # type: ignore[index]
    zero = Value(0.0)
    return [cotangent.get(x, zero) for x in inputs]


def _rule_on_values(name: str, rule: Any, node: Value) -> Sequence[Any]:
    try:
        return rule(*node.operands, node)  # type: ignore[no-any-return]
    except TypeError as error:
        raise TypeError(
            f"the derivative rule of {name!r} cannot run on Values ({error}); write it with "
            "arithmetic and autograd's functions (autograd.exp, autograd.cos, ...) instead of math's"
        ) from error
