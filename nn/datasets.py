"""Toy datasets in pure Python: moons, circles, xor, spirals and blobs; and `echo`, a sequence task.

Each generator returns ``(X, y)``: a list of points (lists of floats) and a
list of labels. Two-class sets label the classes -1 and +1 (for the hinge
loss), or 0 and 1 with ``labels="01"``; sets with more classes use indices
0, 1, 2, ... Every generator takes a `seed` (an int or a `random.Random`)
and a `noise` level, the standard deviation of Gaussian noise added to each
coordinate.

`make` builds any of them by name with the labels a loss needs, and
`heldout` draws fresh points from the same generator with another seed: the
points a trained model never saw, to measure how well it generalises.

`echo` is for recurrent models (`nn.RNN`): sequences of numbers, and the same
sequences delayed, which a model can only reproduce by remembering.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

__all__ = [
    "DATASETS",
    "HELDOUT_SEED",
    "LABELS",
    "TWO_CLASS",
    "blobs",
    "circles",
    "echo",
    "heldout",
    "make",
    "moons",
    "spirals",
    "xor",
]

Dataset = tuple[list[list[float]], list[float]]
SequenceDataset = tuple[list[list[list[float]]], list[list[float]]]


def _rng(seed: int | random.Random | None) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or a random.Random, not {type(seed).__name__}")
    return random.Random(seed)


def _check(n: int, noise: float, least: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise ValueError(f"n must be an int >= {least}, not {n!r}")
    if not (isinstance(noise, (int, float)) and noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise must be a finite number >= 0, not {noise!r}")


def _binary(labels: str) -> tuple[float, float]:
    if labels == "pm1":
        return -1.0, 1.0
    if labels == "01":
        return 0.0, 1.0
    raise ValueError(f"labels must be 'pm1' (-1/+1) or '01', not {labels!r}")


def _shuffled(points: list[list[float]], targets: list[float], rng: random.Random) -> Dataset:
    order = list(range(len(points)))
    rng.shuffle(order)
    return [points[i] for i in order], [targets[i] for i in order]


def moons(n: int = 100, noise: float = 0.1, seed: int | random.Random | None = None, labels: str = "pm1") -> Dataset:
    """Two interleaving half circles.

    Example:
        >>> X, y = moons(100, seed=0)
        >>> len(X), sorted(set(y))
        (100, [-1.0, 1.0])
    """
    _check(n, noise)
    rng = _rng(seed)
    low, high = _binary(labels)
    outer, inner = n // 2, n - n // 2
    points, targets = [], []
    for i in range(outer):
        t = math.pi * i / max(outer - 1, 1)
        points.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        targets.append(low)
    for i in range(inner):
        t = math.pi * i / max(inner - 1, 1)
        points.append([1 - math.cos(t) + rng.gauss(0, noise), 0.5 - math.sin(t) + rng.gauss(0, noise)])
        targets.append(high)
    return _shuffled(points, targets, rng)


def circles(
    n: int = 100,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | random.Random | None = None,
    labels: str = "pm1",
) -> Dataset:
    """A small circle inside a large one; `factor` is the ratio of their radii."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1, not {factor!r}")
    rng = _rng(seed)
    low, high = _binary(labels)
    outer, inner = n // 2, n - n // 2
    points, targets = [], []
    for count, radius, label in ((outer, 1.0, low), (inner, factor, high)):
        for i in range(count):
            t = 2 * math.pi * i / count
            points.append([radius * math.cos(t) + rng.gauss(0, noise), radius * math.sin(t) + rng.gauss(0, noise)])
            targets.append(label)
    return _shuffled(points, targets, rng)


