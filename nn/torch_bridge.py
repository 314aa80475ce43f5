"""From chainrule to PyTorch and back: an MLP as a ``torch.nn.Sequential``, and a Sequential as an MLP.

`to_torch` gives a ``Sequential`` of float64 ``Linear`` modules (each weight
row one neuron's weights, the bias their biases), each followed by its
activation module (``ReLU``, ``Tanh`` or ``Sigmoid``; nothing for a linear
layer). It computes what the MLP computes; `from_torch` reads such a
Sequential back, to the last bit, and refuses one that an MLP cannot compute.
`rnn_to_torch` gives the ``torch.nn.RNN`` that computes what an `nn.RNN` computes.
`save_torch` writes the Sequential's state dict and its architecture with
``torch.save``; rebuild it with torch alone::

    import torch
    saved = torch.load("model.pt", weights_only=True)
    model = torch.nn.Sequential(*(
        getattr(torch.nn, kind)(*args, **({"dtype": torch.float64} if kind in ("Linear", "BatchNorm1d") else {}))
        for kind, *args in saved["architecture"]
    ))
    model.load_state_dict(saved["state_dict"])

torch is imported only inside these functions: ``import nn`` never needs it.
Install it with ``pip install 'chainrule[torch]'``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from autograd.files import write_atomically
from nn.bridge import FOREIGN_ACTIVATIONS, Dense, Norm, dense_layers, require
from nn.layers import MLP
from nn.rnn import RNN

__all__ = ["TORCH_FORMAT", "from_torch", "rnn_to_torch", "save_torch", "to_torch"]

TORCH_FORMAT = "chainrule.torch"
"""The ``format`` entry of a file written by `save_torch` (its ``version`` is 1)."""


def to_torch(model: MLP) -> Any:
    """`model` as a ``torch.nn.Sequential`` of float64 ``Linear`` and activation modules.

    The parameters are copied, not shared: training one does not change the
    other. torch's random number generator is not used.

    Raises:
        MissingExtraError: torch is not installed.
        TypeError, ValueError: see `nn.bridge.dense_layers`.
    """
    torch = require("torch", "torch", "nn.to_torch")
    modules = []
    for dense in dense_layers(model):
        # skip_init: no random initial weights (they would move torch's global generator) before the copy
        linear = torch.nn.utils.skip_init(
            torch.nn.Linear, len(dense.weights[0]), len(dense.weights), dtype=torch.float64
        )
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(dense.weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(dense.biases, dtype=torch.float64))
        modules.append(linear)
        if dense.norm is not None:
            modules.append(_batch_norm(torch, dense.norm))
        name = FOREIGN_ACTIVATIONS[dense.activation].torch
        if name is not None:
            modules.append(getattr(torch.nn, name)())
        if dense.dropout:
            modules.append(torch.nn.Dropout(dense.dropout))
    return torch.nn.Sequential(*modules).train(model.training)


def _batch_norm(torch: Any, norm: Norm) -> Any:
    """A float64 ``BatchNorm1d`` holding `norm`'s scale, shift and running statistics."""
    layer = torch.nn.BatchNorm1d(len(norm.gamma), eps=norm.eps, momentum=norm.momentum, dtype=torch.float64)
    with torch.no_grad():
        for tensor, values in (
            (layer.weight, norm.gamma),
            (layer.bias, norm.beta),
            (layer.running_mean, norm.running_mean),
            (layer.running_var, norm.running_var),
        ):
            tensor.copy_(torch.tensor(values, dtype=torch.float64))
    return layer


