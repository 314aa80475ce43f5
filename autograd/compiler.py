"""Compiled steps: a traced graph written out as Python source, then run without building a graph.

A graph recorded by ordinary code holds every operation of a computation in
order. This module writes that graph out as straight-line Python: the forward
pass, one line per node (the table's ``py`` template of its primitive), then
the backward pass, one line per edge, ``g_operand += local * g_node``, in the
order `Value.backward` adds them. Run on new leaf values, that code gives the
same bits as building the graph again and calling ``backward()``: the same
operations in the same order, nan and inf travelling the same way. Backward
never skips a zero gradient here (adding ``0 * local`` to a sum that started
at +0.0 changes nothing, and an infinite local still makes its nan), and it
computes only the gradients that are asked for.

`compile` does this for a function of a few numbers; `compile_batch` for a
training step, where one traced example becomes the body of a loop over the
batch, so that the code grows with the network, not with the batch. Read
``compiled.source``: it is backprop written out.

What makes a function compilable: it performs the same operations whatever
its inputs' values. Branches inside primitives are fine (relu, abs, pow: the
templates carry them); Python code that reads ``.data`` to choose an
operation or a constant is not, because the trace would freeze that choice.
Write such a choice as an operation (a primitive) instead. A failed guard
(an error or a non-finite number in compiled code) reruns the call on the
dynamic engine, which gives its own result or its own error.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd import rules
from autograd.engine import Value, enable_grad, topological_order
from autograd.primitive import Primitive, as_float

__all__ = ["CompileError", "CompileWarning", "Compiled", "CompiledBatch", "compile", "compile_batch"]

WIDE = 64
"""An n-ary node (sum, dot) with more operands than this calls its forward function instead of a written-out sum."""

_MATH = {name: getattr(math, name) for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "inf", "nan")}
_NAME = re.compile(r"[A-Za-z_]\w*")
_TOKEN = re.compile(r"[\w.]+|\([\w.+-]*\)")
"""A name, a number, or a parenthesised constant: a factor that needs no parentheses."""


class CompileError(ValueError):
    """A graph that cannot be compiled: the message names what the trace found."""


class CompileWarning(RuntimeWarning):
    """A compiled call fell back to the dynamic engine (a guard failed); said once per compiled object."""


# -- writing one region of a graph: forward lines, then backward lines ------------------------


@dataclass
class _Writer:
    """Names for the values of a graph, and the functions and constants the written code uses."""

    names: dict[int, str] = field(default_factory=dict)
    namespace: dict[str, Any] = field(default_factory=lambda: dict(_MATH))
    count: int = 0

    def name(self, operand: Value | float) -> str:
        if type(operand) is float:
            return self.constant(operand)
        try:
            return self.names[id(operand)]
        except KeyError:
            raise CompileError(f"the graph uses {operand!r}, which is neither an input nor computed") from None

    def constant(self, c: float) -> str:
        if not math.isfinite(c):  # the float itself, so nan keeps its bits
            return self.bind(f"c{len(self.namespace)}", c)
        text = repr(c)
        return text if text[0].isdigit() else f"({text})"

    def new(self, node: Value, prefix: str = "v") -> str:
        name = f"{prefix}{self.count}"
        self.count += 1
        self.names[id(node)] = name
        return name

    def bind(self, name: str, value: Any) -> str:
        self.namespace[name] = value
        return name

    def function(self, op: Primitive, which: str) -> str:
        """The name under which the written code calls `op`'s forward or derivatives function."""
        stem = op.name if op.name.isidentifier() and not keyword.iskeyword(op.name) else "primitive"
        name = f"{stem}_{which}"
        while self.namespace.get(name, op) is not op and getattr(self.namespace[name], "primitive", None) is not op:
            name += "_"
        if name not in self.namespace:
            self.bind(name, _Checked(op, which))
        return name


class _Checked:
    """A primitive's own function, with its results checked as the engine checks them (as_float, arity)."""

    def __init__(self, primitive: Primitive, which: str) -> None:
        self.primitive, self.which = primitive, which

    def __call__(self, *args: float) -> Any:
        op = self.primitive
        if self.which == "forward":
            return as_float(op.forward(*args), op.name, "forward")
        return op.check_locals(op.derivatives(*args), len(args) - 1)


def _forward(writer: _Writer, op: Primitive, operands: list[str]) -> str:
    template = None if op.py is None or (op.arity is None and len(operands) > WIDE) else op.py[0]
    if template is None:
        return f"{writer.function(op, 'forward')}({', '.join(operands)})"
    if callable(template):
        return str(template(*operands))
    return str(template.format(*operands, forward=writer.function(op, "forward")))


