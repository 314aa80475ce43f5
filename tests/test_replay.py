"""The training replay records what the run did, and the main job writes both pages, small."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nn import MLP, datasets, train
from nn.cli import main
from nn.replay import DIGITS, Recorder, network_page, training_page


def run_data(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', page, re.S)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_the_recorder_keeps_each_steps_parameters_and_gradients_before_the_update() -> None:
    X, y = datasets.moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    seen: list[tuple[list[float], list[float]]] = []
    recorder = Recorder(model, X, steps=5)

    def both(step: int, parameters: list) -> None:  # type: ignore[type-arg]
        seen.append(([p.data for p in parameters], [p.grad for p in parameters]))
        recorder(step, parameters)

    history = train(model, X, y, steps=5, progress=False, callback=both)
    assert [s["step"] for s in recorder.snapshots] == [0, 1, 2, 3, 4]
    for snapshot, (datas, grads) in zip(recorder.snapshots, seen):
        assert snapshot["data"] == [float(f"{d:.{DIGITS}g}") for d in datas]
        assert snapshot["grad"] == [float(f"{g:.{DIGITS}g}") for g in grads]
    assert seen[0][0] != seen[1][0]  # the update comes after the callback
    data = run_data(training_page(recorder, history, X, y, title="t"))
    assert data["loss"] == [float(f"{r.loss:.{DIGITS}g}") for r in history.records]
    assert len(data["boundaries"]) == 5  # type: ignore[arg-type]


def test_a_recorder_needs_two_dimensional_points_and_a_step_count() -> None:
    with pytest.raises(ValueError, match="2-dimensional"):
        Recorder(MLP(3, [1], seed=0), [[0.0, 1.0, 2.0]], steps=3)
    with pytest.raises(ValueError, match="2-dimensional"):
        Recorder(MLP(2, [1], seed=0), [], steps=3)
    for steps in (0, True, 2.5):
        with pytest.raises(ValueError, match="steps must be a positive int"):
            Recorder(MLP(2, [1], seed=0), [[0.0, 1.0]], steps=steps)  # type: ignore[arg-type]


def test_network_page_names_every_parameter_and_leaves_the_model_alone() -> None:
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    page = network_page(model, [0.5, -0.5], 1.0, loss="hinge", title="one point")
    assert model.state_dict() == before
    assert all(p.grad == 0.0 for p in model.parameters())
    for label in ("L0.n2.w1", "L0.n0.b", "L1.n0.w2", "x1", "hinge loss"):
        assert label in page.html


def test_the_main_job_writes_both_pages_under_2_mb(tmp_path: Path) -> None:
    assert main(["train", "--steps", "100", "--out", str(tmp_path), "--no-progress"]) == 0
    for name in ("explorer.html", "training.html"):
        size = (tmp_path / name).stat().st_size
        assert 10_000 < size < 2_000_000, (name, size)
    data = run_data((tmp_path / "training.html").read_text(encoding="utf-8"))
    assert len(data["loss"]) == 100  # type: ignore[arg-type]
