"""`nn.to_onnx`: the model as an ONNX file, run by onnx's reference evaluator, and what it refuses.

An optional group: ``pip install -e '.[onnx]'`` and ``pytest -m onnx``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd.files import NotARegularFileError
from nn import MLP, datasets
from nn.bridge import FOREIGN_ACTIVATIONS, MissingExtraError
from nn.cli import main as nn_main
from nn.layers import ACTIVATIONS

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")  # onnx needs numpy, so it is there
from onnx.reference import ReferenceEvaluator  # noqa: E402 (after the skip)

pytestmark = pytest.mark.onnx

X, _ = datasets.moons(100, seed=1337)

NETWORKS = {
    "relu": {"activation": "relu"},
    "tanh": {"activation": "tanh"},
    "sigmoid": {"activation": "sigmoid"},
    "tanh, sigmoid outputs": {"activation": "tanh", "output_activation": "sigmoid"},
    "relu outputs": {"activation": "relu", "output_activation": "relu"},
}


def run(path: Path, points: list[list[float]]) -> Any:
    (out,) = ReferenceEvaluator(str(path)).run(None, {"input": np.array(points, dtype=np.float64)})
    return out


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("nouts", [[16, 16, 1], [8, 3]])
def test_the_file_computes_what_the_model_computes(name: str, nouts: list[int], tmp_path: Path) -> None:
    model = MLP(2, nouts, **NETWORKS[name], seed=3)
    path = nn.to_onnx(model, tmp_path / "model.onnx")
    out = run(path, X)
    assert out.shape == (100, nouts[-1])
    assert out.dtype == np.float64
    for x, row in zip(X, out.tolist()):
        ours = model(x)
        assert [o.data for o in (ours if isinstance(ours, list) else [ours])] == pytest.approx(row, rel=0, abs=1e-12)


def test_the_graph_one_gemm_and_one_activation_per_layer_in_double(tmp_path: Path) -> None:
    model = MLP(3, [4, 2], activation="tanh", seed=0)
    proto = onnx.load(nn.to_onnx(model, tmp_path / "model.onnx"))
    onnx.checker.check_model(proto, full_check=True)
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "Tanh", "Gemm"]
    (given,), (result,) = proto.graph.input, proto.graph.output
    assert given.name == "input"
    assert result.name == "output"
    for value, width in ((given, 3), (result, 2)):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
        batch, columns = value.type.tensor_type.shape.dim
        assert batch.dim_param == "N"  # any number of points
        assert columns.dim_value == width
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    neuron = model.layers[0].neurons[2]
    assert stored["layers.0.weight"][2].tolist() == [w.data for w in neuron.w]  # to the last bit
    assert stored["layers.0.bias"][2] == neuron.b.data
    assert run(tmp_path / "model.onnx", [[1.0, 2.0, 3.0]]).shape == (1, 2)


def test_every_activation_has_its_operator() -> None:
    assert FOREIGN_ACTIVATIONS.keys() == ACTIVATIONS.keys()
    for name, foreign in FOREIGN_ACTIVATIONS.items():
        if foreign.onnx is not None:
            assert onnx.defs.has(foreign.onnx), name


def test_a_model_onnx_cannot_be_given_is_refused_and_nothing_written(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[0].activation = "sigmoid"
    with pytest.raises(ValueError, match="layer 0 of the MLP mixes activations relu, sigmoid"):
        nn.to_onnx(model, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "a folder.onnx").mkdir()
    (tmp_path / "a file").write_text("not a folder")
    with pytest.raises(NotARegularFileError, match="is a directory, not a regular file"):
        nn.to_onnx(MLP(2, [1], seed=0), tmp_path / "a folder.onnx")
    with pytest.raises(NotADirectoryError):
        nn.to_onnx(MLP(2, [1], seed=0), tmp_path / "a file" / "model.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "a folder.onnx"]
    assert list((tmp_path / "a folder.onnx").iterdir()) == []


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_text("an older file")
    nn.to_onnx(MLP(2, [1], seed=0), path)
    assert onnx.load(path).producer_name == "chainrule"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_without_onnx_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # an import of onnx now fails, as if it were not installed
    with pytest.raises(MissingExtraError, match=r"nn.to_onnx needs onnx.*pip install 'chainrule\[onnx\]'"):
        nn.to_onnx(MLP(2, [1], seed=0), tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []


def test_import_nn_does_not_import_onnx() -> None:
    code = "import sys, nn; nn.MLP(2, [1]); assert 'onnx' not in sys.modules, 'onnx was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_the_command_line_exports_a_trained_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = MLP(2, [8, 8, 3], activation="sigmoid", seed=5)
    model.save(tmp_path / "model.json")
    assert nn_main(["export", "--model", str(tmp_path / "model.json"), "-o", str(tmp_path / "model.onnx")]) == 0
    said = capsys.readouterr().out
    assert "ONNX (opset 17) of MLP 2-8-8-3, float64, input 'input' [N, 2], output 'output' [N, 3]" in said
    for x, row in zip(X[:20], run(tmp_path / "model.onnx", X[:20]).tolist()):
        assert [o.data for o in model(x)] == pytest.approx(row, rel=0, abs=1e-12)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("a folder.onnx", "a folder.onnx is a directory, not a regular file"),
        ("a file/model.onnx", "a file is a file, not a folder"),
    ],
)
def test_the_command_line_exits_1_when_it_cannot_write(
    output: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    MLP(2, [1], seed=0).save(tmp_path / "model.json")
    (tmp_path / "a folder.onnx").mkdir()
    (tmp_path / "a file").write_text("not a folder")
    assert nn_main(["export", "--model", str(tmp_path / "model.json"), "-o", str(tmp_path / output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"python -m nn: error: cannot write {tmp_path / output}: ")
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "a folder.onnx", "model.json"]
    assert list((tmp_path / "a folder.onnx").iterdir()) == []


def test_batch_normalisation_and_dropout_export_as_the_model_evaluates(tmp_path: Path) -> None:
    X, y = datasets.moons(40, seed=0)
    model = MLP(2, [6, 6, 1], dropout=0.25, batchnorm=True, seed=3)
    nn.train(model, X, y, steps=5, progress=False)  # running statistics away from their start
    model.eval()
    path = nn.to_onnx(model, tmp_path / "model.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert [node.op_type for node in proto.graph.node] == ["Gemm", "BatchNormalization", "Relu"] * 2 + ["Gemm"]
    points = datasets.moons(25, seed=5)[0]
    (out,) = ReferenceEvaluator(proto).run(None, {"input": np.array(points, dtype=np.float64)})
    expected = [model(x).data for x in points]
    assert max(abs(a - b) for a, b in zip(out[:, 0].tolist(), expected)) < 1e-12
