"""draw_dot and save_graph: what the picture contains, determinism, limits, and real rendering."""

from __future__ import annotations

import os
import re
from pathlib import Path

import graphviz
import pytest

import autograd
from autograd import Value, draw_dot, save_graph

SNAPSHOTS = Path(__file__).parent / "snapshots"


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    out = (x * w + b).tanh()
    out.label = "o"
    out.backward()
    return out


def fused_neuron() -> Value:
    w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    x: list[Value | float] = [Value(2.0, label="x0"), 3.0]
    out = autograd.dot(w, x, Value(0.1, label="b")).tanh() * 0.5
    out.label = "y"
    out.backward()
    return out


def records(source: str) -> list[str]:
    return re.findall(r'label="(\{[^"]*\})" [^\]]*shape=record', source)


class TestContents:
    def test_one_record_per_value_with_label_data_and_grad(self) -> None:
        source = draw_dot(neuron()).source
        labels = records(source)
        assert len(labels) == 6  # x, w, b, x*w, x*w + b, o
        assert "{ x | data 2.0000 | grad -1.5000 }" in labels
        assert "{ w | data -3.0000 | grad 1.0000 }" in labels
        assert "{ o | data 0.7071 | grad 1.0000 }" in labels

    def test_one_operation_node_between_a_value_and_its_parents(self) -> None:
        source = draw_dot(neuron()).source
        assert source.count("shape=circle") + source.count("shape=ellipse") == 3  # ×, +, tanh
        # data flows from operands into the operation and from the operation to its result
        op = re.search(r"(op\d+) \[label=tanh", source)
        assert op is not None
        assert re.search(rf"{op.group(1)} -> v0\b", source)

    def test_is_a_graphviz_digraph(self) -> None:
        assert isinstance(draw_dot(neuron()), graphviz.Digraph)

    def test_constants_look_different_from_leaves(self) -> None:
        x = Value(1.5, label="x")
        y = x * 2.5 + 1.0
        source = draw_dot(y).source
        constant_lines = [line for line in source.splitlines() if "style=dashed" in line and "shape=box" in line]
        assert {re.search(r"label=([\d.]+)", line).group(1) for line in constant_lines} == {"2.5", "1.0"}  # type: ignore[union-attr]
        leaf_line = next(line for line in source.splitlines() if "{ x |" in line)
        assert "filled" in leaf_line
        assert "dashed" not in leaf_line

    def test_precision(self) -> None:
        assert "data 0.70711 " in draw_dot(neuron(), precision=5).source
        with pytest.raises(ValueError, match="precision"):
            draw_dot(neuron(), precision=-1)

    def test_rankdir(self) -> None:
        assert "rankdir=TB" in draw_dot(neuron(), rankdir="TB").source
        with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB', not 'RL'"):
            draw_dot(neuron(), rankdir="RL")

    def test_max_nodes_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_nodes must be a positive int"):
            draw_dot(neuron(), max_nodes=0)

    def test_not_a_value(self) -> None:
        with pytest.raises(TypeError, match="float"):
            draw_dot(1.0)  # type: ignore[arg-type]

    def test_drawing_only_reads_the_graph(self) -> None:
        out = neuron()
        before = [(v.data, v.grad) for v in [out, *autograd.topological_order(out)]]
        draw_dot(out, number_nodes=True, color_by_grad=True, expand_fused=True, show_local_grads=True)
        assert [(v.data, v.grad) for v in [out, *autograd.topological_order(out)]] == before