def from_torch(module: Any, *, convert: bool = False) -> MLP:
    """The MLP that computes what a ``Sequential`` of ``Linear`` and activation modules computes.

    Each ``Linear`` is a layer, with the activation module that follows it, or
    none (linear). The hidden layers must share one activation, as an MLP's do.

    Args:
        module: a ``torch.nn.Sequential`` such as `to_torch` makes.
        convert: accept weights of another floating dtype (float32, float16,
            bfloat16), widened exactly to float64. Without it, only float64
            weights are accepted, so that no precision is lost unnoticed.

    Raises:
        MissingExtraError: torch is not installed.
        TypeError: not a Sequential; a module that is neither a ``Linear`` nor
            an activation; weights that are not float64 (without `convert`).
        ValueError: a ``Linear`` without a bias; an activation chainrule does
            not have, before any ``Linear``, or after another activation;
            hidden layers with different activations; sizes that do not chain;
            weights that are not finite.
    """
    torch = require("torch", "torch", "nn.from_torch")
    if type(module) is not torch.nn.Sequential:  # a subclass may compute something else in its forward
        raise TypeError(f"expected a torch.nn.Sequential of Linear and activation modules, not {type(module).__name__}")
    activations = {f.torch: name for name, f in FOREIGN_ACTIVATIONS.items() if f.torch is not None}
    layers: list[Dense] = []
    for key, child in module.named_children():
        shown = repr(child) if "\n" not in repr(child) else type(child).__name__
        where = f"module {key} ({shown})"
        kind = type(child)
        if kind is torch.nn.Linear:
            if child.bias is None:
                raise ValueError(f"{where} has no bias; every chainrule neuron has one")
            if layers and child.in_features != len(layers[-1].biases):
                raise ValueError(
                    f"{where} takes {child.in_features} inputs, but the Linear before it gives {len(layers[-1].biases)}"
                )
            weights = _floats(torch, child.weight, f"{where}: its weight", convert)
            biases = _floats(torch, child.bias, f"{where}: its bias", convert)
            layers.append(Dense(weights, biases, "linear"))
        elif kind.__name__ in activations and kind is getattr(torch.nn, kind.__name__):
            if getattr(child, "negative_slope", 0.01) != 0.01:
                raise ValueError(f"{where} has slope {child.negative_slope}; chainrule's leaky_relu layers use 0.01")
            if not layers:
                raise ValueError(f"{where} comes before any Linear; an MLP starts with a layer")
            if layers[-1].activation != "linear":
                raise ValueError(
                    f"{where} follows another activation ({layers[-1].activation}) after the same Linear; "
                    "a chainrule layer has one activation"
                )
            layers[-1] = layers[-1]._replace(activation=activations[kind.__name__])
        elif kind is torch.nn.BatchNorm1d:
            if not layers or layers[-1].activation != "linear" or layers[-1].norm is not None:
                raise ValueError(f"{where} must come right after a Linear, before its activation")
            if child.momentum is None:
                raise ValueError(f"{where} keeps a cumulative average (momentum=None); chainrule's uses a momentum")
            if not (child.affine and child.track_running_stats) or child.num_features != len(layers[-1].biases):
                raise ValueError(f"{where} must be affine, track running statistics, and fit the Linear before it")
            tensors = [child.weight, child.bias, child.running_mean, child.running_var]
            values = [_floats(torch, t, f"{where}: its statistics", convert) for t in tensors]
            gamma, beta, mean, var = values
            norm = Norm(gamma, beta, mean, var, float(child.eps), float(child.momentum or 0.1))
            layers[-1] = layers[-1]._replace(norm=norm)
        elif kind is torch.nn.Dropout:
            if not layers or layers[-1].dropout:
                raise ValueError(f"{where} must follow a layer (and its activation), once")
            layers[-1] = layers[-1]._replace(dropout=float(child.p))
        elif kind.__module__ == "torch.nn.modules.activation":
            known = ", ".join(activations)
            raise ValueError(f"{where} is an activation chainrule does not have; it has {known}")
        else:
            raise TypeError(
                f"{where} is neither a Linear nor an activation ({', '.join(activations)}), "
                "nor a BatchNorm1d or Dropout"
            )
    if not layers:
        raise ValueError("the Sequential has no Linear module: an MLP needs at least one layer")
    hidden = sorted({dense.activation for dense in layers[:-1]})
    if len(hidden) > 1:
        raise ValueError(
            f"the hidden layers have different activations ({', '.join(hidden)}); "
            "an MLP has one activation for all its hidden layers, and one for its output layer"
        )
    dropouts = {dense.dropout for dense in layers[:-1]}
    norms = {dense.norm is not None for dense in layers[:-1]}
    if len(dropouts) > 1 or len(norms) > 1 or layers[-1].dropout or layers[-1].norm is not None:
        raise ValueError(
            "an MLP has the same dropout after every hidden layer and batch normalisation in all or none, "
            "and neither after its output layer"
        )
    model = MLP(
        len(layers[0].weights[0]),
        [len(dense.biases) for dense in layers],
        activation=hidden[0] if hidden else "relu",
        output_activation=layers[-1].activation,
        dropout=dropouts.pop() if dropouts else 0.0,
        batchnorm=norms.pop() if norms else False,
        seed=0,
    )
    for norm_layer, dense in zip(model.norms, layers):
        assert dense.norm is not None  # all hidden layers have one, checked above
        for target, values in (
            (norm_layer.gamma, dense.norm.gamma),
            (norm_layer.beta, dense.norm.beta),
            (norm_layer.running_mean, dense.norm.running_mean),
            (norm_layer.running_var, dense.norm.running_var),
        ):
            for value, number in zip(target, values):
                value.data = number
        norm_layer.eps, norm_layer.momentum = dense.norm.eps, dense.norm.momentum
    for layer, dense in zip(model.layers, layers):
        for neuron, row, bias in zip(layer.neurons, dense.weights, dense.biases):
            for w, number in zip(neuron.w, row):
                w.data = number
            neuron.b.data = bias
    return model


