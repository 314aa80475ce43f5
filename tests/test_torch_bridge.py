"""`nn.to_torch` and `nn.from_torch`: the same network in PyTorch, to the last bit, and what cannot be brought back.

An optional group: ``pip install -e '.[torch]'`` and ``pytest -m torch``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import nn
from nn import MLP, datasets, losses
from nn.bridge import FOREIGN_ACTIVATIONS, MissingExtraError
from nn.cli import main as nn_main
from nn.layers import ACTIVATIONS

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

X, Y = datasets.moons(100, seed=1337)

NETWORKS = {
    "relu": {"activation": "relu"},
    "tanh": {"activation": "tanh"},
    "sigmoid": {"activation": "sigmoid"},
    "tanh, tanh output": {"activation": "tanh", "output_activation": "tanh"},
    "sigmoid, sigmoid output": {"activation": "sigmoid", "output_activation": "sigmoid"},
}


def linears(module: Any) -> list[Any]:
    return [child for child in module if isinstance(child, torch.nn.Linear)]


def torch_gradients(module: Any) -> list[float]:
    """torch's parameter gradients in chainrule's order: each neuron's weights, then its bias."""
    flat: list[float] = []
    for linear in linears(module):
        for row, bias in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()):
            flat += [*row, bias]
    return flat


@pytest.mark.parametrize("name", NETWORKS)
def test_outputs_and_gradients_match_on_100_moons_points(name: str) -> None:
    model = MLP(2, [16, 16, 1], **NETWORKS[name], seed=1)
    module = to_torch_checked(model)
    ours = [model(x) for x in X]
    loss = losses.mean_squared_error(ours, Y)
    loss.backward()
    theirs = module(torch.tensor(X, dtype=torch.float64))[:, 0]
    their_loss = ((theirs - torch.tensor(Y, dtype=torch.float64)) ** 2).sum() * (1.0 / len(Y))
    their_loss.backward()
    # NOTE: torch's Linear sums each row in MKL's order, not left to right, and its tanh can differ from libm's
    # by an ulp: the last bits of a weighted sum may differ, by 1e-15 of its size, and that error carries on.
    # So values agree within 1e-15 of the largest weighted sum (measured: at most 1.3e-15, with sums up to 3.4).
    scale = max(1.0, largest_weighted_sum(module, X))
    assert [o.data for o in ours] == pytest.approx(theirs.tolist(), rel=0, abs=1e-15 * scale)
    assert [p.grad for p in model.parameters()] == pytest.approx(torch_gradients(module), rel=0, abs=1e-15 * scale)
    assert loss.data == pytest.approx(their_loss.item(), rel=0, abs=1e-15 * scale)


def largest_weighted_sum(module: Any, points: list[list[float]]) -> float:
    """The largest magnitude of any layer's weighted sums (before its activation) on `points`."""
    largest, values = 0.0, torch.tensor(points, dtype=torch.float64)
    with torch.no_grad():
        for child in module:
            values = child(values)
            if isinstance(child, torch.nn.Linear):
                largest = max(largest, values.abs().max().item())
    return largest


def to_torch_checked(model: MLP) -> Any:
    module = nn.to_torch(model)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    return module


@pytest.mark.parametrize("name", NETWORKS)
def test_the_round_trip_gives_the_same_parameters_and_architecture(name: str) -> None:
    model = MLP(2, [16, 16, 1], **NETWORKS[name], seed=2)
    back = nn.from_torch(nn.to_torch(model))
    assert back.state_dict() == model.state_dict()
    assert back.config() == model.config()


def test_the_layout_is_torchs_a_weight_row_per_neuron() -> None:
    model = MLP(3, [2, 4], activation="tanh", output_activation="sigmoid", seed=0)
    module = nn.to_torch(model)
    assert [type(child).__name__ for child in module] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    first = model.layers[0].neurons[1]
    assert module[0].weight[1].tolist() == [w.data for w in first.w]
    assert module[0].bias[1].item() == first.b.data
    assert [type(child).__name__ for child in nn.to_torch(MLP(2, [3, 1], seed=0))] == ["Linear", "ReLU", "Linear"]


def test_several_outputs_and_a_model_torch_trained() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 8, dtype=torch.float64), torch.nn.Tanh(), torch.nn.Linear(8, 3, dtype=torch.float64)
    )
    model = nn.from_torch(module)
    assert model.config()["nouts"] == [8, 3]
    theirs = module(torch.tensor(X[:10], dtype=torch.float64)).tolist()
    for x, row in zip(X[:10], theirs):
        assert [o.data for o in model(x)] == pytest.approx(row, rel=1e-15, abs=1e-15)
    back = nn.to_torch(model)
    for a, b in zip(back.state_dict().values(), module.state_dict().values()):
        assert torch.equal(a, b)


