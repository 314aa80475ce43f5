"""`Module`: the base of every model: its parameters, their gradients, and saving them.

A module lists its parameters (Values) by name. `state_dict` maps each name to
its float; `save` writes that, with the model's architecture and a format
version, to a JSON file atomically, and `load` reads one back and checks that
it fits. JSON stores Python floats by their shortest exact representation, so
every parameter comes back to the last bit.

Reading a model file trusts nothing in it. A model file is UTF-8 JSON (no
byte-order mark) of at most `MAX_FILE_BYTES`, read only from a regular file
(a FIFO, a device or a directory is refused before it is opened for reading,
and it is opened without blocking). Every flaw (bad encoding, bad JSON, a
duplicate key, a number too long, a value of the wrong type, a shape beyond
`MAX_LAYERS`, `MAX_LAYER_WIDTH` or `MAX_PARAMETERS`, or one that does not
match the parameters present) raises `ModelFileError` naming it; quoted parts
of the file are cut to `EXCERPT_CHARS` characters. The declared shape is
checked against the parameters in the file before any model is built.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from autograd import Value
from autograd.files import write_atomically

__all__ = [
    "EXCERPT_CHARS",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "MAX_LAYER_WIDTH",
    "MAX_NUMBER_CHARS",
    "MAX_PARAMETERS",
    "ModelFileError",
    "Module",
    "evaluating",
    "excerpt",
    "read_model_file",
    "write_json_atomically",
]

M = TypeVar("M", bound="Module")

FORMAT = "chainrule.nn"
FORMAT_VERSION = 1

# Limits on what a model file may declare: a file is checked against them before anything is built.
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest model file read: 64 MiB, room for a million parameters at about 60 bytes each."""
MAX_PARAMETERS = 1_000_000
"""Most parameters a model file may hold (a scalar engine trains far fewer)."""
MAX_LAYER_WIDTH = 10_000
"""Most inputs, and most neurons in one layer, that a model file may declare."""
MAX_LAYERS = 1_000
"""Most layers a model file may declare."""
MAX_NUMBER_CHARS = 40
"""Longest number in a model file, in characters (a float needs at most 24)."""
EXCERPT_CHARS = 60
"""Longest quotation of a file's contents in an error message."""


class ModelFileError(ValueError):
    """A model file that cannot be read, or whose contents do not fit the model."""


class Module:
    """A model, or a part of one, with named parameters.

    Subclasses implement `named_parameters` (and `config`, for saving the
    architecture). Everything else is built on them.

    A module is in training mode (``training`` is True) until `eval` is
    called, as in PyTorch; only layers such as `nn.Dropout` behave differently
    in the two modes.
    """

    training: bool = True
    """Training mode (the default) or evaluation mode: set by `train` and `eval`, for this module and its children."""

    def children(self) -> Iterator[Module]:
        """The modules this one holds directly: in its attributes, or in lists of them."""
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (item for item in value if isinstance(item, Module))

    def train(self, mode: bool = True) -> Module:
        """Put this module and all it holds in training mode (or evaluation mode, for False); returns it.

        Raises:
            TypeError: `mode` is not a bool.
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) takes True or False, not {mode!r}")
        stack: list[Module] = [self]
        while stack:  # a loop, not recursion: any depth of nesting
            module = stack.pop()
            module.training = mode
            stack.extend(module.children())
        return self

    def eval(self) -> Module:
        """Put this module and all it holds in evaluation mode (dropout off); returns it. Same as ``train(False)``."""
        return self.train(False)

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

    def named_buffers(self) -> Iterator[tuple[str, Value]]:
        """State that is saved but not trained, such as `nn.BatchNorm`'s running statistics (none by default)."""
        return iter(())

    def state_dict(self) -> dict[str, float]:
        """Each parameter's value by name, then each buffer's (as PyTorch's state dicts hold both)."""
        state = {name: p.data for name, p in self.named_parameters()}
        state.update((name, b.data) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter (and buffer) from `state`; the names must match exactly.

        Raises:
            ModelFileError: missing, unexpected or non-numeric entries.
        """
        if not isinstance(state, Mapping):
            raise ModelFileError(f"a state dict must be a mapping of names to numbers, not {type(state).__name__}")
        named = dict(self.named_parameters())
        named.update(self.named_buffers())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} (first: {missing[0]!r})")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} (first: {excerpt(unexpected[0])})")
            raise ModelFileError(f"the parameters do not fit this {type(self).__name__}: {', '.join(parts)}")
        values = {}
        for name, number in state.items():
            try:
                value = math.nan if isinstance(number, bool) else float(number)
            except (TypeError, ValueError, OverflowError):
                value = math.nan
            if not isinstance(number, (int, float)) or not math.isfinite(value):
                raise ModelFileError(f"parameter {excerpt(name)} must be a finite number, not {excerpt(number)}")
            values[name] = value
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
        same_config = _canonical(document["config"]) == _canonical(self.config())  # true is not 1 here
        if document["model"] != type(self).__name__ or not same_config:
            raise ModelFileError(
                f"{path} holds a {excerpt(document['model'])} with {excerpt(document['config'])}, "
                f"not this {type(self).__name__} with {self.config()}"
            )
        self.load_state_dict(document["parameters"])
        return self


@contextmanager
def evaluating(model: Any) -> Iterator[None]:
    """Run a block with `model` in evaluation mode, then put back each module's mode as it was.

    Measuring a model (accuracy, held-out loss, plots) uses evaluation mode,
    also in the middle of training. Anything that is not a `Module` is left alone.

    Example:
        >>> from nn import MLP
        >>> model = MLP(2, [3, 1], dropout=0.5, seed=0)
        >>> with evaluating(model):
        ...     model.training
        False
        >>> model.training
        True
    """
    if not isinstance(model, Module):
        yield
        return
    stack: list[Module] = [model]
    modes: list[tuple[Module, bool]] = []
    while stack:
        module = stack.pop()
        modes.append((module, module.training))
        stack.extend(module.children())
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


def read_model_file(path: str | Path) -> dict[str, Any]:
    """The checked contents of a model file written by `Module.save` (the checks: see the module docstring).

    Raises:
        ModelFileError: the file cannot be read, or is not a well-formed model file.
    """
    data = _read_regular_file(path)
    if data.startswith(codecs.BOM_UTF8):
        raise ModelFileError(f"{path} starts with a byte-order mark; model files are UTF-8 JSON without one")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ModelFileError(
            f"{path} is not UTF-8 (byte {data[error.start]:#04x} at offset {error.start}); model files are UTF-8 JSON"
        ) from None
    try:
        document = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except RecursionError:
        raise ModelFileError(f"{path} is not a model file: its JSON is nested too deeply") from None
    except ValueError as error:
        raise ModelFileError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a chainrule model file")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} has format version {excerpt(version)}; this chainrule reads version {FORMAT_VERSION}"
        )
    for key, kind in (("model", str), ("config", dict), ("parameters", dict)):
        if not isinstance(document.get(key), kind):
            raise ModelFileError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    unknown = sorted(set(document) - {"format", "version", "model", "config", "parameters"})
    if unknown:
        raise ModelFileError(f"{path}: unknown key {excerpt(unknown[0])}")
    return document


def _canonical(config: Any) -> str:
    """`config` as JSON with sorted keys: equal only when types are equal too (``==`` has True == 1 == 1.0)."""
    return json.dumps(config, sort_keys=True)


def excerpt(value: Any) -> str:
    """`value`'s repr, cut to `EXCERPT_CHARS` characters: how an error message quotes a file."""
    text = _short_repr(value)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 3] + "..."


