"""nn's optimizers and gradient clipping against torch.optim and torch.nn.utils, on the same problem.

Part of the optional torch group (``pytest -m torch``): skipped when torch is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value
from nn import SGD, Adagrad, Adam, RMSprop, l1_penalty

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

START = [-0.8, 1.3, 0.4]


def loss(a: Any, b: Any, c: Any, tanh: Callable[[Any], Any] = Value.tanh) -> Any:
    """A bent valley (Rosenbrock's) with a coupling term: gradients of different sizes in each direction."""
    return (1 - a) ** 2 + 5 * (b - a * a) ** 2 + tanh(a * b * c) + 0.1 * c * c


OPTIMIZERS = {
    "SGD": (SGD, "SGD", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.01}),
    "Adam": (Adam, "Adam", {"lr": 0.01, "weight_decay": 0.01}),
    "Adagrad defaults": (Adagrad, "Adagrad", {}),
    "Adagrad": (
        Adagrad,
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.02, "initial_accumulator_value": 0.1},
    ),
    "RMSprop defaults": (RMSprop, "RMSprop", {}),
    "RMSprop momentum": (RMSprop, "RMSprop", {"lr": 0.005, "momentum": 0.8, "weight_decay": 0.01}),
    "RMSprop centered": (RMSprop, "RMSprop", {"lr": 0.005, "alpha": 0.9, "centered": True, "eps": 1e-6}),
    "RMSprop centered momentum": (RMSprop, "RMSprop", {"lr": 0.002, "momentum": 0.5, "centered": True}),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_follow_torch_optim_step_by_step(name: str) -> None:
    """300 steps from the same start. torch is given our gradients: its own differ in the last bit
    (it adds the terms in another order), and near a minimum the centered RMSprop amplifies that."""
    ours_class, torch_name, settings = OPTIMIZERS[name]
    params = [Value(x) for x in START]
    tensors = [torch.tensor(x, dtype=torch.float64) for x in START]
    ours = ours_class(params, **settings)
    theirs = getattr(torch.optim, torch_name)(tensors, foreach=False, **settings)
    for step in range(300):
        ours.zero_grad()
        loss(*params).backward()
        for p, t in zip(params, tensors):
            t.grad = torch.tensor(p.grad, dtype=torch.float64)
        ours.step()
        theirs.step()
        expected = [t.item() for t in tensors]
        assert [p.data for p in params] == pytest.approx(expected, rel=1e-12, abs=1e-12), step
    assert [p.data for p in params] != pytest.approx(START, abs=1e-3)  # they did move


def test_the_gradients_given_to_torch_are_torchs_own_to_rounding() -> None:
    params = [Value(x) for x in START]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    loss(*params).backward()
    loss(*tensors, tanh=torch.tanh).backward()
    assert [p.grad for p in params] == pytest.approx([t.grad.item() for t in tensors], rel=1e-15, abs=1e-15)


def test_the_l1_penalty_and_its_gradient_match_torch() -> None:
    start = [0.5, -1.5, 0.0, -0.0, 2.0]
    params = [Value(x) for x in start]
    tensor = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours, theirs = l1_penalty(params, 0.03), 0.03 * tensor.abs().sum()
    ours.backward()
    theirs.backward()
    assert ours.data == pytest.approx(theirs.item(), rel=1e-15)
    assert [p.grad for p in params] == tensor.grad.tolist()
