"""The command line ``python -m nn``: train's outputs, settings and config files, eval, predict, help and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nn import MLP, datasets, evaluate, predict
from nn.cli import SETTINGS
from nn.cli import main as nn_main

QUICK = ["--steps", "3", "--hidden", "4", "--samples", "20", "--heldout-samples", "30", "--no-progress"]


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refused command writes on stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m nn: error: ")
    return err


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default run (micrograd's demo) and its outputs."""
    out = tmp_path_factory.mktemp("default")
    assert nn_main(["train", "--out", str(out), "--no-progress"]) == 0
    return out


class TestOutputs:
    def test_the_graph_draws_non_zero_gradients_and_says_what_it_shows(self, default_run: Path) -> None:
        svg = (default_run / "graph.svg").read_text()
        grads = [float(g) for g in re.findall(r">grad (?:-|&#45;)?([0-9.]+)<", svg)]  # sizes; dot escapes a minus
        assert len(grads) == 10
        assert any(g != 0.0 for g in grads if g != 1.0)  # the output's own 1.0 does not count
        assert re.search(r"layer 0, neuron \d+ \(layers\.0\.neurons\.\d+ in model\.json\), on training point \d+", svg)
        assert "hinge loss" in svg

    def test_the_default_folder_is_named_after_the_dataset(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        for name in ("xor", "circles"):
            assert nn_main(["train", "--dataset", name, *QUICK]) == 0
        assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["circles", "xor"]
        assert json.loads((tmp_path / "runs/xor/metrics.json").read_text())["settings"]["dataset"] == "xor"

    def test_metrics_record_every_setting_and_say_what_each_number_is(self, default_run: Path) -> None:
        metrics = json.loads((default_run / "metrics.json").read_text())
        settings = metrics["settings"]
        assert list(settings) == list(SETTINGS)
        assert {"lr", "alpha", "init", "noise", "classes", "batch_size", "hidden"} <= set(settings)
        assert [settings[k] for k in ("alpha", "init", "noise", "classes")] == [1e-4, "uniform", 0.1, 2]
        assert (settings["heldout_seed"], settings["heldout_samples"]) == (1338, 1000)
        X, y = datasets.make("moons", 100, noise=0.1, seed=1337)
        model = MLP.from_file(default_run / "model.json")
        whole = evaluate(model, X, y)
        assert (metrics["accuracy"], metrics["loss"]) == (whole.accuracy, whole.loss)
        heldout = evaluate(model, *datasets.heldout("moons", 1000, noise=0.1, training_seed=1337))
        assert (metrics["heldout_accuracy"], metrics["heldout_loss"]) == (heldout.accuracy, heldout.loss)
        assert metrics["last_batch_loss"] == metrics["history"]["batch_loss"][-1]
        assert metrics["heldout_accuracy"] > 0.95

    def test_a_run_with_batches_says_which_numbers_are_the_last_batchs(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert nn_main(["train", *QUICK, "--batch-size", "5", "--out", str(tmp_path)]) == 0
        printed = capsys.readouterr().out
        assert "each on a batch of 5 of the 20 points" in printed
        assert "last step's batch: loss " in printed
        assert "training set, all 20 points: accuracy " in printed
        assert "held-out set, 30 fresh points (seed 1338): accuracy " in printed

    def test_progress_off_a_terminal_is_plain_lines(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["train", *QUICK[:-1], "--steps", "20", "--out", str(tmp_path)]  # with progress
        assert nn_main(argv) == 0
        err = capsys.readouterr().err  # pytest's capture is not a terminal
        assert "\r" not in err
        assert [line.split(":")[1] for line in err.splitlines()] == [f" step {k}/20" for k in range(2, 21, 2)]


class TestConfig:
    def test_a_run_repeats_exactly_from_its_metrics(self, tmp_path: Path) -> None:
        first, second = tmp_path / "first", tmp_path / "second"
        options = [
            "--dataset", "circles", "--noise", "0.07", "--hidden", "6,5", "--activation", "tanh",
            "--init", "xavier", "--optimizer", "adam", "--lr", "0.03", "--alpha", "0.001",
            "--batch-size", "16", "--steps", "15", "--seed", "3", "--heldout-samples", "50",
        ]  # fmt: skip
        assert nn_main(["train", *options, "--out", str(first), "--no-progress"]) == 0
        argv = ["train", "--config", str(first / "metrics.json"), "--out", str(second), "--no-progress"]
        assert nn_main(argv) == 0
        assert (second / "model.json").read_bytes() == (first / "model.json").read_bytes()
        metrics = [json.loads((folder / "metrics.json").read_text()) for folder in (first, second)]
        assert metrics[0]["settings"] == metrics[1]["settings"]
        assert metrics[0]["heldout_loss"] == metrics[1]["heldout_loss"]

    def test_options_given_override_the_file(self, tmp_path: Path) -> None:
        assert nn_main(["train", *QUICK, "--lr", "0.2", "--out", str(tmp_path / "a")]) == 0
        config = str(tmp_path / "a/metrics.json")
        assert nn_main(["train", "--config", config, "--steps", "4", "--out", str(tmp_path / "b")]) == 0
        settings = json.loads((tmp_path / "b/metrics.json").read_text())["settings"]
        assert (settings["steps"], settings["lr"], settings["hidden"]) == (4, 0.2, [4])

    def test_leaky_relu_is_an_activation(self, tmp_path: Path) -> None:
        assert nn_main(["train", *QUICK, "--activation", "leaky_relu", "--out", str(tmp_path)]) == 0
        assert MLP.from_file(tmp_path / "model.json").config()["activation"] == "leaky_relu"
        assert json.loads((tmp_path / "metrics.json").read_text())["settings"]["activation"] == "leaky_relu"

    @pytest.mark.parametrize(("optimizer", "rate"), [("adagrad", "0.1"), ("rmsprop", "0.01")])
    def test_adagrad_and_rmsprop_with_their_default_rates(
        self, optimizer: str, rate: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert nn_main(["train", *QUICK, "--optimizer", optimizer, "--out", str(tmp_path)]) == 0
        assert f"; {optimizer}, lr {rate}\n" in capsys.readouterr().out
        assert json.loads((tmp_path / "metrics.json").read_text())["settings"]["optimizer"] == optimizer

    def test_l1_is_a_setting(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", *QUICK, "--l1", "0.001", "--out", str(tmp_path)]) == 0
        assert "(with the L2 and L1 penalties)" in capsys.readouterr().out
        assert json.loads((tmp_path / "metrics.json").read_text())["settings"]["l1"] == 0.001
        assert nn_main(["train", *QUICK, "--l1", "-1", "--out", str(tmp_path / "no")]) == 2
        assert "--l1 must be a number >= 0, not '-1'" in error_line(capsys)

    def test_clipping_options(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", *QUICK, "--clip", "0.5", "--clip-value", "0.1", "--out", str(tmp_path)]) == 0
        settings = json.loads((tmp_path / "metrics.json").read_text())["settings"]
        assert (settings["clip"], settings["clip_value"]) == (0.5, 0.1)
        for option, text in [("--clip", "0"), ("--clip", "-1"), ("--clip", "nan"), ("--clip-value", "0")]:
            assert nn_main(["train", *QUICK, option, text, "--out", str(tmp_path / "no")]) == 2
            assert f"{option} must be a " in error_line(capsys)

    def test_patience_stops_on_the_heldout_set_and_records_both_losses(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["train", *QUICK, "--steps", "400", "--optimizer", "adam", "--lr", "0.2", "--patience", "3"]
        assert nn_main([*argv, "--out", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        metrics = json.loads((tmp_path / "metrics.json").read_text())
        history, best = metrics["history"], metrics["best_step"]
        assert metrics["settings"]["patience"] == 3
        assert metrics["stopped_early"]
        assert len(history["heldout_loss"]) == len(history["batch_loss"]) == best + 4 < 400
        assert f"kept the parameters after step {best + 1}, of the lowest held-out loss" in out
        assert "held-out set, 30 points that chose the step kept (seed 1338)" in out
        assert metrics["heldout_loss"] == min(history["heldout_loss"])  # the model kept is the best step's

    @pytest.mark.parametrize("value", ["0", "-2", "1.5"])
    def test_patience_must_be_a_positive_whole_number(self, value: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", *QUICK, "--patience", value]) == 2
        assert "--patience must be " in error_line(capsys)

    def test_a_file_of_settings_alone(self, tmp_path: Path) -> None:
        settings = {"dataset": "xor", "steps": 2, "hidden": [3], "samples": 10, "seed": -5}
        (tmp_path / "c.json").write_text(json.dumps(settings))
        argv = ["train", "--config", str(tmp_path / "c.json"), "--heldout-samples", "10", "--out", str(tmp_path)]
        assert nn_main([*argv, "--no-progress"]) == 0
        assert MLP.from_file(tmp_path / "model.json").config()["nouts"] == [3, 1]

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ({"settings": {"lr": 0.1, "learning_rate": 0.1}}, "unknown settings 'learning_rate'"),
            ({"settings": {"lr": "fast"}}, "--lr must be a number, not 'fast'"),
            ({"settings": {"noise": -1e-5}}, "--noise must be a number >= 0, not '-1e-05'"),
            ({"settings": {"steps": 1.5}}, "--steps must be a whole number"),
            ({"settings": {"steps": True}}, "steps must be a number, a name or a list of sizes"),
            ({"settings": {"dataset": "mnist"}}, "--dataset: invalid choice"),
            ({"settings": {"hidden": [16, 0]}}, "--hidden must be layer sizes of at least 1"),
            ([1, 2], "holds no settings"),
        ],
    )
    def test_bad_files_are_refused_with_exit_2(
        self, document: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(document))
        assert nn_main(["train", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
        err = error_line(capsys)
        assert message in err
        assert str(path) in err
        assert not (tmp_path / "out").exists()

    def test_missing_and_broken_files(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["train", "--config", str(tmp_path / "none.json")]) == 2
        assert "cannot read" in error_line(capsys)
        (tmp_path / "broken.json").write_text("{")
        assert nn_main(["train", "--config", str(tmp_path / "broken.json")]) == 2
        assert "not valid JSON" in error_line(capsys)


class TestEvalAndPredict:
    def test_eval_measures_on_fresh_points(self, default_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main(["eval", "--model", str(default_run / "model.json")]) == 0
        printed = capsys.readouterr().out
        metrics = json.loads((default_run / "metrics.json").read_text())
        expected = f"accuracy {metrics['heldout_accuracy']:.1%}, hinge loss {metrics['heldout_loss']:.6f}"
        assert printed == f"moons, 1000 points (seed 1338, noise 0.1): {expected}\n"  # training's held-out set
        assert nn_main(["eval", "--model", str(default_run / "model.json"), "--samples", "50", "--seed", "9"]) == 0
        model = MLP.from_file(default_run / "model.json")
        other = evaluate(model, *datasets.make("moons", 50, noise=0.1, seed=9))
        assert f"accuracy {other.accuracy:.1%}, hinge loss {other.loss:.6f}" in capsys.readouterr().out

    def test_eval_of_a_multiclass_model(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["train", "--dataset", "blobs", *QUICK, "--out", str(tmp_path)]
        assert nn_main(argv) == 0
        capsys.readouterr()
        assert nn_main(["eval", "--model", str(tmp_path / "model.json"), "--dataset", "blobs"]) == 0
        assert "cross_entropy loss" in capsys.readouterr().out
        assert nn_main(["eval", "--model", str(tmp_path / "model.json"), "--dataset", "moons"]) == 2
        assert "--classes must be 2 for moons" in error_line(capsys)

    def test_predict_one_point_and_several(self, default_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
        model_file = str(default_run / "model.json")
        model = MLP.from_file(model_file)
        assert nn_main(["predict", "--model", model_file, "0.5", "-0.2"]) == 0
        score = predict(model, [[0.5, -0.2]])[0]
        assert capsys.readouterr().out == f"0.5, -0.2: output {score:.6g} -> class {'+1' if score > 0 else '-1'}\n"
        assert nn_main(["predict", "--model", model_file, "0.5", "-0.2", "1.5", "0.3", "--", "-1e-3", "0"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split(":")[0] for line in lines] == ["0.5, -0.2", "1.5, 0.3", "-0.001, 0"]

    def test_predict_with_several_outputs_names_the_class(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        MLP(2, [3, 4], seed=0).save(tmp_path / "m.json")
        assert nn_main(["predict", "--model", str(tmp_path / "m.json"), "1", "2"]) == 0
        scores = predict(MLP.from_file(tmp_path / "m.json"), [[1.0, 2.0]])[0]
        assert capsys.readouterr().out.endswith(f"-> class {scores.index(max(scores))}\n")

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["predict", "--model", "{run}/model.json", "0.5"], "takes 2 coordinates per point: give 2"),
            (["predict", "--model", "{run}/model.json", "1", "2", "3"], "not 3"),
            (["predict", "--model", "{run}/model.json", "1", "nan"], "coordinates must be a finite number"),
            (["predict", "--model", "{run}/none.json", "1", "2"], "--model: cannot read"),
            (["predict", "--model", "{run}/metrics.json", "1", "2"], "--model: {run}/metrics.json is not a chainrule"),
            (["eval", "--model", "{run}/none.json"], "--model: cannot read"),
            (["eval", "--model", "{run}/metrics.json"], "is not a chainrule model file"),
            (["eval", "--model", "{run}/model.json", "--loss", "cross_entropy"], "one output per class"),
            (["eval", "--model", "{run}/model.json", "--classes", "3"], "--classes must be 2 for --loss hinge"),
            (["eval", "--model", "{run}/model.json", "--samples", "1"], "--samples must be at least 2, not 1"),
            (["predict", "1", "2"], "--model"),
        ],
    )
    def test_bad_uses_exit_2_with_one_line(
        self, argv: list[str], message: str, default_run: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert nn_main([part.format(run=default_run) for part in argv]) == 2
        assert message.format(run=default_run) in error_line(capsys)


class TestHelpAndErrors:
    @pytest.mark.parametrize("command", ["train", "eval", "predict"])
    def test_help_is_plain_text_with_every_default(self, command: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert nn_main([command, "--help"]) == 0
        text = capsys.readouterr().out
        assert "``" not in text
        assert "`" not in text
        options = text.split("options:")[1].split("examples:")[0]
        entries = re.split(r"\n  (?=-)", options.strip())
        for entry in entries:
            if not entry.startswith(("-h", "--model", "--config", "--no-progress")):
                assert "default" in " ".join(entry.split()), entry

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--samples", "1"], "--samples must be at least 2, not 1"),
            (["--samples", "many"], "--samples must be a whole number, not 'many'"),
            (["--noise", "-0.1"], "--noise must be a number >= 0"),
            (["--alpha", "nan"], "--alpha must be a finite number"),
            (["--classes", "1"], "--classes must be at least 2"),
            (["--dataset", "moons", "--classes", "3"], "--classes must be 2 for moons"),
            (["--dataset", "spirals", "--samples", "2"], "--samples must be at least --classes (3)"),
            (["--heldout-seed", "1337"], "--heldout-seed must differ from --seed (1337)"),
            (["--batch-size", "0"], "--batch-size must be at least 1, not 0"),
            (["--hidden", ""], "--hidden must be layer sizes"),
            (["--seed", "x"], "--seed must be a whole number"),
        ],
    )
    def test_messages_name_the_option(
        self, argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert nn_main(["train", *argv, "--out", str(tmp_path / "out"), "--no-progress"]) == 2
        assert message in error_line(capsys)
        assert not (tmp_path / "out").exists()
