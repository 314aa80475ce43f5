"""Dropout: the mask's statistics and scaling, seeds, the two modes, gradients, drawing, saving, training, the CLI."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from autograd import Value, draw_dot
from nn import MLP, Dropout, datasets, evaluate, train
from nn.cli import main as nn_main
from nn.module import ModelFileError, evaluating

QUICK = ["--steps", "3", "--hidden", "4", "--samples", "20", "--heldout-samples", "30", "--no-progress"]


def labels(root: Value) -> list[str]:
    """The labels of every Value in `root`'s graph."""
    found, stack, seen = [], [root], set()
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            found.append(v.label)
            stack.extend(o for o in v.operands if isinstance(o, Value))
    return found


@pytest.mark.parametrize("p", [-0.1, 1, 1.0, 1.5, math.nan, math.inf, True, "0.5", None])
def test_p_outside_zero_to_one_is_refused(p: object) -> None:
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        Dropout(p)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        MLP(2, [3, 1], dropout=p)  # type: ignore[arg-type]


class TestMask:
    @pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
    def test_the_fraction_kept_is_1_minus_p_and_kept_units_are_scaled_by_its_inverse(self, p: float) -> None:
        n = 20_000
        out = Dropout(p, seed=1)([Value(1.0)] * n)
        kept = [h.data for h in out if h.data != 0.0]
        assert set(kept) == {1.0 / (1.0 - p)}  # exactly the scale, and every other unit exactly 0
        sigma = math.sqrt(p * (1 - p) / n)
        assert abs(len(kept) / n - (1 - p)) < 5 * sigma
        assert abs(sum(h.data for h in out) / n - 1.0) < 5 * sigma / (1 - p)  # the mean is kept: inverted dropout

    def test_each_call_draws_a_fresh_mask(self) -> None:
        drop = Dropout(0.5, seed=0)
        x = [Value(1.0) for _ in range(64)]
        assert [h.data for h in drop(x)] != [h.data for h in drop(x)]

    def test_a_seed_repeats_the_masks_exactly(self) -> None:
        x = [Value(float(k)) for k in range(50)]
        first, second = Dropout(0.4, seed=7), Dropout(0.4, seed=7)
        assert [[h.data for h in first(x)] for _ in range(3)] == [[h.data for h in second(x)] for _ in range(3)]
        assert [h.data for h in Dropout(0.4, seed=8)(x)] != [h.data for h in Dropout(0.4, seed=7)(x)]

    def test_the_model_owns_its_generator_and_repeats_by_seed(self) -> None:
        def outputs(seed: int) -> list[float]:
            model = MLP(2, [8, 8, 1], dropout=0.5, seed=seed)
            return [model([0.3, -0.7]).data for _ in range(5)]

        random.seed(0)
        first = outputs(3)
        random.seed(99)  # the global generator plays no part
        assert outputs(3) == first
        assert outputs(4) != first
        assert len(set(first)) > 1  # the masks change from call to call

    def test_p_zero_is_the_identity(self) -> None:
        x = [Value(1.0), Value(2.0)]
        assert Dropout(0.0)(x) is x


class TestModes:
    def test_training_is_the_default_and_eval_and_train_reach_every_module(self) -> None:
        model = MLP(2, [4, 4, 1], dropout=0.2, seed=0)
        modules = [model, *model.layers, *model.dropouts, *(n for layer in model.layers for n in layer.neurons)]
        assert all(m.training for m in modules)
        assert model.eval() is model
        assert not any(m.training for m in modules)
        assert model.train() is model
        assert all(m.training for m in modules)
        model.train(False)
        assert not any(m.training for m in modules)

    def test_train_takes_a_bool(self) -> None:
        with pytest.raises(TypeError, match="True or False"):
            MLP(2, [1]).train(1)  # type: ignore[arg-type]

    def test_eval_mode_is_the_identity_and_draws_nothing(self) -> None:
        drop = Dropout(0.5, seed=0).eval()
        state = drop.rng.getstate()
        x = [Value(1.5), Value(-2.0)]
        assert drop(x) is x
        assert drop.rng.getstate() == state

    def test_an_mlp_in_eval_mode_is_the_mlp_without_dropout_to_the_last_bit(self) -> None:
        plain, dropped = MLP(2, [8, 8, 2], seed=5), MLP(2, [8, 8, 2], dropout=0.5, seed=5)
        assert dropped.state_dict() == plain.state_dict()  # the masks' generator is drawn after the weights
        dropped.eval()
        for x in ([0.1, 0.2], [-1.0, 3.0]):
            assert [o.data for o in dropped(x)] == [o.data for o in plain(x)]
            assert [o.op for o in dropped(x)] == [o.op for o in plain(x)]

    def test_evaluating_restores_each_modules_mode(self) -> None:
        model = MLP(2, [4, 4, 1], dropout=0.2, seed=0)
        model.dropouts[1].eval()
        with evaluating(model):
            assert not model.training
            assert not model.dropouts[0].training
        assert model.training
        assert model.dropouts[0].training
        assert not model.dropouts[1].training

    def test_without_dropout_the_model_is_the_plain_mlp(self) -> None:
        model = MLP(2, [4, 4, 1], dropout=0, seed=0)
        assert model.dropouts == []
        assert "dropout" not in model.config()
        assert repr(model) == repr(MLP(2, [4, 4, 1], seed=0))


