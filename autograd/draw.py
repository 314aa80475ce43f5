"""Drawing computation graphs: every Value with its data and gradient.

`draw_dot` reads a graph through the engine's public surface (``op``,
``operands``, ``parents``, ``local_grads``, ``data``, ``grad``, ``label``) and
returns a `graphviz.Digraph`. It never changes the graph. The picture has one
record per Value (label, data, grad), one small node per operation between a
value and its operands, and edges in the direction data flows. Constants are
grey dashed boxes; leaves you created (inputs and parameters) are shaded; the
output has a bold border.

The returned `Drawing` renders (inline in Jupyter, ``pipe``, ``render``) with
the program `autograd.render` finds, so it works after a pip-only install;
`save_graph` writes one file whose format follows its suffix.

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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphviz

from autograd import rules
from autograd.engine import Value, topological_order
from autograd.files import write_atomically
from autograd.primitive import check_text
from autograd.render import find_renderer

__all__ = ["DEFAULT_MAX_NODES", "FILE_FORMATS", "Drawing", "GraphTooLargeError", "draw_dot", "save_graph"]

DEFAULT_MAX_NODES = 2000

FILE_FORMATS = {
    ".svg": "svg",
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".html": "html",
}
"""The file suffixes `save_graph` writes, and the format of each."""


class GraphTooLargeError(ValueError):
    """A graph with more Values than the `max_nodes` a drawing was allowed.

    Attributes:
        count: how many Values the graph has.
        limit: the `max_nodes` it was given.
    """

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"the graph has {count} Values, more than max_nodes={limit}; draw a smaller part of it, "
            f"or pass max_nodes={count} to draw it anyway (Graphviz may take a long time)"
        )
        self.count = count
        self.limit = limit


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` that renders with chainrule's renderer (see `autograd.render`).

    Inline display in Jupyter, `pipe` and `render` use Graphviz's ``dot`` when it
    is installed and the ``graphviz-pure`` program otherwise, found without the
    PATH. Options that need Graphviz itself (another layout engine, renderer or
    formatter) are passed on to the `graphviz` package unchanged.
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
        format = format or self.format
        data = find_renderer(format).render(self.source, format)
        return data.decode(encoding) if encoding else data

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: str | os.PathLike[str] | None = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source and render it next to it, as `graphviz.Digraph.render` does.

        The picture goes to `outfile` (its format from the suffix) or to the
        source's path plus ``.`` and the format (``Digraph.gv.svg``). Returns
        the picture's path. `save_graph` is the simpler way to write one file.
        """
        if (
            renderer
            or formatter
            or neato_no_op
            or raise_if_result_exists
            or overwrite_source
            or engine not in (None, "dot")
        ):
            return super().render(  # type: ignore[no-any-return]
                filename, directory, view, cleanup, format, renderer, formatter, neato_no_op, quiet, quiet_view,
                outfile=outfile, engine=engine, raise_if_result_exists=raise_if_result_exists,
                overwrite_source=overwrite_source,
            )  # fmt: skip
        if outfile is not None:  # as in graphviz: relative to the Digraph's directory unless one is given
            format = format or Path(outfile).suffix.lstrip(".").lower() or None
            if filename is None:
                filename = Path(outfile).with_suffix(".gv")
        source_path = self.save(filename, directory=directory)
        format = format or self.format
        if outfile is None:
            target = Path(f"{source_path}.{format}")
        else:
            target = Path(outfile) if directory is not None else Path(self.directory, outfile)
        write_atomically(target, find_renderer(format).render(self.source, format))
        if cleanup:
            os.remove(source_path)
        if view or quiet_view:
            graphviz.view(target, quiet=quiet_view)
        return str(target)


