"""Compiled steps: a traced graph written out as Python source, then run without building a graph.

A graph recorded by ordinary code holds every operation of a computation in
order. This module writes that graph out as straight-line Python: the forward
pass, one line per node (the table's ``py`` template of its primitive), then
the backward pass, one line per edge, ``g_operand += local * g_node``, in the
order `Value.backward` adds them. Run on new leaf values, that code gives the
same bits as building the graph again and calling ``backward()``: the same
operations in the same order, nan and inf travelling the same way. Backward
computes only the gradients that are asked for; in a training step it also
skips what a zero gradient would add, as ``backward()`` does (see `_write`).

`compile` does this for a function of a few numbers; `compile_batch` for a
training step, where one traced example becomes the body of a loop over the
batch, so that the code grows with the network, not with the batch;
`compile_map` for a forward pass alone, on many rows (predictions). Read
``compiled.source``: it is backprop written out.

What makes a function compilable: it performs the same operations whatever
its inputs' values. Branches inside primitives are fine (relu, abs, pow: the
templates carry them); Python code that chooses by the values is not,
because the trace would freeze that choice. A comparison of Values (``if x >
0``) during the trace is refused with a `CompileError`; reading ``.data``
cannot be seen, so code that chooses with it must not be compiled. Write such
a choice as an operation (a primitive) instead. A failed guard
(an error or a non-finite number in compiled code) reruns the call on the
dynamic engine, which gives its own result or its own error.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import keyword
import math
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from autograd import rules
from autograd.engine import Value, enable_grad, topological_order
from autograd.primitive import Primitive, as_float

__all__ = [
    "CompileError",
    "CompileWarning",
    "Compiled",
    "CompiledBatch",
    "CompiledMap",
    "compile",
    "compile_batch",
    "compile_map",
]

WIDE = 257
"""An n-ary node (sum, dot) with more operands than this calls its forward function instead of a written-out sum.

Written out is faster to run (a neuron of 128 inputs is 257 operands); called
is faster to compile, and a very long expression does not compile at all."""
LINE = 64
"""The most terms one line of a gradient's sum adds (the rest continue on the next line)."""

_MATH = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
"""What templates may call: the `math` module's names (exp, log, tanh, inf, nan, ...)."""
_NAME = re.compile(r"[A-Za-z_]\w*")
_TOKEN = re.compile(r"[\w.]+|\([\w.+-]*\)")


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
    shared: dict[str, int] = field(default_factory=dict)
    """The names of the inputs every call shares (parameters), by their place in the ``parameters`` list."""
    slices: dict[tuple[int, int], str] = field(default_factory=dict)
    """Runs of parameters passed whole to wide nodes, each a name for ``parameters[start:stop]``."""
    groups: dict[tuple[str, ...], str] = field(default_factory=dict)
    """Runs of other values passed whole to wide nodes, each a name for a tuple."""

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

    def new(self, node: Value) -> str:
        name = f"v{self.count}"
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
        while name in self.namespace and getattr(self.namespace[name], "primitive", None) is not op:
            name += "_"  # another primitive of the same name
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


def _forward(writer: _Writer, op: Primitive, operands: list[str], lines: list[str]) -> str:
    if op.arity is None and len(operands) > WIDE:  # too wide to write out: the forward function, on runs
        return f"{writer.function(op, 'forward')}({', '.join(_runs(writer, operands, lines))})"
    template = None if op.py is None else op.py[0]
    if template is None:
        return f"{writer.function(op, 'forward')}({', '.join(operands)})"
    if callable(template):
        return str(template(*operands))
    return str(template.format(*operands, forward=writer.function(op, "forward")))


