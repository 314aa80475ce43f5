"""Optimizers (SGD with momentum and weight decay, Adagrad, RMSprop, Adam) and learning-rate schedules.

An optimizer holds the parameters and moves each one against its gradient in
`step()`; `zero_grad()` clears the gradients before the next backward pass.
Updates change ``.data`` only, so they build no graph. The learning rate is a
number or a schedule: a callable from the step number (0, 1, ...) to a rate.

The names, arguments, defaults and update formulas are PyTorch's
(``torch.optim``); on the same gradients the updates agree with torch's to
rounding (tests/test_torch.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from autograd import Value

__all__ = ["SGD", "Adagrad", "Adam", "Optimizer", "RMSprop", "Schedule", "constant", "linear_decay"]

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


def _check(name: str, value: float, *, below: float | None = None, positive: bool = False) -> float:
    """`value` as a float, or a ValueError naming the argument: a finite number >= 0 (> 0, < `below`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if value < 0.0 or (positive and value == 0.0) or (below is not None and value >= below):
        bounds = ("> 0" if positive else ">= 0") + ("" if below is None else f" and < {below:g}")
        raise ValueError(f"{name} must be {bounds}, not {value!r}")
    return float(value)


class Optimizer:
    """Common parts: the parameters, the schedule, the step count, weight decay, `zero_grad`."""

    weight_decay: float = 0.0
    """L2 weight decay added to each gradient (subclasses that take it set it)."""

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

    def gradient(self, p: Value) -> float:
        """The gradient an update uses: with weight decay, ``grad + weight_decay * data``, as torch.optim."""
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

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
            g = self.gradient(p)
            if self.momentum:
                g = self.velocity[i] = self.momentum * self.velocity[i] + g
            p.data -= lr * g
        self.steps += 1


class Adagrad(Optimizer):
    """Adagrad: each parameter's step is divided by the root of the sum of its squared gradients.

    As ``torch.optim.Adagrad``: with g = grad + weight_decay * p, at step t (from 1),
    ``sum += g * g`` and ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``.
    A parameter that has had large gradients takes small steps from then on.

    Example:
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> Adagrad([w], lr=0.1).step()
        >>> round(w.data, 6)  # the first step moves by lr * g / |g| = lr
        0.9
    """

    def __init__(
        self,
        parameters: Sequence[Value],
        lr: float | Schedule = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(parameters, lr)
        self.lr_decay = _check("lr_decay", lr_decay)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.initial_accumulator_value = _check("initial_accumulator_value", initial_accumulator_value)
        self.eps = _check("eps", eps, positive=True)
        self.sum = [self.initial_accumulator_value] * len(self.parameters)

    def step(self) -> None:
        clr = self.lr / (1.0 + self.steps * self.lr_decay)  # self.steps is t - 1
        for i, p in enumerate(self.parameters):
            g = self.gradient(p)
            self.sum[i] += g * g
            p.data -= clr * (g / (math.sqrt(self.sum[i]) + self.eps))
        self.steps += 1


class RMSprop(Optimizer):
    """RMSprop: each parameter's step is divided by a running root mean square of its gradients.

    As ``torch.optim.RMSprop``: with g = grad + weight_decay * p,
    ``v = alpha * v + (1 - alpha) * g * g``; centered, the running mean m of g
    is subtracted, ``avg = sqrt(v - m * m) + eps``, else ``avg = sqrt(v) + eps``;
    then ``p -= lr * g / avg``, or with momentum mu, ``b = mu * b + g / avg`` and
    ``p -= lr * b``.

    Example:
        >>> w = Value(1.0)
        >>> (w * w).backward()
        >>> RMSprop([w], lr=0.01).step()
        >>> round(w.data, 6)  # the first step divides by sqrt(1 - alpha) |g|: lr / 0.1
        0.9
    """

    def __init__(
        self,
        parameters: Sequence[Value],
        lr: float | Schedule = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(parameters, lr)
        self.alpha = _check("alpha", alpha, below=1.0)
        self.eps = _check("eps", eps, positive=True)
        self.weight_decay = _check("weight_decay", weight_decay)
        self.momentum = _check("momentum", momentum, below=1.0)
        if not isinstance(centered, bool):
            raise ValueError(f"centered must be True or False, not {centered!r}")
        self.centered = centered
        n = len(self.parameters)
        self.square_avg = [0.0] * n
        self.grad_avg = [0.0] * n
        self.momentum_buffer = [0.0] * n

    def step(self) -> None:
        lr, alpha = self.lr, self.alpha
        for i, p in enumerate(self.parameters):
            g = self.gradient(p)
            v = self.square_avg[i] = alpha * self.square_avg[i] + (1.0 - alpha) * g * g  # torch's order
            if self.centered:
                m = self.grad_avg[i] = self.grad_avg[i] + (1.0 - alpha) * (g - self.grad_avg[i])  # torch's lerp
                avg = math.sqrt(v - m * m) + self.eps
            else:
                avg = math.sqrt(v) + self.eps
            if self.momentum:
                b = self.momentum_buffer[i] = self.momentum * self.momentum_buffer[i] + g / avg
                p.data -= lr * b
            else:
                p.data -= lr * (g / avg)
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
            g = self.gradient(p)
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            p.data -= lr * (self.m[i] / correction1) / (math.sqrt(self.v[i] / correction2) + self.eps)
        self.steps += 1
