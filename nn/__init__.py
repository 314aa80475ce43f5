"""chainrule's nn: neurons, layers and MLPs trained by gradient descent on autograd Values.

Example:
    >>> from nn import MLP, datasets, train
    >>> X, y = datasets.moons(100, seed=1337)
    >>> model = MLP(2, [16, 16, 1], seed=1337)
    >>> history = train(model, X, y, steps=3, progress=False)
    >>> len(history.losses)
    3
"""

from __future__ import annotations


class AutogradClashError(ImportError):
    """The `autograd` package Python found is not chainrule's (another project's, or a half-uninstalled one)."""


def _require_chainrule_autograd() -> None:
    """Refuse another project's `autograd` at import, with the fix, instead of a confusing error later.

    chainrule's import package is named `autograd`, as HIPS autograd's is. pip
    lets one overwrite the other's files without a warning, so check that the
    package found is ours (it says so in ``__distribution__``).
    """
    try:
        import autograd
    except ImportError as error:
        found, problem = "nothing", f"'autograd' cannot be imported ({error})"
    else:
        if getattr(autograd, "__distribution__", None) == "chainrule":
            return
        init = getattr(autograd, "__file__", None)
        found = init or ", ".join(getattr(autograd, "__path__", [])) or repr(autograd)
        problem = (
            "another project's package named 'autograd' (HIPS autograd uses that name too)"
            if init
            else "a half-uninstalled 'autograd' package (its __init__.py is gone)"
        )
    raise AutogradClashError(
        f"chainrule's nn needs chainrule's autograd, but Python found {problem} at {found}. "
        "chainrule and HIPS autograd cannot share an environment: install chainrule in a separate "
        "virtual environment, or repair it with: pip install --force-reinstall --no-deps chainrule"
    )


_require_chainrule_autograd()

from nn import datasets, losses, optim  # noqa: E402 (after the check, which explains a clash)
from nn.clip import clip_grad_norm, clip_grad_value  # noqa: E402
from nn.layers import MLP, Dropout, Layer, Neuron  # noqa: E402
from nn.losses import l1_penalty  # noqa: E402
from nn.module import ModelFileError, Module  # noqa: E402
from nn.norm import BatchNorm  # noqa: E402
from nn.onnx_export import to_onnx  # noqa: E402 (onnx is imported only when it is called)
from nn.optim import SGD, Adagrad, Adam, RMSprop, linear_decay  # noqa: E402
from nn.rnn import RNN  # noqa: E402
from nn.torch_bridge import (  # noqa: E402 (torch is imported only when they are called)
    from_torch,
    rnn_from_torch,
    rnn_to_torch,
    save_torch,
    to_torch,
)
from nn.train import Evaluation, History, TrainingDivergedError, accuracy, evaluate, predict, train  # noqa: E402

__all__ = [
    "MLP",
    "RNN",
    "SGD",
    "Adagrad",
    "Adam",
    "AutogradClashError",
    "BatchNorm",
    "Dropout",
    "Evaluation",
    "History",
    "Layer",
    "ModelFileError",
    "Module",
    "Neuron",
    "RMSprop",
    "TrainingDivergedError",
    "accuracy",
    "clip_grad_norm",
    "clip_grad_value",
    "datasets",
    "evaluate",
    "from_torch",
    "l1_penalty",
    "linear_decay",
    "losses",
    "optim",
    "predict",
    "rnn_from_torch",
    "rnn_to_torch",
    "save_torch",
    "to_onnx",
    "to_torch",
    "train",
]