def _runs(writer: _Writer, operands: list[str], lines: list[str]) -> list[str]:
    """The operands with long runs passed whole: ``*P0_16`` for parameters[0:16], ``*T3`` for a tuple of values.

    A run of values gets its tuple written into `lines` where it is first used,
    so that the nodes sharing it (a layer's neurons) build it once.
    """
    out: list[str] = []
    start = 0
    while start < len(operands):
        stop = start + 1
        if operands[start] in writer.shared:
            first = writer.shared[operands[start]]
            while stop < len(operands) and writer.shared.get(operands[stop]) == first + stop - start:
                stop += 1
        elif operands[start].isidentifier():
            while stop < len(operands) and operands[stop].isidentifier() and operands[stop] not in writer.shared:
                stop += 1
        if stop - start < 8:
            out.append(operands[start])
            start += 1
            continue
        run = tuple(operands[start:stop])
        if run[0] in writer.shared:
            span = (writer.shared[run[0]], writer.shared[run[0]] + len(run))
            name = writer.slices.setdefault(span, f"P{span[0]}_{span[1]}")
        elif run in writer.groups:
            name = writer.groups[run]
        else:
            name = writer.groups[run] = f"T{len(writer.groups)}"
            lines.append(f"{name} = ({', '.join(run)},)")
        out.append(f"*{name}")
        start = stop
    return out


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


_CHOICE = re.compile(r"(\S+) if ((?:(?! if | else ).)+) else (\S+)")
"""``a if condition else b``, with simple `a` and `b` and nothing else chosen inside."""


def _term(local: str, g: str) -> str:
    """The source of ``local * g``, one term of a gradient's sum."""
    if local == "1.0":  # 1.0 * g is g, bit for bit (nan and -0.0 included)
        return g
    return f"{local} * {g}" if _simple(local) else _product(local, g)


def _product(local: str, g: str) -> str:
    """``(local) * g``; for a choice ``a if c else b``, the choice of products, which saves the product by 1.0."""
    choice = _CHOICE.fullmatch(local)
    if choice is None:
        return f"({local}) * {g}"
    a, condition, b = choice.groups()
    return f"({g if a == '1.0' else f'{a} * {g}'} if {condition} else {g if b == '1.0' else f'{b} * {g}'})"


@functools.lru_cache(maxsize=4096)
def _simple(local: str) -> bool:
    """True for a name, a number, or a parenthesised constant: a factor that needs no parentheses."""
    return local.isidentifier() or _TOKEN.fullmatch(local) is not None


@dataclass
class _Lines:
    """The lines written for a region of a graph, and the names of values that skipped lines multiply by."""

    forward: list[str]
    backward: list[str]
    checked: list[str]


