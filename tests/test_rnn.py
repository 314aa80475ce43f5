"""nn.RNN: the recurrence by hand, backpropagation through time and its truncation, drawing, saving, and training."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Collection
from pathlib import Path

import pytest

import autograd
from autograd import Value, draw_dot, topological_order
from nn import MLP, RNN, Adam, Layer, ModelFileError, datasets, losses


def random_rnn(nin: int = 2, nhidden: int = 3, activation: str = "tanh", seed: int = 0) -> RNN:
    """An RNN with nonzero biases too (they start at 0), so every parameter is exercised."""
    rnn = RNN(nin, nhidden, activation, seed=seed)
    rng = random.Random(seed + 100)
    for b in rnn.b:
        b.data = rng.uniform(-0.5, 0.5)
    return rnn


def sequence(steps: int, nin: int = 2, seed: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(steps)]


def by_hand(rnn: RNN, xs: list[list[float]], cuts: Collection[int] = ()) -> list[list[Value]]:
    """h_t = tanh(b + W x_t + U h_{t-1}) with operators, the state detached before each step in `cuts`."""
    h: list[Value] = []
    states = []
    for t, x in enumerate(xs):
        if t in cuts:
            h = [Value(v.data) for v in h]
        new = []
        for i in range(rnn.nhidden):
            z: Value = rnn.b[i]
            for w, xj in zip(rnn.W[i], x):
                z = z + w * xj
            for u, hj in zip(rnn.U[i], h):  # h_0 = 0: no terms at the first step
                z = z + u * hj
            new.append(z.tanh())
        h = new
        states.append(h)
    return states


def last_state_loss(states: list[list[Value]]) -> Value:
    return autograd.sum([(v - 0.3) ** 2 for v in states[-1]])


def gradients(rnn: RNN, loss: Value) -> list[float]:
    rnn.zero_grad()
    loss.backward()
    return [p.grad for p in rnn.parameters()]


class TestRecurrence:
    def test_shapes_and_parameter_names(self) -> None:
        rnn = RNN(2, 3, seed=0)
        states = rnn(sequence(4))
        assert [len(h) for h in states] == [3, 3, 3, 3]
        names = [name for name, _ in rnn.named_parameters()]
        assert names[:2] == ["W.0.0", "W.0.1"]
        assert "U.2.1" in names
        assert names[-1] == "b.2"
        assert len(names) == 3 * 2 + 3 * 3 + 3
        assert rnn.config() == {"nin": 2, "nhidden": 3, "activation": "tanh"}

    @pytest.mark.parametrize("activation", ["tanh", "relu"])
    def test_each_state_is_the_formula(self, activation: str) -> None:
        rnn, xs = random_rnn(activation=activation), sequence(5)
        act = math.tanh if activation == "tanh" else (lambda z: max(z, 0.0))
        h = [0.0, 0.0, 0.0]
        for x, state in zip(xs, rnn(xs)):
            h = [
                act(
                    rnn.b[i].data
                    + sum(w.data * xj for w, xj in zip(rnn.W[i], x))
                    + sum(u.data * hj for u, hj in zip(rnn.U[i], h))
                )
                for i in range(3)
            ]
            assert [v.data for v in state] == pytest.approx(h, rel=1e-14, abs=1e-15)

    def test_a_given_initial_state(self) -> None:
        rnn, xs = random_rnn(), sequence(3)
        h0 = [0.5, -0.25, 1.0]
        states = rnn(xs, h0=h0)
        first = [
            math.tanh(
                rnn.b[i].data
                + sum(w.data * x for w, x in zip(rnn.W[i], xs[0]))
                + sum(u.data * h for u, h in zip(rnn.U[i], h0))
            )
            for i in range(3)
        ]
        assert [v.data for v in states[0]] == pytest.approx(first, rel=1e-14)
        assert [v.data for v in rnn(xs, h0=[0.0] * 3)[-1]] == [v.data for v in rnn(xs)[-1]]

    def test_a_given_initial_state_gets_a_gradient(self) -> None:
        rnn = random_rnn()
        h0 = [Value(0.1), Value(-0.2), Value(0.3)]
        last_state_loss(rnn(sequence(3), h0=h0)).backward()
        assert all(v.grad != 0.0 for v in h0)

    def test_weights_are_shared_across_steps(self) -> None:
        rnn = random_rnn()
        loss = last_state_loss(rnn(sequence(4)))
        leaves = [v for v in topological_order(loss, leaves=True) if v.is_leaf]
        assert {id(p) for p in rnn.parameters()} == {id(v) for v in leaves}  # no copies: one W, one U, one b

    def test_an_empty_sequence_has_no_states(self) -> None:
        assert RNN(1, 2, seed=0)([]) == []

    def test_bad_input_is_refused_with_the_sizes(self) -> None:
        rnn = RNN(2, 3, seed=0)
        with pytest.raises(ValueError, match="inputs of size 2, got one of size 3"):
            rnn([[1.0, 2.0, 3.0]])
        with pytest.raises(ValueError, match="hidden state of size 3, got one of size 2"):
            rnn([[1.0, 2.0]], h0=[0.0, 0.0])
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match="truncate must be a positive int or None"):
                rnn([[1.0, 2.0]], truncate=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown activation 'softmax'"):
            RNN(2, 3, "softmax")
        with pytest.raises(ValueError, match="nhidden must be a positive int"):
            RNN(2, 0)

    def test_seeded_weights_are_reproducible_and_in_torchs_range(self) -> None:
        assert RNN(2, 4, seed=3).state_dict() == RNN(2, 4, seed=3).state_dict()
        assert RNN(2, 4, seed=3).state_dict() != RNN(2, 4, seed=4).state_dict()
        rnn = RNN(2, 4, seed=3)
        assert all(abs(p.data) <= 0.5 for row in rnn.W + rnn.U for p in row)  # 1 / sqrt(4)
        assert all(b.data == 0.0 for b in rnn.b)


class TestBackpropagationThroughTime:
    def test_the_full_gradient_is_the_hand_built_graphs(self) -> None:
        rnn, xs = random_rnn(), sequence(6)
        expected = gradients(rnn, last_state_loss(by_hand(rnn, xs)))
        for truncate in (None, 6, 100):
            assert gradients(rnn, last_state_loss(rnn(xs, truncate=truncate))) == pytest.approx(expected, rel=1e-12)

    @pytest.mark.parametrize(("steps", "k", "cuts"), [(6, 2, {2, 4}), (7, 3, {3, 6}), (5, 1, {1, 2, 3, 4})])
    def test_truncation_is_detaching_the_state_every_k_steps(self, steps: int, k: int, cuts: set[int]) -> None:
        rnn, xs = random_rnn(), sequence(steps)
        mean_of_all = lambda states: autograd.sum([v for h in states for v in h]) * (1.0 / steps)  # noqa: E731
        expected = gradients(rnn, mean_of_all(by_hand(rnn, xs, cuts)))
        ours = gradients(rnn, mean_of_all(rnn(xs, truncate=k)))
        assert ours == pytest.approx(expected, rel=1e-12)

    def test_truncation_changes_the_gradient_but_not_the_values(self) -> None:
        rnn, xs = random_rnn(), sequence(6)
        full, cut = rnn(xs), rnn(xs, truncate=2)
        assert [[v.data for v in h] for h in full] == [[v.data for v in h] for h in cut]
        full_gradient = gradients(rnn, last_state_loss(full))
        cut_gradient = gradients(rnn, last_state_loss(cut))
        changed = [name for (name, _), a, b in zip(rnn.named_parameters(), full_gradient, cut_gradient) if a != b]
        assert any(name.startswith("W") for name in changed)
        assert any(name.startswith("U") for name in changed)

    @pytest.mark.parametrize("k", [1, 2, 3, 4])
    def test_gradients_flow_back_at_most_k_steps(self, k: int) -> None:
        rnn = random_rnn()
        xs = [[Value(a), Value(b)] for a, b in sequence(7)]
        last_state_loss(rnn(xs, truncate=k)).backward()
        chunk_start = 6 - 6 % k  # the last state's chunk: steps chunk_start ... 6
        reached = [any(x.grad != 0.0 for x in step) for step in xs]
        assert reached == [t >= chunk_start for t in range(7)]


class TestDrawing:
    def test_the_unrolled_graph_draws_one_record_per_value_and_a_tanh_per_unit_and_step(self) -> None:
        steps, nhidden = 3, 2
        rnn = random_rnn(1, nhidden)
        loss = last_state_loss(rnn(sequence(steps, nin=1)))
        loss.backward()
        source = draw_dot(loss).source
        assert source.count("shape=record") == len(topological_order(loss, leaves=True))
        assert len(re.findall(r"op\d+ \[label=tanh", source)) == steps * nhidden


class TestSaving:
    def test_save_and_from_file_round_trip_exactly(self, tmp_path: Path) -> None:
        rnn, xs = random_rnn(2, 3, "relu"), sequence(4)
        copy = RNN.from_file(rnn.save(tmp_path / "rnn.json"))
        assert copy.config() == rnn.config()
        assert copy.state_dict() == rnn.state_dict()
        assert [[v.data for v in h] for h in copy(xs)] == [[v.data for v in h] for h in rnn(xs)]
        other = RNN(2, 3, "relu", seed=9).load(tmp_path / "rnn.json")
        assert other.state_dict() == rnn.state_dict()

    def test_the_file_names_the_model_and_its_config(self, tmp_path: Path) -> None:
        document = json.loads(random_rnn().save(tmp_path / "rnn.json").read_text())
        assert document["model"] == "RNN"
        assert document["config"] == {"nin": 2, "nhidden": 3, "activation": "tanh"}

    def test_another_model_type_is_refused(self, tmp_path: Path) -> None:
        rnn_file = random_rnn().save(tmp_path / "rnn.json")
        mlp_file = MLP(2, [3, 1], seed=0).save(tmp_path / "mlp.json")
        with pytest.raises(ModelFileError, match="holds a 'RNN', not an MLP"):
            MLP.from_file(rnn_file)
        with pytest.raises(ModelFileError, match="holds a 'MLP', not an RNN"):
            RNN.from_file(mlp_file)
        with pytest.raises(ModelFileError, match="holds a 'MLP'"):
            random_rnn().load(mlp_file)
        document = json.loads(rnn_file.read_text())
        document["model"] = "Transformer"
        unknown = tmp_path / "unknown.json"
        unknown.write_text(json.dumps(document))
        for load in (RNN.from_file, MLP.from_file, random_rnn().load):
            with pytest.raises(ModelFileError, match="holds a 'Transformer'"):
                load(unknown)

    def test_a_different_architecture_is_refused_by_load(self, tmp_path: Path) -> None:
        path = random_rnn(2, 3).save(tmp_path / "rnn.json")
        with pytest.raises(ModelFileError, match="not this RNN"):
            RNN(2, 4, seed=0).load(path)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"nhidden": 4}, "the architecture has 28 parameters, but the file holds 18"),
            ({"nhidden": 10_001}, "'nhidden' must be an int from 1 to"),
            ({"nin": 2.0}, "'nin' must be an int"),
            ({"activation": ["tanh"]}, "'activation' must be one of"),
            ({"extra": 1}, "unknown key 'extra'"),
            ({"nin": 10_000, "nhidden": 10_000}, "at most 1000000"),
        ],
    )
    def test_the_architecture_is_checked_before_building(
        self, tmp_path: Path, change: dict[str, object], message: str
    ) -> None:
        document = json.loads(random_rnn().save(tmp_path / "rnn.json").read_text())
        document["config"].update(change)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(document))
        with pytest.raises(ModelFileError, match=message):
            RNN.from_file(path)


class TestEcho:
    def test_targets_are_the_inputs_delayed(self) -> None:
        X, targets = datasets.echo(5, length=6, delay=2, seed=0)
        assert len(X) == len(targets) == 5
        for xs, ys in zip(X, targets):
            assert len(xs) == len(ys) == 6
            assert all(len(x) == 1 and -1 <= x[0] <= 1 for x in xs)
            assert ys == [0.0, 0.0] + [x[0] for x in xs[:4]]

    def test_seeded(self) -> None:
        assert datasets.echo(4, seed=7) == datasets.echo(4, seed=7)
        assert datasets.echo(4, seed=7) != datasets.echo(4, seed=8)
        assert datasets.echo(4, seed=random.Random(7)) == datasets.echo(4, seed=7)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"n": 0}, "n must be an int >= 1"),
            ({"length": 0}, "length must be an int >= 1"),
            ({"length": 3, "delay": 3}, "delay must be an int from 0 to length - 1 \\(2\\)"),
            ({"delay": -1}, "delay must be an int"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, int], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            datasets.echo(**kwargs)


def test_training_on_the_echo_task_lowers_the_loss_clearly() -> None:
    X, echoes = datasets.echo(8, length=4, delay=1, seed=0)
    rnn, readout = RNN(1, 4, seed=0), Layer(4, 1, activation="linear", seed=0)
    optimizer = Adam(rnn.parameters() + readout.parameters(), lr=0.05)

    def loss() -> Value:
        outputs, targets = [], []
        for xs, ys in zip(X, echoes):
            for h, y in list(zip(rnn(xs), ys))[1:]:  # from step `delay` on, once the echo has arrived
                outputs.append(readout(h)[0])
                targets.append(y)
        return losses.mean_squared_error(outputs, targets)

    history = []
    for _ in range(30):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
        history.append(value.data)
    assert history[-1] < 0.1 * history[0], history  # about 0.31 to 0.0065 in 30 steps