def _derivatives(writer: _Writer, op: Primitive, operands: list[str], out: str, lines: list[str]) -> list[str]:
    """One source expression per operand: d(out)/d(operand); a line computing them all first if need be."""
    template = None if op.py is None else op.py[1]
    if callable(template):
        return [str(local) for local in template(*operands, out)]
    if isinstance(template, tuple):
        return [local.format(*operands, out=out) for local in template]
    call = f"{writer.function(op, 'derivatives')}({', '.join((*operands, out))})"
    if isinstance(template, str):
        call = template.format(*operands, out=out, derivatives=writer.function(op, "derivatives"))
    lines.append(f"{out}_d = {call}")
    return [f"{out}_d[{k}]" for k in range(len(operands))]


def _times(local: str, g: str) -> str:
    if local == "1.0":  # 1.0 * g is g, bit for bit (nan and -0.0 included)
        return g
    return f"{local} * {g}" if _TOKEN.fullmatch(local) else f"({local}) * {g}"


def _write(
    writer: _Writer,
    nodes: Sequence[Value],
    wanted: set[int],
    seeded: set[int],
    special: Callable[[Value, list[str], str], bool] | None = None,
) -> tuple[list[str], list[str]]:
    """The forward and backward lines of `nodes` (a topological order).

    `wanted`: ids of leaves whose gradient accumulators exist already (``+=``);
    `seeded`: ids of nodes whose gradient is set before the backward lines run.
    `special(node, lines, "forward" or "backward")` may write a node itself (returns True).
    """
    forward: list[str] = []
    needs = set(wanted)
    for node in nodes:
        if special is not None and special(node, forward, "forward"):
            needs.add(id(node))
            continue
        out = writer.new(node)
        operands = node._edges[0::2]
        op = node._op
        assert op is not None  # only computed nodes are in a topological order
        forward.append(f"{out} = {_forward(writer, op, [writer.name(o) for o in operands])}")
        if any(id(o) in needs for o in operands if type(o) is not float):
            needs.add(id(node))
    backward: list[str] = []
    started = set(wanted) | set(seeded)
    for node in reversed(nodes):
        if id(node) not in needs:
            continue
        if special is not None and special(node, backward, "backward"):
            continue
        out, op = writer.names[id(node)], node._op
        g = "g_" + out
        assert op is not None
        operands = node._edges[0::2]
        sources = [writer.name(o) for o in operands]
        targets = [(k, o) for k, o in enumerate(operands) if type(o) is not float and id(o) in needs]
        if not targets:
            continue
        locals_ = _derivatives(writer, op, sources, out, backward)
        for k, operand in targets:
            go = "g_" + writer.names[id(operand)]
            if id(operand) in started:
                backward.append(f"{go} += {_times(locals_[k], g)}")
            else:  # a node's gradient starts at 0.0, as in backward()
                backward.append(f"{go} = 0.0 + {_times(locals_[k], g)}")
                started.add(id(operand))
    return forward, backward


def _leaves(nodes: Iterable[Value]) -> set[int]:
    return {id(o) for node in nodes for o in node._edges[0::2] if type(o) is not float and o._op is None}


def _indent(lines: Iterable[str], depth: int) -> str:
    pad = "    " * depth
    return "".join(f"{pad}{line}\n" for line in lines)


