"""`explore`: an interactive page that steps through forward and backward, one node at a time.

The page is one self-contained HTML file: the SVG of chainrule's own drawing
(`draw_dot` with stable element ids), the graph as data, and the explorer's
JavaScript and CSS, which are real files beside this module
(``autograd/page/explorer.js`` and ``explorer.css``) inlined when the page is
written. It loads nothing from anywhere (a Content-Security-Policy forbids it)
and works offline from ``file://``, in a notebook's sandboxed iframe, or in a
browser.

What the page does:

- **Stepping.** Step 0 is the graph before any forward step: only the leaves
  have values. Forward steps reveal each computed node's value in topological
  order; the first backward step seeds the output's gradient with 1; each
  later one applies the chain rule at one node, in the engine's exact order,
  showing ``local × upstream = contribution`` on every edge into it and the
  running ``+=`` at a node used more than once. ``#step=N`` (or
  ``#step=end``) in the address opens a step, and the address follows the
  stepping, so a step can be linked.
- **Editing.** Click a leaf and type or drag a new value: every value and
  gradient is recomputed in the page with the rule table's JavaScript rules
  (the ``js`` field of each `Primitive`), and each leaf's gradient is shown
  beside its central-difference estimate. A graph that uses a primitive
  without JavaScript rules is stepped but not edited, and the page says why.
- **Large graphs.** Steps are coarser for larger graphs: a node at a time up
  to `NODE_STEPS_UP_TO` computed nodes, a neuron (a ``dot`` node and the
  activation applied to it) at a time up to `NEURON_STEPS_UP_TO`, and a layer
  (all nodes at the same depth) beyond; the page can switch. It pans (drag)
  and zooms (wheel), and focuses on one node and its neighbours (double-click).
- **Testable.** Every Value's element carries ``data-data`` and ``data-grad``
  attributes with the numbers shown at the current step, in full precision as
  Python writes floats (``data-grad`` is empty before backward reaches it).

Example:
    >>> from autograd import Value, explore
    >>> x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    >>> page = explore((x * w).tanh())
    >>> page.html.startswith("<!DOCTYPE html>")
    True
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from autograd.draw import DEFAULT_MAX_NODES, draw_dot
from autograd.engine import Value, topological_order
from autograd.files import write_atomically
from autograd.primitive import Primitive, check_text
from autograd.render import find_renderer

__all__ = ["GRANULARITIES", "NEURON_STEPS_UP_TO", "NODE_STEPS_UP_TO", "Explorer", "explore", "fill", "page"]

NODE_STEPS_UP_TO = 60
"""With "auto" granularity, graphs with up to this many computed nodes step one node at a time."""
NEURON_STEPS_UP_TO = 400
"""With "auto" granularity, graphs with up to this many computed nodes step a neuron at a time; larger ones a layer."""
GRANULARITIES = ("auto", "node", "neuron", "layer")


class Explorer:
    """An explorer page for one graph: shows inline in Jupyter, and `save` writes it.

    Attributes:
        html: the whole page, one self-contained HTML document.
    """

    def __init__(self, page: str) -> None:
        self.html = page

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to `path` (atomically) and return the path."""
        target = Path(path)
        write_atomically(target, self.html.encode("utf-8"))
        return target

    def _repr_html_(self) -> str:
        # A sandboxed iframe: the page's script runs isolated from the notebook, with no kernel round trips.
        return (
            '<iframe sandbox="allow-scripts" style="width: 100%; height: 640px; border: 1px solid #ccc" '
            f'srcdoc="{html.escape(self.html, quote=True)}"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<Explorer page, {len(self.html):,} characters>"


def explore(
    root: Value,
    *,
    title: str = "",
    granularity: str = "auto",
    max_nodes: int = DEFAULT_MAX_NODES,
    **drawing: Any,
) -> Explorer:
    """An interactive page that steps through the forward and backward pass of the graph of `root`.

    Args:
        root: the output Value; everything it depends on is shown.
        title: the page's heading (by default, the output's label or "a graph").
        granularity: how much one step does: "node", "neuron", "layer", or
            "auto" (by size; see `NODE_STEPS_UP_TO`). The page can switch.
        max_nodes: refuse graphs with more Values than this, as `draw_dot` does.
        drawing: `draw_dot`'s options for the picture (rankdir, precision,
            show_local_grads, color_by_grad, number_nodes, expand_fused).

    Raises:
        TypeError: `root` is not a Value, or an unknown drawing option.
        ValueError: an unknown granularity, more than `max_nodes` Values, or a
            label or primitive name that no page can hold (NUL, lone surrogates).
    """
    if not isinstance(root, Value):
        raise TypeError(f"explore needs a Value, not {type(root).__name__}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")
    check_text(title, "the page's title")  # labels and names are checked as they are drawn
    if "format" in drawing or "element_ids" in drawing:
        raise TypeError("explore draws its own SVG with element ids: format and element_ids are not options")
    picture = draw_dot(root, max_nodes=max_nodes, element_ids=True, **drawing)
    values = topological_order(root, leaves=True)[::-1]  # the drawing's order: v0 is the root
    svg = _inline_svg(find_renderer("svg").render(picture.source, "svg").decode("utf-8"))
    data = _graph_data(values, title or root.label or "a graph", granularity, drawing.get("precision", 4))
    used = {value.primitive.name: value.primitive for value in values if value.primitive is not None}
    return Explorer(_page(svg, data, _rules_script(used.values())))


def _graph_data(values: list[Value], title: str, granularity: str, precision: int) -> dict[str, Any]:
    """Everything the page needs, numbers as Python's repr (JSON has no nan or inf; repr round-trips)."""
    index = {value: i for i, value in enumerate(values)}
    nodes = []
    used_primitives: dict[str, Primitive] = {}
    for value in values:
        node: dict[str, Any] = {"label": value.label, "data": repr(value.data)}
        if value.primitive is not None:
            used_primitives[value.primitive.name] = value.primitive
            locals_ = iter(value.local_grads)
            node["op"] = value.op
            node["symbol"] = value.primitive.symbol
            node["operands"] = [index[o] if isinstance(o, Value) else repr(o) for o in value.operands]
            node["locals"] = [repr(next(locals_)) if isinstance(o, Value) else None for o in value.operands]
        nodes.append(node)
    missing = sorted(name for name, p in used_primitives.items() if p.js is None)
    computed = sum(1 for value in values if not value.is_leaf)
    if granularity == "auto":
        granularity = (
            "node" if computed <= NODE_STEPS_UP_TO else "neuron" if computed <= NEURON_STEPS_UP_TO else "layer"
        )
    return {
        "title": title,
        "precision": precision,
        "granularity": granularity,
        "nodes": nodes,
        "notEditable": (
            f"This graph uses {', '.join(missing)}, a primitive without JavaScript rules (the js field of "
            "its Primitive), so the page cannot recompute it: it can be stepped, not edited."
            if missing
            else ""
        ),
    }


def _inline_svg(svg: str) -> str:
    """The renderer's SVG as an element to inline in HTML: no XML declaration, doctype or comments."""
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


def _asset(name: str) -> str:
    return resources.files("autograd").joinpath("page").joinpath(name).read_text(encoding="utf-8")


def _rules_script(primitives: Iterable[Primitive]) -> str:
    """The JavaScript rules of the primitives a graph uses, as code: ``RULES[name] = {forward, derivatives}``.

    The sources come from the rule table (or a user's `Primitive`); "</" is
    written "<\\/" so that no source can close the script element.
    """
    lines = ["const RULES = {};"]
    for p in primitives:
        if p.js is not None:
            forward, derivatives = (source.replace("</", "<\\/") for source in p.js)
            name = json.dumps(p.name).replace("<", "\\u003c")
            lines.append(f"RULES[{name}] = {{ forward: {forward}, derivatives: {derivatives} }};")
    return "\n".join(lines)


def _page(svg: str, data: dict[str, Any], rules_js: str) -> str:
    # JSON inside a script element: "<" escaped, so that no label can close the element.
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    payload = payload.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    title = html.escape(str(data["title"]))
    body = fill(_asset("explorer.html"), title=title, svg=svg, data=payload, rules=rules_js, js=_asset("explorer.js"))
    return page(title, "chainrule explorer", _asset("explorer.css"), body)


def page(title: str, kind: str, css: str, body: str) -> str:
    """A self-contained HTML page: the shell every chainrule page shares, whose policy forbids loading anything.

    `title` is HTML text (escaped by the caller); `css` and `body` are put in
    as they are.
    """
    return fill(_asset("shell.html"), title=title, kind=kind, css=css, body=body)


def fill(template: str, **parts: str) -> str:
    """`template` with each ``{{name}}`` replaced by ``parts[name]``, in one pass: nothing put in is scanned again."""
    return re.sub(r"\{\{(\w+)\}\}", lambda match: parts[match.group(1)], template)
