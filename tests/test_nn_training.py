"""Losses, optimizers, datasets, saving, training and the main job."""

from __future__ import annotations

import io
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from autograd import Value, grad
from nn import (
    MLP,
    SGD,
    Adagrad,
    Adam,
    ModelFileError,
    RMSprop,
    TrainingDivergedError,
    accuracy,
    clip_grad_norm,
    clip_grad_value,
    datasets,
    evaluate,
    l1_penalty,
    linear_decay,
    losses,
    predict,
    train,
)
from nn.cli import main as nn_main
from nn.plot import NeuronGraph, neuron_graph
from nn.train import LOSSES


class TestLosses:
    def test_mean_squared_error(self) -> None:
        out = [Value(1.0), Value(-2.0)]
        loss = losses.mean_squared_error(out, [0.5, 1.0])
        assert loss.data == pytest.approx((0.25 + 9.0) / 2)
        assert grad(loss, out) == pytest.approx([0.5, -3.0])

    def test_hinge(self) -> None:
        scores = [Value(0.3), Value(-2.0), Value(1.5)]
        loss = losses.hinge(scores, [1, -1, -1])
        assert loss.data == pytest.approx((0.7 + 0.0 + 2.5) / 3)
        assert grad(loss, scores) == pytest.approx([-1 / 3, 0.0, 1 / 3])
        with pytest.raises(ValueError, match="-1 and \\+1"):
            losses.hinge(scores, [1, 0, 1])

    @pytest.mark.parametrize("z", [-800.0, -3.0, 0.0, 2.5, 800.0])
    @pytest.mark.parametrize("y", [0, 1])
    def test_binary_cross_entropy_is_stable_with_the_exact_gradient(self, z: float, y: int) -> None:
        logit = Value(z)
        loss = losses.binary_cross_entropy_with_logits([logit], [y])
        p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        expected = math.log1p(math.exp(-abs(z))) + max(z, 0.0) - z * y
        assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
        assert grad(loss, [logit])[0] == pytest.approx(p - y, abs=1e-15)

    def test_softmax_cross_entropy_matches_the_formula_and_is_stable(self) -> None:
        logits = [[Value(1.0), Value(2.0), Value(0.5)], [Value(1000.0), Value(-1000.0), Value(999.0)]]
        loss = losses.softmax_cross_entropy(logits, [1, 2])
        first = -math.log(math.exp(2.0) / (math.exp(1.0) + math.exp(2.0) + math.exp(0.5)))
        second = 1.0 + math.log1p(math.exp(-1.0))  # log(e^1000 + e^999) - 999
        assert loss.data == pytest.approx((first + second) / 2, rel=1e-12)
        grads = grad(loss, logits[0])
        total = sum(math.exp(v) for v in (1.0, 2.0, 0.5))
        softmax = [math.exp(v) / total for v in (1.0, 2.0, 0.5)]
        assert grads == pytest.approx([(s - (i == 1)) / 2 for i, s in enumerate(softmax)], rel=1e-12)
        with pytest.raises(ValueError, match="class index"):
            losses.softmax_cross_entropy(logits, [1, 3])

    def test_l2_penalty_matches_the_sum_of_squares(self) -> None:
        ps = [Value(0.5), Value(-1.5), Value(2.0)]
        assert losses.l2_penalty(ps, 1e-4).data == 1e-4 * sum((p * p for p in ps), Value(0.0)).data

    def test_l1_penalty_is_alpha_times_the_sum_of_magnitudes_with_slope_0_at_0(self) -> None:
        ps = [Value(0.5), Value(-1.5), Value(0.0), Value(2.0)]
        penalty = l1_penalty(ps, 0.01)
        assert l1_penalty is losses.l1_penalty  # exported from nn as well
        assert penalty.data == 0.01 * (0.5 + 1.5 + 0.0 + 2.0)
        penalty.backward()
        assert [p.grad for p in ps] == [0.01, -0.01, 0.0, 0.01]  # the subgradient 0 at 0, as abs

    @pytest.mark.parametrize("alpha", [-0.1, math.inf, math.nan, "0.1", True])
    def test_l1_penalty_refuses_a_bad_weight(self, alpha: Any) -> None:
        with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
            losses.l1_penalty([Value(1.0)], alpha)
        with pytest.raises(ValueError, match="no parameters"):
            losses.l1_penalty([], 0.1)

    def test_lengths_must_match(self) -> None:
        with pytest.raises(ValueError, match="2 outputs but 1 targets"):
            losses.mean_squared_error([Value(1.0), Value(2.0)], [1.0])
        with pytest.raises(ValueError, match="no examples"):
            losses.hinge([], [])