def _write(
    writer: _Writer,
    nodes: Sequence[Value],
    wanted: set[int],
    seeded: set[int],
    started: set[str],
    special: Callable[[Value, list[str], str], bool] | None = None,
    skip: bool = False,
) -> _Lines:
    """The forward and backward lines of `nodes` (a topological order).

    `wanted`: ids of the leaves whose gradients are asked for; their sums
    (``g_name``) only grow, from 0.0 where the name is not yet in `started`
    (which this updates). `seeded`: ids of
    nodes whose gradient is set before the backward lines. `special(node,
    lines, "forward" or "backward")` may write a node itself (it returns True).
    With `skip`, a node whose gradient is zero adds nothing to the wanted
    sums, as in `backpropagate`; that is exact while the derivatives it would
    have multiplied are finite: their names are listed in ``checked``, for
    the caller to check, and the others are checked where lines are skipped
    (added to ``check``, which the caller must start and test).
    """
    forward: list[str] = []
    needs = set(wanted)
    sources: dict[int, list[str]] = {}
    for node in nodes:
        if special is not None and special(node, forward, "forward"):
            needs.add(id(node))
            continue
        out = writer.new(node)
        operands = node._edges[0::2]
        op = node._op
        assert op is not None  # only computed nodes are in a topological order
        sources[id(node)] = names = [writer.name(o) for o in operands]
        forward.append(f"{out} = {_forward(writer, op, names, forward)}")
        if any(id(o) in needs for o in operands if type(o) is not float):
            needs.add(id(node))
    # NOTE: a computed node's gradient is written once, as the sum of its terms in the order backward()
    # adds them, when its own turn comes. backward() starts that sum at 0.0, and 0.0 + t differs from t
    # only when t is -0.0; the sign of a zero gradient changes no sum it is later multiplied into,
    # since those sums (the wanted ones) start at +0.0 too. So the 0.0 is left out.
    terms: dict[int, list[str]] = {}
    blocks = [_Block(None)]
    for node in reversed(nodes):
        if id(node) not in needs:
            continue
        out, op = writer.names[id(node)], node._op
        g = "g_" + out
        block = blocks[-1]
        if id(node) not in seeded:
            block.lines += _sum_lines(g, terms.pop(id(node), ["0.0"]))
        if skip and not terms and node is not nodes[0]:  # every gradient still to come is a multiple of g
            if block.guard is not None and not block.adds:  # nothing skipped yet: move the guard down to g
                blocks.pop()
                blocks[-1].merge(block)
            block = _Block(g)
            blocks.append(block)
        if special is not None and special(node, block.lines, "backward"):
            continue
        assert op is not None
        operands = node._edges[0::2]
        targets = [(k, o) for k, o in enumerate(operands) if type(o) is not float and id(o) in needs]
        if not targets:
            continue
        before = len(block.lines)
        locals_ = _derivatives(writer, op, sources[id(node)], out, block.lines)
        block.derivatives += block.lines[before:]
        sums: dict[str, list[str]] = {}  # the wanted sums this node adds to: the local derivative of each term
        for k, operand in targets:
            local = locals_[k]
            if local.isidentifier():
                block.read.append(local)
            elif not _simple(local):
                block.computed.append(local)
            if id(operand) in wanted:
                sums.setdefault("g_" + writer.names[id(operand)], []).append(local)
            else:
                terms.setdefault(id(operand), []).append(_term(local, g))
        lines = _vector_sums(writer, sums, started, g) if not skip and len(sums) > LINE else []
        lines = lines or [_add(n, [_term(local, g) for local in added], n in started) for n, added in sums.items()]
        started.update(sums)
        block.adds = block.adds or bool(lines)
        if skip and len(lines) > 2 and g != block.guard and all(_simple(d) for added in sums.values() for d in added):
            block.lines += [f"if {g}:  # a zero gradient adds nothing", *_indented(lines)]
        else:
            block.lines += lines
    return _Lines(forward, _nest(blocks), [name for block in blocks for name in block.read])


def _add(name: str, terms: list[str], started: bool) -> str:
    """The line adding `terms` to the sum `name`, left to right (from 0.0 if it has not `started`)."""
    if not started:
        return f"{name} = 0.0 + {' + '.join(terms)}"
    return f"{name} += {terms[0]}" if len(terms) == 1 else f"{name} = {name} + {' + '.join(terms)}"


@dataclass
class _Block:
    """Backward lines that run only when `guard`, a gradient, is not zero (None: always).

    When a gradient is zero, backward() skips its node: every term it would
    add is 0 times a derivative, which changes nothing while that derivative
    is finite. So once every gradient still to come is a multiple of one
    gradient, the rest of the lines can wait for it to be non-zero; when it
    is zero, the derivatives those lines would read are only checked for
    being finite (`computed` here; names they `read` are checked by the caller).
    """

    guard: str | None
    lines: list[str] = field(default_factory=list)
    derivatives: list[str] = field(default_factory=list)
    """The lines among `lines` that compute several derivatives at once (``v3_d = ...``)."""
    computed: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    adds: bool = False
    """True once a line adds to a wanted gradient."""

    def merge(self, inner: _Block) -> None:
        """Take the lines of `inner` as this block's own (they run when this block's guard holds)."""
        self.lines += inner.lines
        self.derivatives += inner.derivatives
        self.computed += inner.computed
        self.read += inner.read
        self.adds = self.adds or inner.adds


