"""Training on PyTorch (`--backend torch`) repeats the scalar engine's run, to 1e-9 and better."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nn import MLP, SGD, Adam, datasets, train
from nn.cli import main

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from nn.torch_train import train_torch  # noqa: E402 (needs torch)

ROOT = Path(__file__).resolve().parent.parent


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize(
    ("dataset", "loss", "optimizer", "batch_size", "activation"),
    [
        ("moons", "hinge", "sgd", None, "relu"),
        ("moons", "mse", "momentum", 10, "tanh"),
        ("circles", "bce", "adam", 25, "sigmoid"),
        ("spirals", "cross_entropy", "adam", None, "relu"),
    ],
)
def test_a_run_on_pytorch_ends_where_the_scalar_run_ends(
    dataset: str, loss: str, optimizer: str, batch_size: int | None, activation: str
) -> None:
    classes = 3 if loss == "cross_entropy" else 2
    labels = "index" if loss == "cross_entropy" else ("01" if loss in ("bce", "mse") else "pm1")
    X, y = datasets.make(dataset, 60, seed=3, noise=0.1, classes=classes, labels=labels)
    outputs = classes if loss == "cross_entropy" else 1
    models = [MLP(2, [8, 8, outputs], activation=activation, seed=7) for _ in range(2)]

    def make(model: MLP) -> SGD | Adam:
        if optimizer == "adam":
            return Adam(model.parameters(), lr=0.02)
        return SGD(model.parameters(), lr=0.1, momentum=0.9 if optimizer == "momentum" else 0.0)

    scalar = train(models[0], X, y, loss=loss, optimizer=make(models[0]), steps=60, batch_size=batch_size, seed=1,
                   progress=False)  # fmt: skip
    tensors = train_torch(models[1], X, y, loss=loss, optimizer=make(models[1]), steps=60, batch_size=batch_size,
                          seed=1)  # fmt: skip
    assert relative(scalar.losses[-1], tensors.losses[-1]) < 1e-9
    assert [r.accuracy for r in scalar.records] == [r.accuracy for r in tensors.records]
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert abs(p.data - q.data) < 1e-9 * max(1.0, abs(p.data))


def test_the_callback_sees_the_models_own_parameters_at_each_step() -> None:
    X, y = datasets.moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    seen = []

    def record(step: int, parameters: list) -> None:  # type: ignore[type-arg]
        assert parameters == model.parameters()
        seen.append((step, [p.data for p in parameters], [p.grad for p in parameters]))

    twin = MLP(2, [4, 1], seed=0)
    expected = []
    train(twin, X, y, steps=3, progress=False, callback=lambda s, ps: expected.append((s, [p.data for p in ps])))
    train_torch(model, X, y, steps=3, callback=record)
    assert [s for s, _, _ in seen] == [0, 1, 2]
    for (_, datas, grads), (_, twin_datas) in zip(seen, expected):
        assert all(abs(a - b) < 1e-12 * max(1.0, abs(a)) for a, b in zip(datas, twin_datas))
        assert any(g != 0.0 for g in grads)


def test_the_main_job_on_pytorch_writes_the_same_outputs(tmp_path: Path) -> None:
    for backend in ("scalar", "torch"):
        assert main(["train", "--backend", backend, "--out", str(tmp_path / backend), "--no-progress"]) == 0
    names = [sorted(p.name for p in (tmp_path / b).iterdir()) for b in ("scalar", "torch")]
    assert names[0] == names[1]
    scalar, tensors = (json.loads((tmp_path / b / "metrics.json").read_text()) for b in ("scalar", "torch"))
    assert relative(scalar["loss"], tensors["loss"]) < 1e-9
    assert relative(scalar["last_batch_loss"], tensors["last_batch_loss"]) < 1e-9
    assert tensors["settings"]["backend"] == "torch"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here")
def test_cuda_without_a_gpu_is_a_bad_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--backend", "torch", "--device", "cuda", "--out", str(tmp_path / "o")]) == 2
    assert "no CUDA device is available here" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_without_torch_the_backend_says_how_to_install_it(tmp_path: Path) -> None:
    code = f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, Block())
        from nn.cli import main
        sys.exit(main(["train", "--backend", "torch", "--out", {str(tmp_path / "o")!r}, "--no-progress"]))
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert "chainrule[torch]" in done.stderr


def test_bad_arguments_are_named() -> None:
    X, y = datasets.moons(10, seed=0)
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"device must be 'cpu' or 'cuda', not 'tpu'"):
        train_torch(model, X, y, steps=1, device="tpu")
    from nn import Adagrad

    with pytest.raises(TypeError, match=r"takes nn\.SGD or nn\.Adam, not Adagrad"):
        train_torch(model, X, y, steps=1, optimizer=Adagrad(model.parameters()))
    with pytest.raises(ValueError, match="10 examples but 9"):
        train_torch(model, X, y[:9], steps=1)