def _floats(torch: Any, tensor: Any, what: str, convert: bool) -> Any:
    """A parameter tensor as (nested lists of) Python floats, exactly."""
    if tensor.dtype != torch.float64 and not (convert and tensor.dtype.is_floating_point):
        hint = "; pass convert=True to widen it exactly to float64" if tensor.dtype.is_floating_point else ""
        raise TypeError(f"{what} is {tensor.dtype}, not torch.float64{hint}")
    values = tensor.detach().to(device="cpu", dtype=torch.float64)
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"{what} has values that are not finite")
    return values.tolist()


def save_torch(model: MLP, path: str | Path) -> Path:
    """Write `to_torch(model)`'s state dict and architecture with ``torch.save``, atomically.

    The file holds a dict: ``format`` (`TORCH_FORMAT`), ``version`` (1),
    ``architecture`` (per module its class name and the arguments that rebuild
    it: ``["Linear", nin, nout]``, ``["BatchNorm1d", n, eps, momentum]``,
    ``["Dropout", p]``, ``["ReLU"]``) and ``state_dict``. It loads with ``weights_only=True``; the
    module docstring shows how to rebuild the Sequential.

    Raises:
        MissingExtraError: torch is not installed.
        OSError: the file cannot be written (nothing is left half-written).
    """
    torch = require("torch", "torch", "nn.save_torch")
    sequential = to_torch(model)
    architecture = [_arguments(torch, child) for child in sequential]
    document = {
        "format": TORCH_FORMAT,
        "version": 1,
        "architecture": architecture,
        "state_dict": sequential.state_dict(),
    }
    buffer = io.BytesIO()
    torch.save(document, buffer)
    path = Path(path)
    write_atomically(path, buffer.getvalue())
    return path


def _arguments(torch: Any, child: Any) -> list[Any]:
    """A module as its class name and the arguments that rebuild it (all but the dtype)."""
    kind = type(child)
    if kind is torch.nn.Linear:
        return ["Linear", child.in_features, child.out_features]
    if kind is torch.nn.BatchNorm1d:
        return ["BatchNorm1d", child.num_features, child.eps, child.momentum]
    if kind is torch.nn.Dropout:
        return ["Dropout", child.p]
    return [kind.__name__]