def _nest(blocks: list[_Block]) -> list[str]:
    """The blocks' lines, each guarded block inside the one before it, its else branch checking derivatives."""
    lines: list[str] = []
    derivatives: list[str] = []
    computed: list[str] = []
    for block in reversed(blocks):
        derivatives = block.derivatives + derivatives
        computed = block.computed + computed
        if block.guard is None:
            lines = block.lines + lines
            continue
        otherwise = [*derivatives, *_sum_lines("check", ["check", *(f"({c})" for c in computed)])] if computed else []
        lines = [f"if {block.guard}:  # when it is zero, nothing below adds anything", *_indented(block.lines + lines)]
        if otherwise:
            lines += ["else:  # nothing to add, unless a derivative is not finite", *_indented(otherwise)]
    return lines


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _vector_sums(writer: _Writer, sums: dict[str, list[str]], started: set[str], g: str) -> list[str]:
    """One comprehension for a wide node's terms into a run of parameters' gradients, when they line up.

    `sums` holds, for each gradient, the local derivatives its terms multiply `g` by.

    An L2 penalty adds ``p * g`` twice to every parameter's gradient: as a
    comprehension over ``zip(P0_n, P0_n)`` that is one line instead of n,
    with the same arithmetic, ``(0.0 + p * g) + p * g``, for each. [] when
    the terms do not line up (each a run of parameters, or one constant).
    """
    names = list(sums)
    first = writer.shared.get(names[0][2:])
    if first is None or any(writer.shared.get(n[2:]) != first + k for k, n in enumerate(names)):
        return []
    counts = {len(added) for added in sums.values()}
    if len(counts) != 1 or not all(_simple(local) for added in sums.values() for local in added):
        return []
    columns: list[str] = []
    for t in range(counts.pop()):
        column = [added[t] for added in sums.values()]
        if len(set(column)) == 1 and not _NAME.fullmatch(column[0]):
            columns.append(f"repeat({column[0]})")
            continue
        start = writer.shared.get(column[0])
        if start is None or any(writer.shared.get(c) != start + k for k, c in enumerate(column)):
            return []
        columns.append(writer.slices.setdefault((start, start + len(column)), f"P{start}_{start + len(column)}"))
    before = [f"({', '.join(names)},)" if names[0] in started else "repeat(0.0)"]
    writer.bind("repeat", itertools.repeat)
    locals_ = [f"l{k}" for k in range(len(columns))]
    added = " + ".join(f"{local} * {g}" for local in locals_)
    loop = f"for before, {', '.join(locals_)} in zip({', '.join(before + columns)})"
    return [f"{', '.join(names)}, = [before + {added} {loop}]"]


def _sum_lines(name: str, terms: list[str]) -> list[str]:
    """`name` = the terms added left to right, in lines of at most `LINE` terms."""
    lines = [f"{name} = {' + '.join(terms[:LINE])}"]
    for start in range(LINE, len(terms), LINE):
        lines.append(f"{name} = {name} + {' + '.join(terms[start : start + LINE])}")
    return lines


def _leaves(nodes: Iterable[Value]) -> set[int]:
    return {id(o) for node in nodes for o in node._edges[0::2] if type(o) is not float and o._op is None}


def _listed(names: Sequence[str]) -> str:
    """Names as a tuple's items: ``a, b``, or ``a,`` for one, or nothing."""
    return f"{names[0]}," if len(names) == 1 else ", ".join(names)


def _indent(lines: Iterable[str], depth: int) -> str:
    pad = "    " * depth
    return "".join(f"{pad}{line}\n" for line in lines)


