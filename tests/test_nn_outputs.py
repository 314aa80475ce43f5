"""The main job's outputs as a set: one run at a time, written together, untouched by Ctrl-C or a kill.

Also the limits on its options, and divergence that includes a loss that explodes.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn import MLP, SGD, TrainingDivergedError, datasets, train
from nn.cli import LOCK_NAME, STAGING_PREFIX, claimed, main, publish

ROOT = Path(__file__).resolve().parent.parent


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def start_training(out: Path, steps: int = 5000) -> subprocess.Popen[str]:
    """A run that is still training when the test acts: it has printed its model line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nn", "train", "--out", str(out), "--steps", str(steps), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("model:")
    time.sleep(0.5)
    return process


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--steps", "10", "--out", str(out), "--no-progress"]) == 0
    return out


def test_ctrl_c_prints_one_line_exits_130_and_leaves_the_folder_as_it_was(finished: Path) -> None:
    before = snapshot(finished)
    process = start_training(finished)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.strip().splitlines() == ["python -m nn: interrupted; no output was written"]
    assert snapshot(finished) == before
    assert not list(finished.glob(STAGING_PREFIX + "*"))


def test_a_kill_during_training_leaves_the_old_outputs_and_the_next_run_tidies_up(finished: Path) -> None:
    before = snapshot(finished)
    process = start_training(finished)
    process.kill()
    process.communicate(timeout=60)
    assert snapshot(finished) == before  # the old set, whole: nothing is written before the end
    assert list(finished.glob(STAGING_PREFIX + "*"))  # what the killed run left is recognisable
    assert main(["train", "--steps", "3", "--out", str(finished), "--no-progress"]) == 0
    assert not list(finished.glob(STAGING_PREFIX + "*"))


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path.joinpath(LOCK_NAME).touch()
    with tmp_path.joinpath(LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running train holds it
        assert main(["train", "--steps", "3", "--out", str(tmp_path), "--no-progress"]) == 1
    assert "is in use by another run" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]


def test_an_unwritable_folder_fails_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    started = time.perf_counter()
    assert main(["train", "--steps", "100000", "--out", str(blocker / "out"), "--no-progress"]) == 1
    assert time.perf_counter() - started < 10  # 100,000 steps were not trained first
    assert f"cannot write to {blocker / 'out'}" in capsys.readouterr().err


def test_a_folder_the_run_made_goes_again_when_the_run_fails(tmp_path: Path) -> None:
    out = tmp_path / "new"

    def interrupted_run() -> None:
        with claimed(out) as staging:
            (staging / "metrics.json").write_text("{}")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert not out.exists()


def test_publish_moves_the_whole_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with claimed(out) as staging:
        for name in ("a.json", "b.png"):
            (staging / name).write_text(name)
        assert publish(staging, out) == ["a.json", "b.png"]
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "a.json", "b.png"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--steps", str(10**30)], "--steps must be at most 100,000"),
        (["--samples", "100000"], "--samples must be at most 10,000"),
        (["--hidden", "3000"], "--hidden must be at most 16 layers of at most 1024 units"),
        (["--hidden", ",".join(["4"] * 17)], "--hidden must be at most 16 layers"),
        (["--heldout-samples", "1000000"], "--heldout-samples must be at most 100,000"),
        (["--alpha", "-10"], "--alpha must be a number >= 0"),
        (["--alpha", "nan"], "--alpha must be a finite number"),
    ],
)
def test_options_past_their_limits_are_bad_options(
    option: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", *option, "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_exploding_loss_is_divergence_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--lr", "100", "--steps", "50", "--out", str(tmp_path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "training diverged at step" in err
    assert "try a smaller learning rate" in err


def test_train_raises_when_the_loss_grows_a_millionfold() -> None:
    X, y = datasets.moons(50, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    with pytest.raises(TrainingDivergedError, match=r"grew to .* over 1e\+06 times its start") as caught:
        train(model, X, y, optimizer=SGD(model.parameters(), lr=100.0), steps=50, progress=False)
    first = caught.value.history.losses[0]
    assert all(loss <= 1e6 * max(first, 1.0) for loss in caught.value.history.losses)


def test_the_lock_file_is_the_only_trace_a_refused_run_leaves(tmp_path: Path) -> None:
    assert os.listdir(tmp_path) == []
    assert main(["train", "--steps", "abc", "--out", str(tmp_path)]) == 2
    assert os.listdir(tmp_path) == []  # options are checked before the folder is touched
