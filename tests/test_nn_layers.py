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
    @pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
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

    def test_graph_shapes_differ(self) -> None:
        n_fused, n_plain = Neuron(3, "linear", seed=1), Neuron(3, "linear", fused=False, seed=1)
        assert n_fused([1.0, 2.0, 3.0]).op == "dot"
        assert n_plain([1.0, 2.0, 3.0]).op == "+"


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


def test_repr_is_readable() -> None:
    assert (
        repr(MLP(2, [2, 1], seed=0)) == "MLP of [Layer of [ReluNeuron(2), ReluNeuron(2)], Layer of [LinearNeuron(2)]]"
    )


def test_backprop_worked_by_hand() -> None:
    """A 2-2-1 tanh network: forward values, sensitivities and weight gradients in plain floats."""
    x = [0.5, -1.5]
    W1 = [[0.2, -0.4], [0.7, 0.1]]  # W1[j][i]: input i to hidden unit j
    b1 = [0.1, -0.2]
    W2 = [[-0.6, 0.9]]
    b2 = [0.05]
    target = 0.3

    # forward: z_l = W_l x_{l-1} + b_l, x_l = tanh(z_l)
    z1 = [sum(W1[j][i] * x[i] for i in range(2)) + b1[j] for j in range(2)]
    h = [math.tanh(z) for z in z1]
    z2 = [sum(W2[0][j] * h[j] for j in range(2)) + b2[0]]
    out = math.tanh(z2[0])
    # E = (out - target)^2; output sensitivity delta_2 = dE/dz_2 = 2 (out - target) f'(z_2)
    delta2 = [2 * (out - target) * (1 - out**2)]
    # delta_1 = f'(z_1) * W_2^T delta_2
    delta1 = [(1 - h[j] ** 2) * W2[0][j] * delta2[0] for j in range(2)]
    # dE/dW_l = delta_l x_{l-1}^T, dE/db_l = delta_l
    grad_W1 = [[delta1[j] * x[i] for i in range(2)] for j in range(2)]
    grad_W2 = [[delta2[0] * h[j] for j in range(2)]]

    model = MLP(2, [2, 1], activation="tanh", output_activation="tanh", seed=0)
    for neuron, weights, bias in zip(model.layers[0].neurons, W1, b1):
        for w, value in zip(neuron.w, weights):
            w.data = value
        neuron.b.data = bias
    output_neuron = model.layers[1].neurons[0]
    for w, value in zip(output_neuron.w, W2[0]):
        w.data = value
    output_neuron.b.data = b2[0]

    prediction = model(x)
    loss = (prediction - target) ** 2
    loss.backward()
    assert prediction.data == pytest.approx(out, rel=1e-15)
    for j, neuron in enumerate(model.layers[0].neurons):
        assert [w.grad for w in neuron.w] == pytest.approx(grad_W1[j], rel=1e-12)
        assert neuron.b.grad == pytest.approx(delta1[j], rel=1e-12)
    assert [w.grad for w in output_neuron.w] == pytest.approx(grad_W2[0], rel=1e-12)
    assert output_neuron.b.grad == pytest.approx(delta2[0], rel=1e-12)
