"""nn.RNN against torch.nn.RNN in float64: hidden states and every gradient, tanh and relu, several lengths.

Part of the optional torch group (``pytest -m torch``): skipped when torch is not installed.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from autograd import Value
from nn import RNN, rnn_to_torch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def random_rnn(nin: int, nhidden: int, activation: str, seed: int) -> RNN:
    rnn = RNN(nin, nhidden, activation, seed=seed)
    rng = random.Random(seed)
    for b in rnn.b:
        b.data = rng.uniform(-0.5, 0.5)  # our biases start at 0: make them count
    return rnn


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("steps", [1, 2, 5, 12])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("given_h0", [False, True])
def test_states_and_gradients_match_torch(activation: str, steps: int, batch_first: bool, given_h0: bool) -> None:
    nin, nhidden = 3, 4
    rng = random.Random(steps)
    xs = [[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(steps)]
    h0 = [rng.uniform(-1, 1) for _ in range(nhidden)] if given_h0 else None
    weights = [[rng.uniform(-1, 1) for _ in range(nhidden)] for _ in range(steps)]  # the loss weighs every state

    rnn = random_rnn(nin, nhidden, activation, seed=steps)
    inputs = [[Value(x) for x in step] for step in xs]
    start = None if h0 is None else [Value(h) for h in h0]
    states = rnn(inputs, h0=start)
    loss = sum((c * v for cs, h in zip(weights, states) for c, v in zip(cs, h)), Value(0.0)) + sum(
        (v * v for v in states[-1]), Value(0.0)
    )
    loss.backward()

    module = rnn_to_torch(rnn, batch_first=batch_first)
    x = torch.tensor([xs], dtype=torch.float64, requires_grad=True)  # a batch of one
    t_in = x if batch_first else x.transpose(0, 1)
    t_h0 = None if h0 is None else torch.tensor([[h0]], dtype=torch.float64, requires_grad=True)
    out, last = module(t_in, t_h0)
    out = out[0] if batch_first else out[:, 0]
    t_loss = (torch.tensor(weights, dtype=torch.float64) * out).sum() + (out[-1] ** 2).sum()
    t_loss.backward()

    assert [v.data for h in states for v in h] == pytest.approx(out.flatten().tolist(), rel=1e-12, abs=1e-12)
    assert [v.data for v in states[-1]] == pytest.approx(last[0, 0].tolist(), rel=1e-12, abs=1e-12)
    assert loss.data == pytest.approx(t_loss.item(), rel=1e-12)
    for ours, theirs in [
        (rnn.W, module.weight_ih_l0.grad),
        (rnn.U, module.weight_hh_l0.grad),
        ([rnn.b], module.bias_ih_l0.grad[None]),
        ([rnn.b], module.bias_hh_l0.grad[None]),  # the two biases are added: the same gradient
        (inputs, x.grad[0]),
    ]:
        assert [p.grad for row in ours for p in row] == pytest.approx(theirs.flatten().tolist(), rel=1e-12, abs=1e-12)
    if start is not None:
        assert [v.grad for v in start] == pytest.approx(t_h0.grad[0, 0].tolist(), rel=1e-12, abs=1e-12)


def test_the_copy_is_torchs_layout_with_the_bias_in_bias_ih() -> None:
    rnn = random_rnn(2, 3, "relu", seed=0)
    module = rnn_to_torch(rnn)
    assert module.nonlinearity == "relu"
    assert module.num_layers == 1
    assert module.weight_ih_l0.dtype == torch.float64
    assert module.weight_ih_l0.tolist() == [[w.data for w in row] for row in rnn.W]
    assert module.weight_hh_l0.tolist() == [[u.data for u in row] for row in rnn.U]
    assert module.bias_ih_l0.tolist() == [b.data for b in rnn.b]
    assert module.bias_hh_l0.tolist() == [0.0, 0.0, 0.0]


def test_the_copy_leaves_torchs_random_generator_alone() -> None:
    before = torch.random.get_rng_state()
    rnn_to_torch(RNN(2, 3, seed=0))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_what_torch_cannot_compute_is_refused() -> None:
    with pytest.raises(ValueError, match="tanh and relu, not 'sigmoid'"):
        rnn_to_torch(RNN(2, 3, "sigmoid", seed=0))
    with pytest.raises(TypeError, match="expected a chainrule RNN, not MLP"):
        rnn_to_torch(nn.MLP(2, [3], seed=0))  # type: ignore[arg-type]


def test_import_nn_and_an_rnn_do_not_import_torch() -> None:
    code = "import sys, nn; nn.RNN(2, 3)([[1.0, 2.0]]); assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


class TestFromTorch:
    """A torch.nn.RNN comes back as an nn.RNN: exactly after rnn_to_torch, and refused where it cannot."""

    def test_the_round_trip_is_exact(self) -> None:
        for activation in ("tanh", "relu"):
            rnn = nn.RNN(2, 3, activation=activation, seed=4)
            back = nn.rnn_from_torch(nn.rnn_to_torch(rnn))
            assert back.state_dict() == rnn.state_dict()
            assert back.config() == rnn.config()

    def test_torchs_two_biases_become_their_sum(self) -> None:
        module = torch.nn.RNN(2, 3, dtype=torch.float64)
        rnn = nn.rnn_from_torch(module)
        xs = [[0.5, -0.25], [1.0, 0.75], [-0.5, 0.0]]
        theirs = module(torch.tensor(xs, dtype=torch.float64))[0].tolist()
        ours = [[h.data for h in state] for state in rnn([[Value(v) for v in x] for x in xs])]
        assert max(abs(a - b) for row, other in zip(ours, theirs) for a, b in zip(row, other)) < 1e-14

    def test_what_it_cannot_hold_is_refused(self) -> None:
        with pytest.raises(ValueError, match="one layer, one direction, with a bias"):
            nn.rnn_from_torch(torch.nn.RNN(2, 3, num_layers=2, dtype=torch.float64))
        with pytest.raises(ValueError, match="one layer, one direction, with a bias"):
            nn.rnn_from_torch(torch.nn.RNN(2, 3, bidirectional=True, dtype=torch.float64))
        with pytest.raises(TypeError, match=r"expected a torch\.nn\.RNN"):
            nn.rnn_from_torch(torch.nn.GRU(2, 3))
        with pytest.raises(TypeError, match="float64"):
            nn.rnn_from_torch(torch.nn.RNN(2, 3))