class TestGradients:
    def test_kept_units_pass_the_scale_back_and_dropped_units_zero(self) -> None:
        p = 0.5
        x = [Value(float(k) - 3.0) for k in range(12)]
        out = Dropout(p, seed=2)(x)
        sum(out, Value(0.0)).backward()
        dropped = [h.label == "dropped" for h in out]
        assert any(dropped)
        assert not all(dropped)
        for xi, hi, gone in zip(x, out, dropped):
            assert (hi.data, xi.grad) == ((0.0, 0.0) if gone else (xi.data * 2.0, 2.0))

    def test_an_mlp_with_dropout_against_central_differences_for_a_fixed_mask(self) -> None:
        model = MLP(3, [6, 5, 1], activation="tanh", dropout=0.4, seed=11)
        rng = model.dropouts[0].rng
        assert all(d.rng is rng for d in model.dropouts)
        state = rng.getstate()
        x = [0.4, -0.3, 0.8]

        def f() -> float:
            rng.setstate(state)  # the same masks on every call
            return float(model(x).data)

        rng.setstate(state)
        model.zero_grad()
        out = model(x)
        out.backward()
        assert {"dropped", "kept"} <= set(labels(out))  # both kinds of unit are on the path checked
        h = 1e-6
        for p in model.parameters():
            saved = p.data
            p.data = saved + h
            up = f()
            p.data = saved - h
            down = f()
            p.data = saved
            assert p.grad == pytest.approx((up - down) / (2 * h), abs=1e-7)


def test_the_drawing_shows_which_units_were_dropped() -> None:
    model = MLP(2, [4, 1], dropout=0.5, seed=0)
    out = model([0.5, -0.5])
    assert {"dropped", "kept"} <= set(labels(out))
    source = draw_dot(out).source
    assert "{ dropped | data 0.0000" in source  # the dropped unit's node, its value 0
    assert "label=0.0" in source  # the 0 constant it is multiplied by
    assert "label=2.0" in source  # the scale 1 / (1 - 0.5) of a kept unit


class TestFiles:
    def test_the_setting_is_saved_and_round_trips_exactly(self, tmp_path: Path) -> None:
        model = MLP(2, [5, 5, 1], dropout=0.25, seed=3)
        path = model.save(tmp_path / "model.json")
        assert json.loads(path.read_text())["config"]["dropout"] == 0.25
        copy = MLP.from_file(path)
        assert copy.config() == model.config()
        assert copy.state_dict() == model.state_dict()
        assert [d.p for d in copy.dropouts] == [0.25, 0.25]
        model.eval(), copy.eval()
        assert copy([0.2, 0.9]).data == model([0.2, 0.9]).data
        assert MLP(2, [5, 5, 1], dropout=0.25, seed=9).load(path).state_dict() == model.state_dict()

    def test_a_file_without_dropout_still_loads(self, tmp_path: Path) -> None:
        path = MLP(2, [3, 1], seed=0).save(tmp_path / "old.json")
        assert "dropout" not in json.loads(path.read_text())["config"]
        assert MLP.from_file(path).dropouts == []

    @pytest.mark.parametrize("p", [1.0, -0.5, "0.5", True, None])
    def test_a_bad_dropout_in_a_file_is_refused(self, tmp_path: Path, p: object) -> None:
        path = MLP(2, [3, 1], dropout=0.5, seed=0).save(tmp_path / "model.json")
        document = json.loads(path.read_text())
        document["config"]["dropout"] = p
        path.write_text(json.dumps(document))
        with pytest.raises(ModelFileError, match=r"'dropout' must be a number in \[0, 1\)"):
            MLP.from_file(path)


