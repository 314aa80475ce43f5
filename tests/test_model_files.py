"""A model file is untrusted input: every flaw is a ModelFileError, and nothing is built before the checks."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

import nn.layers
import nn.module
from nn import MLP, ModelFileError
from nn.module import EXCERPT_CHARS, MAX_LAYER_WIDTH, MAX_LAYERS, MAX_PARAMETERS


def saved(tmp_path: Path) -> dict[str, Any]:
    MLP(2, [3, 1], seed=0).save(tmp_path / "good.json")
    document: dict[str, Any] = json.loads((tmp_path / "good.json").read_text())
    return document


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "m.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_a_declared_shape_that_the_parameters_do_not_fill_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = saved(tmp_path)
    document["config"]["nouts"] = [3000, 3000, 3000]  # 18 million parameters declared, 13 present

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a layer was built before the file's shape was checked")

    monkeypatch.setattr(nn.layers.Layer, "__init__", refuse)
    with pytest.raises(ModelFileError, match="parameters"):
        MLP.from_file(write(tmp_path, json.dumps(document)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"nouts": [MAX_LAYER_WIDTH + 1]}, "'nouts\\[0\\]' must be an int from 1 to"),
        ({"nin": MAX_LAYER_WIDTH + 1}, "'nin' must be an int from 1 to"),
        ({"nouts": [1] * (MAX_LAYERS + 1)}, "list of 1 to"),
        ({"nin": MAX_LAYER_WIDTH, "nouts": [MAX_LAYER_WIDTH] * 2}, f"at most {MAX_PARAMETERS}"),
        ({"nouts": []}, "list of 1 to"),
        ({"nin": True}, "'nin' must be an int"),
        ({"nin": 2.0}, "'nin' must be an int"),
        ({"fused": "yes"}, "'fused' must be true or false, not 'yes'"),
        ({"fused": 1}, "'fused' must be true or false"),
        ({"activation": "softmax"}, "'activation' must be one of"),
        ({"extra": 1}, "unknown key 'extra'"),
    ],
)
def test_the_architecture_is_checked(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    document = saved(tmp_path)
    document["config"].update(change)
    with pytest.raises(ModelFileError, match=message):
        MLP.from_file(write(tmp_path, json.dumps(document)))


def test_a_missing_config_key(tmp_path: Path) -> None:
    document = saved(tmp_path)
    del document["config"]["fused"]
    with pytest.raises(ModelFileError, match="missing key 'fused'"):
        MLP.from_file(write(tmp_path, json.dumps(document)))


def test_a_valid_file_still_loads(tmp_path: Path) -> None:
    document = saved(tmp_path)
    model = MLP.from_file(write(tmp_path, json.dumps(document)))
    assert model.state_dict() == document["parameters"]


def replace_first_parameter(tmp_path: Path, number: str) -> str:
    text = json.dumps(saved(tmp_path))
    name = "layers.0.neurons.0.b"
    head, tail = text.split(f'"{name}": ', 1)
    return f'{head}"{name}": {number}{tail[tail.index(",") :]}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b'{"format": "chainrule.nn", "model": "\xff\xfe"}', "not UTF-8 \\(byte 0xff at offset 37\\)"),
        ('\ufeff{"format": "chainrule.nn"}', "byte-order mark"),
        ('{"format": "chainrule.nn", "version": true}', "version True"),
        ('{"format": "chainrule.nn", "version": 1.0}', "version 1.0"),
        ('{"format": "chainrule.nn", "format": "chainrule.nn", "version": 1}', "the key 'format' appears twice"),
        ('{"format": "chainrule.nn", "version": 1, "model": "MLP", "config": {}, "parameters": {}, "x": 0}',
         "unknown key 'x'"),
    ],
)  # fmt: skip
def test_malformed_files(tmp_path: Path, content: str | bytes, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        MLP.from_file(write(tmp_path, content.encode("utf-8") if isinstance(content, str) else content))


def test_a_400_digit_integer(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="a number of 400 characters"):
        MLP.from_file(write(tmp_path, replace_first_parameter(tmp_path, "9" * 400)))


def test_a_huge_integer_given_through_the_api() -> None:
    model = MLP(2, [1], seed=0)
    with pytest.raises(ModelFileError, match="must be a finite number"):
        model.load_state_dict({**model.state_dict(), "layers.0.neurons.0.b": 10**400})


def test_a_duplicate_parameter(tmp_path: Path) -> None:
    text = replace_first_parameter(tmp_path, '0.5, "layers.0.neurons.0.b": 0.5')
    with pytest.raises(ModelFileError, match="appears twice"):
        MLP.from_file(write(tmp_path, text))


def test_quotations_are_cut_short(tmp_path: Path) -> None:
    huge = "x" * 10_000_000
    document = saved(tmp_path)
    for change in ({"model": huge}, {"version": huge}, {"parameters": {**document["parameters"], huge: 1.0}}):
        with pytest.raises(ModelFileError) as caught:
            MLP.from_file(write(tmp_path, json.dumps({**document, **change})))
        assert len(str(caught.value)) < 300 + len(str(tmp_path)), str(caught.value)[:500]
        assert "x" * (EXCERPT_CHARS + 1) not in str(caught.value)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            MLP.from_file(fifo)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock the reader so that the test run ends
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb") as writer:
            writer.write(b"{}")
        pytest.fail("reading a FIFO blocked")
    assert len(outcome) == 1
    assert isinstance(outcome[0], ModelFileError), outcome
    assert "not a regular file" in str(outcome[0])


@pytest.mark.parametrize("path", ["/dev/null", "."])
def test_a_device_or_a_directory_is_refused(path: str) -> None:
    with pytest.raises(ModelFileError, match="not a regular file"):
        MLP.from_file(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, json.dumps(saved(tmp_path)))
    monkeypatch.setattr(nn.module, "MAX_FILE_BYTES", 100)
    with pytest.raises(ModelFileError, match="bytes; model files have at most 100"):
        MLP.from_file(path)


@pytest.mark.parametrize(("key", "wrong"), [("fused", 1), ("nin", 2.0), ("fused", "yes")])
def test_load_compares_the_architecture_with_its_types(tmp_path: Path, key: str, wrong: object) -> None:
    document = saved(tmp_path)
    document["config"][key] = wrong
    with pytest.raises(ModelFileError, match="not this MLP"):
        MLP(2, [3, 1], seed=0).load(write(tmp_path, json.dumps(document)))