class TestOptimizers:
    def test_sgd_with_momentum_and_weight_decay(self) -> None:
        w = Value(2.0)
        opt = SGD([w], lr=0.1, momentum=0.5, weight_decay=0.01)
        velocity = 0.0
        expected = 2.0
        for _ in range(3):
            opt.zero_grad()
            (w * w).backward()
            g = 2 * expected + 0.01 * expected
            velocity = 0.5 * velocity + g
            expected -= 0.1 * velocity
            opt.step()
            assert w.data == pytest.approx(expected, rel=1e-15)

    def test_adam_first_steps_by_hand(self) -> None:
        w = Value(1.0)
        opt = Adam([w], lr=0.01)
        m = v = 0.0
        expected = 1.0
        for t in (1, 2):
            opt.zero_grad()
            (w * w * w).backward()
            g = 3 * expected**2
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
            expected -= 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
            opt.step()
            assert w.data == pytest.approx(expected, rel=1e-14)

    def test_adagrad_first_steps_by_hand(self) -> None:
        w = Value(1.0)
        opt = Adagrad([w], lr=0.1, lr_decay=0.5, weight_decay=0.01, initial_accumulator_value=0.2)
        total, expected = 0.2, 1.0
        for t in (1, 2, 3):
            opt.zero_grad()
            (w * w * w).backward()
            g = 3 * expected**2 + 0.01 * expected
            total += g * g
            expected -= 0.1 / (1 + (t - 1) * 0.5) * g / (math.sqrt(total) + 1e-10)
            opt.step()
            assert w.data == pytest.approx(expected, rel=1e-14)

    @pytest.mark.parametrize(("momentum", "centered"), [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
    def test_rmsprop_first_steps_by_hand(self, momentum: float, centered: bool) -> None:
        w = Value(1.0)
        opt = RMSprop([w], lr=0.01, alpha=0.9, weight_decay=0.01, momentum=momentum, centered=centered)
        v = m = b = 0.0
        expected = 1.0
        for _ in range(3):
            opt.zero_grad()
            (w * w * w).backward()
            g = 3 * expected**2 + 0.01 * expected
            v = 0.9 * v + 0.1 * g * g
            m = 0.9 * m + 0.1 * g
            avg = math.sqrt(v - m * m if centered else v) + 1e-8
            b = momentum * b + g / avg
            expected -= 0.01 * b
            opt.step()
            assert w.data == pytest.approx(expected, rel=1e-14)

    def test_schedules(self) -> None:
        w = Value(0.0)
        opt = SGD([w], lr=linear_decay(1.0, 0.1, 100))
        rates = []
        for _ in range(3):
            rates.append(opt.lr)
            opt.step()
        assert rates == [1.0 - 0.9 * k / 100 for k in range(3)]  # micrograd's demo
        assert SGD([w], lr=lambda step: 0.5**step).lr == 1.0

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError, match="learning rate"):
            SGD([Value(1.0)], lr=-1.0)
        with pytest.raises(ValueError, match="momentum"):
            SGD([Value(1.0)], momentum=1.0)
        with pytest.raises(ValueError, match="no parameters"):
            Adam([])
        with pytest.raises(TypeError, match="Values"):
            SGD([1.0])  # type: ignore[list-item]

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda ps: Adagrad(ps, lr_decay=-1.0), "lr_decay must be >= 0, not -1.0"),
            (lambda ps: Adagrad(ps, eps=0.0), "eps must be > 0, not 0.0"),
            (lambda ps: Adagrad(ps, initial_accumulator_value=math.nan), "must be a finite number"),
            (lambda ps: Adagrad(ps, weight_decay="0.1"), "weight_decay must be a finite number"),
            (lambda ps: RMSprop(ps, alpha=1.0), "alpha must be >= 0 and < 1, not 1.0"),
            (lambda ps: RMSprop(ps, momentum=-0.1), "momentum must be >= 0 and < 1"),
            (lambda ps: RMSprop(ps, centered=1), "centered must be True or False"),
            (lambda ps: RMSprop(ps, lr=0.0), "learning rate"),
        ],
    )
    def test_bad_settings_of_adagrad_and_rmsprop(self, make: Any, message: str) -> None:
        with pytest.raises(ValueError, match=re.escape(message)):
            make([Value(1.0)])


def with_grads(*gradients: float) -> list[Value]:
    values = [Value(0.0) for _ in gradients]
    for v, g in zip(values, gradients):
        v.grad = g
    return values


