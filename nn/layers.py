"""Neurons, layers and multi-layer perceptrons, on top of the engine's Values.

A neuron computes ``act(w . x + b)``. By default the weighted sum is the
engine's fused `autograd.dot` (one node per neuron, the fast path); with
``fused=False`` it is built from one product and one addition per input, the
graph a learner draws by hand. Both give the same values and gradients to the
last bit.

The classes work unchanged in micrograd's demo loop: `MLP(2, [16, 16, 1])`
returns one Value for one output, hidden layers use ReLU and the last layer is
linear, and ``nonlin=`` is accepted.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from typing import Any

import autograd
from autograd import Value
from nn.module import MAX_LAYER_WIDTH, MAX_LAYERS, MAX_PARAMETERS, ModelFileError, Module, build_from_file, excerpt
from nn.norm import BatchNorm

__all__ = ["ACTIVATIONS", "INITS", "MLP", "Dropout", "Layer", "Neuron"]

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,  # PyTorch's default slope, 0.01
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": lambda z: z,
}

INITS = ("uniform", "xavier", "he")
"""uniform(-1, 1) as micrograd; Xavier/Glorot uniform for tanh and sigmoid; He (Kaiming) uniform for ReLU."""

Input = Sequence[Value | float]


def _random(seed: Any) -> Any:
    """A source of random numbers: a given Random, a new one from a seed, or the global one (as micrograd)."""
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or a random.Random, not {type(seed).__name__}")
    return random.Random(seed)


def _activation(activation: str | None, nonlin: bool | None, default: str) -> str:
    if nonlin is not None:
        if activation is not None:
            raise ValueError("give either activation= or micrograd's nonlin=, not both")
        return "relu" if nonlin else "linear"
    name = default if activation is None else activation
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return name


def _limit(init: str, nin: int, nout: int) -> float:
    if init == "uniform":
        return 1.0
    if init == "xavier":
        return math.sqrt(6.0 / (nin + nout))
    if init == "he":
        return math.sqrt(6.0 / nin)
    raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")


def _check_probability(name: str, p: Any) -> float:
    """`p` as a float in [0, 1): a dropout probability (1 would drop every unit and scale by infinity)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a number in [0, 1), the probability of dropping a unit, not {p!r}")
    return float(p)


