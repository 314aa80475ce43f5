"""``python -m autograd``: the value and gradient of an expression, and its picture.

The expression is parsed with `ast` and checked against a whitelist before
anything is evaluated; it is then evaluated on Values by walking the checked
tree with an explicit stack. User text is never given to `eval` or `exec`.

The language: numbers, the variables given on the command line, ``+ - * / **``,
unary minus and plus, parentheses, and the functions of the rule table: exp,
log, sqrt, tanh, sigmoid, relu, sin, cos and abs take one argument; leaky_relu
takes two, the input and the slope, ``leaky_relu(x, 0.1)``; sum takes a list,
``sum([a, b, c])``, and dot two lists and a bias, ``dot([w1, w2], [x1, x2],
b)``, as in Python. Numbers are constants, as in the engine: only the
variables are Values, so only they have gradients.

Limits, so that no input can hang or crash the program: at most `MAX_LENGTH`
characters, at most `MAX_DEPTH` levels of nesting (every operator, call and
parenthesis is a level), and constant exponents of at most `MAX_EXPONENT` in
absolute value. Variable values must be finite numbers. Names are normalised
(NFKC) as Python normalises identifiers, so ``ｘ=2`` gives ``x`` its value.

Exit status: 0 on success, 2 when the input is refused (with a one-line
message on stderr), 1 when the picture cannot be written (no renderer, no
renderer that writes the format, as for PDF without Graphviz, or the file
cannot be written). A value or derivative that is not a finite number is
refused (status 2) with a message naming it, as an overflow in ``exp`` or
``**`` is: ``x*x`` at ``x=1e200`` overflows, and so does ``sqrt(x)``'s
derivative at 0, which is infinite.

Options are read anywhere, but an argument in the expression's place that is
not one of the options is the expression: ``python -m autograd --x x=1`` is
the expression ``--x``. Put ``--`` before the expression to be sure.

Example:
    >>> from autograd.cli import main
    >>> main(["x * y + 1", "x=2", "y=3"])
    x * y + 1 = 7
      d/dx = 3
      d/dy = 2
    0
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import autograd
from autograd.draw import DEFAULT_MAX_NODES, FILE_FORMATS, GraphTooLargeError, save_graph
from autograd.engine import Value
from autograd.functional import grad
from autograd.rules import PRIMITIVES

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "ExpressionError",
    "evaluate",
    "main",
    "names_in",
    "parse",
    "parse_variables",
]

MAX_LENGTH = 10_000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 100
"""Deepest nesting accepted: syntax-tree levels, and also levels of parentheses."""
MAX_EXPONENT = 1_000.0
"""Largest constant exponent accepted, in absolute value."""

Operand = Value | float

# The language comes from the rule table: every primitive with a Python operator is that
# operator, every other primitive is a function of the same name (as exported by `autograd`).
# On numbers they return numbers (constants fold, with the engine's domain checks and
# messages); on Values they record a node. `a - b` records a + (-b), as the engine does.
_PYTHON_OPERATORS: dict[str, type[ast.operator]] = {"+": ast.Add, "*": ast.Mult, "/": ast.Div, "**": ast.Pow}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    p.name: getattr(autograd, p.name) for p in PRIMITIVES.values() if p.operator is None
}
"""The functions by name; those of any arity take lists, as in Python: ``sum([a, b])``, ``dot([w], [x], b)``."""
BINARY: dict[type[ast.operator], Callable[[Operand, Operand], Operand]] = {
    _PYTHON_OPERATORS[p.operator]: p for p in PRIMITIVES.values() if p.operator in _PYTHON_OPERATORS
}
UNARY: dict[type[ast.unaryop], Callable[[Operand], Operand]] = {
    ast.USub: next(p for p in PRIMITIVES.values() if p.operator == "-"),
    ast.UAdd: lambda a: a,
}
BINARY[ast.Sub] = lambda a, b: BINARY[ast.Add](a, UNARY[ast.USub](b))
_LIST_FUNCTIONS = frozenset(p.name for p in PRIMITIVES.values() if p.operator is None and p.arity is None)
_ARITIES = {p.name: p.arity for p in PRIMITIVES.values() if p.operator is None and p.arity is not None}
"""How many arguments each function of a fixed number of operands takes: ``leaky_relu(x, 0.1)`` takes two."""
_COUNTS = {1: "one argument", 2: "two arguments", 3: "three arguments"}

EXAMPLES = f"""\
examples:
  python -m autograd "tanh(x*w + b)" x=0.5 w=-2 b=1
  python -m autograd "x**2 * sin(y)" x=3 y=0.1 -o graph.svg
  python -m autograd "sigmoid(a) * log(b)" a=0 b=2 -o graph.png --rankdir TB
  python -m autograd "-x**2" x=3
  python -m autograd "tanh(x*w + b)" x=0.5 w=-2 b=1 --source   # backprop written out as Python

