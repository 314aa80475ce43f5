"""`Module`: the base of every model: its parameters, their gradients, and saving them.

A module lists its parameters (Values) by name. `state_dict` maps each name to
its float; `save` writes that, with the model's architecture and a format
version, to a JSON file atomically, and `load` reads one back and checks that
it fits. JSON stores Python floats by their shortest exact representation, so
every parameter comes back to the last bit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from autograd import Value
from autograd.files import write_atomically

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "Module", "write_json_atomically"]

FORMAT = "chainrule.nn"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be read, or whose contents do not fit the model."""


class Module:
    """A model, or a part of one, with named parameters.

    Subclasses implement `named_parameters` (and `config`, for saving the
    architecture). Everything else is built on them.
    """

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """Each parameter with a dotted name such as ``layers.0.neurons.3.w.1``."""
        return iter(())

    def parameters(self) -> list[Value]:
        """The parameters, in a fixed order."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict[str, Any]:
        """The arguments that rebuild this module's architecture (for `save`)."""
        return {}

    def state_dict(self) -> dict[str, float]:
        """Each parameter's value by name."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from `state`; the names must match exactly.

        Raises:
            ModelFileError: missing, unexpected or non-numeric entries.
        """
        if not isinstance(state, Mapping):
            raise ModelFileError(f"a state dict must be a mapping of names to numbers, not {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} (first: {missing[0]!r})")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} (first: {unexpected[0]!r})")
            raise ModelFileError(f"the parameters do not fit this {type(self).__name__}: {', '.join(parts)}")
        values = {}
        for name, number in state.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
                raise ModelFileError(f"parameter {name!r} must be a finite number, not {number!r}")
            values[name] = float(number)
        for name, p in named.items():
            p.data = values[name]

    def save(self, path: str | Path) -> Path:
        """Write the architecture and parameters to a JSON file, atomically.

        Example:
            >>> import tempfile
            >>> from nn import MLP
            >>> model = MLP(2, [3, 1], seed=0)
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     path = model.save(Path(folder) / "model.json")
            ...     copy = MLP.from_file(path)
            >>> copy.state_dict() == model.state_dict()
            True
        """
        state = self.state_dict()
        for name, number in state.items():
            if not math.isfinite(number):
                raise ValueError(f"cannot save parameter {name!r} = {number!r}: it is not finite")
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": type(self).__name__,
            "config": self.config(),
            "parameters": state,
        }
        path = Path(path)
        write_json_atomically(path, document)
        return path

    def load(self, path: str | Path) -> Module:
        """Read parameters saved by `save` into this model; returns the model.

        Raises:
            ModelFileError: the file is not a chainrule model, has another
                version, or its architecture or parameters do not fit.
        """
        document = read_model_file(path)
        if document["model"] != type(self).__name__ or document["config"] != self.config():
            raise ModelFileError(
                f"{path} holds a {document['model']} with {document['config']}, "
                f"not this {type(self).__name__} with {self.config()}"
            )
        self.load_state_dict(document["parameters"])
        return self


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The checked contents of a model file written by `Module.save`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ModelFileError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{path} is not a chainrule model file (it is not text)") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as error:
        raise ModelFileError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a chainrule model file")
    if document.get("version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {document.get('version')!r}; this chainrule reads version {FORMAT_VERSION}"
        )
    for key, kind in (("model", str), ("config", dict), ("parameters", dict)):
        if not isinstance(document.get(key), kind):
            raise ModelFileError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    return document


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def write_json_atomically(path: Path, document: Any) -> None:
    """Write `document` as JSON, atomically (see `autograd.files.write_atomically`)."""
    write_atomically(path, (json.dumps(document, indent=1, allow_nan=False) + "\n").encode())
