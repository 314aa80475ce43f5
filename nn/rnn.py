"""`RNN`: an Elman recurrent layer, and backpropagation through time on its unrolled graph.

At each step the hidden state is ``h_t = act(W x_t + U h_{t-1} + b)``, with
``h_0 = 0`` unless one is given. Calling the layer on a sequence unrolls it:
one weighted sum (a fused ``dot`` node, over the inputs and the previous
hidden state) and one activation per hidden unit per step, all sharing the
same W, U and b. ``backward()`` on a loss over the hidden states is then
backpropagation through time: the ordinary backward pass on that graph, which
adds each step's contribution into the shared parameters' gradients.

``truncate=k`` is truncated backpropagation through time: every k steps the
hidden state is replaced by a new leaf Value with the same data, so the
values are unchanged but no gradient flows back past that point.

PyTorch's ``torch.nn.RNN`` has two bias vectors, ``bias_ih_l0`` and
``bias_hh_l0``; it adds both at every step, so only their sum matters, and
that sum is our b. `nn.rnn_to_torch` copies W to ``weight_ih_l0``, U to
``weight_hh_l0``, b to ``bias_ih_l0`` and sets ``bias_hh_l0`` to 0.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

import autograd
from autograd import Value
from nn.layers import ACTIVATIONS, _check_size, _random
from nn.module import MAX_LAYER_WIDTH, MAX_PARAMETERS, Module, build_from_file, excerpt

__all__ = ["RNN"]

Vector = Sequence[Value | float]


class RNN(Module):
    """An Elman recurrent layer: ``h_t = act(W x_t + U h_{t-1} + b)`` over a sequence.

    Args:
        nin: the size of each input vector x_t.
        nhidden: the size of the hidden state h_t.
        activation: "tanh" (default) or "relu" (the two ``torch.nn.RNN``
            offers), or any other of `nn.layers.ACTIVATIONS`.
        seed: an int or a `random.Random` for reproducible weights; None uses
            the `random` module. W and U start uniform in
            ``(-1/sqrt(nhidden), 1/sqrt(nhidden))``, PyTorch's range (wider
            recurrent weights make the hidden state explode or saturate); b
            starts at 0, as a `Neuron`'s bias does.

    Example:
        >>> rnn = RNN(1, 3, seed=0)
        >>> hs = rnn([[0.5], [-1.0], [0.25]])
        >>> len(hs), len(hs[0]), hs[-1][0].op
        (3, 3, 'tanh')
        >>> len(rnn.parameters())  # 3 x 1 in W, 3 x 3 in U, 3 in b
        15
    """

    def __init__(
        self, nin: int, nhidden: int, activation: str = "tanh", *, seed: int | random.Random | None = None
    ) -> None:
        _check_size("nin", nin)
        _check_size("nhidden", nhidden)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
        self.activation = activation
        rng = _random(seed)
        limit = 1.0 / math.sqrt(nhidden)
        self.W = [[Value(rng.uniform(-limit, limit)) for _ in range(nin)] for _ in range(nhidden)]
        self.U = [[Value(rng.uniform(-limit, limit)) for _ in range(nhidden)] for _ in range(nhidden)]
        self.b = [Value(0.0) for _ in range(nhidden)]

    @property
    def nin(self) -> int:
        return len(self.W[0])

    @property
    def nhidden(self) -> int:
        return len(self.b)

    def step(self, x: Vector, h: Vector | None = None) -> list[Value]:
        """One step: ``act(W x + U h + b)``; h None is the zero state (then U h is 0 and left out of the graph).

        Each unit's weighted sum is one fused ``dot`` node over ``[*x, *h]``
        with weights ``[*W_i, *U_i]``: the sum the formula writes in one line.
        """
        if len(x) != self.nin:
            raise ValueError(f"this RNN takes inputs of size {self.nin}, got one of size {len(x)}")
        if h is None:
            sums = autograd.linear(self.W, x, self.b)
        else:
            if len(h) != self.nhidden:
                raise ValueError(f"this RNN has a hidden state of size {self.nhidden}, got one of size {len(h)}")
            rows = [w + u for w, u in zip(self.W, self.U)]
            sums = autograd.linear(rows, [*x, *h], self.b)
        act = ACTIVATIONS[self.activation]
        return [act(z) for z in sums]

    def __call__(
        self, xs: Sequence[Vector], h0: Vector | None = None, truncate: int | None = None
    ) -> list[list[Value]]:
        """The hidden states h_1, ..., h_T for the inputs x_1, ..., x_T: one list of `nhidden` Values per step.

        Args:
            xs: the sequence, one input vector (of `nin` numbers or Values) per step.
            h0: the initial hidden state; None is zeros.
            truncate: k for truncated backpropagation through time: the state
                carried into steps k+1, 2k+1, ... is detached (a new leaf with
                the same data), so gradients flow back at most k steps. None
                keeps the whole graph.

        Example:
            >>> rnn = RNN(1, 2, seed=0)
            >>> xs = [[1.0], [0.5], [-0.5], [2.0]]
            >>> full, cut = rnn(xs), rnn(xs, truncate=2)
            >>> [h.data for h in full[-1]] == [h.data for h in cut[-1]]  # the same values, a shorter graph
            True
        """
        if truncate is not None and (isinstance(truncate, bool) or not isinstance(truncate, int) or truncate < 1):
            raise ValueError(f"truncate must be a positive int or None, not {truncate!r}")
        h: Vector | None = h0
        states: list[list[Value]] = []
        for t, x in enumerate(xs):
            if truncate is not None and t > 0 and t % truncate == 0:
                h = [Value(v.data) for v in states[-1]]  # detach: same data, no parents, so backward stops here
            states.append(self.step(x, h))
            h = states[-1]
        return states

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for name, matrix in (("W", self.W), ("U", self.U)):
            for i, row in enumerate(matrix):
                for j, p in enumerate(row):
                    yield f"{name}.{i}.{j}", p
        for i, p in enumerate(self.b):
            yield f"b.{i}", p

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nhidden": self.nhidden, "activation": self.activation}

    @classmethod
    def from_file(cls, path: Any) -> RNN:
        """Rebuild an RNN saved with `save`; the declared shape is checked before anything is built.

        Raises:
            ModelFileError: the file is not a well-formed RNN file (another
                model type, a bad config, or parameters that do not fit it).
        """
        model = build_from_file(cls, path, _declared_parameters)
        return model

    def __repr__(self) -> str:
        return f"RNN({self.nin}, {self.nhidden}, activation={self.activation!r})"


def _declared_parameters(config: dict[str, Any]) -> int:
    """How many parameters the RNN that `config` (from a model file) declares; ValueError naming what is wrong."""
    expected = {"nin", "nhidden", "activation"}
    if set(config) != expected:
        wrong = sorted(set(config) - expected) or sorted(expected - set(config))
        raise ValueError(f"{'unknown' if set(config) - expected else 'missing'} key {excerpt(wrong[0])}")
    for name in ("nin", "nhidden"):
        size = config[name]
        if type(size) is not int or not 1 <= size <= MAX_LAYER_WIDTH:
            raise ValueError(f"{name!r} must be an int from 1 to {MAX_LAYER_WIDTH}, not {excerpt(size)}")
    if type(config["activation"]) is not str or config["activation"] not in ACTIVATIONS:
        raise ValueError(f"'activation' must be one of {', '.join(ACTIVATIONS)}, not {excerpt(config['activation'])}")
    nin, nhidden = config["nin"], config["nhidden"]
    count: int = nhidden * (nin + nhidden + 1)  # each unit: a weight per input, one per hidden unit, and a bias
    if count > MAX_PARAMETERS:
        raise ValueError(f"it declares {count} parameters; a model file may hold at most {MAX_PARAMETERS}")
    return count
