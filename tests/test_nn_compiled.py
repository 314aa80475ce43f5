"""`nn.train(compile=True)`: the dynamic engine's parameters, bit for bit, and a fallback that says so once."""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_compiler import same_bits

from autograd import CompileError, CompileWarning, Value, no_grad
from nn import MLP, SGD, Adagrad, Adam, RMSprop, TrainingDivergedError, datasets, linear_decay, predict, train
from nn.cli import main as nn_main
from nn.compiled import CompiledSteps, forward, source
from nn.module import Module
from nn.train import LABELS, History

OPTIMIZERS: dict[str, Callable[[list[Any]], Any]] = {
    "sgd": lambda ps: SGD(ps, lr=linear_decay(0.5, 0.05, 12)),
    "momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "adam": lambda ps: Adam(ps, lr=0.02),
    "adagrad": lambda ps: Adagrad(ps, lr=0.1),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
}


def run(
    compile: bool,
    *,
    loss: str = "hinge",
    activation: str = "relu",
    optimizer: str = "adam",
    batch_size: int | None = None,
    steps: int = 12,
    **options: Any,
) -> tuple[list[float], History]:
    classes = 3 if loss == "cross_entropy" else 2
    X, y = datasets.make("spirals", 40, noise=0.2, seed=5, classes=classes, labels=LABELS[loss])
    model = MLP(2, [6, 5, classes if loss == "cross_entropy" else 1], activation=activation, seed=3)
    history = train(
        model, X, y, loss=loss, optimizer=OPTIMIZERS[optimizer](model.parameters()), steps=steps,
        batch_size=batch_size, seed=11, progress=False, compile=compile, **options,
    )  # fmt: skip
    return [p.data for p in model.parameters()], history


def assert_same_run(options: dict[str, Any]) -> History:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # a fallback would make this test pass vacuously
        compiled, history = run(True, **options)
    dynamic, expected = run(False, **options)
    assert history.compiled == len(history.records)
    assert expected.compiled == 0
    assert same_bits(compiled, dynamic)
    assert history.records == expected.records
    return history


@pytest.mark.parametrize("loss", ["hinge", "mse", "bce", "cross_entropy"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear"])
def test_every_activation_and_loss_gives_the_dynamic_parameters(loss: str, activation: str) -> None:
    batch_size = {"hinge": None, "mse": 8, "bce": 1, "cross_entropy": 13}[loss]
    assert_same_run({"loss": loss, "activation": activation, "batch_size": batch_size})


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 7, 1])
def test_every_optimizer_and_batching_gives_the_dynamic_parameters(optimizer: str, batch_size: int | None) -> None:
    assert_same_run({"optimizer": optimizer, "batch_size": batch_size, "loss": "bce"})


def test_penalties_clipping_validation_and_callbacks_see_the_same_numbers() -> None:
    x_val, y_val = datasets.make("spirals", 20, noise=0.2, seed=6, classes=2, labels="pm1")
    seen: dict[bool, list[list[float]]] = {True: [], False: []}

    def recorder(mode: bool) -> Callable[[int, list[Any]], None]:
        return lambda step, parameters: seen[mode].append([p.grad for p in parameters])

    options = {"alpha": 1e-3, "l1": 1e-3, "clip": 0.5, "clip_value": 0.2, "validation": (x_val, y_val), "patience": 4}
    compiled, history = run(True, callback=recorder(True), **options)
    dynamic, expected = run(False, callback=recorder(False), **options)
    assert same_bits(compiled, dynamic)
    assert history.records == expected.records
    assert history.best_step == expected.best_step
    assert all(same_bits(a, b) for a, b in zip(seen[True], seen[False], strict=True))


def test_the_cli_writes_the_same_model_byte_for_byte(tmp_path: Path) -> None:
    common = ["train", "--steps", "15", "--hidden", "8,8", "--no-progress", "--samples", "60", "--batch-size", "20"]
    assert nn_main([*common, "--out", str(tmp_path / "compiled")]) == 0
    assert nn_main([*common, "--out", str(tmp_path / "dynamic"), "--no-compile"]) == 0
    model = (tmp_path / "compiled" / "model.json").read_bytes()
    assert model == (tmp_path / "dynamic" / "model.json").read_bytes()


