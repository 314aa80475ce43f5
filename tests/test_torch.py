"""PyTorch as an independent oracle: values, gradients and Hessians on hundreds of random DAGs.

An optional group: ``pip install -e '.[torch]'`` and ``pytest -m torch``. It is
skipped when torch is not installed; the README's test command does not need it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from autograd import Value, grad
from autograd.testing import Expression, expressions

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

FUNCTIONS = {
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "sin": torch.sin,
    "cos": torch.cos,
}


def torch_derivatives(expression: Expression) -> tuple[float, list[float], list[list[float]]]:
    xs = torch.tensor(expression.point, dtype=torch.float64, requires_grad=True)
    out = expression.evaluate(*xs.unbind(), functions=FUNCTIONS)
    (gradient,) = torch.autograd.grad(out, xs, create_graph=True)
    hessian = []
    for i in range(expression.leaves):
        if gradient[i].requires_grad:
            (row,) = torch.autograd.grad(gradient[i], xs, retain_graph=True, allow_unused=True)
            hessian.append(row.tolist() if row is not None else [0.0] * expression.leaves)
        else:  # the first derivative is a constant
            hessian.append([0.0] * expression.leaves)
    return out.item(), gradient.tolist(), hessian


@settings(max_examples=300)
@given(expressions(leaves=(1, 3), size=(1, 10)))
def test_values_gradients_and_hessians_match_pytorch(expression: Expression) -> None:
    value, gradient, hessian = torch_derivatives(expression)
    leaves = [Value(x) for x in expression.point]
    out = expression.evaluate(*leaves)
    assert out.data == pytest.approx(value, rel=1e-12, abs=1e-12), str(expression)
    firsts = grad(out, leaves, create_graph=True)
    assert [d.data for d in firsts] == pytest.approx(gradient, rel=1e-10, abs=1e-12), str(expression)
    ours = [grad(first, leaves) for first in firsts]
    for row, expected in zip(ours, hessian):
        assert row == pytest.approx(expected, rel=1e-9, abs=1e-10), str(expression)


KINKS = {
    "relu at 0": (0.0, Value.relu, torch.relu),
    "abs at 0": (0.0, abs, torch.abs),
    "sqrt at 0": (0.0, Value.sqrt, torch.sqrt),
    "exponent of 0 ** b": (2.0, lambda b: Value(0.0) ** b, lambda b: torch.tensor(0.0, dtype=torch.float64) ** b),
    "base of a ** 0": (0.0, lambda a: a**0, lambda a: a**0),
}


@pytest.mark.parametrize("name", KINKS)
def test_conventions_at_kinks_match_pytorch(name: str) -> None:
    x, ours_f, theirs_f = KINKS[name]
    v, t = Value(x), torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ours_f(v).backward()
    theirs_f(t).backward()
    assert v.grad == t.grad.item()