def _check_size(name: str, n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive int, not {n!r}")


class Neuron(Module):
    """``activation(w . x + b)`` for `nin` inputs.

    Args:
        nin: number of inputs.
        activation: "relu" (default), "leaky_relu" (slope 0.01), "tanh", "sigmoid" or "linear".
        nonlin: micrograd's switch (True: relu, False: linear), instead of `activation`.
        fused: build the weighted sum as one fused node (fast) or elementwise (to draw).
        init: "uniform" (micrograd's uniform(-1, 1)), "xavier" or "he".
        nout: the layer's width, used by Xavier initialisation.
        seed: an int or a `random.Random` for reproducible weights; None uses
            the `random` module, as micrograd does. The bias starts at 0.

    Example:
        >>> n = Neuron(2, activation="tanh", seed=1)
        >>> out = n([0.5, -1.0])
        >>> out.op, len(n.parameters())
        ('tanh', 3)
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = None,
        *,
        nonlin: bool | None = None,
        fused: bool = True,
        init: str = "uniform",
        nout: int = 1,
        seed: int | random.Random | None = None,
    ) -> None:
        _check_size("nin", nin)
        self.activation = _activation(activation, nonlin, "relu")
        self.fused = fused
        self.init = init
        limit = _limit(init, nin, nout)
        rng = _random(seed)
        self.w = [Value(rng.uniform(-limit, limit)) for _ in range(nin)]
        self.b = Value(0.0)

    @property
    def activation(self) -> str:
        """The activation's name; assigning a new name changes the function too."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        self._act = ACTIVATIONS[_activation(name, None, "relu")]
        self._activation = name

    def __call__(self, x: Input) -> Value:
        if self.fused:
            try:
                return self._act(autograd.dot(self.w, x, self.b))
            except ValueError:
                self._check_inputs(x)
                raise
        self._check_inputs(x)
        return self._act(sum((wi * xi for wi, xi in zip(self.w, x)), self.b))

    def weighted_sum(self, x: Input) -> Value:
        """``w . x + b``, before the activation: where a normalisation such as `nn.BatchNorm` goes."""
        if self.fused:
            try:
                return autograd.dot(self.w, x, self.b)
            except ValueError:
                self._check_inputs(x)
                raise
        self._check_inputs(x)
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b)

    def _check_inputs(self, x: Input) -> None:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, w in enumerate(self.w):
            yield f"w.{i}", w
        yield "b", self.b

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": self.activation, "fused": self.fused}

    def __repr__(self) -> str:
        kind = "".join(word.capitalize() for word in self.activation.split("_"))  # leaky_relu: LeakyReluNeuron
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons that read the same inputs; calling it always returns a list.

    Example:
        >>> layer = Layer(3, 2, activation="tanh", seed=0)
        >>> len(layer([1.0, 2.0, 3.0]))
        2
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = None,
        *,
        nonlin: bool | None = None,
        fused: bool = True,
        init: str = "uniform",
        seed: int | random.Random | None = None,
    ) -> None:
        _check_size("nout", nout)
        rng = _random(seed)
        name = _activation(activation, nonlin, "relu")
        self.neurons = [Neuron(nin, name, fused=fused, init=init, nout=nout, seed=rng) for _ in range(nout)]

    def __call__(self, x: Input) -> list[Value]:
        neurons = self.neurons
        # Plain fused neurons have their weighted sums built together, reading the inputs once:
        # the same nodes as each neuron's own `dot`. Anything else is called neuron by neuron.
        if neurons and all(type(n) is Neuron and n.fused for n in neurons):
            try:
                sums = autograd.linear([n.w for n in neurons], x, [n.b for n in neurons])
            except ValueError:
                pass  # a neuron that does not fit the inputs: its own call below says which and why
            else:
                return [n._act(z) for n, z in zip(neurons, sums)]
        return [n(x) for n in neurons]

    def weighted_sums(self, x: Input) -> list[Value]:
        """Each neuron's ``w . x + b``, before its activation (see `Neuron.weighted_sum`)."""
        return [n.weighted_sum(x) for n in self.neurons]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, neuron in enumerate(self.neurons):
            for name, p in neuron.named_parameters():
                yield f"neurons.{i}.{name}", p

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class Dropout(Module):
    """Inverted dropout: in training mode, each unit is dropped (set to 0) with probability `p`.

    The units kept are multiplied by ``1 / (1 - p)``, so that a unit's
    expected output is the same in both modes; in evaluation mode (`eval`)
    the layer is the identity and returns its input list itself. Each call in
    training mode draws a fresh mask from the layer's own generator, so a
    seed repeats the masks exactly. In a drawing, a dropped unit is the
    input times a 0 constant, labelled "dropped"; a kept one is the input
    times the scale, labelled "kept".

    Args:
        p: the probability of dropping each unit, in [0, 1).
        seed: an int or a `random.Random` for the masks; None uses the `random` module.

    Raises:
        ValueError: `p` is outside [0, 1).

    Example:
        >>> drop = Dropout(0.5, seed=0)
        >>> [h.data for h in drop([Value(1.0), Value(2.0), Value(3.0)])]
        [2.0, 4.0, 0.0]
        >>> [h.data for h in drop.eval()([Value(1.0), Value(2.0)])]
        [1.0, 2.0]
    """

    def __init__(self, p: float = 0.5, *, seed: int | random.Random | None = None) -> None:
        self.p = _check_probability("dropout p", p)
        self.scale = 1.0 / (1.0 - self.p)
        self.rng = _random(seed)

    def __call__(self, x: Sequence[Value]) -> list[Value]:
        if not self.training or self.p == 0.0:
            return x if isinstance(x, list) else list(x)
        out = []
        for h in x:
            if self.rng.random() < self.p:
                unit = h * 0.0  # a product, not a fresh Value(0): the drawing shows which unit was dropped
                unit.label = "dropped"
            else:
                unit = h * self.scale
                unit.label = "kept"
            out.append(unit)
        return out

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class MLP(Module):
    """A multi-layer perceptron: layers of sizes `nouts` on `nin` inputs.

    Hidden layers use `activation` (ReLU by default) and the last layer uses
    `output_activation` (linear by default). Calling the model returns one
    Value when the last layer has one neuron, else a list.

    Args:
        nin: number of inputs.
        nouts: the width of each layer, the last one the output.
        activation: for the hidden layers.
        output_activation: for the last layer.
        fused: fused weighted sums (fast) or elementwise graphs (to draw).
        init: "uniform" (micrograd), "xavier" or "he".
        dropout: the probability of dropping each hidden unit after its
            activation, in training mode (`nn.Dropout`); 0, the default, adds
            no dropout at all. The masks come from a generator the model owns,
            seeded from `seed` after the weights are drawn.
        batchnorm: put an `nn.BatchNorm` between each hidden layer's weighted
            sums and its activation, as Ioffe and Szegedy do. Such a model
            trains on whole batches (`forward_batch`, which `nn.train` calls);
            calling it on one example works in evaluation mode only.
        seed: an int or a `random.Random`; None uses the `random` module, so
            `random.seed(1337)` followed by `MLP(2, [16, 16, 1])` gives
            micrograd's weights for the same seed.

    Example:
        >>> model = MLP(2, [16, 16, 1], seed=1337)
        >>> model([0.5, -0.2]).op
        'dot'
        >>> len(model.parameters())
        337
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "linear",
        *,
        fused: bool = True,
        init: str = "uniform",
        dropout: float = 0.0,
        batchnorm: bool = False,
        seed: int | random.Random | None = None,
    ) -> None:
        _check_size("nin", nin)
        dropout = _check_probability("dropout", dropout)
        if not isinstance(batchnorm, bool):
            raise TypeError(f"batchnorm must be True or False, not {batchnorm!r}")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, not {nouts!r}")
        rng = _random(seed)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i], sizes[i + 1], output_activation if i == last else activation, fused=fused, init=init, seed=rng
            )
            for i in range(len(nouts))
        ]
        self._config = {
            "nin": nin,
            "nouts": list(nouts),
            "activation": _activation(activation, None, "relu"),
            "output_activation": _activation(output_activation, None, "linear"),
            "fused": fused,
        }
        self.dropouts: list[Dropout] = []
        """One `Dropout` after each hidden layer, or none when `dropout` is 0."""
        if dropout:
            masks = random.Random(rng.getrandbits(64))  # one generator, after the weights: they do not change
            self.dropouts = [Dropout(dropout, seed=masks) for _ in range(last)]
            self._config["dropout"] = dropout  # only when set: a model without it saves as before
        self.norms: list[BatchNorm] = []
        """One `BatchNorm` for each hidden layer, or none."""
        if batchnorm:
            self.norms = [BatchNorm(width) for width in nouts[:-1]]
            self._config["batchnorm"] = True  # only when set, as dropout

    def __call__(self, x: Input) -> Any:
        """The output Value (one output) or list of Values."""
        if self.norms:
            return self.forward_batch([x])[0]  # one example: only in evaluation mode
        if self.dropouts:
            return self._with_dropout(x)
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def _with_dropout(self, x: Input) -> Any:
        """The forward pass with each hidden layer's activations passed through its `Dropout`."""
        for layer, dropout in zip(self.layers, self.dropouts):
            x = dropout(layer(x))
        x = self.layers[-1](x)
        return x[0] if len(x) == 1 else x

    def forward_batch(self, X: Sequence[Input]) -> list[Any]:
        """The outputs for a batch of examples, every layer taking the whole batch before the next one.

        This is how a batch reaches `BatchNorm`: each hidden layer computes
        the weighted sums of every example, its `BatchNorm` normalises them
        over the batch, and then come the activations (and dropout, if any).
        A model without batch normalisation gives ``[model(x) for x in X]``.
        """
        if not self.norms:
            return [self(x) for x in X]
        batch: Sequence[Input] = X
        for i, layer in enumerate(self.layers[:-1]):
            activations = [n._act for n in layer.neurons]
            normalised = self.norms[i]([layer.weighted_sums(x) for x in batch])
            hidden = [[act(z) for act, z in zip(activations, row)] for row in normalised]
            if self.dropouts:
                hidden = [self.dropouts[i](h) for h in hidden]
            batch = hidden
        outputs = [self.layers[-1](x) for x in batch]
        return [out[0] if len(out) == 1 else out for out in outputs]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"layers.{i}.{name}", p
        for i, norm in enumerate(self.norms):
            for name, p in norm.named_parameters():
                yield f"norms.{i}.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, Value]]:
        for i, norm in enumerate(self.norms):
            for name, b in norm.named_buffers():
                yield f"norms.{i}.{name}", b

    def config(self) -> dict[str, Any]:
        return dict(self._config)

    @classmethod
    def from_file(cls, path: Any) -> MLP:
        """Rebuild a model saved with `save`: its architecture, then its parameters.

        The architecture the file declares is checked (types, the limits in
        `nn.module`, and the number of parameters it implies against the
        number in the file) before anything is built.

        Raises:
            ModelFileError: the file is not a well-formed MLP file.
        """
        model = build_from_file(cls, path, _declared_parameters)
        for name, variance in model.named_buffers():
            if name.split(".")[2] == "running_var" and variance.data < 0:
                raise ModelFileError(f"{path}: {name} must be >= 0, not {variance.data!r}")
        return model

    def __repr__(self) -> str:
        parts = []
        for i, layer in enumerate(self.layers):
            parts.append(repr(layer))
            parts.extend(repr(extra[i]) for extra in (self.norms, self.dropouts) if i < len(extra))
        return f"MLP of [{', '.join(parts)}]"


