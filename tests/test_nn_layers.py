"""Neurons, layers and MLPs: micrograd compatibility, fused vs elementwise, initialisation, and backprop by hand."""

from __future__ import annotations

import math
import random

import pytest

from autograd import Value
from nn import MLP, Layer, Neuron


class TestMicrogradCompatibility:
    def test_single_output_is_a_value_and_layers_return_lists(self) -> None:
        model = MLP(2, [16, 16, 1], seed=0)
        assert isinstance(model([0.5, -0.5]), Value)
        assert isinstance(MLP(2, [3, 2], seed=0)([1.0, 2.0]), list)
        assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), list)

    def test_hidden_relu_and_linear_output(self) -> None:
        model = MLP(2, [4, 4, 1], seed=0)
        assert [n.activation for layer in model.layers for n in layer.neurons] == ["relu"] * 8 + ["linear"]

    def test_nonlin_keyword(self) -> None:
        assert Neuron(3, nonlin=False).activation == "linear"
        assert Layer(3, 2, nonlin=True).neurons[0].activation == "relu"
        with pytest.raises(ValueError, match="not both"):
            Neuron(3, "tanh", nonlin=True)

    def test_a_one_wide_hidden_layer(self) -> None:
        model = MLP(2, [16, 1, 1], seed=0)
        out = model([0.3, 0.7])
        out.backward()
        assert isinstance(out, Value)
        assert len(model.parameters()) == 16 * 3 + 17 + 2

    def test_global_random_gives_micrograds_weights(self) -> None:
        random.seed(1337)
        ours = MLP(2, [16, 16, 1])
        random.seed(1337)
        expected = []
        for nin, nout in ((2, 16), (16, 16), (16, 1)):
            for _ in range(nout):
                expected += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]  # micrograd: weights, then bias 0
        assert [p.data for p in ours.parameters()] == expected

    def test_inputs_may_be_values_or_floats(self) -> None:
        model = MLP(2, [4, 1], seed=3)
        assert model([Value(0.1), Value(0.2)]).data == model([0.1, 0.2]).data


class TestFusedAndElementwise:
    @pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear"])
    def test_identical_values_and_gradients(self, activation: str) -> None:
        fused = MLP(3, [5, 4, 1], activation=activation, seed=7)
        plain = MLP(3, [5, 4, 1], activation=activation, fused=False, seed=7)
        for x in ([0.3, -1.2, 2.0], [1.0, 0.5, -0.25]):
            a, b = fused(x), plain(x)
            assert a.data == b.data
            fused.zero_grad()
            plain.zero_grad()
            a.backward()
            b.backward()
            assert [p.grad for p in fused.parameters()] == [p.grad for p in plain.parameters()]

    def test_a_layer_builds_the_nodes_its_neurons_would(self) -> None:
        # a fused layer builds its weighted sums together (autograd.linear); each must equal the neuron's own
        layer = Layer(3, 4, activation="tanh", seed=2)
        x = [Value(0.5), -1.25, Value(2.0)]
        together, apart = layer(x), [n(x) for n in layer.neurons]
        for a, b in zip(together, apart):
            assert (a.op, a.data, a.local_grads) == (b.op, b.data, b.local_grads)
            (za,), (zb,) = a.parents, b.parents
            assert za.op == zb.op == "dot"
            assert za.data == zb.data
            assert za.operands == zb.operands
            assert za.local_grads == zb.local_grads

    def test_a_layer_follows_each_neurons_own_settings(self) -> None:
        layer = Layer(2, 3, seed=4)
        layer.neurons[1].activation = "sigmoid"
        x = [0.3, -0.8]
        assert [v.op for v in layer(x)] == ["relu", "sigmoid", "relu"]
        layer.neurons[2].fused = False
        outputs = layer(x)
        assert [v.op for v in outputs] == ["relu", "sigmoid", "relu"]
        assert outputs[2].parents[0].op == "add"  # the elementwise graph of the unfused neuron
        assert [v.data for v in outputs] == [n(x).data for n in layer.neurons]

    def test_a_layer_calls_neurons_it_cannot_build_together(self) -> None:
        class Halved(Neuron):
            def __call__(self, x: list[Value | float]) -> Value:
                return super().__call__(x) * 0.5

        layer = Layer(2, 2, activation="linear", seed=0)
        layer.neurons[1].w.append(Value(0.5))  # one neuron now takes 3 inputs: its own message says so
        with pytest.raises(ValueError, match="this neuron takes 3 inputs, got 2"):
            layer([1.0, 2.0])
        layer.neurons[1] = Halved(2, "linear", seed=1)
        assert [v.op for v in layer([1.0, 2.0])] == ["dot", "mul"]
        layer.neurons = []
        assert layer([1.0, 2.0]) == []

    def test_graph_shapes_differ(self) -> None:
        n_fused, n_plain = Neuron(3, "linear", seed=1), Neuron(3, "linear", fused=False, seed=1)
        assert n_fused([1.0, 2.0, 3.0]).op == "dot"
        assert n_plain([1.0, 2.0, 3.0]).op == "add"