def _define(source: str, namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    code = builtins_compile(source, f"<compiled {name}>", "exec")
    exec(code, namespace)
    function: Callable[..., Any] = namespace[name]
    return function


builtins_compile = compile  # the builtin, before this module's `compile` below replaces the name


_RESERVED = re.compile(
    r"[vcT]\d+|P\d+_\d+|g_.*|.*_(forward|derivatives)_*|.*_d|"
    r"parameters|rows|tape|terms|outputs|check|abs|sum|zip|repeat|reversed|isfinite"
)
"""Names the written code uses for its own values and helpers."""


def _identifiers(names: Sequence[str], fallback: str, taken: Sequence[str] = ()) -> list[str]:
    """`names` as identifiers the written code can use; one it cannot use becomes `fallback` + its index.

    `taken`: names the code uses besides these (the inputs of a step, x0, x1, ...).
    """
    cleaned = [re.sub(r"\W", "_", name) for name in names]
    given = set(cleaned)
    seen: set[str] = {*taken}
    out = []
    for k, name in enumerate(cleaned):
        usable = name.isidentifier() and not keyword.iskeyword(name) and not _RESERVED.fullmatch(name)
        if not usable or name in seen or name in _MATH:
            name = f"{fallback}{k}"
            while name in seen or name in given:  # a fallback must not take a name given to another
                name += "_"
        seen.add(name)
        out.append(name)
    return out


# -- the trace: ordinary code run on Values, watched for comparisons ----------------------------

_ORDERINGS = ("__lt__", "__le__", "__gt__", "__ge__")
_watch = threading.local()  # .compared: the comparisons this thread made while tracing (None: not tracing)
_watch_lock = threading.Lock()
_watchers = 0


@contextmanager
def _comparisons_watched() -> Iterator[list[str]]:
    """Record each comparison of a Value this thread makes inside the block (``x > 0`` chooses by the data).

    A comparison in traced code means its operations may depend on the
    values: the trace would freeze one branch. The methods are wrapped while
    any thread traces; other threads' comparisons pass straight through.
    """
    global _watchers
    compared: list[str] = []
    with _watch_lock:
        if _watchers == 0:
            for name in _ORDERINGS:
                setattr(Value, name, _watched(name, getattr(Value, name)))
        _watchers += 1
    _watch.compared = compared
    try:
        yield compared
    finally:
        _watch.compared = None
        with _watch_lock:
            _watchers -= 1
            if _watchers == 0:
                for name in _ORDERINGS:
                    setattr(Value, name, getattr(Value, name).__wrapped__)


def _watched(name: str, method: Callable[[Value, object], bool]) -> Callable[[Value, object], bool]:
    symbol = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}[name]

    @functools.wraps(method)
    def compare(self: Value, other: object) -> bool:
        compared = getattr(_watch, "compared", None)
        if compared is not None:
            compared.append(f"{self!r} {symbol} {other!r}")
        return method(self, other)

    return compare


def _traced(run: Callable[[], Any]) -> Any:
    """`run()` recording a graph; a CompileError if it compared Values on the way."""
    with enable_grad(), _comparisons_watched() as compared:
        result = run()
    if compared:
        raise CompileError(
            f"the traced code compares Values ({compared[0]}), so its operations may depend on the data: "
            "write the choice as an operation (relu, abs, leaky_relu, or a Primitive of your own)"
        )
    return result


# -- compile: a function of numbers --------------------------------------------------------