def _declared_parameters(config: dict[str, Any]) -> int:
    """How many parameters the MLP that `config` (from a model file) declares; ValueError naming what is wrong."""
    expected = {"nin", "nouts", "activation", "output_activation", "fused"}
    given = set(config) - {"dropout", "batchnorm"}  # optional: files written before them, or without them
    if given != expected:
        wrong = sorted(given - expected) or sorted(expected - given)
        raise ValueError(f"{'unknown' if given - expected else 'missing'} key {excerpt(wrong[0])}")
    if "dropout" in config:
        p = config["dropout"]
        if type(p) not in (int, float) or not 0 <= p < 1:
            raise ValueError(f"'dropout' must be a number in [0, 1), not {excerpt(p)}")
    if "batchnorm" in config and type(config["batchnorm"]) is not bool:
        raise ValueError(f"'batchnorm' must be true or false, not {excerpt(config['batchnorm'])}")
    nin, nouts = config["nin"], config["nouts"]
    if type(nouts) is not list or not 1 <= len(nouts) <= MAX_LAYERS:
        raise ValueError(f"'nouts' must be a list of 1 to {MAX_LAYERS} layer widths, not {excerpt(nouts)}")
    for name, width in [("nin", nin), *((f"nouts[{i}]", n) for i, n in enumerate(nouts))]:
        if type(width) is not int or not 1 <= width <= MAX_LAYER_WIDTH:
            raise ValueError(f"{name!r} must be an int from 1 to {MAX_LAYER_WIDTH}, not {excerpt(width)}")
    for name in ("activation", "output_activation"):
        if type(config[name]) is not str or config[name] not in ACTIVATIONS:
            raise ValueError(f"{name!r} must be one of {', '.join(ACTIVATIONS)}, not {excerpt(config[name])}")
    if type(config["fused"]) is not bool:
        raise ValueError(f"'fused' must be true or false, not {excerpt(config['fused'])}")
    sizes = [nin, *nouts]
    count: int = sum((a + 1) * b for a, b in pairwise(sizes))  # each neuron: a weight per input, and a bias
    if config.get("batchnorm"):
        count += 4 * sum(nouts[:-1])  # each hidden unit: gamma, beta, running mean and running variance
    if count > MAX_PARAMETERS:
        raise ValueError(f"it declares {count} parameters; a model file may hold at most {MAX_PARAMETERS}")
    return count