class TestClipping:
    def test_clip_grad_norm_scales_to_the_norm_and_returns_the_norm_before(self) -> None:
        ps = with_grads(3.0, -4.0)
        assert clip_grad_norm(ps, 1.0) == 5.0
        assert [p.grad for p in ps] == [3.0 * (1.0 / (5.0 + 1e-6)), -4.0 * (1.0 / (5.0 + 1e-6))]
        ps = with_grads(3.0, -4.0)
        assert clip_grad_norm(ps, 1.0, norm_type=1) == 7.0
        assert clip_grad_norm(with_grads(3.0, -4.0), 1.0, norm_type=math.inf) == 4.0
        assert clip_grad_norm(with_grads(3.0, -4.0), 1.0, norm_type="inf") == 4.0
        assert clip_grad_norm([], 1.0) == 0.0

    def test_clip_grad_norm_leaves_gradients_under_the_limit_alone(self) -> None:
        ps = with_grads(0.3, -0.4)
        assert clip_grad_norm(ps, 0.5 + 1e-6) == 0.5  # max_norm / (0.5 + 1e-6) = 1: not a change
        assert [p.grad for p in ps] == [0.3, -0.4]

    def test_clip_grad_value_cuts_each_gradient(self) -> None:
        ps = with_grads(3.0, -4.0, 0.25, math.nan)
        clip_grad_value(ps, 0.5)
        assert [p.grad for p in ps][:3] == [0.5, -0.5, 0.25]
        assert math.isnan(ps[3].grad)

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: clip_grad_norm(with_grads(1.0), 0.0), "max_norm must be a finite number > 0, not 0.0"),
            (lambda: clip_grad_norm(with_grads(1.0), math.inf), "max_norm must be a finite number > 0"),
            (lambda: clip_grad_norm(with_grads(1.0), 1.0, norm_type=0), "norm_type must be a number > 0 or inf"),
            (lambda: clip_grad_norm(with_grads(1.0), 1.0, norm_type=-math.inf), "norm_type must be"),
            (lambda: clip_grad_norm(with_grads(1.0), 1.0, norm_type="two"), "norm_type must be"),
            (lambda: clip_grad_value(with_grads(1.0), -1.0), "clip_value must be a finite number > 0, not -1.0"),
            (lambda: clip_grad_value(with_grads(1.0), "1"), "clip_value must be a finite number > 0"),
        ],
    )
    def test_bad_arguments(self, call: Any, message: str) -> None:
        with pytest.raises(ValueError, match=re.escape(message)):
            call()
        with pytest.raises(TypeError, match="parameters must be Values"):
            clip_grad_norm([1.0], 1.0)  # type: ignore[list-item]

    @pytest.mark.parametrize("kind", ["clip", "clip_value"])
    def test_train_clips_after_backward_and_updates_with_the_clipped_gradients(self, kind: str) -> None:
        X, y = datasets.moons(20, seed=0)
        model = MLP(2, [4, 1], seed=0)
        seen: list[tuple[list[float], list[float]]] = []

        def look(step: int, parameters: list[Value]) -> None:
            seen.append(([p.data for p in parameters], [p.grad for p in parameters]))

        limit = 0.05
        train(
            model,
            X,
            y,
            steps=3,
            optimizer=SGD(model.parameters(), lr=0.5),
            progress=False,
            callback=look,
            **{kind: limit},
        )
        for _, grads in seen:
            if kind == "clip":
                assert math.sqrt(sum(g * g for g in grads)) <= limit
            else:
                assert max(abs(g) for g in grads) <= limit
        before, grads = seen[-1]
        assert [p.data for p in model.parameters()] == [d - 0.5 * g for d, g in zip(before, grads)]

    def test_train_refuses_bad_limits(self) -> None:
        X, y = datasets.moons(10, seed=0)
        for bad in ({"clip": 0.0}, {"clip_value": -1.0}, {"clip": math.nan}, {"clip": True}):
            with pytest.raises(ValueError, match="must be a finite number > 0 or None"):
                train(MLP(2, [1], seed=0), X, y, progress=False, **bad)  # type: ignore[arg-type]