class TestTeachingOptions:
    def test_numbers_follow_the_backward_order(self) -> None:
        out = neuron()
        source = draw_dot(out, number_nodes=True).source
        order = list(reversed(autograd.topological_order(out)))  # the order backward visits nodes
        for step, node in enumerate(order, start=1):
            expected = f"#{step} {node.label}".strip()
            assert f"{{ {expected} | data {node.data:.4f}" in source

    def test_colour_by_sign_and_size_of_gradient(self) -> None:
        x, y = Value(1.0, label="x"), Value(1.0, label="y")
        out = x * 3.0 - y * 0.001
        out.backward()
        lines = draw_dot(out, color_by_grad=True).source.splitlines()

        def fill(label: str) -> str:
            line = next(line for line in lines if f"{{ {label} |" in line)
            return re.search(r'fillcolor="(#[0-9a-f]{6})"', line).group(1)  # type: ignore[union-attr]

        red, blue = fill("y"), fill("x")
        assert red.startswith("#ff")  # negative: red
        assert not blue.startswith("#ff")
        assert blue.endswith("ff")
        assert int(red[3:5], 16) > int(fill("x")[1:3], 16)  # the small gradient is paler

    def test_fused_nodes_one_node_or_expanded(self) -> None:
        w = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
        b = Value(0.25, label="b")
        z = autograd.dot(w, [2.0, 3.0], b)
        z.backward()
        compact = draw_dot(z).source
        assert compact.count("w·x+b") == 1
        assert "cluster" not in compact
        expanded = draw_dot(z, expand_fused=True).source
        assert "w·x+b" not in expanded
        assert expanded.count('label="×"') == 2
        assert expanded.count('label="+"') == 2
        assert 'label="dot, expanded"' in expanded  # marked as an expansion
        # the partial results, dotted, are the fused node's intermediate values, each with the node's gradient
        partials = re.findall(r'label="\{ data ([-\d.]+) \| grad ([-\d.]+) \}"[^\]]*style="?dotted', expanded)
        assert partials == [("1.0000", "1.0000"), ("-3.0000", "1.0000"), ("1.2500", "1.0000")]  # w0*2, w1*3, b + w0*2
        assert f"data {z.data:.4f}" in expanded
        assert re.findall(r'c\d+ \[label="?([\d.]+)"?', expanded) == ["2.0", "3.0"]  # the constant inputs

    def test_expanded_partial_sums_are_the_running_sums(self) -> None:
        xs = [Value(float(i) / 3, label=f"x{i}") for i in range(5)]
        s = autograd.sum([*xs, 0.5])
        expanded = draw_dot(s, expand_fused=True, precision=6).source
        assert expanded.count('label="+"') == 5
        running, expected = xs[0].data, []
        for x in [*(x.data for x in xs[1:]), 0.5][:-1]:
            running += x
            expected.append(f"{running:.6f}")
        assert re.findall(r'\{ data ([-\d.]+) \| grad [-\d.]+ \}"[^\]]*dotted', expanded) == expected
        assert 'label="sum, expanded"' in expanded
        assert "Σ" in draw_dot(s).source

    def test_expanding_a_single_term(self) -> None:
        x = Value(2.0, label="x")
        z = autograd.dot([x], [3.0])  # 0.0 + x * 3.0
        expanded = draw_dot(z, expand_fused=True).source
        assert expanded.count('label="×"') == expanded.count('label="+"') == 1
        one = autograd.sum([x])
        assert re.search(r"v1 -> v0 \[style=dotted\]", draw_dot(one, expand_fused=True).source)

    def test_numbers_too_small_or_large_for_fixed_point(self) -> None:
        x = Value(3e-9, label="x")
        y = x * 2e7
        y.backward()
        source = draw_dot(y).source
        assert "{ x | data 3.0000e-09 | grad 2.0000e+07 }" in source
        assert "data 0.0600 | grad 1.0000" in source
        assert "{ x | data 3.00e-09 | grad 2.00e+07 }" in draw_dot(y, precision=2).source

    def test_local_derivatives_on_edges(self) -> None:
        x = Value(3.0, label="x")
        y = x * x
        source = draw_dot(y, show_local_grads=True).source
        assert source.count('label="∂ 3.0000"') == 2


class TestDeterminism:
    def test_same_graph_same_text(self) -> None:
        assert draw_dot(neuron()).source == draw_dot(neuron()).source

    @pytest.mark.parametrize(
        ("name", "options"),
        [
            ("neuron", {"number_nodes": True, "show_local_grads": True}),
            ("neuron_expanded", {"expand_fused": True, "color_by_grad": True, "rankdir": "TB"}),
        ],
    )
    def test_snapshot(self, name: str, options: dict[str, object]) -> None:
        """Review a changed snapshot by rendering it; write new ones with UPDATE_SNAPSHOTS=1."""
        out = fused_neuron() if "expand_fused" in options else neuron()
        source = draw_dot(out, **options).source  # type: ignore[arg-type]
        snapshot = SNAPSHOTS / f"{name}.dot"
        if os.environ.get("UPDATE_SNAPSHOTS"):
            snapshot.write_text(source, encoding="utf-8")
        assert source == snapshot.read_text(encoding="utf-8")


class TestLimits:
    def test_too_many_nodes_says_how_many_and_what_to_do(self) -> None:
        y = Value(1.0)
        for _ in range(30):
            y = y * 1.01
        with pytest.raises(ValueError, match=r"31 Values, more than max_nodes=20.*max_nodes=31"):
            draw_dot(y, max_nodes=20)
        assert draw_dot(y, max_nodes=31)

    def test_default_limit_applies(self) -> None:
        y = Value(1.0)
        for _ in range(autograd.draw.DEFAULT_MAX_NODES):
            y = y + 1.0
        with pytest.raises(ValueError, match="max_nodes"):
            draw_dot(y)

    def test_deep_graph_walk_does_not_recurse(self) -> None:
        y = Value(1.0)
        for _ in range(5000):
            y = y * 1.0001
        assert draw_dot(y, max_nodes=10_000).source.count("shape=record") == 5001


def test_save_graph_source_and_bad_input(tmp_path: Path) -> None:
    path = save_graph(neuron(), tmp_path / "g.gv")
    assert path.read_text(encoding="utf-8") == draw_dot(neuron()).source
    assert save_graph(neuron(), str(tmp_path / "g.DOT"), rankdir="TB").read_text().count("rankdir=TB") == 1
    with pytest.raises(ValueError, match="cannot tell the format"):
        save_graph(neuron(), tmp_path / "g.txt")
    with pytest.raises(TypeError, match=r"Value or a graphviz\.Digraph"):
        save_graph("x", tmp_path / "g.svg")
    with pytest.raises(TypeError, match=r"drawing options \(rankdir\) apply only when saving a Value"):
        save_graph(draw_dot(neuron()), tmp_path / "h.dot", rankdir="TB")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.DOT", "g.gv"]  # nothing else, no temporary file