class Compiled:
    """A function of numbers, traced once and written out as Python: ``value, gradients = compiled(*xs)``.

    Calling it returns the function's value and its gradient with respect
    to each input, the bits `Value.backward` would give (see `compile`).
    ``source`` is the written-out code.
    """

    def __init__(self, fn: Callable[..., Value], example: Sequence[float], names: Sequence[str] | None = None) -> None:
        self.fn = fn
        self.arity = len(example)
        inputs = [Value(float(x)) for x in example]
        out = _traced(lambda: fn(*inputs))
        if not isinstance(out, Value):
            raise CompileError(f"the function must return a Value, not {type(out).__name__}")
        if names is None:
            try:
                names = list(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                names = []
        names = list(names) if len(names) == len(inputs) else [f"x{k}" for k in range(len(inputs))]
        writer = _Writer()
        params = _identifiers(names, "x")
        for x, name in zip(inputs, params):
            writer.names[id(x)] = name
        order = topological_order(out)
        for leaf in {id(o): o for n in order for o in n._edges[0::2] if type(o) is not float}.values():
            if leaf._op is None and id(leaf) not in writer.names:  # made inside the function: a constant
                writer.names[id(leaf)] = writer.constant(leaf.data)
        wanted = {id(x) for x in inputs}
        started: set[str] = set()
        if out._op is None:  # the function returned an input or a constant
            result = writer.names.get(id(out)) or writer.constant(out.data)
            forward, backward = [], []
        else:
            lines = _write(writer, order, wanted, {id(out)}, started)
            forward, backward = lines.forward, lines.backward
            result = writer.names[id(out)]
        grads = ["g_" + name for name in params]
        seeds = [f"{g} = {'1.0' if x is out else '0.0'}" for g, x in zip(grads, inputs) if g not in started]
        if out._op is not None:
            seeds.append(f"g_{result} = 1.0")
        self.source = (
            f"def compiled({', '.join(params)}):\n"
            f"{_indent(forward, 1)}{_indent(seeds, 1)}{_indent(backward, 1)}"
            f"    return {result}, ({_listed(grads)})\n"
        )
        self.function = _define(self.source, writer.namespace, "compiled")
        """The written-out function itself, without the guards: ``function(*floats)``."""
        self._warned = False

    def __call__(self, *xs: float) -> tuple[float, tuple[float, ...]]:
        if len(xs) != self.arity:
            raise TypeError(f"the compiled function takes {self.arity} numbers, got {len(xs)}")
        values = [_number(x, k) for k, x in enumerate(xs)]
        try:
            value, grads = self.function(*values)
        except (ArithmeticError, ValueError) as error:
            return self._dynamic(values, f"{type(error).__name__}: {error}")
        if not math.isfinite(value) or not all(map(math.isfinite, grads)):
            return self._dynamic(values, "a value or gradient is not finite")
        return value, grads

    def _dynamic(self, values: list[float], reason: str) -> tuple[float, tuple[float, ...]]:
        if not self._warned:
            self._warned = True
            message = f"compiled function: {reason}; running it on the dynamic engine"
            warnings.warn(message, CompileWarning, stacklevel=3)
        inputs = [Value(x) for x in values]
        with enable_grad():
            out = self.fn(*inputs)
        out.backward()
        return out.data, tuple(x.grad for x in inputs)


def _number(x: object, k: int) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"input {k} must be a real number, not {type(x).__name__}")
    return float(x)