def test_the_copies_are_independent_and_torchs_random_numbers_untouched() -> None:
    model = MLP(2, [4, 1], seed=0)
    state = torch.get_rng_state()
    module = nn.to_torch(model)
    assert torch.equal(torch.get_rng_state(), state)
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert nn.from_torch(module).state_dict() != model.state_dict()


def test_float32_is_refused_unless_converted_and_then_exact() -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    with pytest.raises(TypeError, match=r"module 0 \(Linear.*torch.float32, not torch.float64; pass convert=True"):
        nn.from_torch(module)
    model = nn.from_torch(module, convert=True)
    assert [w.data for w in model.layers[0].neurons[2].w] == module[0].weight[2].tolist()
    assert model.layers[1].neurons[0].b.data == module[2].bias.item()


def linear(nin: int, nout: int, **options: Any) -> Any:
    return torch.nn.Linear(nin, nout, dtype=torch.float64, **options)


class Doubled(torch.nn.Sequential):
    def forward(self, x: Any) -> Any:
        return 2 * super().forward(x)


def integer_weights(module: Any) -> Any:
    module.weight = torch.nn.Parameter(torch.zeros(module.weight.shape, dtype=torch.int64), requires_grad=False)
    return module


def nan_biases(module: Any) -> None:
    if isinstance(module, torch.nn.Linear):
        module.bias.fill_(float("nan"))


REFUSED = {
    "not a Sequential": (lambda: linear(2, 1), TypeError, "expected a torch.nn.Sequential.*not Linear"),
    "a subclass of Sequential": (
        lambda: Doubled(linear(2, 1)),
        TypeError,
        "expected a torch.nn.Sequential.*not Doubled",
    ),
    "no bias": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.ReLU(), linear(3, 1, bias=False)),
        ValueError,
        r"module 2 \(Linear\(in_features=3, out_features=1, bias=False\)\) has no bias",
    ),
    "sizes that do not chain": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.ReLU(), linear(4, 1)),
        ValueError,
        r"module 2 .* takes 4 inputs, but the Linear before it gives 3",
    ),
    "an activation chainrule lacks": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.ELU(), linear(3, 1)),
        ValueError,
        r"module 1 \(ELU.*\) is an activation chainrule does not have; it has ReLU, Tanh, Sigmoid, LeakyReLU",
    ),
    "a leaky ReLU of another slope": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.LeakyReLU(0.2), linear(3, 1)),
        ValueError,
        r"module 1 \(LeakyReLU.*\) has slope 0.2; chainrule's leaky_relu layers use 0.01",
    ),
    "another kind of module": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.LayerNorm(3), linear(3, 1)),
        TypeError,
        r"module 1 \(LayerNorm.*\) is neither a Linear nor an activation",
    ),
    "a nested Sequential": (
        lambda: torch.nn.Sequential(torch.nn.Sequential(linear(2, 1))),
        TypeError,
        r"module 0 \(Sequential.*is neither a Linear nor an activation",
    ),
    "two activations on one layer": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh(), linear(3, 1)),
        ValueError,
        r"module 2 \(Tanh\(\)\) follows another activation \(relu\) after the same Linear",
    ),
    "hidden layers with different activations": (
        lambda: torch.nn.Sequential(linear(2, 3), torch.nn.ReLU(), linear(3, 3), torch.nn.Tanh(), linear(3, 1)),
        ValueError,
        r"the hidden layers have different activations \(relu, tanh\)",
    ),
    "an activation first": (
        lambda: torch.nn.Sequential(torch.nn.ReLU(), linear(2, 1)),
        ValueError,
        r"module 0 \(ReLU\(\)\) comes before any Linear",
    ),
    "no Linear": (lambda: torch.nn.Sequential(), ValueError, "the Sequential has no Linear module"),
    "integer weights": (
        lambda: torch.nn.Sequential(integer_weights(linear(2, 1))),
        TypeError,
        r"its weight is torch.int64, not torch.float64$",
    ),
    "weights that are not finite": (
        lambda: torch.nn.Sequential(linear(2, 1, bias=True).requires_grad_(False)).apply(nan_biases),
        ValueError,
        r"module 0 .*: its bias has values that are not finite",
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_what_an_mlp_cannot_compute_is_refused_naming_the_module(name: str) -> None:
    make, kind, message = REFUSED[name]
    with pytest.raises(kind, match=message):
        nn.from_torch(make(), convert=True)


def test_what_torch_cannot_be_given_is_refused() -> None:
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].activation = "tanh"
    with pytest.raises(ValueError, match="layer 0 of the MLP mixes activations relu, tanh"):
        nn.to_torch(model)
    with pytest.raises(TypeError, match="expected a chainrule MLP, not Layer"):
        nn.to_torch(model.layers[0])


def test_every_activation_has_its_torch_module() -> None:
    assert FOREIGN_ACTIVATIONS.keys() == ACTIVATIONS.keys()
    for name, foreign in FOREIGN_ACTIVATIONS.items():
        if foreign.torch is not None:
            module = torch.nn.Sequential(linear(2, 1), getattr(torch.nn, foreign.torch)())
            assert nn.from_torch(module).config()["output_activation"] == name