def _define(source: str, namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    code = builtins_compile(source, f"<compiled {name}>", "exec")
    exec(code, namespace)
    function: Callable[..., Any] = namespace[name]
    return function


builtins_compile = compile  # the builtin, before this module's `compile` below replaces the name


_RESERVED = re.compile(r"[vcx]\d+|g_.*|.*_(forward|derivatives)_*|.*_d|parameters|rows|tape|terms|outputs|abs|reversed")


def _identifiers(names: Sequence[str], fallback: str) -> list[str]:
    """`names` made into identifiers the written code can use; a name it cannot use becomes `fallback` + index."""
    seen: set[str] = set()
    out = []
    for k, name in enumerate(names):
        name = re.sub(r"\W", "_", name)
        if not name.isidentifier() or keyword.iskeyword(name) or name in seen or name in _MATH or _RESERVED.fullmatch(name):
            name = f"{fallback}{k}"
        seen.add(name)
        out.append(name)
    return out


# -- compile: a function of numbers --------------------------------------------------------


class Compiled:
    """A function of numbers, traced once and written out as Python: ``value, gradients = compiled(*xs)``.

    Calling it returns the function's value and its gradient with respect
    to each input, the bits `Value.backward` would give (see `compile`).
    ``source`` is the written-out code.
    """

    def __init__(self, fn: Callable[..., Value], example: Sequence[float]) -> None:
        self.fn = fn
        self.arity = len(example)
        inputs = [Value(float(x)) for x in example]
        with enable_grad():
            out = fn(*inputs)
        if not isinstance(out, Value):
            raise CompileError(f"the function must return a Value, not {type(out).__name__}")
        try:
            names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            names = []
        names = names if len(names) == len(inputs) else [f"x{k}" for k in range(len(inputs))]
        writer = _Writer()
        params = _identifiers(names, "x")
        for x, name in zip(inputs, params):
            writer.names[id(x)] = name
        order = topological_order(out)
        for leaf in {id(o): o for n in order for o in n._edges[0::2] if type(o) is not float}.values():
            if leaf._op is None and id(leaf) not in writer.names:  # made inside the function: a constant
                writer.names[id(leaf)] = writer.constant(leaf.data)
        wanted = {id(x) for x in inputs}
        if out._op is None:  # the function returned an input or a constant
            result = writer.name(out)
            forward, backward = [], []
        else:
            forward, backward = _write(writer, order, wanted, {id(out)})
            result = writer.names[id(out)]
        grads = ["g_" + name for name in params]
        seeds = [f"{g} = {'1.0' if x is out else '0.0'}" for g, x in zip(grads, inputs)]
        if out._op is not None:
            seeds.append(f"g_{result} = 1.0")
        self.source = (
            f"def compiled({', '.join(params)}):\n"
            f"{_indent(forward, 1)}{_indent(seeds, 1)}{_indent(backward, 1)}"
            f"    return {result}, ({''.join(g + ', ' for g in grads)})\n"
        )
        self._run = _define(self.source, writer.namespace, "compiled")
        self._warned = False

    def __call__(self, *xs: float) -> tuple[float, tuple[float, ...]]:
        if len(xs) != self.arity:
            raise TypeError(f"the compiled function takes {self.arity} numbers, got {len(xs)}")
        values = [_number(x, k) for k, x in enumerate(xs)]
        try:
            value, grads = self._run(*values)
        except (ArithmeticError, ValueError) as error:
            return self._dynamic(values, f"{type(error).__name__}: {error}")
        if not math.isfinite(value) or not all(map(math.isfinite, grads)):
            return self._dynamic(values, "a value or gradient is not finite")
        return value, grads

    def _dynamic(self, values: list[float], reason: str) -> tuple[float, tuple[float, ...]]:
        if not self._warned:
            self._warned = True
            warnings.warn(f"compiled function: {reason}; running it on the dynamic engine", CompileWarning, stacklevel=3)
        inputs = [Value(x) for x in values]
        with enable_grad():
            out = self.fn(*inputs)
        out.backward()
        return out.data, tuple(x.grad for x in inputs)


def _number(x: object, k: int) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"input {k} must be a real number, not {type(x).__name__}")
    return float(x)


def compile(fn: Callable[..., Value], *example: float) -> Compiled:
    """Trace ``fn(*Values)`` once, at `example`, and write its forward and backward passes out as Python.

    The result is called with numbers and returns ``(value, gradients)``:
    what ``out = fn(*map(Value, xs)); out.backward()`` gives, to the bit,
    without building a graph. `fn` must do the same operations for any
    input (see the module docstring); Values it makes itself are constants.

    Example:
        >>> import autograd
        >>> f = autograd.compile(lambda x, y: (x * y).tanh() + x, 0.5, 2.0)
        >>> value, (dx, dy) = f(0.5, 2.0)
        >>> x, y = autograd.Value(0.5), autograd.Value(2.0)
        >>> out = (x * y).tanh() + x
        >>> out.backward()
        >>> (value, dx, dy) == (out.data, x.grad, y.grad)
        True
    """
    if not callable(fn):
        raise TypeError(f"compile takes a function, not {type(fn).__name__}")
    return Compiled(fn, [_number(x, k) for k, x in enumerate(example)])


# -- compile_batch: a training step, one traced example as the body of a loop -----------------


class CompiledBatch:
    """A training step written out: ``loss, outputs, gradients = step(parameter_values, rows)``.

    `rows` holds one tuple of numbers per example (its inputs, then its
    target); `outputs` the model's outputs per example (a float, or a list);
    `gradients` one per parameter. See `compile_batch`.
    """

    def __init__(self, source: str, run: Callable[..., Any], size: int) -> None:
        self.source, self._run, self.size = source, run, size

    def __call__(self, parameters: Sequence[float], rows: Sequence[Sequence[float]]) -> Any:
        if len(rows) != self.size:
            raise ValueError(f"this compiled step takes batches of {self.size} examples, not {len(rows)}")
        return self._run(parameters, rows)


