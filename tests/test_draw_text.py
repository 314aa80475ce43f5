"""Names and labels are drawn as plain text in every format and renderer; NUL and lone surrogates are refused."""

from __future__ import annotations

import shutil
import sysconfig
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd import Primitive, Value, draw_dot
from autograd import render as rendering

SVG = "{http://www.w3.org/2000/svg}"
TRICKY = [
    "op\\",  # a trailing backslash used to end the DOT string early
    "<b>op</b>",  # used to become an HTML label
    "<",
    "a\\nb",  # an escape sequence of DOT, to be drawn as written
    "\\N",
    '\\"',
    'say "hi"',
    "{a|b}",
    "node",  # a DOT keyword
    "é€😀",
    "\u202eabc",
    "del\x7f",
    "x\ty",
]


def programs() -> list[str]:
    found = [shutil.which("dot")]
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        path = Path(sysconfig.get_path("scripts")) / name
        if path.is_file():
            found.append(str(path))
    return [p for p in found if p]


@pytest.fixture(params=programs())
def program(request: pytest.FixtureRequest) -> Iterator[str]:
    rendering.use_renderer(request.param)
    yield request.param
    rendering.use_renderer(None)


def node_texts(svg: bytes) -> dict[str, str]:
    """Each node's drawn text (its <text> elements joined, whitespace normalised), by the node's DOT id."""
    texts = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            assert title is not None
            words = " ".join(t.text or "" for t in group.iter(f"{SVG}text"))
            texts[title.text or ""] = " ".join(words.split())
    return texts


def made_by(name: str) -> Value:
    op = Primitive(name, lambda x: x, lambda x, out: (1.0,), symbol=name)
    out: Value = op(Value(1.0, label=name))
    out.label = name
    return out


@pytest.mark.parametrize("name", TRICKY)
def test_a_name_is_drawn_as_written(program: str, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # graphviz warns of a DOT string it cannot quote
        drawing = draw_dot(made_by(name))
        svg = rendering.render(drawing.source, "svg")
        png = rendering.render(drawing.source, "png")
        if rendering.find_renderer().writes("pdf"):
            assert rendering.render(drawing.source, "pdf").startswith(b"%PDF")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    texts = node_texts(svg)
    expected = " ".join(name.split())
    operations = [text for node, text in texts.items() if node.startswith("op")]
    assert operations == [expected]
    values = [text for node, text in texts.items() if node.startswith("v")]
    assert all(text.startswith(expected + " data") for text in values), values


def test_control_characters_are_drawn_as_their_symbols(program: str) -> None:
    svg = rendering.render(draw_dot(made_by("a\x01b\x0c")).source, "svg")
    assert "a␁b␌" in node_texts(svg).values()


@pytest.mark.parametrize(("text", "problem"), [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate")])
class TestTextNoPictureHolds:
    def test_as_a_primitive_name(self, text: str, problem: str) -> None:
        with pytest.raises(ValueError, match=f"Primitive name .* contains a {problem}"):
            Primitive(text, lambda x: x, lambda x, out: (1.0,))

    def test_as_a_primitive_symbol(self, text: str, problem: str) -> None:
        with pytest.raises(ValueError, match=f"symbol .* contains a {problem}"):
            Primitive("ok", lambda x: x, lambda x, out: (1.0,), symbol=text)

    def test_as_a_value_label(self, text: str, problem: str) -> None:
        with pytest.raises(ValueError, match=f"Value label .* contains a {problem}"):
            Value(1.0, label=text)

    def test_as_a_value_label_set_later(self, text: str, problem: str) -> None:
        x = Value(1.0)
        x.label = text
        with pytest.raises(ValueError, match=f"Value label .* contains a {problem}"):
            draw_dot(x * 2)
