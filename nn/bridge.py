"""What the bridges to other frameworks share: an MLP read as dense layers, and the optional extras they need.

A chainrule `MLP` is, layer by layer, a weight matrix (one row per neuron), a
bias vector and one activation: PyTorch's ``Linear`` followed by an activation
module, ONNX's ``Gemm`` followed by an activation operator. `dense_layers`
reads a model that way; `nn.torch_bridge` and `nn.onnx_export` write it out.

Neither torch nor onnx is a dependency of chainrule: each bridge imports its
framework when called, through `require`, which names the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, NamedTuple

from nn.layers import MLP, Layer, Neuron

__all__ = ["FOREIGN_ACTIVATIONS", "Dense", "MissingExtraError", "Norm", "dense_layers", "require"]


class Foreign(NamedTuple):
    """An activation's names elsewhere; None where it is the identity (nothing is added)."""

    torch: str | None
    onnx: str | None


FOREIGN_ACTIVATIONS: dict[str, Foreign] = {
    "relu": Foreign(torch="ReLU", onnx="Relu"),
    "tanh": Foreign(torch="Tanh", onnx="Tanh"),
    "sigmoid": Foreign(torch="Sigmoid", onnx="Sigmoid"),
    "leaky_relu": Foreign(torch="LeakyReLU", onnx="LeakyRelu"),  # the default slope 0.01 in all three
    "linear": Foreign(torch=None, onnx=None),
}
"""Each of `nn.layers.ACTIVATIONS` as a ``torch.nn`` module class and an ONNX operator (a test checks all are here)."""


class Norm(NamedTuple):
    """A batch normalisation between a layer's weighted sums and its activation (`nn.BatchNorm`)."""

    gamma: list[float]
    beta: list[float]
    running_mean: list[float]
    running_var: list[float]
    eps: float
    momentum: float


class Dense(NamedTuple):
    """One layer as matrices: ``dropout(activation(norm(weights @ x + biases)))``."""

    weights: list[list[float]]
    """One row per neuron, one column per input (PyTorch's and ONNX's layout)."""
    biases: list[float]
    activation: str
    norm: Norm | None = None
    dropout: float = 0.0


class MissingExtraError(ImportError):
    """An optional framework (torch, onnx) is not installed; the message says how to install it."""


def require(name: str, extra: str, needed_by: str) -> ModuleType:
    """Import the optional package `name`, or say which chainrule extra installs it.

    Raises:
        MissingExtraError: `name` cannot be imported.
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise MissingExtraError(
            f"{needed_by} needs {name}, which is not installed ({error}); "
            f"install it with: pip install 'chainrule[{extra}]'"
        ) from None


def _norm(layer: Any) -> Norm:
    """An `nn.BatchNorm`'s numbers."""
    gamma, beta, mean, var = (
        [v.data for v in values] for values in (layer.gamma, layer.beta, layer.running_mean, layer.running_var)
    )
    return Norm(gamma, beta, mean, var, layer.eps, layer.momentum)


def dense_layers(model: MLP) -> list[Dense]:
    """The layers of `model` as weight matrices, bias vectors and activations.

    Raises:
        TypeError: `model` is not an MLP of Layers of Neurons.
        ValueError: the neurons of one layer have different activations (one
            activation module per layer cannot compute that).

    Example:
        >>> model = MLP(2, [3, 1], activation="tanh", seed=0)
        >>> [(len(d.weights), len(d.weights[0]), d.activation) for d in dense_layers(model)]
        [(3, 2, 'tanh'), (1, 3, 'linear')]
    """
    if not isinstance(model, MLP):
        raise TypeError(f"expected a chainrule MLP, not {type(model).__name__}")
    layers = []
    for i, layer in enumerate(model.layers):
        if type(layer) is not Layer or not all(type(n) is Neuron for n in layer.neurons):
            raise TypeError(f"layer {i} of the MLP is not a Layer of plain Neurons: {layer!r}")
        activations = sorted({n.activation for n in layer.neurons})
        if len(activations) != 1:
            raise ValueError(
                f"layer {i} of the MLP mixes activations {', '.join(activations)}: "
                "a dense layer has one activation for all its neurons"
            )
        hidden = i < len(model.layers) - 1
        norm = model.norms[i] if hidden and model.norms else None
        layers.append(
            Dense(
                weights=[[w.data for w in n.w] for n in layer.neurons],
                biases=[n.b.data for n in layer.neurons],
                activation=activations[0],
                norm=None if norm is None else _norm(norm),
                dropout=model.dropouts[i].p if hidden and model.dropouts else 0.0,
            )
        )
    return layers