def compile(fn: Callable[..., Value], *example: float, names: Sequence[str] | None = None) -> Compiled:
    """Trace ``fn(*Values)`` once, at `example`, and write its forward and backward passes out as Python.

    The result is called with numbers and returns ``(value, gradients)``:
    what ``out = fn(*map(Value, xs)); out.backward()`` gives, to the bit,
    without building a graph. `fn` must do the same operations for any
    input (see the module docstring); Values it makes itself are constants.
    The source names the inputs after `fn`'s parameters, or `names`.

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
    return Compiled(fn, [_number(x, k) for k, x in enumerate(example)], names)


# -- compile_batch: a training step, one traced example as the body of a loop -----------------


class CompiledBatch:
    """A training step written out: ``loss, outputs, gradients = step(parameter_values, rows)``.

    `rows` holds one tuple of numbers per example (its inputs, then its
    target); `outputs` the model's outputs per example (a float, or a list);
    `gradients` one per parameter. See `compile_batch`.
    """

    def __init__(self, source: str, run: Callable[..., Any], size: int) -> None:
        self.source, self.function, self.size = source, run, size

    def __call__(self, parameters: Sequence[float], rows: Sequence[Sequence[float]]) -> Any:
        if len(rows) != self.size:
            raise ValueError(f"this compiled step takes batches of {self.size} examples, not {len(rows)}")
        return self.function(parameters, rows)


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
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"the batch size must be a positive int, not {size!r}")
    writer = _Writer()
    params, inputs, columns = _named(writer, parameters, names, row)
    term, output = _traced(lambda: example(inputs))
    terms = [Value(0.0) for _ in range(size)]
    loss = _traced(lambda: total(terms))
    if not isinstance(term, Value) or term._op is None or not isinstance(loss, Value):
        raise CompileError("an example's term and the loss must be computed Values")
    known = {id(v) for v in (*parameters, *inputs)}
    region = topological_order(term)
    strangers = _leaves(region) - known
    if strangers:
        raise CompileError("an example reaches a leaf Value that is neither a parameter nor an input")
    wanted = {id(p) for p in parameters}
    grads = ["g_" + name for name in params]
    body = _write(writer, region, wanted, {id(term)}, set(grads), skip=True)
    body_forward, body_backward = body.forward, body.backward
    shared = set(params)
    checked = [name for name in dict.fromkeys(body.checked) if name not in shared]  # parameters: checked once
    outputs = output if isinstance(output, list) else [output]
    shown = [writer.name(o) for o in outputs]

    tail_order = topological_order(loss)
    batch_sum = _find_sum(tail_order, terms)
    if _leaves(tail_order) - wanted - {id(t) for t in terms}:
        raise CompileError("the loss reaches a leaf Value that is neither a parameter nor a term")
    saved = sorted(
        {n for line in body_backward for n in _NAME.findall(line)} & {*columns, *writer.names.values()} - shared,
        key=_natural,
    )
    g_term = "g_" + writer.names[id(term)]

    def sum_of_terms(node: Value, lines: list[str], phase: str) -> bool:
        if node is not batch_sum:
            return False
        if phase == "forward":  # the loop over the batch, then the sum of its terms
            name = writer.new(node)
            writer.groups = {}  # a tuple of one example's values is built in the loop
            lines += [
                "tape, terms, outputs = [], [], []",
                f"for {_listed(columns)} in rows:",
                *_indented(body_forward),
                *_indented(_sum_lines("check", ["check", *checked]) if checked else []),
                f"    tape.append(({_listed(saved)}))",
                f"    terms.append({writer.names[id(term)]})",
                f"    outputs.append({shown[0] if not isinstance(output, list) else '[' + ', '.join(shown) + ']'})",
                f"{name} = {writer.function(rules.sum_, 'forward')}(*terms)",
            ]
            return True
        lines += [f"{g} = 0.0" for g in grads if g not in started]  # what the loss adds beyond the examples' terms
        started.update(grads)
        lines += [
            f"g_term = 0.0 + g_{writer.names[id(node)]}  # each term's gradient: 1.0 times the sum's",
            f"for {_listed(saved)} in reversed(tape):" if saved else "for _ in tape:",
            f"    {g_term} = g_term",
            *_indented(body_backward),
        ]
        return True

    started: set[str] = set()
    writer.groups = {}
    tail = _write(writer, tail_order, wanted, {id(loss)}, started, sum_of_terms)
    tail_forward, tail_backward = tail.forward, tail.backward
    result = writer.names[id(loss)]
    lines = [
        *_unpacked(writer, params),
        "check = sum(parameters)  # skipped lines are exact where what they would multiply is finite",
        *tail_forward,
        f"g_{result} = 1.0",
        *tail_backward,
        "if not isfinite(check):",
        "    raise FloatingPointError('a number that is not finite: the dynamic engine takes this step')",
        f"return {result}, outputs, [{', '.join(grads)}]",
    ]
    source = f"def step(parameters, rows):\n{_indent(lines, 1)}"
    return CompiledBatch(source, _define(source, writer.namespace, "step"), size)


class CompiledMap:
    """A model's forward pass written out: ``outputs = forward(parameter_values, rows)``, one output per row."""

    def __init__(self, source: str, function: Callable[..., Any]) -> None:
        self.source, self.function = source, function

    def __call__(self, parameters: Sequence[float], rows: Sequence[Sequence[float]]) -> list[Any]:
        result: list[Any] = self.function(parameters, rows)
        return result