def compile_batch(
    parameters: Sequence[Value],
    example: Callable[[list[Value]], tuple[Value, Any]],
    total: Callable[[list[Value]], Value],
    row: Sequence[float],
    size: int,
    names: Sequence[str] = (),
) -> CompiledBatch:
    """Write out a step whose loss is `total` of one term per example, each from `example`.

    Args:
        parameters: the leaves shared by every example; the step returns their gradients.
        example: from one example's numbers as Values (inputs then target),
            its loss term and the model's output (a Value or a list of them).
        total: from the terms of a batch, the loss: it must add them with
            one ``sum`` node, in order (a mean, plus penalties on the parameters).
        row: one example's numbers, to trace with.
        size: the batch size; another size is another step.
        names: readable names for the parameters in the source.

    The gradients are those of ``loss.backward()`` on the graph ordinary code
    builds, to the bit: backward there visits the batch's examples last to
    first, right after the sum of the terms, so the written-out backward
    runs the tail of the loss, then the examples in reverse.

    Raises:
        CompileError: the example reaches a leaf that is neither a parameter
            nor an input (its value would be frozen), or the loss does not add
            the terms with one sum node.
    """
    writer = _Writer()
    params = _identifiers(list(names) if len(names) == len(parameters) else [], "p")
    if len(params) != len(parameters):
        params = [f"p{k}" for k in range(len(parameters))]
    for p, name in zip(parameters, params):
        writer.names[id(p)] = name
    inputs = [Value(float(x)) for x in row]
    columns = [f"x{k}" for k in range(len(inputs))]
    for x, name in zip(inputs, columns):
        writer.names[id(x)] = name
    with enable_grad():
        term, output = example(inputs)
        terms = [Value(0.0) for _ in range(size)]
        loss = total(terms)
    if not isinstance(term, Value) or term._op is None or not isinstance(loss, Value):
        raise CompileError("an example's term and the loss must be computed Values")
    known = {id(v) for v in (*parameters, *inputs)}
    region = topological_order(term)
    strangers = _leaves(region) - known
    if strangers:
        raise CompileError("an example reaches a leaf Value that is neither a parameter nor an input")
    wanted = {id(p) for p in parameters}
    body_forward, body_backward = _write(writer, region, wanted, {id(term)})
    outputs = output if isinstance(output, list) else [output]
    shown = [writer.name(o) for o in outputs]

    batch_sum = _find_sum(loss, terms)
    tail = topological_order(loss)
    if _leaves(tail) - wanted - {id(t) for t in terms}:
        raise CompileError("the loss reaches a leaf Value that is neither a parameter nor a term")
    saved = sorted(
        {n for line in body_backward for n in _NAME.findall(line)} & {*columns, *writer.names.values()} - set(params),
        key=_natural,
    )
    g_term = "g_" + writer.names[id(term)]

    def sum_of_terms(node: Value, lines: list[str], phase: str) -> bool:
        if node is not batch_sum:
            return False
        if phase == "forward":  # the loop over the batch, then the sum of its terms
            name = writer.new(node)
            lines += [
                "tape, terms, outputs = [], [], []",
                f"for {', '.join(columns)}, in rows:",
                *[f"    {line}" for line in body_forward],
                f"    tape.append(({''.join(s + ', ' for s in saved)}))",
                f"    terms.append({writer.names[id(term)]})",
                f"    outputs.append({shown[0] if not isinstance(output, list) else '[' + ', '.join(shown) + ']'})",
                f"{name} = {writer.function(rules.sum_, 'forward')}(*terms)",
            ]
            return True
        lines += [
            f"g_term = 0.0 + g_{writer.names[id(node)]}  # each term's gradient: 1.0 times the sum's",
            f"for {', '.join(saved)}, in reversed(tape):" if saved else "for _ in tape:",
            f"    {g_term} = g_term",
            *[f"    {line}" for line in body_backward],
        ]
        return True

    tail_forward, tail_backward = _write(writer, tail, wanted, {id(loss)}, sum_of_terms)
    result = writer.names[id(loss)]
    grads = ["g_" + name for name in params]
    lines = [
        f"({''.join(p + ', ' for p in params)}) = parameters",
        *[f"{g} = 0.0" for g in grads],
        *tail_forward,
        f"g_{result} = 1.0",
        *tail_backward,
        f"return {result}, outputs, [{', '.join(grads)}]",
    ]
    source = f"def step(parameters, rows):\n{_indent(lines, 1)}"
    return CompiledBatch(source, _define(source, writer.namespace, "step"), size)


def _find_sum(loss: Value, terms: list[Value]) -> Value:
    """The one ``sum`` node whose operands are the terms, in order, each used nowhere else."""
    order = topological_order(loss)
    ids = {id(t) for t in terms}
    found = [n for n in order if n._op is rules.sum_ and [id(o) for o in n._edges[0::2]] == [id(t) for t in terms]]
    uses = sum(1 for n in order for o in n._edges[0::2] if id(o) in ids)
    if len(found) != 1 or uses != len(terms):
        raise CompileError("the loss must add the examples' terms with one sum node, using each term once")
    return found[0]


def _natural(name: str) -> tuple[str, int]:
    stem = name.rstrip("0123456789")
    return stem, int(name[len(stem) :] or 0)
