"""nn's optimizers and gradient clipping against torch.optim and torch.nn.utils, on the same problem.

Part of the optional torch group (``pytest -m torch``): skipped when torch is not installed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from autograd import Value
from nn import SGD, Adagrad, Adam, RMSprop, clip_grad_norm, clip_grad_value, l1_penalty

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


GRADIENTS = {
    "small": [0.1, -0.2, 0.05],
    "large": [3.0, -4.0, 12.0, 0.0, -0.5],
    "just over": [0.6, 0.8000001],  # a norm just over 1: torch's eps of 1e-6 decides the factor
    "huge": [1e200, -1e200, 3.0],  # the squares overflow
    "with inf": [1.0, math.inf, -2.0],
    "with nan": [1.0, math.nan, -2.0],
    "with -0": [-0.0, 0.0, 2.0],
}


def tensors_with(gradients: list[float]) -> list[Any]:
    tensors = []
    for g in gradients:
        t = torch.zeros((), dtype=torch.float64, requires_grad=True)
        t.grad = torch.tensor(g, dtype=torch.float64)
        tensors.append(t)
    return tensors


def values_with(gradients: list[float]) -> list[Value]:
    values = [Value(0.0) for _ in gradients]
    for v, g in zip(values, gradients):
        v.grad = g
    return values


def same(ours: list[float], theirs: list[float]) -> bool:
    """Equal to 1e-12, with nan equal to nan and the sign of a zero kept."""
    return all(
        (math.isnan(a) and math.isnan(b))
        or (a == pytest.approx(b, rel=1e-12, abs=1e-300) and math.copysign(1.0, a) == math.copysign(1.0, b))
        for a, b in zip(ours, theirs, strict=True)
    )


@pytest.mark.parametrize("gradients", GRADIENTS.values(), ids=list(GRADIENTS))
@pytest.mark.parametrize("max_norm", [1.0, 0.25, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, 0.5, math.inf, "inf"])
def test_clip_grad_norm_matches_torch(gradients: list[float], max_norm: float, norm_type: Any) -> None:
    values, tensors = values_with(gradients), tensors_with(gradients)
    total = clip_grad_norm(values, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type, foreach=False).item()
    assert same([total], [expected])
    assert same([v.grad for v in values], [t.grad.item() for t in tensors])


@pytest.mark.parametrize("gradients", GRADIENTS.values(), ids=list(GRADIENTS))
@pytest.mark.parametrize("clip_value", [0.1, 1.0, 5.0])
def test_clip_grad_value_matches_torch(gradients: list[float], clip_value: float) -> None:
    values, tensors = values_with(gradients), tensors_with(gradients)
    clip_grad_value(values, clip_value)
    torch.nn.utils.clip_grad_value_(tensors, clip_value, foreach=False)
    assert same([v.grad for v in values], [t.grad.item() for t in tensors])
