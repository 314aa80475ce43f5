"""Optimizers (SGD with momentum and weight decay, Adam) and learning-rate schedules.

An optimizer holds the parameters and moves each one against its gradient in
`step()`; `zero_grad()` clears the gradients before the next backward pass.
Updates change ``.data`` only, so they build no graph. The learning rate is a
number or a schedule: a callable from the step number (0, 1, ...) to a rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from autograd import Value

__all__ = ["SGD", "Adam", "Optimizer", "Schedule", "constant", "linear_decay"]

Schedule = Callable[[int], float]


def constant(rate: float) -> Schedule:
    """The same learning rate at every step."""
    return lambda step: rate


def linear_decay(start: float = 1.0, end: float = 0.1, steps: int = 100) -> Schedule:
    """From `start` at step 0 down to `end` at step `steps`, linearly: micrograd's demo schedule.

    Example:
        >>> schedule = linear_decay(1.0, 0.1, 100)
        >>> [round(schedule(k), 12) for k in (0, 50, 100)]
        [1.0, 0.55, 0.1]
    """
    if steps < 1:
        raise ValueError(f"linear_decay needs steps >= 1, not {steps!r}")
    drop = start - end
    return lambda step: start - drop * step / steps


class Optimizer:
    """Common parts: the parameters, the schedule, the step count, `zero_grad`."""

    def __init__(self, parameters: Sequence[Value], lr: float | Schedule) -> None:
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("the optimizer got no parameters")
        for p in self.parameters:
            if not isinstance(p, Value):
                raise TypeError(f"parameters must be Values, not {type(p).__name__}")
        if callable(lr):
            self.schedule: Schedule = lr
        elif isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0:
            self.schedule = constant(float(lr))
        else:
            raise ValueError(f"the learning rate must be a positive number or a schedule, not {lr!r}")
        self.steps = 0

    @property
    def lr(self) -> float:
        """The learning rate the next `step` uses."""
        return self.schedule(self.steps)

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: p -= lr * (grad + weight_decay * p), with optional momentum.

    With momentum mu the update follows the velocity v = mu * v + g.

    Example:
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> SGD([w], lr=0.1).step()
        >>> w.data
        0.8
    """

    def __init__(
        self, parameters: Sequence[Value], lr: float | Schedule = 0.1, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(parameters, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), not {momentum!r}")
        if weight_decay < 0.0:
            raise ValueError(f"weight_decay must be >= 0, not {weight_decay!r}")
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.lr
        for i, p in enumerate(self.parameters):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                g = self.velocity[i] = self.momentum * self.velocity[i] + g
            p.data -= lr * g
        self.steps += 1


class Adam(Optimizer):
    """Adam: per-parameter steps from running means of the gradient and its square.

    Example:
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> Adam([w], lr=0.1).step()
        >>> round(w.data, 6)  # the first step moves by about lr, whatever the gradient's size
        0.9
    """

    def __init__(
        self,
        parameters: Sequence[Value],
        lr: float | Schedule = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr)
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), not {betas!r}")
        if eps <= 0.0:
            raise ValueError(f"eps must be > 0, not {eps!r}")
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.lr
        b1, b2 = self.betas
        t = self.steps + 1
        correction1, correction2 = 1.0 - b1**t, 1.0 - b2**t
        for i, p in enumerate(self.parameters):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            p.data -= lr * (self.m[i] / correction1) / (math.sqrt(self.v[i] / correction2) + self.eps)
        self.steps += 1
