"""BatchNorm: its checks, the statistics by hand, gradients, the batch path of an MLP, training, saving, PyTorch."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from autograd import Value
from nn import MLP, SGD, BatchNorm, datasets, evaluate, train
from nn.bridge import dense_layers
from nn.module import ModelFileError


def batch_of(rows: list[list[float]]) -> list[list[Value]]:
    return [[Value(x) for x in row] for row in rows]


def random_rows(count: int, n: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 3.0) for _ in range(n)] for _ in range(count)]


class TestChecks:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"n": 0}, "n must be a positive int"),
            ({"n": True}, "n must be a positive int"),
            ({"n": 2.0}, "n must be a positive int"),
            ({"n": 2, "eps": 0.0}, r"eps must be a number in \(0, inf\]"),
            ({"n": 2, "eps": math.nan}, "eps must be"),
            ({"n": 2, "eps": True}, "eps must be"),
            ({"n": 2, "momentum": -0.1}, r"momentum must be a number in \[0, 1\]"),
            ({"n": 2, "momentum": 1.5}, "momentum must be"),
            ({"n": 2, "momentum": None}, "momentum must be"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            BatchNorm(**kwargs)  # type: ignore[arg-type]

    def test_one_example_in_training_mode_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least 2 examples, got 1"):
            BatchNorm(2)([[Value(1.0), Value(2.0)]])
        with pytest.raises(ValueError, match="at least 2 examples, got 1"):
            MLP(2, [3, 1], batchnorm=True, seed=0)([0.5, 0.5])

    @pytest.mark.parametrize("batch", [[[1.0], [2.0]], [[1.0, 2.0], [3.0]], [1.0, 2.0], "ab"])
    def test_a_batch_of_the_wrong_shape_is_refused(self, batch: object) -> None:
        with pytest.raises(ValueError, match="BatchNorm"):
            BatchNorm(2)(batch)  # type: ignore[arg-type]

    def test_batchnorm_is_a_bool(self) -> None:
        with pytest.raises(TypeError, match="batchnorm must be True or False"):
            MLP(2, [3, 1], batchnorm=1)  # type: ignore[arg-type]


class TestByHand:
    def test_each_unit_has_mean_0_and_variance_1_and_the_running_statistics_take_a_step(self) -> None:
        rows = random_rows(6, 3, seed=1)
        bn = BatchNorm(3, momentum=0.25)
        out = bn(batch_of(rows))
        for j in range(3):
            xs = [row[j] for row in rows]
            mean = sum(xs) / 6
            var = sum((x - mean) ** 2 for x in xs) / 6
            ys = [row[j].data for row in out]
            assert sum(ys) / 6 == pytest.approx(0.0, abs=1e-15)
            assert sum(y * y for y in ys) / 6 == pytest.approx(var / (var + 1e-5), rel=1e-14)
            assert bn.running_mean[j].data == pytest.approx(0.25 * mean, rel=1e-15)
            assert bn.running_var[j].data == pytest.approx(0.75 + 0.25 * var * 6 / 5, rel=1e-15)

    def test_gamma_and_beta_scale_and_shift(self) -> None:
        bn = BatchNorm(1)
        bn.gamma[0].data, bn.beta[0].data = 3.0, -1.0
        plain = [r[0].data for r in BatchNorm(1)([[Value(1.0)], [Value(5.0)]])]
        assert [r[0].data for r in bn([[Value(1.0)], [Value(5.0)]])] == [3.0 * y - 1.0 for y in plain]

    def test_eval_mode_uses_the_running_statistics_one_example_at_a_time(self) -> None:
        bn = BatchNorm(2)
        bn(batch_of(random_rows(5, 2, seed=2)))
        bn.gamma[1].data = 2.0
        means, variances = [v.data for v in bn.running_mean], [v.data for v in bn.running_var]
        bn.eval()
        (out,) = bn([[Value(0.7), Value(-1.2)]])
        assert out[0].data == pytest.approx((0.7 - means[0]) / math.sqrt(variances[0] + 1e-5), rel=1e-15)
        assert out[1].data == pytest.approx(2.0 * (-1.2 - means[1]) / math.sqrt(variances[1] + 1e-5), rel=1e-15)
        assert [v.data for v in bn.running_mean] == means  # evaluation leaves them alone

    def test_gradients_against_central_differences(self) -> None:
        rows = random_rows(4, 2, seed=3)
        weights = random_rows(4, 2, seed=4)  # a weighted sum, so the gradient is not 0 by symmetry
        bn = BatchNorm(2)
        bn.gamma[0].data, bn.beta[1].data = 1.7, 0.4

        def loss(inputs: list[list[Value]]) -> Value:
            out = bn(inputs)
            return sum((w * y for wr, yr in zip(weights, out) for w, y in zip(wr, yr)), Value(0.0))

        inputs = batch_of(rows)
        loss(inputs).backward()
        h = 1e-6
        leaves = [v for row in inputs for v in row] + bn.parameters()
        for leaf in leaves:
            saved = leaf.data
            leaf.data = saved + h
            up = loss([[Value(v.data) for v in row] for row in inputs]).data
            leaf.data = saved - h
            down = loss([[Value(v.data) for v in row] for row in inputs]).data
            leaf.data = saved
            assert leaf.grad == pytest.approx((up - down) / (2 * h), abs=1e-7)


class TestMLP:
    def test_without_batchnorm_the_mlp_is_unchanged(self) -> None:
        model = MLP(2, [4, 4, 1], seed=0)
        assert model.norms == []
        assert "batchnorm" not in model.config()
        assert list(model.state_dict()) == [name for name, _ in model.named_parameters()]
        X = random_rows(3, 2, seed=0)
        assert [o.data for o in model.forward_batch(X)] == [model(x).data for x in X]

    def test_the_batch_path_is_normalisation_between_sums_and_activations(self) -> None:
        model = MLP(2, [3, 2], activation="tanh", batchnorm=True, seed=0)
        X = random_rows(4, 2, seed=5)
        sums = [[n.weighted_sum(x) for n in model.layers[0].neurons] for x in X]
        hidden = [[z.tanh() for z in row] for row in BatchNorm(3)(sums)]
        expected = [[o.data for o in model.layers[1](h)] for h in hidden]
        assert [[o.data for o in out] for out in model.forward_batch(X)] == expected
        assert len(model.parameters()) == 9 + 8 + 6  # the weights, then gamma and beta

    def test_an_mlp_in_eval_mode_takes_one_example(self) -> None:
        model = MLP(2, [3, 1], batchnorm=True, seed=0)
        X = random_rows(5, 2, seed=6)
        model.forward_batch(X)
        model.eval()
        assert [model(x).data for x in X] == [o.data for o in model.forward_batch(X)]


class TestTraining:
    def test_train_runs_on_whole_batches_and_repeats(self) -> None:
        X, y = datasets.moons(40, seed=0)

        def run() -> tuple[list[float], dict[str, float]]:
            model = MLP(2, [8, 8, 1], batchnorm=True, seed=1)
            history = train(model, X, y, steps=15, batch_size=10, seed=2, progress=False)
            return history.losses, model.state_dict()

        losses, state = run()
        assert (losses, state) == run()
        assert losses[-1] < losses[0]
        assert state["norms.0.running_mean.0"] != 0.0

    def test_batches_of_one_are_refused(self) -> None:
        X, y = datasets.moons(10, seed=0)
        with pytest.raises(ValueError, match="at least 2 examples"):
            train(MLP(2, [4, 1], batchnorm=True, seed=1), X, y, steps=1, batch_size=1, progress=False)

    def test_measuring_uses_the_running_statistics(self) -> None:
        X, y = datasets.moons(20, seed=0)
        model = MLP(2, [4, 1], batchnorm=True, seed=1)
        train(model, X, y, steps=3, progress=False)
        state = model.state_dict()
        result = evaluate(model, X, y)
        assert model.state_dict() == state
        model.eval()
        assert result.loss == pytest.approx(sum(max(0.0, 1 - t * model(x).data) for x, t in zip(X, y)) / 20)

    def test_early_stopping_keeps_the_running_statistics_of_the_best_step(self) -> None:
        X, y = datasets.moons(40, seed=0)
        held = datasets.moons(40, seed=9)
        model = MLP(2, [8, 1], batchnorm=True, seed=1)
        options = {"batch_size": 8, "seed": 3, "progress": False}
        history = train(
            model, X, y, optimizer=SGD(model.parameters(), lr=0.5), steps=60, validation=held, patience=3, **options
        )
        assert history.best_step is not None
        assert history.best_step < len(history.records) - 1
        again = MLP(2, [8, 1], batchnorm=True, seed=1)
        train(again, X, y, optimizer=SGD(again.parameters(), lr=0.5), steps=history.best_step + 1, **options)
        assert model.state_dict() == again.state_dict()


class TestFiles:
    def test_gamma_beta_and_running_statistics_round_trip_exactly(self, tmp_path: Path) -> None:
        X, y = datasets.moons(20, seed=0)
        model = MLP(2, [5, 5, 1], batchnorm=True, seed=3)
        train(model, X, y, steps=3, progress=False)
        path = model.save(tmp_path / "model.json")
        saved = json.loads(path.read_text())
        assert saved["config"]["batchnorm"] is True
        assert "norms.1.running_var.4" in saved["parameters"]
        copy = MLP.from_file(path)
        assert copy.state_dict() == model.state_dict()
        model.eval(), copy.eval()
        assert [copy(x).data for x in X] == [model(x).data for x in X]

    def test_a_file_without_batchnorm_still_loads(self, tmp_path: Path) -> None:
        path = MLP(2, [3, 1], seed=0).save(tmp_path / "old.json")
        assert MLP.from_file(path).norms == []

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda d: d["config"].update(batchnorm=1), "'batchnorm' must be true or false"),
            (lambda d: d["parameters"].pop("norms.0.running_mean.2"), "has 49 parameters, but the file holds 48"),
            (lambda d: d["parameters"].update({"norms.0.running_var.1": -1.0}), "running_var.1 must be >= 0"),
        ],
    )
    def test_bad_files_are_refused(self, tmp_path: Path, change: object, message: str) -> None:
        path = MLP(2, [3, 3, 1], batchnorm=True, seed=0).save(tmp_path / "model.json")
        document = json.loads(path.read_text())
        change(document)  # type: ignore[operator]
        path.write_text(json.dumps(document))
        with pytest.raises(ModelFileError, match=message):
            MLP.from_file(path)

    def test_export_carries_each_norm_with_its_layer(self) -> None:
        model = MLP(2, [3, 4, 1], batchnorm=True, seed=0)
        layers = dense_layers(model)
        assert [d.norm is not None for d in layers] == [True, True, False]
        first = layers[0].norm
        assert first is not None
        assert (first.gamma, first.running_var, first.eps) == ([1.0] * 3, [1.0] * 3, 1e-5)


@pytest.mark.torch
@pytest.mark.parametrize(("n", "count", "eps", "momentum"), [(3, 5, 1e-5, 0.1), (2, 2, 1e-3, 0.5), (4, 9, 0.1, 1.0)])
def test_forward_gradients_and_running_statistics_match_torch(n: int, count: int, eps: float, momentum: float) -> None:
    """Three training steps, then evaluation mode, against torch.nn.BatchNorm1d in float64, to 1e-12."""
    torch = pytest.importorskip("torch")
    ours = BatchNorm(n, eps=eps, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(n, eps=eps, momentum=momentum, dtype=torch.float64)
    start = random_rows(2, n, seed=10)
    for j in range(n):
        ours.gamma[j].data, ours.beta[j].data = start[0][j], start[1][j]
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(start[0], dtype=torch.float64))
        theirs.bias.copy_(torch.tensor(start[1], dtype=torch.float64))
    for step, training in enumerate([True, True, True, False]):
        ours.train(training)
        theirs.train(training)
        rows, weights = random_rows(count, n, seed=20 + step), random_rows(count, n, seed=40 + step)
        inputs = batch_of(rows)
        ours.zero_grad()
        out = ours(inputs)
        sum((w * o for wr, orow in zip(weights, out) for w, o in zip(wr, orow)), Value(0.0)).backward()
        x = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
        theirs.zero_grad()
        expected = theirs(x)
        (expected * torch.tensor(weights, dtype=torch.float64)).sum().backward()

        def close(values: list[float], tensor: object) -> bool:
            return all(abs(a - b) <= 1e-12 for a, b in zip(values, tensor.flatten().tolist(), strict=True))  # type: ignore[attr-defined]

        assert close([o.data for row in out for o in row], expected.detach())
        assert close([v.grad for row in inputs for v in row], x.grad)
        assert close([g.grad for g in ours.gamma], theirs.weight.grad)
        assert close([b.grad for b in ours.beta], theirs.bias.grad)
        assert close([v.data for v in ours.running_mean], theirs.running_mean)
        assert close([v.data for v in ours.running_var], theirs.running_var)


@pytest.mark.torch
def test_training_on_torch_refuses_dropout() -> None:
    pytest.importorskip("torch")
    from nn.torch_train import train_torch

    X, y = datasets.moons(10, seed=0)
    with pytest.raises(ValueError, match="dropout"):
        train_torch(MLP(2, [4, 1], dropout=0.5, seed=0), X, y, steps=1)
