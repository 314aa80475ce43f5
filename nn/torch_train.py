"""Training on PyTorch: the same run as `nn.train`, on float64 tensors, a whole batch at a time.

`train_torch` takes the same model, data, loss, optimizer (its schedule and
settings), batches, seed and penalty as `nn.train`, builds the network with
`nn.to_torch`, and runs every step as `nn.train` does: the same batches in the
same order, the same loss (a mean, multiplied by the reciprocal of the batch
size), the same L2 penalty, and the same update formulas applied to tensors.
The trained weights go back into the chainrule model, so everything after
training (saving, plots, the explorer page) is unchanged.

Why the numbers agree but not to the last bit: PyTorch adds a weighted sum in
its own order (a matrix product), so each output can differ from chainrule's
in its last bit or two; over a run these differences grow with the number of
steps, as any rounding difference does in an iteration. On micrograd's demo
(100 steps) the final loss agrees to about 1e-13 relative; the tests require
1e-9.

This is the path for data sets that outgrow the scalar engine: a step costs
microseconds per point here, against tens of microseconds per point in pure
Python (see ``benchmarks/backends.py``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from nn.bridge import require
from nn.layers import MLP
from nn.optim import SGD, Adam, Optimizer
from nn.train import History, Record, _check_data, _threshold, batches, check_loss

__all__ = ["train_torch"]


def train_torch(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    alpha: float = 1e-4,
    seed: int | None = None,
    device: str = "cpu",
    callback: Callable[[int, list[Any]], None] | None = None,
) -> History:
    """Train `model` as `nn.train` would, on PyTorch tensors; the trained weights are put back into `model`.

    Args:
        model, X, y, loss, steps, batch_size, alpha, seed: as for `nn.train`.
        optimizer: an `nn.SGD` or `nn.Adam` built on `model`'s parameters: its
            schedule and settings are used (by default SGD with micrograd's
            schedule, as `nn.train`).
        device: "cpu", or "cuda" for a GPU.
        callback: called at each step after backward and before the update,
            with the step and the model's parameters, set to the network's
            values and gradients of that step, as in `nn.train`.

    Raises:
        MissingExtraError: torch is not installed (``pip install 'chainrule[torch]'``).
        ValueError: an unknown device, or a CUDA device that is not there.
        TrainingDivergedError: as in `nn.train`.
    """
    torch = require("torch", "torch", "training on PyTorch")
    from nn.optim import linear_decay
    from nn.torch_bridge import from_torch, to_torch

    _check_data(X, y, loss)
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available here; use --device cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', not {device!r}")
    optimizer = optimizer or SGD(model.parameters(), lr=linear_decay(1.0, 0.1, steps))
    if not isinstance(optimizer, (SGD, Adam)):
        raise TypeError(f"training on PyTorch takes nn.SGD or nn.Adam, not {type(optimizer).__name__}")
    if model.dropouts:
        raise ValueError("training on PyTorch does not apply dropout yet: train this model with nn.train")
    net = to_torch(model).to(device)
    tensors = list(net.parameters())
    inputs = torch.tensor(X, dtype=torch.float64, device=device)
    targets = torch.tensor([float(t) for t in y], dtype=torch.float64, device=device)
    threshold = _threshold(loss, y)
    update = _updater(torch, optimizer, tensors)
    history = History()
    feed = batches(len(X), batch_size, random.Random(seed))
    ceiling = math.inf
    for step in range(steps):
        rows = torch.tensor(next(feed), device=device)
        outputs = net(inputs[rows])
        total = _loss(torch, loss, outputs, targets[rows])
        if alpha:
            total = total + alpha * sum((p * p).sum() for p in tensors)
        value = float(total.detach())
        ceiling = check_loss(step, value, ceiling, history)
        lr = optimizer.schedule(step)
        for p in tensors:
            p.grad = None
        total.backward()
        if callback is not None:  # the callback sees the model's own parameters, as in nn.train
            parameters = model.parameters()
            for parameter, current in zip(parameters, _as_parameters(net)):
                parameter.data, parameter.grad = current.data, current.grad
            callback(step, parameters)
        update(lr)
        correct = _correct(torch, loss, outputs.detach(), targets[rows], threshold)
        history.records.append(Record(step, value, correct / len(rows), lr))
    model.load_state_dict(from_torch(net.cpu()).state_dict())
    return history


def _loss(torch: Any, loss: str, outputs: Any, targets: Any) -> Any:
    """The batch's mean loss, computed as `nn.losses` computes it (the sum times the reciprocal of the count)."""
    n = len(targets)
    if loss == "cross_entropy":
        logits = outputs
        shifted = logits - logits.detach().max(dim=1, keepdim=True).values  # the constant shift of nn.losses
        terms = shifted.exp().sum(dim=1).log() - shifted.gather(1, targets.long().unsqueeze(1)).squeeze(1)
        return terms.sum() * (1.0 / n)
    scores = outputs.squeeze(1)
    if loss == "hinge":
        terms = torch.relu(1 + -targets * scores)
    elif loss == "mse":
        terms = (scores - targets) ** 2
    elif loss == "bce":
        terms = torch.nn.functional.softplus(scores) - scores * (targets == 1).to(scores.dtype)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return terms.sum() * (1.0 / n)


def _correct(torch: Any, loss: str, outputs: Any, targets: Any, threshold: float) -> int:
    if loss == "cross_entropy":
        return int((outputs.argmax(dim=1) == targets.long()).sum())
    return int(((outputs.squeeze(1) > threshold) == (targets == 1)).sum())


def _updater(torch: Any, optimizer: SGD | Adam, tensors: list[Any]) -> Callable[[float], None]:
    """The optimizer's update, written for tensors with the formulas of `nn.optim`."""
    if isinstance(optimizer, SGD):
        velocity = [torch.zeros_like(p) for p in tensors]

        def sgd(lr: float) -> None:
            with torch.no_grad():
                for p, v in zip(tensors, velocity):
                    g = p.grad + optimizer.weight_decay * p if optimizer.weight_decay else p.grad
                    if optimizer.momentum:
                        v.mul_(optimizer.momentum).add_(g)
                        g = v
                    p.sub_(lr * g)

        return sgd
    m = [torch.zeros_like(p) for p in tensors]
    v = [torch.zeros_like(p) for p in tensors]
    count = [0]

    def adam(lr: float) -> None:
        b1, b2 = optimizer.betas
        count[0] += 1
        correction1, correction2 = 1.0 - b1 ** count[0], 1.0 - b2 ** count[0]
        with torch.no_grad():
            for p, mean, square in zip(tensors, m, v):
                g = p.grad + optimizer.weight_decay * p if optimizer.weight_decay else p.grad
                mean.mul_(b1).add_((1.0 - b1) * g)
                square.mul_(b2).add_((1.0 - b2) * g * g)
                p.sub_(lr * (mean / correction1) / ((square / correction2).sqrt() + optimizer.eps))

    return adam


def _as_parameters(net: Any) -> list[SimpleNamespace]:
    """The network's parameters in chainrule's order (per neuron: its weights, then its bias), as .data and .grad."""
    found = []
    for module in net:
        if hasattr(module, "weight"):
            weights, biases = module.weight.detach().cpu(), module.bias.detach().cpu()
            weight_grads, bias_grads = module.weight.grad.cpu(), module.bias.grad.cpu()
            for j in range(weights.shape[0]):
                for k in range(weights.shape[1]):
                    found.append(SimpleNamespace(data=float(weights[j, k]), grad=float(weight_grads[j, k])))
                found.append(SimpleNamespace(data=float(biases[j]), grad=float(bias_grads[j])))
    return found