class TestTraining:
    def test_training_repeats_by_seed_and_differs_from_training_without_dropout(self) -> None:
        X, y = datasets.moons(30, seed=0)

        def losses(dropout: float) -> list[float]:
            model = MLP(2, [8, 8, 1], dropout=dropout, seed=1)
            return train(model, X, y, steps=4, progress=False).losses

        assert losses(0.3) == losses(0.3)
        assert losses(0.3) != losses(0.0)

    def test_measuring_uses_eval_mode_and_leaves_the_masks_alone(self) -> None:
        X, y = datasets.moons(30, seed=0)
        model = MLP(2, [8, 8, 1], dropout=0.5, seed=1)
        state = model.dropouts[0].rng.getstate()
        plain = MLP(2, [8, 8, 1], seed=1)
        assert evaluate(model, X, y) == evaluate(plain, X, y)
        assert model.training
        assert model.dropouts[0].rng.getstate() == state

    def test_validation_inside_training_does_not_change_the_run(self) -> None:
        X, y = datasets.moons(30, seed=0)
        held = datasets.moons(20, seed=5)

        def run(validation: object) -> list[float]:
            model = MLP(2, [8, 8, 1], dropout=0.5, seed=1)
            return train(model, X, y, steps=4, validation=validation, progress=False).losses  # type: ignore[arg-type]

        assert run(held) == run(None)

    def test_train_puts_the_model_in_training_mode(self) -> None:
        X, y = datasets.moons(10, seed=0)
        model = MLP(2, [4, 1], dropout=0.5, seed=1).eval()
        train(model, X, y, steps=1, progress=False)
        assert model.training
        assert all(d.training for d in model.dropouts)
        assert len(model.dropouts) == 1


class TestCommandLine:
    def test_a_run_with_dropout_saves_it_and_measures_in_eval_mode(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        quick = ["--steps", "3", "--samples", "20", "--heldout-samples", "30", "--no-progress"]
        assert nn_main(["train", "--out", str(tmp_path), "--dropout", "0.2", "--hidden", "6,6", *quick]) == 0
        assert "dropout 0.2" in capsys.readouterr().out
        metrics = json.loads((tmp_path / "metrics.json").read_text())
        assert metrics["settings"]["dropout"] == 0.2
        model = MLP.from_file(tmp_path / "model.json")
        assert model.config()["dropout"] == 0.2
        X, y = datasets.make("moons", 20, noise=0.1, seed=1337)
        assert metrics["accuracy"] == evaluate(model, X, y).accuracy  # a fresh model is in training mode
        assert metrics["loss"] == evaluate(model, X, y).loss

    @pytest.mark.parametrize("value", ["1", "-0.1", "1.5", "nan", "x"])
    def test_bad_values_exit_2(self, value: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", f"--dropout={value}", *QUICK]) == 2
        assert "--dropout must be a" in capsys.readouterr().err

    def test_the_torch_backend_refuses_it(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", "--dropout", "0.2", "--backend", "torch", *QUICK]) == 2
        assert "--dropout" in capsys.readouterr().err


@pytest.mark.torch
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.75])
def test_kept_units_are_scaled_as_torch_scales_them(p: float) -> None:
    """The masks differ (two generators); where both keep a unit, the outputs agree to the last bit."""
    torch = pytest.importorskip("torch")
    xs = [random.Random(k).uniform(-3.0, 3.0) for k in range(2000)]
    ours = [h.data for h in Dropout(p, seed=0)([Value(x) for x in xs])]
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(torch.tensor(xs, dtype=torch.float64), p=p, training=True).tolist()
    both = [(a, b) for a, b in zip(ours, theirs) if a != 0.0 and b != 0.0]
    assert len(both) > 100
    assert all(a == b for a, b in both)
