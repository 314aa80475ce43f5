"""The explorer page as a file: self-contained, tied to the drawing by ids, and safe with any label.

What the page does in a browser is tested in ``test_explorer_browser.py``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import autograd
from autograd import Primitive, Value, cli, explore, save_graph
from autograd.explorer import Explorer
from autograd.rules import PRIMITIVES


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    out = (x * w + b).tanh()
    out.label = "o"
    return out


def graph_data(page: Explorer) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page.html, re.S)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


class TestSelfContained:
    def test_loads_nothing_from_outside_the_file(self) -> None:
        html = explore(neuron()).html
        assert "Content-Security-Policy" in html
        assert "default-src 'none'" in html
        assert not re.search(r"""\b(src|href)\s*=""", html, re.I)  # no script, stylesheet, image or link to load
        assert "@import" not in html
        assert not re.search(r"url\((?!\s*['\"]?data:)", html)
        addresses = set(re.findall(r"https?://[^\s\"')]+", html))
        assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # XML namespaces

    def test_the_script_and_style_are_the_package_files_inlined(self) -> None:
        html = explore(neuron()).html
        folder = Path(autograd.__file__).parent / "page"
        assert (folder / "explorer.js").read_text(encoding="utf-8") in html
        assert (folder / "explorer.css").read_text(encoding="utf-8") in html

    def test_every_value_is_an_element_with_a_stable_id_and_its_data(self) -> None:
        root = neuron()
        page = explore(root)
        nodes = graph_data(page)["nodes"]
        values = autograd.topological_order(root, leaves=True)[::-1]
        assert isinstance(nodes, list)
        assert len(nodes) == len(values)
        for i, (value, node) in enumerate(zip(values, nodes)):
            assert f'<g id="v{i}" class="node">' in page.html
            assert node["data"] == repr(value.data)
            assert node.get("op") == (value.op or None)

    def test_operands_and_local_derivatives_are_the_recorded_ones(self) -> None:
        x = Value(1.5, label="x")
        root = (x * 2.0 + x).exp()
        nodes = graph_data(explore(root))["nodes"]
        assert isinstance(nodes, list)
        mul = next(node for node in nodes if node.get("op") == "mul")
        assert mul["operands"][1] == "2.0"  # a constant, as its repr
        assert mul["locals"] == ["2.0", None]  # a constant has no gradient: no local is sent


class TestSavingAndShowing:
    def test_save_writes_the_page(self, tmp_path: Path) -> None:
        page = explore(neuron())
        path = page.save(tmp_path / "page.html")
        assert path.read_text(encoding="utf-8") == page.html

    def test_save_graph_and_the_command_line_write_the_same_kind_of_page(self, tmp_path: Path) -> None:
        save_graph(neuron(), tmp_path / "a.html")
        assert (tmp_path / "a.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert cli.main(["tanh(x*w + b)", "x=2", "w=-3", "b=1", "-o", str(tmp_path / "b.html")]) == 0
        html = (tmp_path / "b.html").read_text(encoding="utf-8")
        assert "tanh(x * w + b)" in html  # the expression is the page's title

    def test_jupyter_shows_it_in_a_sandboxed_frame(self) -> None:
        frame = explore(neuron())._repr_html_()
        assert frame.startswith('<iframe sandbox="allow-scripts"')
        assert "allow-same-origin" not in frame
        assert "<script" not in frame  # the page is escaped into srcdoc

    def test_a_graph_past_the_limit_is_refused_with_the_count(self) -> None:
        xs = [Value(float(i)) for i in range(30)]
        with pytest.raises(ValueError, match=r"has 31 Values, more than max_nodes=10.*max_nodes=31"):
            explore(autograd.sum(xs), max_nodes=10)

    def test_bad_arguments(self) -> None:
        with pytest.raises(TypeError, match="needs a Value"):
            explore(1.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="granularity"):
            explore(neuron(), granularity="atoms")


class TestGranularity:
    def test_auto_chooses_by_size(self) -> None:
        assert graph_data(explore(neuron()))["granularity"] == "node"
        big = autograd.sum([Value(float(i)).tanh() for i in range(70)])
        assert graph_data(explore(big))["granularity"] == "neuron"

    def test_an_explicit_choice_is_kept(self) -> None:
        assert graph_data(explore(neuron(), granularity="layer"))["granularity"] == "layer"


class TestBadInput:
    @pytest.mark.parametrize("label", ["a\x00b", "lone \ud800 surrogate"])
    def test_text_no_page_can_hold_is_refused(self, label: str) -> None:
        x = Value(1.0)
        x.label = label
        with pytest.raises(ValueError, match=r"NUL|surrogate"):
            explore(x.exp())

    @pytest.mark.parametrize("title", ["a\x00b", "lone \ud800 surrogate"])
    def test_a_title_no_page_can_hold_is_refused(self, title: str) -> None:
        with pytest.raises(ValueError, match=r"the page's title .*(NUL|surrogate)"):
            explore(neuron(), title=title)

    def test_labels_cannot_close_the_data_script(self) -> None:
        x = Value(1.0, label='</script><script>alert("x")</script>')
        html = explore(x.exp()).html
        data_part = html.split('id="graph-data">', 1)[1].split("</script>", 1)[0]
        assert "<" not in data_part
        assert html.count("<script") == 3  # the data, the rules, the explorer: nothing more

    def test_nan_and_inf_are_sent_as_such(self) -> None:
        x = Value(math.inf, label="big")
        nodes = graph_data(explore(x * 2.0))["nodes"]
        assert isinstance(nodes, list)
        assert {node["data"] for node in nodes} == {"inf"}


class TestRules:
    def test_every_row_of_the_table_has_javascript_rules(self) -> None:
        assert all(p.js is not None for p in PRIMITIVES.values())

    def test_a_primitive_without_them_is_shown_but_not_editable(self) -> None:
        cube = Primitive("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
        data = graph_data(explore(cube(Value(2.0)) + 1.0))
        assert "cube, a primitive without JavaScript rules" in str(data["notEditable"])

    def test_a_rule_source_cannot_close_its_script(self) -> None:
        odd = Primitive("odd", lambda x: x, lambda x, out: (1.0,), js=('(x) => "</script>" && x', "(x, out) => [1]"))
        html = explore(odd(Value(1.0))).html
        assert '"<\\/script>"' in html