def test_progress_off_prints_nothing_and_a_fallback_is_a_warning_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
    model = MLP(2, [4, 1], dropout=0.3, seed=0)
    with pytest.warns(CompileWarning, match="dropout draws a new mask") as said:
        history = train(model, X, y, steps=5, progress=False, compile=True)
    assert len(said) == 1
    assert history.compiled == 0
    assert capsys.readouterr().out == ""


def test_batch_normalisation_falls_back_and_trains_as_the_dynamic_engine() -> None:
    X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
    results = []
    for compile in (True, False):
        model = MLP(2, [4, 1], batchnorm=True, seed=0)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            train(model, X, y, steps=4, batch_size=10, progress=False, compile=compile, seed=1)
        results.append(([p.data for p in model.parameters()], [str(w.message) for w in said]))
    assert same_bits(results[0][0], results[1][0])
    assert results[0][1] == [
        "compiled training: batch normalisation couples the examples of a batch; running on the dynamic engine"
    ]
    assert results[1][1] == []


def test_divergence_is_found_at_the_same_step_with_the_same_message() -> None:
    X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
    errors = []
    for compile in (True, False):
        model = MLP(2, [8, 1], seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            with pytest.raises(TrainingDivergedError) as caught:
                train(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=1e5), steps=50, progress=False,
                      compile=compile)  # fmt: skip
        errors.append((caught.value.step, str(caught.value), [r.loss for r in caught.value.history.records]))
    assert errors[0] == errors[1]


def test_a_structure_changed_by_a_callback_is_traced_again() -> None:
    def swap(step: int, parameters: list[Any]) -> None:
        if step == 3:
            model.layers[0].neurons[1].activation = "tanh"

    results = []
    for compile in (True, False):
        X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
        model = MLP(2, [4, 1], seed=0)
        history = train(model, X, y, steps=8, progress=False, compile=compile, callback=swap)
        results.append([p.data for p in model.parameters()])
        if compile:
            assert history.compiled == 8
    assert same_bits(results[0], results[1])


def test_bad_labels_are_refused_as_the_loss_refuses_them() -> None:
    X, y = datasets.make("moons", 10, noise=0.1, seed=0, classes=2, labels="01")
    for compile in (True, False):
        with pytest.raises(ValueError, match=r"hinge needs labels -1 and \+1, got 0\.0"):
            train(MLP(2, [3, 1], seed=0), X, y, steps=2, progress=False, compile=compile)


def test_each_batch_size_gets_its_own_compiled_step() -> None:
    X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
    model = MLP(2, [4, 1], seed=0)
    steps = CompiledSteps(model, "hinge", X, y, alpha=1e-4)
    for indices in ([0, 1, 2], [3, 4, 5], [6, 7]):
        model.zero_grad()
        done = steps.run(indices)
        assert done is not None
        assert len(done[1]) == len(indices)
    assert sorted(size for size, _ in steps.steps) == [2, 3]


def test_a_compiled_step_builds_no_graph_so_memory_stays_flat() -> None:
    X, y = datasets.make("moons", 50, noise=0.1, seed=0, classes=2, labels="pm1")
    model = MLP(2, [16, 16, 1], seed=0)
    steps = CompiledSteps(model, "hinge", X, y, alpha=1e-4)
    indices = list(range(50))
    assert steps.run(indices) is not None  # traced and compiled here
    counts = []
    for repeats in (100, 900):
        for _ in range(repeats):
            model.zero_grad()
            assert steps.run(indices) is not None
        gc.collect()
        counts.append(sys.getallocatedblocks())
    assert counts[1] - counts[0] < 100, counts  # one step's graph would be some 7,000 nodes