def xor(n: int = 100, noise: float = 0.1, seed: int | random.Random | None = None, labels: str = "pm1") -> Dataset:
    """Points in the four quadrants; the class is the sign of x * y."""
    _check(n, noise)
    rng = _rng(seed)
    low, high = _binary(labels)
    points, targets = [], []
    for i in range(n):
        sx, sy = (1 if i % 2 else -1), (1 if (i // 2) % 2 else -1)
        x, y = sx * rng.uniform(0.1, 1.0), sy * rng.uniform(0.1, 1.0)
        points.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        targets.append(high if sx * sy > 0 else low)
    return _shuffled(points, targets, rng)


def spirals(n: int = 100, classes: int = 2, noise: float = 0.1, seed: int | random.Random | None = None) -> Dataset:
    """Interleaved spiral arms, one per class; labels are class indices 0, 1, ..."""
    _check(n, noise, least=classes)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an int >= 2, not {classes!r}")
    rng = _rng(seed)
    points, targets = [], []
    for i in range(n):
        k = i % classes
        r = (i // classes + 1) / (n // classes + 1)
        t = 4.0 * r + 2 * math.pi * k / classes
        points.append([r * math.cos(t) + rng.gauss(0, noise * r), r * math.sin(t) + rng.gauss(0, noise * r)])
        targets.append(float(k))
    return _shuffled(points, targets, rng)


def blobs(n: int = 100, centers: int = 3, noise: float = 0.3, seed: int | random.Random | None = None) -> Dataset:
    """Gaussian clusters around `centers` points placed evenly on a circle; labels 0, 1, ..."""
    _check(n, noise, least=centers)
    if isinstance(centers, bool) or not isinstance(centers, int) or centers < 2:
        raise ValueError(f"centers must be an int >= 2, not {centers!r}")
    rng = _rng(seed)
    points, targets = [], []
    for i in range(n):
        k = i % centers
        angle = 2 * math.pi * k / centers
        points.append([2 * math.cos(angle) + rng.gauss(0, noise), 2 * math.sin(angle) + rng.gauss(0, noise)])
        targets.append(float(k))
    return _shuffled(points, targets, rng)


def echo(n: int = 32, length: int = 6, delay: int = 1, seed: int | random.Random | None = None) -> SequenceDataset:
    """Delayed echo: `n` sequences of `length` numbers uniform in [-1, 1], each target the input `delay` steps before.

    Returns ``(X, targets)``: ``X[i][t]`` is the input vector at step t of sequence i
    (one number, as ``[x]``, the shape `nn.RNN` reads), and ``targets[i][t]`` is
    ``X[i][t - delay][0]``, or 0.0 for the first `delay` steps, before the echo
    arrives. To produce it, a model must carry each input for `delay` steps in
    its hidden state: the simplest test of memory, and of gradients flowing
    back through time (with ``truncate`` at most `delay`, no gradient links an
    output to the input it echoes).

    Example:
        >>> X, targets = echo(2, length=4, delay=1, seed=0)
        >>> targets[0][1:] == [x for [x] in X[0][:-1]], targets[0][0]
        (True, 0.0)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, not {n!r}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be an int >= 1, not {length!r}")
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay < length:
        raise ValueError(f"delay must be an int from 0 to length - 1 ({length - 1}), not {delay!r}")
    rng = _rng(seed)
    X, targets = [], []
    for _ in range(n):
        xs = [rng.uniform(-1.0, 1.0) for _ in range(length)]
        X.append([[x] for x in xs])
        targets.append([xs[t - delay] if t >= delay else 0.0 for t in range(length)])
    return X, targets


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": moons,
    "circles": circles,
    "xor": xor,
    "spirals": spirals,
    "blobs": blobs,
}

TWO_CLASS = ("moons", "circles", "xor")
"""The generators that always make two classes; the others make `classes` of them."""

LABELS = ("pm1", "01", "index")
"""Label conventions for `make`: -1/+1, 0/1, or class indices 0, 1, 2, ..."""

HELDOUT_SEED = 1338
"""The default seed of held-out points: the training seed of ``python -m nn train`` (1337) plus one."""


def make(
    name: str,
    n: int,
    *,
    noise: float,
    seed: int | random.Random | None,
    classes: int = 2,
    labels: str = "pm1",
) -> Dataset:
    """The dataset `name` (a key of `DATASETS`) with `classes` classes and `labels` as a loss needs them.

    Args:
        name: "moons", "circles", "xor" (two classes), "spirals" or "blobs" (any number).
        n, noise, seed: as for the generator.
        classes: the number of classes; 2 for the two-class sets.
        labels: "pm1" (-1/+1, two classes), "01" (0/1, two classes) or "index" (0, 1, 2, ...).

    Example:
        >>> X, y = make("spirals", 40, noise=0.1, seed=0, classes=2, labels="pm1")
        >>> sorted(set(y))
        [-1.0, 1.0]
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {', '.join(LABELS)}, not {labels!r}")
    if name in TWO_CLASS and classes != 2:
        raise ValueError(f"{name} has 2 classes, not {classes!r}")
    if labels != "index" and classes != 2:
        raise ValueError(f"labels {labels!r} are for two classes, not {classes!r}")
    if name in TWO_CLASS:
        return DATASETS[name](n, noise=noise, seed=seed, labels="pm1" if labels == "pm1" else "01")
    X, y = DATASETS[name](n, classes, noise=noise, seed=seed)
    if labels == "pm1":
        y = [1.0 if label == 1 else -1.0 for label in y]
    return X, y


def heldout(
    name: str,
    n: int,
    *,
    seed: int = HELDOUT_SEED,
    training_seed: int | None = None,
    noise: float,
    classes: int = 2,
    labels: str = "pm1",
) -> Dataset:
    """Fresh points from the generator a training set came from: the same settings, another seed.

    A model's accuracy on them says how it does on points it never saw; early
    stopping would watch its loss on them.

    Raises:
        ValueError: `seed` is the training seed (the points would be the
            training points), or a setting `make` refuses.

    Example:
        >>> X, y = heldout("moons", 200, noise=0.1, training_seed=1337)
        >>> X == make("moons", 200, noise=0.1, seed=1337)[0]
        False
    """
    if training_seed is not None and seed == training_seed:
        raise ValueError(f"the held-out seed must differ from the training seed ({seed}): the points would be the same")
    return make(name, n, noise=noise, seed=seed, classes=classes, labels=labels)