def rnn_to_torch(rnn: RNN, *, batch_first: bool = False) -> Any:
    """`rnn` as a float64 ``torch.nn.RNN`` (one layer) that computes the same hidden states.

    W goes to ``weight_ih_l0``, U to ``weight_hh_l0`` and b to ``bias_ih_l0``;
    ``bias_hh_l0`` is 0. torch adds both biases at every step, so any pair with
    the sum b computes the same thing. The parameters are copied, not shared.

    On a sequence ``xs`` (a list of input vectors), the rows of
    ``rnn_to_torch(rnn)(torch.tensor(xs, dtype=torch.float64))[0]`` are the
    hidden states ``rnn(xs)``, to rounding (tests/test_torch_rnn.py: 1e-12).

    Raises:
        MissingExtraError: torch is not installed.
        TypeError: `rnn` is not an `nn.RNN`.
        ValueError: an activation other than tanh or relu (the two ``torch.nn.RNN`` has).
    """
    torch = require("torch", "torch", "nn.rnn_to_torch")
    if not isinstance(rnn, RNN):
        raise TypeError(f"expected a chainrule RNN, not {type(rnn).__name__}")
    if rnn.activation not in ("tanh", "relu"):
        raise ValueError(f"torch.nn.RNN has the activations tanh and relu, not {rnn.activation!r}")
    # torch.nn.RNN cannot skip its random initialisation: keep it from moving torch's global generator
    with torch.random.fork_rng(devices=[]):
        module = torch.nn.RNN(
            rnn.nin, rnn.nhidden, nonlinearity=rnn.activation, batch_first=batch_first, dtype=torch.float64
        )
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor([[w.data for w in row] for row in rnn.W], dtype=torch.float64))
        module.weight_hh_l0.copy_(torch.tensor([[u.data for u in row] for row in rnn.U], dtype=torch.float64))
        module.bias_ih_l0.copy_(torch.tensor([b.data for b in rnn.b], dtype=torch.float64))
        module.bias_hh_l0.zero_()
    return module


def rnn_from_torch(module: Any, *, convert: bool = False) -> RNN:
    """The `nn.RNN` that computes what a one-layer ``torch.nn.RNN`` computes: `rnn_to_torch` read back.

    W is ``weight_ih_l0``, U ``weight_hh_l0``, and b the sum of torch's two
    biases (``bias_ih_l0 + bias_hh_l0``: exact when one of them is 0, as
    `rnn_to_torch` makes them, so a round trip gives back every parameter).

    Raises:
        MissingExtraError: torch is not installed.
        TypeError: not a ``torch.nn.RNN``; weights that are not float64 (without `convert`).
        ValueError: several layers, two directions, no biases, or projections.
    """
    torch = require("torch", "torch", "nn.rnn_from_torch")
    if type(module) is not torch.nn.RNN:
        raise TypeError(f"expected a torch.nn.RNN, not {type(module).__name__}")
    if module.num_layers != 1 or module.bidirectional or not module.bias:
        raise ValueError(
            f"{module!r}: chainrule's RNN is one layer, one direction, with a bias; "
            f"this one has {module.num_layers} layer(s), bidirectional={module.bidirectional}, bias={module.bias}"
        )
    inputs = _floats(torch, module.weight_ih_l0, "its weight_ih_l0", convert)
    recurrent = _floats(torch, module.weight_hh_l0, "its weight_hh_l0", convert)
    b_ih = _floats(torch, module.bias_ih_l0, "its bias_ih_l0", convert)
    b_hh = _floats(torch, module.bias_hh_l0, "its bias_hh_l0", convert)
    rnn = RNN(module.input_size, module.hidden_size, activation=module.nonlinearity, seed=0)
    for target, rows in ((rnn.W, inputs), (rnn.U, recurrent)):
        for values, row in zip(target, rows):
            for value, number in zip(values, row):
                value.data = number
    for value, a, c in zip(rnn.b, b_ih, b_hh):
        value.data = a + c
    return rnn