@dataclass(frozen=True)
class _Style:
    precision: int
    number_nodes: bool
    color_by_grad: bool
    expand_fused: bool
    show_local_grads: bool
    rankdir: str
    element_ids: bool = False


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
    element_ids: bool = False,
) -> Drawing:
    """Draw the graph that produced `root`, with each node's data and gradient.

    Args:
        root: the output Value; everything it depends on is drawn.
        format: the picture format when the Digraph is rendered ("svg", "png", ...).
        rankdir: "LR" (left to right) or "TB" (top to bottom).
        max_nodes: refuse graphs with more Values than this (Graphviz would
            take very long to lay them out).
        precision: digits after the decimal point for data and gradients
            (numbers too small or too large for that are shown as 1.2345e-07).
        number_nodes: prefix each computed node with its step number in the
            order backward() visits it (1 is the output).
        color_by_grad: fill each Value by the sign (blue positive, red
            negative) and size (darker is larger, on a log scale) of its gradient.
        expand_fused: draw a fused node (``sum``, ``dot``) as the elementwise
            additions and products it stands for, in a dashed box labelled
            "expanded"; the partial results inside are dotted, since the engine
            never made them (they are computed for the picture).
        show_local_grads: label each edge into an operation with the local
            derivative the node recorded for that operand.
        element_ids: give the elements stable ids in the rendered SVG: ``v{i}``
            for the i-th Value (the root is 0, then a fixed depth-first walk),
            ``o{i}`` for the operation that made it, ``e{i}.{k}`` for the edge
            from its k-th operand and ``r{i}`` for the edge into it. The
            explorer page ties its data to the picture by these ids.

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
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, not {max_nodes!r}")
    values = topological_order(root, leaves=True)[::-1]  # the root first
    if len(values) > max_nodes:
        raise GraphTooLargeError(len(values), max_nodes)
    style = _Style(precision, number_nodes, color_by_grad, expand_fused, show_local_grads, rankdir, element_ids)
    drawing = Drawing(format=format, graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    drawing.attr("edge", fontname="Helvetica", fontsize="10")
    _Painter(drawing, values, root, style).paint()
    return drawing


def save_graph(root: Value | graphviz.Digraph, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write a picture of a graph to `path`, its format taken from the suffix.

    ``.svg``, ``.png`` and ``.jpg`` work with either renderer, ``.pdf`` needs Graphviz
    itself, ``.dot`` or ``.gv`` write the DOT source, and ``.html`` writes the
    interactive explorer page (`autograd.explore`, which takes the options). `root` is a Value
    (drawn with `draw_dot` and `options`) or an existing Digraph. The file is
    written atomically: a failure leaves no half-written file.

    Example:
        >>> import tempfile
        >>> from autograd import Value
        >>> y = Value(3.0, label="x").exp()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save_graph(y, Path(folder) / "graph.dot", rankdir="TB")
        ...     path.read_text().startswith("digraph")
        True

    Raises:
        ValueError: an unknown suffix, or a format no installed renderer writes.
        TypeError: `root` is neither a Value nor a Digraph, or drawing options
            were given with a Digraph.
        autograd.render.RendererNotFoundError: no renderer is installed.
    """
    path = Path(path)
    file_format = FILE_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"cannot tell the format of {str(path)!r}: use one of {', '.join(FILE_FORMATS)}")
    if file_format == "html":
        if not isinstance(root, Value):
            raise TypeError(f"an explorer page (.html) needs a Value, not {type(root).__name__}")
        from autograd.explorer import explore

        return explore(root, **options).save(path)
    if isinstance(root, Value):
        drawing = draw_dot(root, **options)
    elif isinstance(root, graphviz.Digraph):
        if options:
            raise TypeError(f"drawing options ({', '.join(options)}) apply only when saving a Value, not a Digraph")
        drawing = root
    else:
        raise TypeError(f"save_graph needs a Value or a graphviz.Digraph, not {type(root).__name__}")
    if file_format == "dot":
        data = drawing.source.encode()
    else:
        data = find_renderer(file_format).render(drawing.source, file_format)
    write_atomically(path, data)
    return path