class TestEarlyStopping:
    @staticmethod
    def problem() -> tuple[Any, Any, Any]:
        X, y = datasets.moons(30, noise=0.3, seed=2)
        return X, y, datasets.moons(40, noise=0.3, seed=3)

    def test_validation_losses_are_the_mean_loss_after_each_step(self) -> None:
        X, y, validation = self.problem()
        model = MLP(2, [8, 1], seed=0)
        after: list[float] = []
        steps = 4
        for _ in range(steps):  # the same run, one step at a time, measured after each
            train(model, X, y, steps=1, optimizer=SGD(model.parameters(), lr=0.1), progress=False)
            after.append(evaluate(model, *validation).loss)
        again = MLP(2, [8, 1], seed=0)
        history = train(again, X, y, steps=steps, optimizer=SGD(again.parameters(), lr=0.1), validation=validation,
                        progress=False)  # fmt: skip
        assert history.validation_losses == after
        assert len(history.losses) == steps  # the existing fields are unchanged
        assert (history.best_step, history.stopped_early) == (None, False)  # no patience: nothing kept or stopped

    def test_stops_after_patience_steps_without_improvement_and_keeps_the_best(self) -> None:
        X, y, validation = self.problem()
        model = MLP(2, [16, 16, 1], seed=1)
        kept: dict[int, list[float]] = {}

        def remember(step: int, parameters: list[Value]) -> None:
            if step:
                kept[step - 1] = [p.data for p in parameters]  # the parameters after the step before

        optimizer = Adam(model.parameters(), lr=0.1)  # a large rate: the held-out loss turns up soon
        history = train(
            model, X, y, steps=500, optimizer=optimizer, validation=validation, patience=5, callback=remember,
            progress=False,
        )  # fmt: skip
        losses = history.validation_losses
        best = history.best_step
        assert history.stopped_early
        assert best is not None
        assert len(history.records) == best + 5 + 1 < 500  # stopped 5 steps after the best, no improvement since
        assert losses[best] == min(losses)
        assert all(loss >= losses[best] for loss in losses[best + 1 :])
        assert [p.data for p in model.parameters()] == kept[best]  # the best step's parameters, restored
        assert evaluate(model, *validation).loss == losses[best]

    def test_a_run_that_never_runs_out_of_patience_still_keeps_its_best_step(self) -> None:
        X, y, validation = self.problem()
        model = MLP(2, [8, 1], seed=0)
        history = train(model, X, y, steps=6, validation=validation, patience=100, progress=False)
        assert not history.stopped_early
        assert len(history.records) == 6
        assert history.best_step is not None
        assert evaluate(model, *validation).loss == min(history.validation_losses)

    @pytest.mark.parametrize(
        ("settings", "message"),
        [
            ({"patience": 0, "validation": ([[0.0, 0.0]], [1])}, "patience must be a positive int or None, not 0"),
            ({"patience": 2.5, "validation": ([[0.0, 0.0]], [1])}, "patience must be a positive int"),
            ({"patience": 3}, "patience needs validation data"),
            ({"validation": [[0.0, 0.0]]}, "validation must be a pair (X_val, y_val)"),
            ({"validation": ([[0.0, 0.0]], [1, -1])}, "1 examples but 2 labels"),
        ],
    )
    def test_bad_settings(self, settings: dict[str, Any], message: str) -> None:
        X, y = datasets.moons(10, seed=0)
        with pytest.raises(ValueError, match=re.escape(message)):
            train(MLP(2, [1], seed=0), X, y, progress=False, **settings)


class TestDatasets:
    @pytest.mark.parametrize("name", sorted(datasets.DATASETS))
    def test_shape_labels_and_seeds(self, name: str) -> None:
        make = datasets.DATASETS[name]
        X, y = make(60, seed=3)
        assert len(X) == len(y) == 60
        assert all(len(p) == 2 and all(math.isfinite(c) for c in p) for p in X)
        assert make(60, seed=3) == (X, y)
        assert make(60, seed=4) != (X, y)
        labels = set(y)
        assert labels in ({-1.0, 1.0}, {0.0, 1.0, 2.0}, {0.0, 1.0})

    def test_moons_without_noise_lie_on_the_two_half_circles(self) -> None:
        X, y = datasets.moons(50, noise=0.0, seed=0)
        for (a, b), label in zip(X, y):
            center = (0.0, 0.0) if label == -1 else (1.0, 0.5)
            assert math.hypot(a - center[0], b - center[1]) == pytest.approx(1.0)

    def test_zero_one_labels_and_bad_arguments(self) -> None:
        assert set(datasets.moons(20, seed=0, labels="01")[1]) == {0.0, 1.0}
        with pytest.raises(ValueError, match="labels"):
            datasets.xor(20, labels="yes")
        with pytest.raises(ValueError, match="noise"):
            datasets.circles(20, noise=-1.0)
        with pytest.raises(ValueError, match="n must be"):
            datasets.moons(1)

    @pytest.mark.parametrize(
        ("name", "classes", "labels", "expected"),
        [
            ("moons", 2, "pm1", {-1.0, 1.0}),
            ("moons", 2, "01", {0.0, 1.0}),
            ("xor", 2, "index", {0.0, 1.0}),
            ("spirals", 2, "pm1", {-1.0, 1.0}),
            ("blobs", 2, "01", {0.0, 1.0}),
            ("spirals", 4, "index", {0.0, 1.0, 2.0, 3.0}),
        ],
    )
    def test_make_labels_the_classes_as_a_loss_needs(
        self, name: str, classes: int, labels: str, expected: set[float]
    ) -> None:
        X, y = datasets.make(name, 40, noise=0.1, seed=0, classes=classes, labels=labels)
        assert len(X) == 40
        assert set(y) == expected

    def test_make_refuses_settings_that_do_not_fit(self) -> None:
        with pytest.raises(ValueError, match="moons has 2 classes"):
            datasets.make("moons", 40, noise=0.1, seed=0, classes=3)
        with pytest.raises(ValueError, match="for two classes"):
            datasets.make("blobs", 40, noise=0.1, seed=0, classes=3, labels="pm1")
        with pytest.raises(ValueError, match="unknown dataset"):
            datasets.make("mnist", 40, noise=0.1, seed=0)

    def test_heldout_points_are_fresh_points_from_the_same_generator(self) -> None:
        training = datasets.make("moons", 100, noise=0.1, seed=1337)
        heldout = datasets.heldout("moons", 100, noise=0.1, training_seed=1337)
        assert heldout == datasets.make("moons", 100, noise=0.1, seed=datasets.HELDOUT_SEED)
        assert not set(map(tuple, heldout[0])) & set(map(tuple, training[0]))
        with pytest.raises(ValueError, match="must differ from the training seed"):
            datasets.heldout("moons", 100, noise=0.1, seed=5, training_seed=5)


