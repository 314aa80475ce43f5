"""An MLP as an ONNX model: one ``Gemm`` and one activation operator per layer, in float64.

The graph takes one input, ``input``, of shape ``[N, nin]`` (N, the number of
points, is left free) and gives one output, ``output``, of shape ``[N, nout]``.
Layer ``i`` is ``Gemm(x, weight_i, bias_i, transB=1)``, with its weights stored
a row per neuron (as PyTorch's ``Linear``), followed by ``Relu``, ``Tanh`` or
``Sigmoid`` (nothing for a linear layer). The graph is the model as it
evaluates: a batch normalisation is a ``BatchNormalization`` with its running
statistics between a layer's Gemm and its activation, and dropout, the
identity when evaluating, is left out. Every tensor is DOUBLE, so the
weights are chainrule's to the last bit. Run it with any ONNX runtime, for
example onnxruntime's ``InferenceSession(path).run(None, {"input": X})``.

onnx is imported only inside `to_onnx`: install it with ``pip install 'chainrule[onnx]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograd.files import write_atomically
from nn.bridge import FOREIGN_ACTIVATIONS, dense_layers, require
from nn.layers import MLP

__all__ = ["INPUT", "ONNX_OPSET", "OUTPUT", "onnx_model", "to_onnx"]

INPUT = "input"
"""The name of the graph's input, ``[N, nin]`` points."""
OUTPUT = "output"
"""The name of the graph's output, ``[N, nout]``."""
ONNX_OPSET = 17
"""The ONNX operator set of the graph: its operators are unchanged since, and runtimes from 2022 on read it."""


def onnx_model(model: MLP) -> Any:
    """`model` as a checked ``onnx.ModelProto``.

    Raises:
        MissingExtraError: onnx is not installed.
        TypeError, ValueError: see `nn.bridge.dense_layers`.
    """
    onnx = require("onnx", "onnx", "nn.to_onnx")
    helper, double = onnx.helper, onnx.TensorProto.DOUBLE
    layers = dense_layers(model)
    nodes, weights = [], []
    x = INPUT
    for i, dense in enumerate(layers):
        weight, bias, total, out = (f"layers.{i}.{name}" for name in ("weight", "bias", "sum", "out"))
        nout, nin = len(dense.weights), len(dense.weights[0])
        weights += [
            helper.make_tensor(weight, double, [nout, nin], [w for row in dense.weights for w in row]),
            helper.make_tensor(bias, double, [nout], dense.biases),
        ]
        nodes.append(helper.make_node("Gemm", [x, weight, bias], [total], name=f"layers.{i}", transB=1))
        x = total
        if dense.norm is not None:  # batch normalisation as it evaluates: with its running statistics
            names = [f"layers.{i}.norm.{name}" for name in ("gamma", "beta", "mean", "var", "out")]
            for name, values in zip(names, dense.norm[:4]):
                weights.append(helper.make_tensor(name, double, [nout], values))
            nodes.append(helper.make_node("BatchNormalization", [x, *names[:4]], [names[4]], name=f"layers.{i}.norm",
                                          epsilon=dense.norm.eps))  # fmt: skip
            x = names[4]
        activation = FOREIGN_ACTIVATIONS[dense.activation].onnx
        if activation is not None:
            nodes.append(helper.make_node(activation, [x], [out], name=f"layers.{i}.{dense.activation}"))
            x = out
    nodes[-1].output[0] = OUTPUT  # the last layer's result is the graph's output
    nin, nout = len(layers[0].weights[0]), len(layers[-1].weights)
    graph = helper.make_graph(
        nodes,
        "chainrule_mlp",
        [helper.make_tensor_value_info(INPUT, double, ["N", nin])],
        [helper.make_tensor_value_info(OUTPUT, double, ["N", nout])],
        initializer=weights,
        doc_string=f"chainrule MLP {'-'.join(map(str, [nin, *(len(d.biases) for d in layers)]))}",
    )
    opset = [helper.make_opsetid("", ONNX_OPSET)]
    proto = helper.make_model(
        graph,
        opset_imports=opset,
        ir_version=helper.find_min_ir_version_for(opset),  # the oldest format that holds it: more runtimes read it
        producer_name="chainrule",
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model: MLP, path: str | Path) -> Path:
    """Write `model` as an ONNX file (see the module docstring), atomically; returns the path.

    Raises:
        MissingExtraError: onnx is not installed.
        OSError: the file cannot be written (nothing is left half-written).
    """
    data = onnx_model(model).SerializeToString()
    path = Path(path)
    write_atomically(path, data)
    return path