Edge = tuple[str, str, dict[str, str]]


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
        """`x` with `precision` decimals, or in scientific notation when fixed would hide it or be long."""
        if not math.isfinite(x):
            return repr(x)
        if x == 0.0 or 10.0**-self.style.precision <= abs(x) < 1e6:
            return f"{x:.{self.style.precision}f}"
        return f"{x:.{self.style.precision}e}"

    def paint(self) -> None:
        for value in self.values:
            self.value_node(self.drawing, self.ids[value], value.label, value.data, value.grad, value)
        for value in self.values:
            if not value.is_leaf:
                if value.primitive in (rules.sum_, rules.dot) and self.style.expand_fused and value.operands:
                    self.expanded(value)
                else:
                    self.operation(value)

    def value_node(
        self, target: graphviz.Digraph, node_id: str, label: str, data: float, grad: float, value: Value | None
    ) -> None:
        """A record (label | data | grad); `value` is None for a partial result drawn for an expansion."""
        fields = [f"data {self.number(data)}", f"grad {self.number(grad)}"]
        name = _visible(check_text(label, "Value label"))
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
        if value is None:
            styles.append("dotted")
        elif value.is_leaf:
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
        if self.style.element_ids and value is not None:
            attributes["id"] = node_id
        target.node(node_id, **attributes)

    def grad_color(self, grad: float) -> str:
        if not grad or not math.isfinite(grad) or not self.largest_grad:
            return "#ffffff" if grad == 0 else "#c0a0ff"  # zero: white; inf or nan: violet
        # Shade by size on a log scale across six decades below the largest gradient.
        strength = max(0.0, 1.0 + math.log10(abs(grad) / self.largest_grad) / 6.0)
        light = int(235 - 135 * strength)
        return f"#{light:02x}{light:02x}ff" if grad > 0 else f"#ff{light:02x}{light:02x}"

    def operation(self, value: Value) -> None:
        op_id = self.fresh_id("op")
        index = self.ids[value][1:]
        ids = self.style.element_ids
        symbol = value.primitive.symbol if value.primitive is not None else value.op
        shape = "circle" if len(symbol) <= 2 else "ellipse"
        text = {"label": _plain(symbol), "tooltip": _plain(value.op)}  # plain text, never HTML
        self.drawing.node(op_id, shape=shape, **text, **({"id": f"o{index}"} if ids else {}))
        self.drawing.edge(op_id, self.ids[value], **({"id": f"r{index}"} if ids else {}))
        locals_ = iter(value.local_grads)
        for k, operand in enumerate(value.operands):
            attributes = {"id": f"e{index}.{k}"} if ids else {}
            if isinstance(operand, Value):
                if self.style.show_local_grads:
                    attributes["label"] = f"∂ {self.number(next(locals_))}"
                self.drawing.edge(self.ids[operand], op_id, **attributes)
            else:
                self.drawing.edge(self.constant(operand), op_id, style="dashed", color="gray50", **attributes)

    def constant(self, number: float) -> str:
        """A grey dashed box for a number used in an expression (not a Value, so it has no gradient)."""
        constant_id = self.fresh_id("c")
        self.drawing.node(
            constant_id, label=_escape(repr(number)), shape="box", style="dashed", color="gray50", fontcolor="gray40"
        )
        return constant_id

    def source(self, operand: Value | float, edges: list[Edge], into: str) -> None:
        if isinstance(operand, Value):
            edges.append((self.ids[operand], into, {}))
        else:
            edges.append((self.constant(operand), into, {"style": "dashed", "color": "gray50"}))

    def expanded(self, value: Value) -> None:
        """A fused node drawn as the additions (and products) it computes in one step, in a dashed box.

        The partial results are added in the engine's order (a dot product
        starts from the bias), so the picture's last sum is the node's data.
        Their gradient is the node's: each enters the result with slope 1.
        """
        box = graphviz.Digraph(name=f"cluster_{self.ids[value]}")
        box.attr(
            label=_plain(f"{value.op}, expanded"), style="dashed", color="gray50", fontcolor="gray40", fontsize="10"
        )
        edges: list[Edge] = []
        operands = value.operands
        summands: list[tuple[str, float]] = []
        if value.primitive is rules.dot:
            weights, inputs, bias = rules.split_dot(operands)
            summands.append(self.summand(bias))
            for weight, x in zip(weights, inputs):
                product = self.fresh_id("op")
                box.node(product, label="×", shape="circle")
                self.source(weight, edges, product)
                self.source(x, edges, product)
                term_id, term = self.fresh_id("t"), _data(weight) * _data(x)
                self.value_node(box, term_id, "", term, value.grad, None)
                edges.append((product, term_id, {}))
                summands.append((term_id, term))
        else:
            summands = [self.summand(operand) for operand in operands]
        partial_id, partial = summands[0]
        for index, (term_id, term) in enumerate(summands[1:], start=2):
            adder = self.fresh_id("op")
            box.node(adder, label="+", shape="circle")
            edges += [(partial_id, adder, {}), (term_id, adder, {})]
            if index == len(summands):
                edges.append((adder, self.ids[value], {}))
                break
            partial += term
            partial_id = self.fresh_id("t")
            self.value_node(box, partial_id, "", partial, value.grad, None)
            edges.append((adder, partial_id, {}))
        else:  # one summand: the node is that summand
            edges.append((partial_id, self.ids[value], {"style": "dotted"}))
        self.drawing.subgraph(box)
        for tail, head, attributes in edges:
            self.drawing.edge(tail, head, **attributes)

    def summand(self, operand: Value | float) -> tuple[str, float]:
        if isinstance(operand, Value):
            return self.ids[operand], operand.data
        return self.constant(operand), operand


def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


def _escape(text: str) -> str:
    """Escape the characters that are special in a record label."""
    for special in '\\{}|<>"':
        text = text.replace(special, "\\" + special)
    return text


def _visible(text: str) -> str:
    """`text` with a tab as a space and other control characters but newline as their symbols (U+2400 + code).

    SVG cannot hold control characters, and record labels drop tabs.
    """
    return text.translate(_CONTROL_PICTURES)


_CONTROL_PICTURES = {code: 0x2400 + code for code in range(1, 32) if chr(code) != "\n"} | {ord("\t"): ord(" ")}


def _plain(text: str) -> str:
    """`text` as a DOT string drawn as written: no escape sequences (``\\n``, ``\\N``), never an HTML label."""
    plain: str = graphviz.escape(_visible(check_text(text, "operation name")))
    return plain
