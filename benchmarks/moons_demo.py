"""micrograd's moons demo, written once and run on any Value class.

The training step is the one in micrograd's demo notebook: 100 points,
``MLP(2, [16, 16, 1])`` from micrograd's own `nn` module, hinge loss plus a
1e-4 L2 penalty, SGD with the learning rate decaying from 1.0 to 0.1.
`MicrogradRustDemo` runs the same step on micrograd-rust, as far as its API
allows, and `TorchDemo` on PyTorch tensors, the whole batch at once.
"""

from __future__ import annotations

import math
import random
from typing import Any


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles, labels -1 and +1, in pure Python."""
    rng = random.Random(seed)
    points: list[list[float]] = []
    labels: list[float] = []
    for i in range(n):
        t = math.pi * (i // 2) / max(n // 2 - 1, 1)
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1.0
        else:
            x, y, label = 1.0 - math.cos(t), 0.5 - math.sin(t), 1.0
        points.append([x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)])
        labels.append(label)
    return points, labels


class MoonsDemo:
    """One model and the demo's loss, built from `value_class` and micrograd's `MLP`."""

    def __init__(self, value_class: Any, mlp_class: Any, seed: int = 1337) -> None:
        random.seed(seed)  # micrograd's nn draws its weights from the global generator
        self.value_class = value_class
        self.model = mlp_class(2, [16, 16, 1])
        self.points, self.labels = make_moons(seed=seed)

    def loss(self) -> tuple[Any, float]:
        value = self.value_class
        inputs = [list(map(value, row)) for row in self.points]
        scores = list(map(self.model, inputs))
        losses = [(1 + -yi * score).relu() for yi, score in zip(self.labels, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in self.model.parameters())
        accuracy = [(yi > 0) == (score.data > 0) for yi, score in zip(self.labels, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    def step(self, k: int, total_steps: int = 100) -> tuple[float, float]:
        total_loss, accuracy = self.loss()
        self.model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / total_steps
        for p in self.model.parameters():
            p.data -= learning_rate * p.grad
        return total_loss.data, accuracy

    def parameters(self) -> list[float]:
        return [p.data for p in self.model.parameters()]


def micrograd_initial_parameters(seed: int = 1337) -> list[float]:
    """micrograd's MLP(2, [16, 16, 1]) parameters after random.seed(seed), in its order: weights, then bias 0."""
    random.seed(seed)
    parameters: list[float] = []
    for nin, nout in ((2, 16), (16, 16), (16, 1)):
        for _ in range(nout):
            parameters += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
    return parameters


class TorchDemo:
    """The demo's step on float64 PyTorch tensors, the whole batch at once, from parameters in micrograd's order.

    `sizes` are the layers' widths after `nin` inputs (ReLU hidden layers, a
    linear output); `weights` lists each neuron's weights, then its bias, as
    micrograd's ``parameters()`` does. PyTorch runs on one thread.
    """

    def __init__(
        self, points: list[list[float]], labels: list[float], nin: int, sizes: list[int], weights: list[float]
    ) -> None:
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.layers = []
        position = 0
        for a, b in zip([nin, *sizes], sizes):
            rows = [weights[position + j * (a + 1) : position + (j + 1) * (a + 1)] for j in range(b)]
            position += b * (a + 1)
            w = torch.tensor([row[:-1] for row in rows], dtype=torch.float64)
            bias = torch.tensor([row[-1] for row in rows], dtype=torch.float64)
            self.layers.append((w.requires_grad_(), bias.requires_grad_()))
        self.x = torch.tensor(points, dtype=torch.float64)
        self.y = torch.tensor(labels, dtype=torch.float64)

    def step(self, k: int, total_steps: int = 100, alpha: float = 1e-4) -> float:
        torch = self.torch
        parameters = [t for layer in self.layers for t in layer]
        h = self.x
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - self.y * h[:, 0]).mean() + alpha * sum((p * p).sum() for p in parameters)
        for p in parameters:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            rate = 1.0 - 0.9 * k / total_steps
            for p in parameters:
                p -= rate * p.grad
        return float(loss.item())

    def parameters(self) -> list[float]:
        """The parameters in micrograd's order: each neuron's weights, then its bias."""
        values: list[float] = []
        for w, b in self.layers:
            for j in range(w.shape[0]):
                values += [*w[j].tolist(), b[j].item()]
        return values


class MicrogradRustDemo:
    """The demo's step on micrograd-rust (module ``micrograd_rust``), from micrograd's initial parameters.

    Its API differs from micrograd's, so the step is written for it: its MLP
    uses tanh in every layer (micrograd: ReLU hidden layers, a linear output),
    calling it returns a list, its Values take plain numbers only on the left
    (``2 * v``, not ``v * 2``) and have no ``relu``. With a tanh output,
    ``1 - label * score`` lies in (0, 2) unless tanh saturates to exactly 1,
    and there the hinge's relu is the identity, so it is left out. The network
    is not micrograd's; it is chainrule's ``MLP(2, [16, 16, 1],
    activation="tanh", output_activation="tanh")``, whose parameters after the
    steps must match.
    """

    def __init__(self, seed: int = 1337) -> None:
        import micrograd_rust

        self.value_class = micrograd_rust.Value
        self.model = micrograd_rust.MLP(2, [16, 16, 1])
        for p, data in zip(self.model.parameters(), micrograd_initial_parameters(seed), strict=True):
            p.data = data
        self.points, self.labels = make_moons(seed=seed)

    def step(self, k: int, total_steps: int = 100) -> float:
        value = self.value_class
        scores = [self.model([value(a), value(b)])[0] for a, b in self.points]
        losses = [1 + -yi * score for yi, score in zip(self.labels, scores)]
        parameters = self.model.parameters()
        total_loss = (1.0 / len(losses)) * sum(losses) + 1e-4 * sum(p * p for p in parameters)
        self.model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / total_steps
        for p in parameters:
            p.data -= learning_rate * p.grad
        return float(total_loss.data)

    def parameters(self) -> list[float]:
        return [p.data for p in self.model.parameters()]
