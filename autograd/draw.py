"""Drawing computation graphs: every Value with its data and gradient.

`draw_dot` reads a graph through the engine's public surface (``op``,
``operands``, ``parents``, ``local_grads``, ``data``, ``grad``, ``label``) and
returns a `graphviz.Digraph`. It never changes the graph. The picture has one
record per Value (label, data, grad), one small node per operation between a
value and its operands, and edges in the direction data flows. Constants are
grey dashed boxes; leaves you created (inputs and parameters) are shaded; the
output has a bold border.

The DOT text is deterministic: ids come from a fixed walk of the graph, so
the same graph gives the same text on every run and can be snapshot-tested.

Example:
    >>> from autograd import Value, draw_dot
    >>> x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    >>> y = (x * w).tanh()
    >>> y.backward()
    >>> dot = draw_dot(y)
    >>> print(dot.source.count("shape=record"))
    4
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from autograd.engine import Value, topological_order
from autograd.files import write_atomically
from autograd.render import Renderer, find_renderer

__all__ = ["DEFAULT_MAX_NODES", "Drawing", "draw_dot", "save_graph"]

DEFAULT_MAX_NODES = 2000
FUSED_OPS = frozenset({"sum", "dot"})
OP_SYMBOLS = {"+": "+", "*": "×", "/": "÷", "**": "^", "neg": "−x", "sum": "Σ", "dot": "w·x+b"}

FILE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` that renders with chainrule's renderer (see `autograd.render`).

    It displays inline in Jupyter and `pipe()` works with Graphviz's ``dot``
    when it is installed, and with the ``graphviz-pure`` program otherwise.
    """

    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """Render the graph and return the bytes (or text, given an `encoding`)."""
        if renderer or formatter or neato_no_op or (engine and engine != "dot"):
            return super().pipe(  # type: ignore[no-any-return]
                format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding
            )
        data = find_renderer().render(self.source, format or self.format)
        return data.decode(encoding) if encoding else data


@dataclass(frozen=True)
class _Style:
    precision: int
    number_nodes: bool
    color_by_grad: bool
    expand_fused: bool
    show_local_grads: bool
    rankdir: str


