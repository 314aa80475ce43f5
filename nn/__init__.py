"""chainrule's nn: neurons, layers and MLPs trained by gradient descent on autograd Values.

Example:
    >>> from nn import MLP, datasets, train
    >>> X, y = datasets.moons(100, seed=1337)
    >>> model = MLP(2, [16, 16, 1], seed=1337)
    >>> history = train(model, X, y, steps=3, progress=False)
    >>> len(history.losses)
    3
"""

from nn import datasets, losses, optim
from nn.layers import MLP, Layer, Neuron
from nn.module import ModelFileError, Module
from nn.optim import SGD, Adam, linear_decay
from nn.train import Evaluation, History, TrainingDivergedError, accuracy, evaluate, predict, train

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "Evaluation",
    "History",
    "Layer",
    "ModelFileError",
    "Module",
    "Neuron",
    "TrainingDivergedError",
    "accuracy",
    "datasets",
    "evaluate",
    "linear_decay",
    "losses",
    "optim",
    "predict",
    "train",
]