class TestInitialisation:
    def test_reproducible_with_a_seed_or_a_generator(self) -> None:
        assert MLP(2, [8, 1], seed=5).state_dict() == MLP(2, [8, 1], seed=5).state_dict()
        assert MLP(2, [8, 1], seed=5).state_dict() != MLP(2, [8, 1], seed=6).state_dict()
        rng_a, rng_b = random.Random(9), random.Random(9)
        assert MLP(2, [8, 1], seed=rng_a).state_dict() == MLP(2, [8, 1], seed=rng_b).state_dict()

    @pytest.mark.parametrize(
        ("init", "limit"), [("uniform", 1.0), ("xavier", math.sqrt(6 / 80)), ("he", math.sqrt(6 / 40))]
    )
    def test_scales(self, init: str, limit: float) -> None:
        layer = Layer(40, 40, init=init, seed=0)
        weights = [w.data for n in layer.neurons for w in n.w]
        assert max(map(abs, weights)) <= limit
        assert max(map(abs, weights)) > 0.95 * limit  # 1,600 draws reach close to the bound
        assert all(n.b.data == 0.0 for n in layer.neurons)

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="init"):
            Neuron(2, init="zeros")
        with pytest.raises(ValueError, match="activation"):
            Neuron(2, "swish")
        with pytest.raises(ValueError, match="nin"):
            Neuron(0)
        with pytest.raises(ValueError, match="nouts"):
            MLP(2, [])
        with pytest.raises(TypeError, match="seed"):
            MLP(2, [1], seed="x")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
            MLP(2, [1], seed=0)([1.0, 2.0, 3.0])
        with pytest.raises(ValueError, match="this neuron takes 3 inputs, got 2"):
            Layer(3, 2, seed=0)([1.0, 2.0])
        with pytest.raises(ValueError, match="this neuron takes 3 inputs, got 2"):
            Neuron(3, seed=0)([1.0, 2.0])


def test_repr_is_readable() -> None:
    assert (
        repr(MLP(2, [2, 1], seed=0)) == "MLP of [Layer of [ReluNeuron(2), ReluNeuron(2)], Layer of [LinearNeuron(2)]]"
    )
    assert (
        repr(MLP(2, [1, 1], "leaky_relu", seed=0))
        == "MLP of [Layer of [LeakyReluNeuron(2)], Layer of [LinearNeuron(1)]]"
    )


def test_backprop_worked_by_hand() -> None:
    """A 3-4-3-2 tanh network: forward values, sensitivities and weight gradients in plain floats.

    With z_m = W_m x_{m-1} + b_m and x_m = tanh(z_m), and E = sum_k (x_L,k - t_k)^2:
    delta_L = f'(z_L) * 2 (x_L - t), delta_m = f'(z_m) * W_{m+1}^T delta_{m+1},
    dE/dW_m = delta_m x_{m-1}^T and dE/db_m = delta_m. Nothing here uses the engine.
    """
    sizes = [3, 4, 3, 2]
    # given weights: weights[m][j][i]: from input i of layer m to its unit j; small, distinct, of both signs
    weights = [
        [[0.1 * ((3 * j + 2 * i + m) % 7 - 3) + 0.05 * j for i in range(sizes[m])] for j in range(sizes[m + 1])]
        for m in range(3)
    ]
    b = [[0.2 * ((j + m) % 3) - 0.15 for j in range(sizes[m + 1])] for m in range(3)]
    x0 = [0.5, -1.5, 0.25]
    target = [0.3, -0.6]

    xs = [x0]  # x_0, x_1, x_2, x_3
    for m in range(3):
        z = [sum(weights[m][j][i] * xs[-1][i] for i in range(sizes[m])) + b[m][j] for j in range(sizes[m + 1])]
        xs.append([math.tanh(v) for v in z])
    out = xs[-1]
    deltas = [[(1 - out[k] ** 2) * 2 * (out[k] - target[k]) for k in range(2)]]  # tanh'(z) = 1 - tanh(z)^2
    for m in (1, 0):  # delta_m = f'(z_m) * W_{m+1}^T delta_{m+1}
        above = deltas[0]
        back = [sum(weights[m + 1][k][j] * above[k] for k in range(sizes[m + 2])) for j in range(sizes[m + 1])]
        deltas.insert(0, [(1 - xs[m + 1][j] ** 2) * back[j] for j in range(sizes[m + 1])])
    grad_weights = [[[deltas[m][j] * xs[m][i] for i in range(sizes[m])] for j in range(sizes[m + 1])] for m in range(3)]

    model = MLP(3, sizes[1:], activation="tanh", output_activation="tanh", seed=0)
    for layer, rows, biases in zip(model.layers, weights, b):
        for neuron, row, bias in zip(layer.neurons, rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    prediction = model(x0)
    loss = sum(((o - t) ** 2 for o, t in zip(prediction, target)), Value(0.0))
    loss.backward()

    assert [o.data for o in prediction] == pytest.approx(out, rel=1e-14)
    for m, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            assert [w.grad for w in neuron.w] == pytest.approx(grad_weights[m][j], rel=1e-12, abs=1e-15)
            assert neuron.b.grad == pytest.approx(deltas[m][j], rel=1e-12, abs=1e-15)