class TestSaving:
    def test_round_trip_is_exact(self, tmp_path: Path) -> None:
        model = MLP(2, [5, 1], activation="tanh", seed=1)
        for p in model.parameters():
            p.data = p.data / 3  # floats with long expansions
        model.save(tmp_path / "m.json")
        loaded = MLP.from_file(tmp_path / "m.json")
        assert loaded.state_dict() == model.state_dict()
        assert loaded.config() == model.config()
        other = MLP(2, [5, 1], activation="tanh", seed=2).load(tmp_path / "m.json")
        assert other.state_dict() == model.state_dict()

    def test_a_leaky_relu_model_round_trips(self, tmp_path: Path) -> None:
        model = MLP(2, [4, 1], activation="leaky_relu", seed=1)
        model.save(tmp_path / "m.json")
        loaded = MLP.from_file(tmp_path / "m.json")
        assert loaded.config()["activation"] == "leaky_relu"
        x = [-0.4, 0.9]
        assert loaded(x).data == model(x).data
        assert {n.op for n in loaded.layers[0](x)} == {"leaky_relu"}

    def test_the_file_says_what_it_is(self, tmp_path: Path) -> None:
        MLP(2, [1], seed=0).save(tmp_path / "m.json")
        document = json.loads((tmp_path / "m.json").read_text())
        assert (document["format"], document["version"], document["model"]) == ("chainrule.nn", 1, "MLP")

    def test_a_crash_while_writing_keeps_the_old_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = tmp_path / "m.json"
        MLP(2, [1], seed=0).save(path)
        before = path.read_bytes()

        def crash(*_: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            MLP(2, [1], seed=1).save(path)
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["m.json"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("{not json", "not valid JSON"),
            ('{"format": "other"}', "not a chainrule model"),
            ('{"format": "chainrule.nn", "version": 99}', "version 99"),
            ('{"format": "chainrule.nn", "version": 1, "model": "MLP", "config": {}, "parameters": []}', "parameters"),
        ],
    )
    def test_malformed_files(self, tmp_path: Path, text: str, message: str) -> None:
        path = tmp_path / "m.json"
        path.write_text(text)
        with pytest.raises(ModelFileError, match=message):
            MLP.from_file(path)

    def test_shapes_that_do_not_fit(self, tmp_path: Path) -> None:
        MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
        with pytest.raises(ModelFileError, match="not this MLP"):
            MLP(2, [4, 1], seed=0).load(tmp_path / "m.json")
        model = MLP(2, [3, 1], seed=0)
        state = model.state_dict()
        state.pop("layers.0.neurons.0.b")
        with pytest.raises(ModelFileError, match="missing 1"):
            model.load_state_dict(state)
        with pytest.raises(ModelFileError, match="finite"):
            model.load_state_dict({**model.state_dict(), "layers.0.neurons.0.b": math.nan})

    def test_non_finite_parameters_are_not_saved(self, tmp_path: Path) -> None:
        model = MLP(2, [1], seed=0)
        model.parameters()[0].data = math.inf
        with pytest.raises(ValueError, match="not finite"):
            model.save(tmp_path / "m.json")
        assert not (tmp_path / "m.json").exists()

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ModelFileError, match="cannot read"):
            MLP.from_file(tmp_path / "none.json")