def test_a_model_that_is_not_an_mlp_trains_dynamically_with_a_note() -> None:
    class Scaled(Module):
        def __init__(self) -> None:
            self.inner = MLP(2, [3, 1], seed=0)

        def __call__(self, x: Any) -> Any:
            return self.inner(x) * 2.0

        def named_parameters(self) -> Any:
            return self.inner.named_parameters()

    X, y = datasets.make("moons", 20, noise=0.1, seed=0, classes=2, labels="pm1")
    with pytest.warns(CompileWarning, match="a Scaled is not an nn.MLP"):
        history = train(Scaled(), X, y, steps=2, progress=False, compile=True)  # type: ignore[arg-type]
    assert history.compiled == 0
    assert len(history.records) == 2


def test_the_source_of_a_step_is_what_train_runs_and_says_why_not() -> None:
    X, y = datasets.make("moons", 6, noise=0.1, seed=0, classes=2, labels="pm1")
    model = MLP(2, [3, 1], seed=0)
    text = source(model, X, y, alpha=0.0, batch_size=4)
    assert text.startswith("def step(parameters, rows):\n    L0_n0_w0, L0_n0_w1, L0_n0_b,")
    assert "for x0, x1, x2 in rows:" in text
    assert "in reversed(tape):" in text
    with pytest.raises(CompileError, match="dropout draws a new mask every step"):
        source(MLP(2, [3, 1], dropout=0.5, seed=0), X, y)
    with pytest.raises(ValueError, match="0 points, 0 labels"):
        source(model, [], [])
    with pytest.raises(ValueError, match="batch_size must be a positive int or None, not 0"):
        source(model, X, y, batch_size=0)
    assert "for x0, x1, x2 in rows:" in source(model, X, y, batch_size=50)  # the whole set, as train takes it


def test_predictions_run_compiled_with_the_dynamic_engines_numbers() -> None:
    X, _ = datasets.make("spirals", 30, noise=0.2, seed=1, classes=3, labels="index")
    model = MLP(2, [5, 5, 3], activation="tanh", seed=2)
    with no_grad():
        expected = [[o.data for o in model(x)] for x in X]
    assert forward(model, X) == expected
    assert predict(model, X) == expected
    model.layers[0].neurons[0].activation = "sigmoid"  # a new structure: traced again
    with no_grad():
        assert forward(model, X) == [[o.data for o in model(x)] for x in X]
    assert forward(model, [["a", 1.0]]) is None  # not numbers: the dynamic engine gives its own error
    assert forward(MLP(2, [3, 1], batchnorm=True, seed=0), X) is None


def test_a_gradient_left_from_before_sends_the_step_to_the_dynamic_engine() -> None:
    X, y = datasets.make("moons", 10, noise=0.1, seed=0, classes=2, labels="pm1")
    model = MLP(2, [3, 1], seed=0)
    steps = CompiledSteps(model, "hinge", X, y)
    assert steps.run(list(range(10))) is not None
    with pytest.warns(CompileWarning, match="not zero before the step"):
        assert steps.run(list(range(10))) is None  # backward() would add to the gradients left there
    model.zero_grad()
    assert steps.run(list(range(10))) is not None


def test_a_structure_that_comes_back_uses_its_own_parameters_again() -> None:
    def swap(model: MLP) -> Callable[[int, list[Any]], None]:
        neuron = model.layers[0].neurons[0]
        original = neuron.w

        def callback(step: int, parameters: list[Any]) -> None:
            if step == 2:
                neuron.w = [Value(w.data * 0.5) for w in original]  # other Values: another structure
            if step == 4:
                neuron.w = original  # the first structure again, with its own parameters

        return callback

    results = []
    for compile in (True, False):
        X, y = datasets.make("moons", 30, noise=0.1, seed=0, classes=2, labels="pm1")
        model = MLP(2, [4, 1], seed=0)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            history = train(model, X, y, steps=7, progress=False, compile=compile, callback=swap(model))
        results.append(([p.data for p in model.parameters()], history.losses))
        if compile:  # the swapped-in Values are not the optimizer's: their gradients add up, dynamically
            assert [str(w.message) for w in said] == [
                "compiled training: a parameter's gradient is not zero before the step (zero_grad did not reach "
                "it); running on the dynamic engine"
            ]
            assert history.compiled == 6
    assert same_bits(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