def draw_dot(
    root: Value,
    *,
    format: str = "svg",
    rankdir: str = "LR",
    max_nodes: int = DEFAULT_MAX_NODES,
    precision: int = 4,
    number_nodes: bool = False,
    color_by_grad: bool = False,
    expand_fused: bool = False,
    show_local_grads: bool = False,
) -> Drawing:
    """Draw the graph that produced `root`, with each node's data and gradient.

    Args:
        root: the output Value; everything it depends on is drawn.
        format: the picture format when the Digraph is rendered ("svg", "png", ...).
        rankdir: "LR" (left to right) or "TB" (top to bottom).
        max_nodes: refuse graphs with more Values than this (Graphviz would
            take very long to lay them out).
        precision: digits after the decimal point for data and gradients.
        number_nodes: prefix each computed node with its step number in the
            order backward() visits it (1 is the output).
        color_by_grad: fill each Value by the sign (blue positive, red
            negative) and size (darker is larger, on a log scale) of its gradient.
        expand_fused: draw a fused node (``sum``, ``dot``) as the elementwise
            additions and products it stands for; the partial results it
            introduces are dotted, since the engine never made them.
        show_local_grads: label each edge into an operation with the local
            derivative the node recorded for that operand.

    Returns:
        A `Drawing` (a `graphviz.Digraph`): display it in Jupyter, read its
        ``.source``, or write it with `save_graph`.

    Raises:
        TypeError: `root` is not a Value.
        ValueError: an unknown `rankdir`, or more than `max_nodes` Values.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, not {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', not {rankdir!r}")
    if not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"precision must be an int from 0 to 17, not {precision!r}")
    values = _values_in_order(root)
    if len(values) > max_nodes:
        raise ValueError(
            f"the graph has {len(values)} Values, more than max_nodes={max_nodes}; "
            f"draw a smaller part of it, or pass max_nodes={len(values)} to draw it anyway "
            "(Graphviz may take a long time)"
        )
    style = _Style(precision, number_nodes, color_by_grad, expand_fused, show_local_grads, rankdir)
    drawing = Drawing(format=format, graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    drawing.attr("edge", fontname="Helvetica", fontsize="10")
    _Painter(drawing, values, root, style).paint()
    return drawing


def save_graph(root: Value | graphviz.Digraph, path: str | Path, **options: Any) -> Path:
    """Write a graph picture to `path`, its format taken from the suffix.

    ``.svg`` and ``.png`` work with either renderer, ``.pdf`` needs Graphviz
    itself, and ``.dot`` or ``.gv`` write the DOT source. `root` is a Value
    (drawn with `draw_dot` and `options`) or an existing Digraph. The file is
    written atomically.

    Example:
        >>> import tempfile
        >>> from autograd import Value
        >>> y = Value(3.0, label="x").exp()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_graph(y, Path(folder) / "graph.dot")
        ...     path.read_text().startswith("digraph")
        True
    """
    path = Path(path)
    file_format = FILE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"cannot tell the format of {str(path)!r}: use one of {', '.join(FILE_FORMATS)}")
    drawing = draw_dot(root, **options) if isinstance(root, Value) else root
    if not isinstance(drawing, graphviz.Digraph):
        raise TypeError(f"save_graph needs a Value or a graphviz.Digraph, not {type(root).__name__}")
    if file_format == "dot":
        data = drawing.source.encode()
    else:
        renderer: Renderer = find_renderer()
        data = renderer.render(drawing.source, file_format)
    write_atomically(path, data)
    return path


def _values_in_order(root: Value) -> list[Value]:
    """Every Value `root` depends on, root first, then depth-first in operand order."""
    seen = {root}
    order = [root]
    stack: list[Iterator[Value]] = [iter(root.parents)]
    while stack:
        for parent in stack[-1]:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
                stack.append(iter(parent.parents))
                break
        else:
            stack.pop()
    return order


class _Painter:
    """Adds nodes and edges for one graph to a Digraph; holds the id assignments."""

    def __init__(self, drawing: graphviz.Digraph, values: list[Value], root: Value, style: _Style) -> None:
        self.drawing = drawing
        self.values = values
        self.root = root
        self.style = style
        self.ids = {value: f"v{i}" for i, value in enumerate(values)}
        self.counter = 0
        backward_order = list(reversed(topological_order(root)))
        self.step = {node: i + 1 for i, node in enumerate(backward_order)}
        grads = [abs(v.grad) for v in values if v.grad and math.isfinite(v.grad)]
        self.largest_grad = max(grads, default=0.0)

    def fresh_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def number(self, x: float) -> str:
        return f"{x:.{self.style.precision}f}" if math.isfinite(x) else repr(x)

    def paint(self) -> None:
        for value in self.values:
            self.value_node(self.ids[value], value.label, value.data, value.grad, value, derived=False)
        for value in self.values:
            if not value.is_leaf:
                if value.op in FUSED_OPS and self.style.expand_fused:
                    self.expanded(value)
                else:
                    self.operation(value)

    def value_node(
        self, node_id: str, label: str, data: float, grad: float, value: Value | None, derived: bool
    ) -> None:
        fields = [f"data {self.number(data)}", f"grad {self.number(grad)}"]
        name = label
        if value is not None and self.style.number_nodes and value in self.step:
            name = f"#{self.step[value]} {label}".strip()
        if name:
            fields.insert(0, _escape(name))
        text = " | ".join(fields)
        attributes: dict[str, str] = {
            "shape": "record",
            "label": "{ " + text + " }" if self.style.rankdir == "LR" else text,
        }
        styles = []
        if derived:
            styles.append("dotted")
        if value is not None and value.is_leaf:
            styles.append("filled")
            attributes["fillcolor"] = "#dbe9f6"
        if self.style.color_by_grad:
            styles.append("filled")
            attributes["fillcolor"] = self.grad_color(grad)
            if value is not None and value.is_leaf:
                styles.append("bold")  # leaves stay recognisable when the fill shows the gradient
        if value is self.root:
            attributes["penwidth"] = "2"
        if styles:
            attributes["style"] = ",".join(dict.fromkeys(styles))
        self.drawing.node(node_id, **attributes)

    def grad_color(self, grad: float) -> str:
        if not grad or not math.isfinite(grad) or not self.largest_grad:
            return "#ffffff" if grad == 0 else "#c0a0ff"  # zero: white; inf or nan: violet
        # Shade by size on a log scale across six decades below the largest gradient.
        strength = max(0.0, 1.0 + math.log10(abs(grad) / self.largest_grad) / 6.0)
        light = int(235 - 135 * strength)
        return f"#{light:02x}{light:02x}ff" if grad > 0 else f"#ff{light:02x}{light:02x}"

    def operation(self, value: Value) -> None:
        op_id = self.fresh_id("op")
        self.drawing.node(
            op_id, label=OP_SYMBOLS.get(value.op, value.op), shape="circle" if len(value.op) <= 2 else "ellipse"
        )
        self.drawing.edge(op_id, self.ids[value])
        locals_ = iter(value.local_grads)
        for operand in value.operands:
            if isinstance(operand, Value):
                label = f"∂ {self.number(next(locals_))}" if self.style.show_local_grads else None
                self.drawing.edge(self.ids[operand], op_id, **({"label": label} if label else {}))
            else:
                self.constant(operand, op_id)

    def constant(self, number: float, into: str) -> str:
        constant_id = self.fresh_id("c")
        self.drawing.node(
            constant_id, label=_escape(repr(number)), shape="box", style="dashed", color="gray50", fontcolor="gray40"
        )
        self.drawing.edge(constant_id, into, style="dashed", color="gray50")
        return constant_id

    def source_of(self, operand: Value | float, into: str) -> None:
        if isinstance(operand, Value):
            self.drawing.edge(self.ids[operand], into)
        else:
            self.constant(operand, into)

    def expanded(self, value: Value) -> None:
        """A fused node drawn as the chain of additions (and products) it computes in one step."""
        operands = list(value.operands)
        terms: list[tuple[Value | float, Value | float | None]]
        if value.op == "dot":
            n = (len(operands) - 1) // 2
            bias = operands[-1]
            terms = list(zip(operands[:n], operands[n : 2 * n]))
        else:
            bias, terms = None, [(term, None) for term in operands]
        partial_id: str | None = None
        partial = 0.0
        if bias is not None:
            partial_id, partial = self.source_id(bias), _data(bias)
        for index, (left, right) in enumerate(terms):
            if right is None:
                term_id, term = self.source_id(left), _data(left)
            else:
                product = self.fresh_id("op")
                self.drawing.node(product, label="×", shape="circle")
                self.source_of(left, product)
                self.source_of(right, product)
                term = _data(left) * _data(right)
                term_id = self.fresh_id("t")
                self.value_node(term_id, "", term, value.grad, None, derived=True)
                self.drawing.edge(product, term_id)
            if partial_id is None:
                partial_id, partial = term_id, term
                continue
            adder = self.fresh_id("op")
            self.drawing.node(adder, label="+", shape="circle")
            self.drawing.edge(partial_id, adder)
            self.drawing.edge(term_id, adder)
            partial += term
            if index == len(terms) - 1:
                self.drawing.edge(adder, self.ids[value])
                return
            partial_id = self.fresh_id("t")
            self.value_node(partial_id, "", partial, value.grad, None, derived=True)
            self.drawing.edge(adder, partial_id)
        if partial_id is not None:  # a single term: nothing to add
            self.drawing.edge(partial_id, self.ids[value], style="dotted")

    def source_id(self, operand: Value | float) -> str:
        if isinstance(operand, Value):
            return self.ids[operand]
        constant_id = self.fresh_id("c")
        self.drawing.node(
            constant_id, label=_escape(repr(operand)), shape="box", style="dashed", color="gray50", fontcolor="gray40"
        )
        return constant_id


def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


def _escape(text: str) -> str:
    """Escape the characters that are special in a record label."""
    for special in '\\{}|<>"':
        text = text.replace(special, "\\" + special)
    return text
