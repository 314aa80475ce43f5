"""Pictures of training: the loss curve, the decision boundary with the data, and one neuron's graph.

The plotting functions return `matplotlib.figure.Figure` objects built without
pyplot, so they work on a machine with no display and show inline in Jupyter;
save one with ``figure.savefig("loss.png")``. matplotlib is imported only when
a plot is made. `neuron_graph` draws one first-layer neuron of a trained model
on one training point, with the gradients of that point's loss, choosing a
neuron and a point whose gradients are not zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autograd import Value, no_grad
from nn.layers import MLP
from nn.module import evaluating
from nn.train import LOSSES, History, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from autograd.draw import Drawing

__all__ = ["NeuronGraph", "neuron_graph", "plot_decision_boundary", "plot_history"]


def plot_history(history: History, title: str = "training: per-step batch loss and accuracy") -> Figure:
    """Each step's batch loss (left axis, log scale) and batch accuracy (right axis).

    The numbers are the history's: each step's loss and accuracy on that step's
    batch (the whole set when training uses no mini-batches), before the step's
    update, the loss with the penalty training adds; and, when training had
    validation data, the validation loss after each step's update.
    """
    from matplotlib.figure import Figure

    if not history.records:
        raise ValueError("the history is empty: nothing to plot")
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    axes = figure.add_subplot()
    steps = [r.step for r in history.records]
    axes.plot(steps, history.losses, color="tab:blue", label="batch loss")
    validation = [(r.step, r.validation_loss) for r in history.records if r.validation_loss is not None]
    if validation:  # measured after each step's update, without the penalty
        axes.plot(*zip(*validation), color="tab:green", label="validation loss")
        axes.legend(loc="upper center")
    axes.set_xlabel("step")
    axes.set_ylabel("batch loss", color="tab:blue")
    if min(history.losses) > 0 and all(v > 0 for _, v in validation):
        axes.set_yscale("log")
    right = axes.twinx()
    right.plot(steps, history.accuracies, color="tab:orange", label="batch accuracy")
    right.set_ylabel("batch accuracy", color="tab:orange")
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


@dataclass(frozen=True)
class NeuronGraph:
    """The drawing `neuron_graph` made and what it shows.

    Attributes:
        drawing: the graph, titled with the caption; write it with `autograd.save_graph`.
        neuron: the neuron's index in the first layer (``layers.0.neurons.<neuron>`` in a model file).
        point: the training point's index in `X`.
        of_loss: True when the gradients are of the point's loss; False when no
            point's loss passes a gradient back to the first layer, so they are
            of the neuron's output.
        caption: the title, in words.
    """

    drawing: Drawing
    neuron: int
    point: int
    of_loss: bool
    caption: str


def neuron_graph(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], loss: str = "hinge") -> NeuronGraph:
    """Draw one first-layer neuron of `model`, built elementwise, on one training point, after backward.

    The point is the one with the largest loss, and the neuron the one whose
    bias gets the largest gradient from it, so that the gradients drawn are
    not zero (a ReLU that is off, or a point the model already gets right by a
    margin, passes back nothing). If no point passes back a gradient, the
    gradients drawn are of the neuron's own output, on the first point that
    switches a neuron on. The model is not changed: the drawing is made on a
    copy.

    Example:
        >>> from nn import MLP, datasets
        >>> X, y = datasets.moons(20, seed=0)
        >>> picture = neuron_graph(MLP(2, [4, 1], seed=0), X, y)
        >>> picture.caption.startswith(f"layer 0, neuron {picture.neuron}")
        True
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if model.norms:
        raise ValueError("neuron_graph draws MLPs without batch normalisation; this one has it")
    targets: list[Any] = [int(t) for t in y] if loss == "cross_entropy" else list(y)
    with no_grad(), evaluating(model):
        point_losses = [LOSSES[loss]([model(x)], [t]).data for x, t in zip(X, targets)]
    by_loss = sorted(range(len(X)), key=lambda i: -point_losses[i])
    copy = _copy(model)
    for of_loss, candidates in ((True, [i for i in by_loss if point_losses[i] > 0]), (False, range(len(X)))):
        for i in candidates:
            copy.zero_grad()
            hidden, score = _forward(copy, X[i])
            (LOSSES[loss]([score], [targets[i]]) if of_loss else sum(hidden, Value(0.0))).backward()
            gradients = [abs(n.b.grad) for n in copy.layers[0].neurons]
            if max(gradients) > 0:
                return _draw(model, X, targets, loss, i, gradients.index(max(gradients)), of_loss)
    return _draw(model, X, targets, loss, 0, 0, False)


def _copy(model: MLP) -> MLP:
    copy = MLP(**model.config(), seed=0)
    copy.load_state_dict(model.state_dict())
    copy.eval()  # as the model predicts: no dropout
    return copy


def _forward(model: MLP, x: Sequence[float], inputs: Sequence[Value] = (), drawn: int = -1) -> tuple[list[Value], Any]:
    """The first layer's outputs and the model's output; neuron `drawn` alone reads `inputs` instead of `x`.

    The other neurons read plain floats, so the inputs' gradients are those
    passed back through the drawn neuron: the ones its picture accounts for.
    """
    hidden = [n(inputs if k == drawn else x) for k, n in enumerate(model.layers[0].neurons)]
    h = hidden
    for layer in model.layers[1:]:
        h = layer(h)
    return hidden, h[0] if len(h) == 1 else h


def _draw(
    model: MLP, X: Sequence[Sequence[float]], targets: Sequence[Any], loss: str, i: int, j: int, of_loss: bool
) -> NeuronGraph:
    from autograd import draw_dot

    copy = _copy(model)
    neuron = copy.layers[0].neurons[j]
    neuron.fused = False  # one product and one addition per input: the graph a learner draws by hand
    for k, w in enumerate(neuron.w):
        w.label = f"w{k + 1}"
    neuron.b.label = "b"
    inputs = [Value(value, label=f"x{k + 1}") for k, value in enumerate(X[i])]
    hidden, score = _forward(copy, X[i], inputs, drawn=j)
    out = hidden[j]
    out.label = "out"
    point = ", ".join(f"{value:.4g}" for value in X[i])
    where = (
        f"layer 0, neuron {j} (layers.0.neurons.{j} in model.json), "
        f"on training point {i} (x = {point}; label {targets[i]:g})"
    )
    if of_loss:
        point_loss = LOSSES[loss]([score], [targets[i]])
        point_loss.backward()
        what = f"gradients of that point's {loss} loss, {point_loss.data:.4g}"
    else:
        out.backward()
        what = f"no gradient of the {loss} loss reaches the first layer from any training point: gradients of out"
        if neuron.b.grad == 0:
            what += " (zero too: no first-layer neuron is on for any training point)"
    caption = f"{where}\\n{what}"  # a line break in a Graphviz label
    drawing = draw_dot(out)
    drawing.attr(label=caption, labelloc="t", fontname="Helvetica")
    return NeuronGraph(drawing, j, i, of_loss, caption.replace("\\n", "; "))