def compile_map(
    parameters: Sequence[Value],
    fn: Callable[[list[Value]], Any],
    row: Sequence[float],
    names: Sequence[str] = (),
) -> CompiledMap:
    """Write out ``fn(row)`` (a Value or a list of Values) for many rows: a forward pass, no gradients.

    Forward values need no guard: they are the same operations on the same
    numbers as the dynamic engine's, and an error is the same error.

    Raises:
        CompileError: `fn` compares Values, or reaches a leaf that is neither
            a parameter nor one of the row's inputs.
    """
    writer = _Writer()
    params, inputs, columns = _named(writer, parameters, names, row)
    output = _traced(lambda: fn(inputs))
    outputs = output if isinstance(output, list) else [output]
    if not all(isinstance(o, Value) for o in outputs):
        raise CompileError("the function must return a Value or a list of Values")
    region = list({id(n): n for o in outputs for n in topological_order(o)}.values())
    if _leaves(region) - {id(v) for v in (*parameters, *inputs)}:
        raise CompileError("the function reaches a leaf Value that is neither a parameter nor an input")
    body = _write(writer, region, set(), set(), set())
    shown = [writer.names.get(id(o)) or writer.constant(o.data) for o in outputs]
    result = f"[{', '.join(shown)}]" if isinstance(output, list) else shown[0]
    lines = [
        *_unpacked(writer, params),
        "outputs = []",
        f"for {_listed(columns)} in rows:",
        *_indented(body.forward),
        f"    outputs.append({result})",
        "return outputs",
    ]
    source = f"def forward(parameters, rows):\n{_indent(lines, 1)}"
    return CompiledMap(source, _define(source, writer.namespace, "forward"))


def _named(
    writer: _Writer, parameters: Sequence[Value], names: Sequence[str], row: Sequence[float]
) -> tuple[list[str], list[Value], list[str]]:
    """Names for the parameters (`names`, or p0, p1, ...) and for one row's inputs (x0, x1, ...), as Values."""
    if not all(isinstance(p, Value) for p in parameters):
        raise TypeError("parameters must be Values")
    if len({id(p) for p in parameters}) != len(parameters):
        raise CompileError("a parameter is listed twice")
    inputs = [Value(_number(x, k)) for k, x in enumerate(row)]
    columns = [f"x{k}" for k in range(len(inputs))]
    given = list(names) if len(names) == len(parameters) else [f"p{k}" for k in range(len(parameters))]
    params = _identifiers(given, "p", taken=columns)
    for k, (p, name) in enumerate(zip(parameters, params)):
        writer.names[id(p)] = name
        writer.shared[name] = k
    for x, name in zip(inputs, columns):
        writer.names[id(x)] = name
    return params, inputs, columns


def _unpacked(writer: _Writer, params: list[str]) -> list[str]:
    """The lines that take the ``parameters`` list apart: one name each, and the runs wide nodes take whole."""
    return [
        f"{_listed(params)} = parameters",
        *[f"{name} = parameters[{start}:{stop}]" for (start, stop), name in writer.slices.items()],
    ]


def _find_sum(order: list[Value], terms: list[Value]) -> Value:
    """The one ``sum`` node of `order` whose operands are the terms, in order, each used nowhere else."""
    ids = {id(t) for t in terms}
    found = [n for n in order if n._op is rules.sum_ and [id(o) for o in n._edges[0::2]] == [id(t) for t in terms]]
    uses = sum(1 for n in order for o in n._edges[0::2] if id(o) in ids)
    if len(found) != 1 or uses != len(terms):
        raise CompileError("the loss must add the examples' terms with one sum node, using each term once")
    return found[0]


def _natural(name: str) -> tuple[str, int]:
    stem = name.rstrip("0123456789")
    return stem, int(name[len(stem) :] or 0)