def test_import_nn_does_not_import_torch() -> None:
    code = "import sys, nn; nn.MLP(2, [1]); assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_without_torch_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # an import of torch now fails, as if it were not installed
    with pytest.raises(MissingExtraError, match=r"nn.to_torch needs torch.*pip install 'chainrule\[torch\]'"):
        nn.to_torch(MLP(2, [1], seed=0))


@pytest.mark.parametrize("layers", [{}, {"dropout": 0.3, "batchnorm": True}])
def test_a_saved_file_rebuilds_the_sequential_with_torch_alone(tmp_path: Path, layers: dict[str, Any]) -> None:
    model = MLP(2, [5, 3, 1], activation="tanh", seed=4, **layers)
    path = nn.save_torch(model, tmp_path / "model.pt")
    # the recipe of nn.torch_bridge's docstring
    saved = torch.load(path, weights_only=True)
    rebuilt = torch.nn.Sequential(*(
        getattr(torch.nn, kind)(*args, **({"dtype": torch.float64} if kind in ("Linear", "BatchNorm1d") else {}))
        for kind, *args in saved["architecture"]
    ))  # fmt: skip
    rebuilt.load_state_dict(saved["state_dict"])
    assert saved["format"] == "chainrule.torch"
    assert saved["version"] == 1
    assert repr(rebuilt) == repr(nn.to_torch(model))
    assert nn.from_torch(rebuilt).state_dict() == model.state_dict()
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_the_command_line_exports_for_pytorch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = MLP(2, [6, 2], activation="sigmoid", seed=6)
    model.save(tmp_path / "model.json")
    assert nn_main(["export", "--model", str(tmp_path / "model.json"), "-o", str(tmp_path / "model.pt")]) == 0
    assert "a PyTorch state dict and architecture of MLP 2-6-2, float64" in capsys.readouterr().out
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["architecture"] == [["Linear", 2, 6], ["Sigmoid"], ["Linear", 6, 2]]
    assert list(saved["state_dict"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert saved["state_dict"]["2.weight"][1].tolist() == [w.data for w in model.layers[1].neurons[1].w]


def test_the_command_line_exits_1_when_it_cannot_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    MLP(2, [1], seed=0).save(tmp_path / "model.json")
    (tmp_path / "model.pt").mkdir()
    assert nn_main(["export", "--model", str(tmp_path / "model.json"), "-o", str(tmp_path / "model.pt")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.pt"]
    assert list((tmp_path / "model.pt").iterdir()) == []


class TestDropoutAndBatchNorm:
    """Dropout and batch normalisation cross too: ``Dropout`` and ``BatchNorm1d`` modules, statistics and all."""

    def trained(self) -> MLP:
        X, y = datasets.moons(40, seed=0)
        model = MLP(2, [6, 6, 1], dropout=0.25, batchnorm=True, seed=3)
        nn.train(model, X, y, steps=5, progress=False)  # running statistics away from their start
        return model

    def test_in_evaluation_both_compute_the_same(self) -> None:
        model = self.trained()
        model.eval()
        module = nn.to_torch(model)
        assert not module.training
        X, _ = datasets.moons(30, seed=9)
        ours = [model(x).data for x in X]
        theirs = module(torch.tensor(X, dtype=torch.float64)).squeeze(1).tolist()
        assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-14
        kinds = [type(m).__name__ for m in module]
        assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]

    def test_in_training_batch_normalisation_computes_the_same(self) -> None:
        model = MLP(2, [6, 6, 1], batchnorm=True, seed=3)
        module = nn.to_torch(model)
        X, _ = datasets.moons(12, seed=2)
        ours = [o.data for o in model.forward_batch(X)]
        theirs = module(torch.tensor(X, dtype=torch.float64)).squeeze(1).tolist()
        assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-13

    def test_the_round_trip_is_exact(self) -> None:
        model = self.trained()
        back = nn.from_torch(nn.to_torch(model))
        assert back.state_dict() == model.state_dict()  # parameters and running statistics
        assert back.config() == model.config()

    def test_what_an_mlp_cannot_hold_is_refused(self) -> None:
        def linear(nin: int, nout: int) -> Any:
            return torch.nn.Linear(nin, nout, dtype=torch.float64)

        mixed = torch.nn.Sequential(linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.1), linear(3, 3),
                                    torch.nn.ReLU(), torch.nn.Dropout(0.2), linear(3, 1))  # fmt: skip
        with pytest.raises(ValueError, match="the same dropout after every hidden layer"):
            nn.from_torch(mixed)
        cumulative = torch.nn.Sequential(
            linear(2, 3), torch.nn.BatchNorm1d(3, momentum=None, dtype=torch.float64), linear(3, 1)
        )
        with pytest.raises(ValueError, match="cumulative average"):
            nn.from_torch(cumulative)
