"""A training run, replayed in a page: the loss curve, the decision boundary, the parameters and their gradients.

`Recorder` is a `nn.train` callback: at each step it keeps every parameter and
its gradient (to `DIGITS` significant digits, so that a page stays small) and,
every few steps, the model's scores on a grid over the data: the decision
boundary as it moves. `training_page` writes what it kept as one
self-contained HTML file (no network, no engine in the browser: the page only
shows recorded numbers) with a slider and a play button.

Example:
    >>> from nn import MLP, datasets, train
    >>> X, y = datasets.moons(30, seed=0)
    >>> model = MLP(2, [4, 1], seed=0)
    >>> recorder = Recorder(model, X, steps=6)
    >>> history = train(model, X, y, steps=6, progress=False, callback=recorder)
    >>> page = training_page(recorder, history, X, y, title="moons")
    >>> page.startswith("<!DOCTYPE html>"), len(recorder.snapshots)
    (True, 6)
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

from autograd import Value
from nn.layers import MLP
from nn.train import History, predict

__all__ = ["DIGITS", "GRID", "Recorder", "network_page", "training_page"]

DIGITS = 5
"""Significant digits kept of each parameter and gradient."""
GRID = 32
"""The decision boundary is sampled on a GRID x GRID grid over the data."""
BOUNDARIES = 20
"""About how many decision boundaries a run keeps (one every steps / BOUNDARIES steps)."""
STEPS_KEPT = 200
"""At most this many steps keep their parameters (evenly spaced); the loss curve keeps every step."""


class Recorder:
    """Records a run for `training_page`: pass it to `nn.train` as ``callback``.

    Args:
        model: the model being trained (2 inputs, for the boundary).
        X: the training points (the grid covers them, with a margin).
        steps: how many steps the run will take (to space what is kept).
    """

    def __init__(self, model: MLP, X: Sequence[Sequence[float]], steps: int) -> None:
        if not X or len(X[0]) != 2:
            raise ValueError("a training replay draws the decision boundary of 2-dimensional points")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int, not {steps!r}")
        self.model = model
        self.names = [name for name, _ in model.named_parameters()]
        xs, ys = [p[0] for p in X], [p[1] for p in X]
        pad_x, pad_y = 0.1 * (max(xs) - min(xs) or 1.0), 0.1 * (max(ys) - min(ys) or 1.0)
        self.extent = (min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y)
        self.every_boundary = max(1, steps // BOUNDARIES)
        self.every_step = max(1, -(-steps // STEPS_KEPT))
        self.snapshots: list[dict[str, Any]] = []
        self.boundaries: list[dict[str, Any]] = []

    def grid(self) -> list[list[float]]:
        x0, x1, y0, y1 = self.extent
        return [
            [x0 + (x1 - x0) * (i + 0.5) / GRID, y0 + (y1 - y0) * (j + 0.5) / GRID]
            for j in range(GRID)
            for i in range(GRID)
        ]

    def __call__(self, step: int, parameters: list[Value]) -> None:
        if step % self.every_step == 0:
            self.snapshots.append(
                {
                    "step": step,
                    "data": [_short(p.data) for p in parameters],
                    "grad": [_short(p.grad) for p in parameters],
                }
            )
        if step % self.every_boundary == 0:
            scores = predict(self.model, self.grid())
            flat = [s if isinstance(s, float) else _class_score(s) for s in scores]
            self.boundaries.append({"step": step, "scores": [_short(s) for s in flat]})


def _class_score(scores: list[float]) -> float:
    """For several classes, the winning class index (the page colours classes)."""
    return float(scores.index(max(scores)))


def _short(x: float) -> float | str:
    """`x` to `DIGITS` significant digits; inf and nan as text (JSON has neither)."""
    if x != x or x in (float("inf"), float("-inf")):
        return repr(x)
    return float(f"{x:.{DIGITS}g}")


def training_page(
    recorder: Recorder, history: History, X: Sequence[Sequence[float]], y: Sequence[float], *, title: str
) -> str:
    """The replay page of a recorded run, as one self-contained HTML document."""
    data = {
        "title": title,
        "names": recorder.names,
        "extent": recorder.extent,
        "grid": GRID,
        "points": [[_short(a), _short(b)] for a, b in X],
        "labels": list(y),
        "loss": [_short(r.loss) for r in history.records],
        "accuracy": [r.accuracy for r in history.records],
        "lr": [_short(r.lr) for r in history.records],
        "snapshots": recorder.snapshots,
        "boundaries": recorder.boundaries,
        "classes": max(2, len(set(y))),
    }
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    from autograd.explorer import fill, page

    folder = resources.files("nn").joinpath("page")
    asset = {name: folder.joinpath(f"training.{name}").read_text(encoding="utf-8") for name in ("css", "html", "js")}
    escaped = html.escape(title)
    body = fill(asset["html"], title=escaped, data=payload, js=asset["js"])
    return page(escaped, "chainrule training replay", asset["css"], body)


def network_page(model: MLP, x: Sequence[float], target: Any, *, loss: str, title: str) -> Any:
    """The explorer page (`autograd.explore`) of `model` and its `loss` on one point, parameters named.

    The graph is built on a copy of the model whose parameters are labelled
    with short forms of their names (``L0.n3.w1`` for ``layers.0.neurons.3.w.1``),
    so that the page names each one; the model itself is not changed.
    """
    from autograd import explore
    from nn.train import LOSSES

    copy = MLP(**model.config(), seed=0)
    copy.load_state_dict(model.state_dict())
    copy.eval()  # the trained network as it predicts: no dropout
    for name, parameter in copy.named_parameters():
        parameter.label = _short_name(name)
    inputs = [Value(v, label=f"x{k + 1}") for k, v in enumerate(x)]
    output = copy(inputs)
    score = LOSSES[loss]([output], [int(target) if loss == "cross_entropy" else target])
    score.label = f"{loss} loss"
    score.backward()
    return explore(score, title=title)


def _short_name(name: str) -> str:
    match = re.fullmatch(r"layers\.(\d+)\.neurons\.(\d+)\.(?:w\.(\d+)|b)", name)
    if match is None:
        return name
    layer, neuron, weight = match.groups()
    return f"L{layer}.n{neuron}." + (f"w{weight}" if weight is not None else "b")