The expression may use numbers, the variables given as name=value, + - * / **,
unary minus and plus, parentheses, and the functions {" ".join(FUNCTIONS)}
(leaky_relu takes the input and the slope, "leaky_relu(x, 0.1)";
sum and dot take lists, as in Python: "sum([a, b, c])", "dot([w1, w2], [x1, x2], b)").
Limits: {MAX_LENGTH:,} characters, {MAX_DEPTH} levels of nesting, constant exponents
up to {MAX_EXPONENT:g}; variable values must be finite numbers.
The drawing's format follows the file suffix: {" ".join(FILE_FORMATS)}

A value or derivative that is not finite (inf, nan) is refused.
exit status: 0 done, 2 input refused (a one-line message), 1 picture not written"""

_OPTIONS_WITH_VALUE = ("-o", "--output", "--rankdir", "--digits", "--max-nodes")
_LONG_OPTIONS = ("--output", "--rankdir", "--digits", "--max-nodes", "--help", "--source")


class ExpressionError(ValueError):
    """An expression or variable that the command line refuses, with the reason."""


def _too_deep() -> ExpressionError:
    return ExpressionError(
        f"the expression is nested too deeply (the limit is {MAX_DEPTH} levels; "
        "every operator, call and parenthesis is a level)"
    )


def parse(text: str) -> ast.expr:
    """Parse `text` and check every node against the whitelist; return the expression tree.

    Raises:
        ExpressionError: the text is empty, too long, too deep, not valid
            syntax, or uses anything outside the language.

    Example:
        >>> import ast
        >>> ast.unparse(parse("tanh(x*w + b)"))
        'tanh(x * w + b)'
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:  # first: every other check reads the whole text
        raise ExpressionError(f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if _bracket_depth(text) > MAX_DEPTH:
        raise _too_deep()  # before Python's parser, which recurses over nesting
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        detail = error.msg or "invalid syntax"
        if "digits" in detail:
            detail = "a number has too many digits"
        raise ExpressionError(f"syntax error: {detail}") from None
    except (RecursionError, MemoryError):  # long chains of unary operators
        raise _too_deep() from None
    except ValueError as error:  # a NUL character, on some Python versions
        raise ExpressionError(f"syntax error: {error}") from None
    _check(tree.body)
    return tree.body


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for character in text:
        if character in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in ")]}":
            depth -= 1
    return deepest


def _check(root: ast.expr) -> None:
    """Refuse anything outside the language, and trees deeper than `MAX_DEPTH` (an explicit stack, no recursion)."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        children: list[ast.AST]
        if isinstance(node, ast.Constant):
            _number(node)
            children = []
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as {node.id}(x)")
            children = []
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in BINARY:
                raise ExpressionError(f"the operator in {_source(node)!r} is not allowed (use + - * / **)")
            if isinstance(node.op, ast.Pow):
                _check_exponent(node.right)
            children = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in UNARY:
                raise ExpressionError(f"the operator in {_source(node)!r} is not allowed (use + - * / **)")
            children = [node.operand]
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                raise ExpressionError(
                    f"calling {_source(node.func)!r} is not allowed; the functions are {', '.join(FUNCTIONS)}"
                )
            plain = not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
            if name not in _LIST_FUNCTIONS and not (
                plain and len(node.args) == _ARITIES[name] and not any(isinstance(a, ast.List) for a in node.args)
            ):
                count = _ARITIES[name]
                raise ExpressionError(f"{name}() takes exactly {_COUNTS.get(count, f'{count} arguments')}")
            if not plain:
                raise ExpressionError(f"{name}() takes its arguments in order, without names or *")
            children = []
            for argument in node.args:
                if isinstance(argument, ast.List):  # a list is allowed here only, as a function's argument
                    if any(isinstance(e, ast.Starred) for e in argument.elts):
                        raise ExpressionError(f"{name}(): a list argument cannot use *")
                    stack.extend((element, depth + 2) for element in argument.elts)
                else:
                    children.append(argument)
        else:
            raise ExpressionError(f"{_describe(node)} is not allowed in an expression")
        stack.extend((child, depth + 1) for child in children)


def _number(node: ast.Constant) -> float:
    """The constant as a float, or ExpressionError when it is not a finite real number."""
    value = node.value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ExpressionError(f"{_source(node)} is not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ExpressionError("a number in the expression is too large for a float (over 1.8e308)")
    return number


def _check_exponent(exponent: ast.expr) -> None:
    """Refuse a constant exponent (or its negation) larger than `MAX_EXPONENT`."""
    constant = exponent.operand if isinstance(exponent, ast.UnaryOp) else exponent
    if isinstance(constant, ast.Constant) and abs(_number(constant)) > MAX_EXPONENT:
        raise ExpressionError(f"the exponent {_source(exponent)} is too large (the limit is {MAX_EXPONENT:g})")


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripting",
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.Compare: "a comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.NamedExpr: "an assignment",
    }
    return names.get(type(node), repr(_source(node)))


def _source(node: ast.AST) -> str:
    """The node as text, shortened; `ast.unparse` recurses, so it is used only on trees already within depth."""
    segment = node.value if isinstance(node, ast.Constant) else None
    text = repr(segment) if isinstance(segment, (int, float)) and not isinstance(segment, bool) else None
    if text is None:
        try:
            text = ast.unparse(node)
        except RecursionError:
            text = type(node).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def names_in(tree: ast.expr) -> list[str]:
    """The variable names a checked expression uses, in order of first appearance (function names excluded)."""
    found: dict[str, None] = {}
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            found.setdefault(node.id)
        children = node.args if isinstance(node, ast.Call) else list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))
    return list(found)


def parse_variables(assignments: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-2"]`` as ``{"x": 0.5, "w": -2.0}``; names normalised as Python does.

    Raises:
        ExpressionError: not ``name=value``, a name that is not an identifier
            (or is a keyword or a function), a name given twice, or a value
            that is not a finite number.

    Example:
        >>> parse_variables(["ｘ=0.5", "w=-2"])
        {'x': 0.5, 'w': -2.0}
    """
    variables: dict[str, float] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())
        if not sep or not name:
            raise ExpressionError(f"{item!r} is not name=value")
        if not name.isidentifier() or keyword.iskeyword(name) or name in FUNCTIONS:
            raise ExpressionError(f"{name!r} cannot be a variable name")
        if name in variables:
            raise ExpressionError(f"{name!r} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"{name}={text!r}: the value is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{name}={text}: the value must be a finite number")
        variables[name] = value
    return variables


def evaluate(tree: ast.expr, variables: dict[str, Value]) -> Value | float:
    """Evaluate a checked tree (from `parse`) on Values, bottom-up with an explicit stack.

    Example:
        >>> from autograd import Value
        >>> y = evaluate(parse("x * 2 + 1"), {"x": Value(3.0)})
        >>> y.data
        7.0
    """
    results: dict[int, Value | float] = {}
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = _number(node)
        elif isinstance(node, ast.Name):
            if node.id not in variables:
                raise ExpressionError(f"no value for {node.id!r}: give one on the command line, as {node.id}=1.0")
            results[id(node)] = variables[node.id]
        elif not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in _operands(node))
        elif isinstance(node, ast.BinOp):
            results[id(node)] = BINARY[type(node.op)](results.pop(id(node.left)), results.pop(id(node.right)))
        elif isinstance(node, ast.UnaryOp):
            results[id(node)] = UNARY[type(node.op)](results.pop(id(node.operand)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arguments = [
                [results.pop(id(e)) for e in a.elts] if isinstance(a, ast.List) else results.pop(id(a))
                for a in node.args
            ]
            results[id(node)] = _call(node.func.id, arguments)
    return results[id(tree)]


def _call(name: str, arguments: list[Any]) -> Value | float:
    """A function of the table on evaluated arguments; a wrong argument list is the user's error, said so."""
    try:
        return FUNCTIONS[name](*arguments)  # type: ignore[no-any-return]
    except TypeError as error:
        raise ExpressionError(f"{name}(): {error}") from None


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [e for a in node.args for e in (a.elts if isinstance(a, ast.List) else [a])]
    raise ExpressionError(f"{_describe(node)} is not allowed in an expression")


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so that every refusal is handled in one place."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m autograd",
        description="Print the value of an expression and its gradient with respect to each variable.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("expression", help='for example "tanh(x*w + b)" (quote it for the shell)')
    parser.add_argument("variables", nargs="*", metavar="name=value", help="a value for each variable")
    parser.add_argument("-o", "--output", type=Path, help="also draw the graph to this file (.svg .png .pdf .dot .gv)")
    parser.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="drawing direction (default LR)")
    parser.add_argument("--digits", type=int, default=10, help="significant digits to print (default 10)")
    parser.add_argument(
        "--max-nodes", type=int, default=DEFAULT_MAX_NODES, help=f"largest graph to draw (default {DEFAULT_MAX_NODES})"
    )
    parser.add_argument(
        "--source",
        action="store_true",
        help="also print the forward and backward passes written out as Python (autograd.compile)",
    )
    return parser


def _options_first(argv: Sequence[str]) -> list[str]:
    """The options, then ``--`` and the rest, so that an expression such as ``-x**2`` or ``--x`` is not read as one.

    A ``--word`` that is not an option of this program is the expression when
    it comes where the expression does, and an unknown option (which argparse
    reports) after it.
    """
    options: list[str] = []
    rest: list[str] = []
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--":
            rest.extend(arguments)
        elif argument in _OPTIONS_WITH_VALUE:
            options.append(argument)
            value = next(arguments, None)
            if value is not None:
                options.append(value)
        elif argument == "-h" or argument.split("=", 1)[0] in _LONG_OPTIONS:
            options.append(argument)
        elif rest and argument.startswith("--") and argument[2:3].isalpha():
            options.append(argument)  # after the expression: an unknown long option, reported by argparse
        else:
            rest.append(argument)
    return [*options, "--", *rest]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done, 2 input refused, 1 picture not written)."""
    parser = _parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        _complain(parser, ValueError('give an expression, as: python -m autograd "x * y + 1" x=2 y=3 (see --help)'))
        return 2
    try:
        return _run(parser.parse_args(_options_first(arguments)))
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except (
        RuntimeError,
        OSError,
    ) as error:  # no renderer (for this format), a renderer that failed, a file not written
        _complain(parser, error)
        return 1
    except (_ArgumentError, ArithmeticError, ValueError) as error:  # ExpressionError, and the engine's domain errors
        _complain(parser, error)
        return 2


def _complain(parser: argparse.ArgumentParser, error: BaseException) -> None:
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"{parser.prog}: error: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    if not 1 <= args.digits <= 17:
        raise ExpressionError("--digits must be from 1 to 17")
    if args.max_nodes < 1:
        raise ExpressionError(f"--max-nodes must be at least 1, not {args.max_nodes}")
    if args.output is not None and args.output.suffix.lower() not in FILE_FORMATS:
        raise ExpressionError(f"cannot tell the format of {str(args.output)!r}: use {' '.join(FILE_FORMATS)}")
    tree = parse(args.expression)
    numbers = parse_variables(args.variables)
    used = names_in(tree)
    missing = [name for name in used if name not in numbers]
    if missing:
        example = " ".join(f"{name}=1.0" for name in missing)
        raise ExpressionError(
            f"no value for {', '.join(map(repr, missing))}: give one on the command line, as {example}"
        )
    variables = {name: Value(number, label=name) for name, number in numbers.items()}
    result = evaluate(tree, variables)
    output = result if isinstance(result, Value) else Value(result)
    derivatives = grad(output, list(variables.values()))
    for what, number in [("the value", output.data), *((f"d/d{name}", d) for name, d in zip(variables, derivatives))]:
        if not math.isfinite(number):
            raise ExpressionError(
                f"{what} is {number}, not a finite number (a float overflowed, or the slope is infinite here)"
            )
    if args.output is not None:  # drawn before anything is printed: either the whole answer or an error
        output.backward()
        try:
            page = {"title": ast.unparse(tree)} if args.output.suffix.lower() == ".html" else {}
            save_graph(output, args.output, rankdir=args.rankdir, max_nodes=args.max_nodes, **page)
        except GraphTooLargeError as error:
            raise ExpressionError(
                f"the graph has {error.count} Values, more than --max-nodes {error.limit}; "
                f"give --max-nodes {error.count} to draw it anyway (Graphviz may take a long time)"
            ) from None
        except OSError as error:
            raise OSError(f"cannot write {args.output}: {error.strerror or error}") from None
    unused = [name for name in numbers if name not in used]
    if unused:  # likely a typo, but the answer is still right: warn, do not refuse
        print(f"warning: {', '.join(map(repr, unused))} given but not used (its derivative is 0)", file=sys.stderr)
    digits = args.digits
    print(f"{ast.unparse(tree)} = {output.data:.{digits}g}")
    for name, derivative in zip(variables, derivatives):
        print(f"  d/d{name} = {derivative:.{digits}g}")
    if args.output is not None:
        print(f"graph written to {args.output}")
    if args.source:
        names = list(variables)

        def expression(*values: Value) -> Value:
            result = evaluate(tree, dict(zip(names, values)))
            return result if isinstance(result, Value) else Value(result)

        print(autograd.compile(expression, *numbers.values(), names=names).source, end="")
    return 0
