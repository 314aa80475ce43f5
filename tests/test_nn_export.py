"""``python -m nn export``, whatever is installed: what it refuses, and what it says when torch or onnx is missing.

Exports that need torch or onnx are tested in their groups (tests/test_torch_bridge.py, tests/test_onnx.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nn import MLP
from nn.cli import main as nn_main


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a refused command writes on stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("python -m nn: error: ")
    return err


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return MLP(2, [4, 1], activation="tanh", seed=0).save(tmp_path / "model.json")


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (None, "--model: cannot read {model}: No such file or directory"),
        (b'{"accuracy": 0.9}', "--model: {model} is not a chainrule model file"),
        (
            b"\x89PNG\r\n\x1a\n\x00\xa5",
            "--model: {model} is not UTF-8 (byte 0x89 at offset 0); model files are UTF-8 JSON",
        ),
        (b'{"format": "chainrule.nn", "version": 1, "model": "MLP", "config": {"nin": 0}, "parameters": {}}',
         "--model: {model}: the architecture is not valid"),
    ],
)  # fmt: skip
def test_a_model_file_that_is_not_ours_exits_2_and_writes_nothing(
    contents: bytes | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.json"
    if contents is not None:
        model.write_bytes(contents)
    assert nn_main(["export", "--model", str(model), "-o", str(tmp_path / "model.onnx")]) == 2
    assert message.format(model=model) in error_line(capsys)
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("name", ["model.txt", "model", "model.onnx.bak", "model.PT"])
def test_a_suffix_it_does_not_know_exits_2(
    name: str, model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nn_main(["export", "--model", str(model_file), "--output", str(tmp_path / name)]) == 2
    assert f"--output must end in .onnx or .pt, not '{name}'" in error_line(capsys)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(("suffix", "package"), [(".onnx", "onnx"), (".pt", "torch")])
def test_without_the_framework_it_exits_1_with_the_pip_command(
    suffix: str, package: str, model_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # an import now fails, as if it were not installed
    output = model_file.with_suffix(suffix)
    assert nn_main(["export", "--model", str(model_file), "-o", str(output)]) == 1
    assert f"needs {package}, which is not installed" in (line := error_line(capsys))
    assert f"pip install 'chainrule[{package}]'" in line
    assert sorted(p.name for p in model_file.parent.iterdir()) == ["model.json"]


def test_both_options_are_required(model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert nn_main(["export", "--model", str(model_file)]) == 2
    assert "the following arguments are required: -o/--output" in error_line(capsys)


def test_help_shows_how_to_rebuild_the_pytorch_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert nn_main(["export", "--help"]) == 0
    text = capsys.readouterr().out
    assert "`" not in text
    assert 'torch.load("model.pt", weights_only=True)' in text
    assert "pip install 'chainrule[onnx]'" in text