def _short_repr(value: Any, depth: int = 0) -> str:
    # The repr of a huge string or container would be built whole before being cut: cut the pieces first.
    if isinstance(value, str):
        return repr(value[: EXCERPT_CHARS + 1])
    if isinstance(value, (dict, list)):
        if depth >= 2:
            return "{...}" if isinstance(value, dict) else "[...]"
        pairs = islice(value.items(), 4) if isinstance(value, dict) else ((None, item) for item in value[:4])
        shown = ", ".join(
            (f"{_short_repr(k, depth + 1)}: " if k is not None else "") + _short_repr(v, depth + 1) for k, v in pairs
        )
        more = ", ..." if len(value) > 4 else ""
        return f"{{{shown}{more}}}" if isinstance(value, dict) else f"[{shown}{more}]"
    return repr(value)


def _read_regular_file(path: str | Path) -> bytes:
    """The bytes of a regular file of at most `MAX_FILE_BYTES`, read without ever blocking on a FIFO or device."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"cannot read {path}: it is not a regular file (a directory, a FIFO or a device)")
        if info.st_size > MAX_FILE_BYTES:
            raise ModelFileError(f"{path} has {info.st_size} bytes; model files have at most {MAX_FILE_BYTES}")
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(handle, "rb") as file:
            if not stat.S_ISREG(os.fstat(handle).st_mode):  # replaced between the stat and the open
                raise ModelFileError(f"cannot read {path}: it is not a regular file")
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ModelFileError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(f"{path} has more than {MAX_FILE_BYTES} bytes; model files have at most that")
    return data


def _refuse_constant(name: str) -> float:
    raise ModelFileError(f"{name} is not a finite number")


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise ModelFileError(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS}): {excerpt(text)}")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise ModelFileError(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS}): {excerpt(text)}")
    return float(text)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ModelFileError(f"the key {excerpt(duplicate)} appears twice in one object")
    return document


def write_json_atomically(path: Path, document: Any) -> None:
    """Write `document` as JSON, atomically (see `autograd.files.write_atomically`)."""
    write_atomically(path, (json.dumps(document, indent=1, allow_nan=False) + "\n").encode())


def build_from_file(cls: type[M], path: str | Path, declared_parameters: Callable[[dict[str, Any]], int]) -> M:
    """A model of type `cls` from a model file, its architecture checked before anything is built.

    `declared_parameters(config)` gives the number of parameters the file's
    architecture implies (ValueError for an architecture that is not valid);
    it must equal the number of parameters the file holds.

    Raises:
        ModelFileError: the file is not a well-formed model file of this type.
    """
    document = read_model_file(path)
    if document["model"] != cls.__name__:
        raise ModelFileError(f"{path} holds a {excerpt(document['model'])}, not an {cls.__name__}")
    config = document["config"]
    try:
        count = declared_parameters(config)
    except ValueError as error:
        raise ModelFileError(f"{path}: the architecture is not valid: {error}") from None
    if count != len(document["parameters"]):
        raise ModelFileError(
            f"{path}: the architecture has {count} parameters, but the file holds {len(document['parameters'])}"
        )
    model = cls(**config, seed=0)  # type: ignore[call-arg]
    model.load_state_dict(document["parameters"])
    return model
