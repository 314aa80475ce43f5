"""Pictures of training: the loss curve, and the decision boundary with the data.

The functions return `matplotlib.figure.Figure` objects built without pyplot,
so they work on a machine with no display and show inline in Jupyter; save
one with ``figure.savefig("loss.png")``. matplotlib is imported only when a
plot is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nn.layers import MLP
from nn.train import History, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_decision_boundary", "plot_history"]


def plot_history(history: History, title: str = "training") -> Figure:
    """Loss (left axis, log scale) and accuracy (right axis) at each step."""
    from matplotlib.figure import Figure

    if not history.records:
        raise ValueError("the history is empty: nothing to plot")
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axes = figure.add_subplot()
    steps = [r.step for r in history.records]
    axes.plot(steps, history.losses, color="tab:blue", label="loss")
    axes.set_xlabel("step")
    axes.set_ylabel("loss", color="tab:blue")
    if min(history.losses) > 0:
        axes.set_yscale("log")
    right = axes.twinx()
    right.plot(steps, history.accuracies, color="tab:orange", label="accuracy")
    right.set_ylabel("accuracy", color="tab:orange")
    right.set_ylim(0, 1.05)
    axes.set_title(title)
    return figure


def plot_decision_boundary(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    resolution: int = 80,
    title: str = "decision boundary",
) -> Figure:
    """The model's decision over the plane (evaluated on a grid, recording no graph) and the points."""
    from matplotlib.figure import Figure

    if not X or len(X[0]) != 2:
        raise ValueError("plot_decision_boundary needs two-dimensional points")
    if not 2 <= resolution <= 500:
        raise ValueError(f"resolution must be from 2 to 500, not {resolution!r}")
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    margin = 0.25
    left, right = min(xs) - margin, max(xs) + margin
    bottom, top = min(ys) - margin, max(ys) + margin
    grid_x = [left + (right - left) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [bottom + (top - bottom) * j / (resolution - 1) for j in range(resolution)]
    outputs = predict(model, [[gx, gy] for gy in grid_y for gx in grid_x])
    decision = [_decide(o) for o in outputs]
    rows = [decision[j * resolution : (j + 1) * resolution] for j in range(resolution)]
    figure = Figure(figsize=(5, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.contourf(grid_x, grid_y, rows, cmap="coolwarm", alpha=0.35)
    axes.scatter(xs, ys, c=list(y), cmap="coolwarm", edgecolors="black", s=30)
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)
    axes.set_title(title)
    return figure


def _decide(output: Any) -> float:
    if isinstance(output, list):
        return float(output.index(max(output)))
    return 1.0 if output > 0 else -1.0