class TestTraining:
    def test_micrograd_demo_reaches_full_accuracy(self) -> None:
        X, y = datasets.moons(100, noise=0.1, seed=1337)
        model = MLP(2, [16, 16, 1], seed=1337)
        history = train(model, X, y, steps=100, progress=False)
        assert len(history.records) == 100
        assert history.final.accuracy == 1.0
        assert accuracy(model, X, y) == 1.0
        assert history.losses[-1] < history.losses[0] / 10

    def test_micrograds_demo_loop_runs_unchanged_and_agrees_with_train(self) -> None:
        X, y = datasets.moons(100, noise=0.1, seed=1337)
        model = MLP(2, [16, 16, 1], seed=1337)
        reference = MLP(2, [16, 16, 1], seed=1337)
        steps = 8
        for k in range(steps):  # the loop of micrograd's demo notebook, word for word (lists for its arrays)
            inputs = [list(map(Value, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            losses_ = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
            data_loss = sum(losses_) * (1.0 / len(losses_))
            alpha = 1e-4
            reg_loss = alpha * sum(p * p for p in model.parameters())
            total_loss = data_loss + reg_loss
            model.zero_grad()
            total_loss.backward()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
        optimizer = SGD(reference.parameters(), lr=linear_decay(1.0, 0.1, 100))
        train(reference, X, y, steps=steps, optimizer=optimizer, progress=False)
        ours, theirs = reference.state_dict(), model.state_dict()
        assert [ours[name] for name in theirs] == pytest.approx(list(theirs.values()), rel=1e-12, abs=1e-15)

    def test_divergence_is_reported_with_the_history(self) -> None:
        X, y = datasets.moons(20, seed=0)
        model = MLP(2, [8, 1], seed=0)
        with pytest.raises(TrainingDivergedError, match="diverged at step") as caught:
            train(model, X, y, optimizer=SGD(model.parameters(), lr=1e6), steps=50, progress=False)
        assert 0 < caught.value.step < 50
        assert len(caught.value.history.records) == caught.value.step
        assert all(math.isfinite(r.loss) for r in caught.value.history.records)

    @pytest.mark.parametrize(("batch_size", "steps"), [(1, 640), (16, 150)])  # 10 and about 40 epochs
    def test_minibatch_and_stochastic(self, batch_size: int, steps: int) -> None:
        X, y = datasets.xor(64, noise=0.05, seed=0)
        model = MLP(2, [8, 8, 1], activation="tanh", seed=0)
        optimizer = SGD(model.parameters(), lr=0.05)
        history = train(model, X, y, steps=steps, batch_size=batch_size, seed=0, progress=False, optimizer=optimizer)
        assert len(history.records) == steps
        assert all(0.0 <= r.accuracy <= 1.0 for r in history.records)
        assert accuracy(model, X, y) > 0.85

    def test_multiclass_with_adam(self) -> None:
        X, y = datasets.blobs(60, centers=3, seed=0)
        model = MLP(2, [8, 3], seed=0)
        train(model, X, y, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.05), steps=60, progress=False)
        assert accuracy(model, X, y, loss="cross_entropy") > 0.95
        assert len(predict(model, X[:2])[0]) == 3

    @pytest.mark.parametrize("loss", ["hinge", "mse", "bce", "cross_entropy"])
    def test_evaluate_gives_the_accuracy_and_the_mean_loss_without_the_penalty(self, loss: str) -> None:
        classes = 3 if loss == "cross_entropy" else 2
        labels = {"hinge": "pm1", "mse": "pm1", "bce": "01", "cross_entropy": "index"}[loss]
        X, y = datasets.make("blobs", 30, noise=0.5, seed=1, classes=classes, labels=labels)
        model = MLP(2, [4, classes if loss == "cross_entropy" else 1], seed=1)
        result = evaluate(model, X, y, loss=loss)
        targets = [int(t) for t in y] if loss == "cross_entropy" else y
        expected = LOSSES[loss]([model(x) for x in X], targets).data
        assert (result.accuracy, result.loss, result.size) == (accuracy(model, X, y, loss=loss), expected, 30)

    def test_progress_off_a_terminal_is_about_ten_whole_lines(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        X, y = datasets.moons(20, seed=0)
        log = io.StringIO()  # not a terminal, as a log file or a CI job
        monkeypatch.setattr(sys, "stderr", log)
        train(MLP(2, [4, 1], seed=0), X, y, steps=95, progress=True)
        lines = log.getvalue().splitlines(keepends=True)
        assert 9 <= len(lines) <= 11
        assert all(line.endswith("\n") and "\r" not in line for line in lines)
        assert lines[0].startswith("training: step 10/95: batch loss ")
        assert lines[-1].startswith("training: step 95/95: ")

    def test_progress_on_a_terminal_is_a_bar(self, monkeypatch: pytest.MonkeyPatch) -> None:
        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        X, y = datasets.moons(20, seed=0)
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        train(MLP(2, [4, 1], seed=0), X, y, steps=5, progress=True)
        assert "\r" in terminal.getvalue()
        assert "training: step" not in terminal.getvalue()

    def test_predict_records_no_graph(self) -> None:
        model = MLP(2, [3, 1], seed=0)
        assert predict(model, [[0.1, 0.2]]) == [model([0.1, 0.2]).data]

    def test_memory_stays_flat_across_steps(self) -> None:
        import gc
        import tracemalloc

        X, y = datasets.moons(30, seed=0)
        model = MLP(2, [8, 1], seed=0)
        train(model, X, y, steps=3, progress=False)
        tracemalloc.start()
        train(model, X, y, steps=5, progress=False)
        gc.collect()  # other code's cyclic garbage, waiting for the collector, is not the steps' growth
        first = tracemalloc.get_traced_memory()[0]
        train(model, X, y, steps=25, progress=False)
        gc.collect()
        second = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert second - first < 20_000  # each step's graph is freed: no growth with the number of steps

    def test_bad_arguments(self) -> None:
        X, y = datasets.moons(10, seed=0)
        model = MLP(2, [1], seed=0)
        with pytest.raises(ValueError, match="unknown loss"):
            train(model, X, y, loss="l1", progress=False)
        with pytest.raises(ValueError, match="10 examples but 9"):
            train(model, X, y[:9], progress=False)
        with pytest.raises(ValueError, match="batch_size"):
            train(model, X, y, batch_size=0, progress=False)
        with pytest.raises(ValueError, match="l1 must be a finite number >= 0, not -1"):
            train(model, X, y, l1=-1, progress=False)

    def test_the_l1_penalty_is_added_to_each_steps_loss(self) -> None:
        X, y = datasets.moons(10, seed=0)
        model = MLP(2, [3, 1], seed=0)
        parameters = model.parameters()
        before = losses.hinge([model(x) for x in X], y)
        expected = before + losses.l2_penalty(parameters, 1e-4) + losses.l1_penalty(parameters, 0.01)
        history = train(model, X, y, steps=2, l1=0.01, progress=False)
        assert history.losses[0] == expected.data
        plain = MLP(2, [3, 1], seed=0)
        train(plain, X, y, steps=2, progress=False)
        assert plain.state_dict() != model.state_dict()  # the penalty's gradient moved the weights


class TestMainJob:
    def test_default_run_writes_everything(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "run"
        status = nn_main(
            ["train", "--dataset", "moons", "--steps", "100", "--seed", "1337", "--out", str(out), "--no-progress"]
        )
        assert status == 0
        printed = capsys.readouterr().out
        assert "training set, all 100 points: accuracy 100.0%" in printed
        assert sorted(p.name for p in out.iterdir() if p.name != ".chainrule.lock") == [
            "boundary.png",
            "explorer.html",
            "graph.svg",
            "loss.png",
            "metrics.json",
            "model.json",
            "training.html",
        ]
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["accuracy"] == 1.0
        assert metrics["settings"]["steps"] == 100
        assert {"loss", "seconds", "heldout_accuracy", "heldout_loss"} <= set(metrics)
        for picture in ("loss.png", "boundary.png"):
            assert (out / picture).read_bytes().startswith(b"\x89PNG")
        assert "grad" in (out / "graph.svg").read_text()
        assert MLP.from_file(out / "model.json").config()["nouts"] == [16, 16, 1]

    @pytest.mark.parametrize(
        "options",
        [
            ["--dataset", "spirals", "--classes", "3", "--optimizer", "adam", "--lr", "0.05"],
            ["--dataset", "blobs", "--classes", "2"],
            ["--dataset", "circles", "--loss", "bce", "--activation", "tanh"],
            ["--dataset", "xor", "--batch-size", "10", "--optimizer", "momentum", "--lr", "0.05"],
            ["--optimizer", "adagrad"],
            ["--optimizer", "rmsprop", "--lr", "0.02"],
        ],
    )
    def test_other_datasets_losses_and_optimizers(self, options: list[str], tmp_path: Path) -> None:
        argv = ["train", *options, "--steps", "5", "--hidden", "4", "--out", str(tmp_path), "--no-progress"]
        assert nn_main(argv) == 0
        metrics = json.loads((tmp_path / "metrics.json").read_text())
        assert metrics["settings"]["steps"] == 5
        assert len(metrics["history"]["batch_loss"]) == 5

    def test_a_diverging_run_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["train", "--lr", "900000", "--steps", "30", "--samples", "20", "--no-progress", "--out", str(tmp_path)]
        assert nn_main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("python -m nn: error: training diverged at step ")
        assert "Traceback" not in err

    @pytest.mark.parametrize(
        "argv",
        [
            ["train", "--dataset", "mnist"],
            ["train", "--steps", "0"],
            ["train", "--hidden", "16,x"],
            ["train", "--lr", "-1"],
            ["train", "--optimizer", "adadelta"],
            ["train", "--dataset", "spirals", "--loss", "hinge"],
            ["fly"],
            [],
        ],
    )
    def test_bad_options_exit_2(self, argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        assert nn_main([*argv, "--out", str(tmp_path)] if argv[:1] == ["train"] else argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("python -m nn: error: ")
        assert "Traceback" not in err


class TestPlots:
    def test_figures_show_the_run_and_save_as_png(self, tmp_path: Path) -> None:
        from matplotlib.figure import Figure

        from nn.plot import plot_decision_boundary, plot_history

        X, y = datasets.moons(30, seed=0)
        model = MLP(2, [8, 1], seed=0)
        history = train(model, X, y, steps=5, progress=False)
        curve = plot_history(history)
        boundary = plot_decision_boundary(model, X, y, resolution=20)
        assert isinstance(curve, Figure)
        assert isinstance(boundary, Figure)
        assert list(curve.axes[0].lines[0].get_ydata()) == history.losses
        assert (curve.axes[0].get_xlabel(), curve.axes[0].get_ylabel()) == ("step", "batch loss")
        assert curve.axes[1].get_ylabel() == "batch accuracy"
        assert "per-step batch loss" in curve.axes[0].get_title()
        boundary.savefig(tmp_path / "b.png")
        assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")
        with pytest.raises(ValueError, match="empty"):
            plot_history(type(history)())

    def test_the_loss_figure_shows_the_validation_loss_when_there_is_one(self) -> None:
        from nn.plot import plot_history

        X, y = datasets.moons(30, seed=0)
        history = train(MLP(2, [8, 1], seed=0), X, y, steps=5, validation=datasets.moons(20, seed=9), progress=False)
        lines = plot_history(history).axes[0].lines
        assert [line.get_label() for line in lines] == ["batch loss", "validation loss"]
        assert list(lines[1].get_ydata()) == history.validation_losses


class TestNeuronGraph:
    @staticmethod
    def drawn(picture: NeuronGraph) -> dict[str, tuple[float, float]]:
        """Each labelled Value in the picture: its (data, grad)."""
        found = re.findall(r"\{ (\w+) \| data (\S+) \| grad (\S+) \}", picture.drawing.source)
        return {label: (float(data), float(grad)) for label, data, grad in found}

    def test_micrograds_demo_draws_non_zero_gradients_of_a_points_loss(self) -> None:
        X, y = datasets.moons(100, noise=0.1, seed=1337)
        model = MLP(2, [16, 16, 1], seed=1337)
        train(model, X, y, steps=100, progress=False)
        before, grads = model.state_dict(), [p.grad for p in model.parameters()]
        picture = neuron_graph(model, X, y)
        values = self.drawn(picture)
        assert picture.of_loss
        assert {"w1", "w2", "b", "x1", "x2", "out"} <= set(values)
        assert values["b"][1] != 0.0
        for k in (1, 2):  # the chain rule through a product: d(w x)/dw = x
            assert values[f"w{k}"][1] == pytest.approx(values[f"x{k}"][0] * values["b"][1], abs=2e-4)
            assert values[f"x{k}"][1] == pytest.approx(values[f"w{k}"][0] * values["b"][1], abs=2e-4)
        neuron = f"layer 0, neuron {picture.neuron} "
        point = f"training point {picture.point} (x = {X[picture.point][0]:.4g}, {X[picture.point][1]:.4g}"
        assert neuron in picture.caption
        assert point in picture.caption
        assert "hinge loss" in picture.caption
        assert "labelloc=t" in picture.drawing.source
        assert model.state_dict() == before
        assert [p.grad for p in model.parameters()] == grads

    def test_a_flat_loss_draws_the_gradients_of_the_neurons_output(self) -> None:
        X, _ = datasets.moons(20, seed=0)
        model = MLP(2, [4, 1], seed=0)
        model.layers[1].neurons[0].b.data = 100.0  # every score far above 1: the hinge loss is 0 on +1 labels
        y = [1.0] * len(X)
        assert min(predict(model, X)) > 1
        picture = neuron_graph(model, X, y)
        assert not picture.of_loss
        assert "no gradient of the hinge loss reaches the first layer" in picture.caption
        assert self.drawn(picture)["b"][1] == 1.0  # d relu(z) / dz for a neuron that is on
