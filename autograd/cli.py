"""``python -m autograd``: the value and gradient of an expression, and its picture.

The expression is parsed with `ast` and checked against a whitelist before
anything is evaluated; it is then evaluated on Values by walking the checked
tree with an explicit stack. User text is never given to `eval` or `exec`.

The language: numbers, the variables given on the command line, ``+ - * / **``,
unary minus and plus, parentheses, and the functions exp, log, sqrt, tanh,
sigmoid, relu, sin, cos and abs (one argument each).
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from autograd import rules
from autograd.draw import FILE_FORMATS, save_graph
from autograd.engine import Value
from autograd.functional import grad
from autograd.render import RendererNotFoundError

__all__ = ["MAX_DEPTH", "MAX_EXPONENT", "MAX_LENGTH", "ExpressionError", "evaluate", "main", "parse"]

MAX_LENGTH = 10_000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 100
"""Deepest nesting accepted, counted in syntax-tree levels."""
MAX_EXPONENT = 1_000.0
"""Largest constant exponent accepted, in absolute value."""

FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "sin": Value.sin,
    "cos": Value.cos,
    "abs": abs,
}
# The engine's primitives, so that constant parts (such as 9**9**9) get the engine's checks and messages too.
BINARY: dict[type[ast.operator], Callable[[Value | float, Value | float], Value | float]] = {
    ast.Add: rules.add,
    ast.Sub: lambda a, b: rules.add(a, rules.neg(b)),
    ast.Mult: rules.mul,
    ast.Div: rules.div,
    ast.Pow: rules.power,
}
UNARY: dict[type[ast.unaryop], Callable[[Value | float], Value | float]] = {
    ast.USub: rules.neg,
    ast.UAdd: lambda a: a,
}

EXAMPLES = """\
examples:
  python -m autograd "tanh(x*w + b)" x=0.5 w=-2 b=1
  python -m autograd "x**2 * sin(y)" x=3 y=0.1 -o graph.svg
  python -m autograd "sigmoid(a) * log(b)" a=0 b=2 -o graph.png --rankdir TB

The expression may use numbers, the variables given as name=value, + - * / **,
unary minus, parentheses, and exp log sqrt tanh sigmoid relu sin cos abs.
Output formats follow the file suffix: .svg .png .pdf .dot .gv
Errors exit with status 2 and a one-line message."""


class ExpressionError(ValueError):
    """An expression or variable that the command line refuses, with the reason."""


def parse(text: str) -> ast.expr:
    """Parse `text` and check every node against the whitelist; return the expression tree."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, not {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        detail = error.msg if error.msg else "invalid syntax"
        raise ExpressionError(f"syntax error: {detail}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"the expression is nested too deeply (the limit is {MAX_DEPTH} levels)") from None
    _check(tree.body)
    return tree.body


def _check(root: ast.expr) -> None:
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (the limit is {MAX_DEPTH} levels)")
        children: list[ast.AST]
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise ExpressionError(f"{node.value!r} is not a number")
            children = []
        elif isinstance(node, ast.Name):
            children = []
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in BINARY:
                raise ExpressionError(f"the operator {_source(node)!r} is not allowed (use + - * / **)")
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
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ExpressionError(f"{name}() takes exactly one argument")
            children = [node.args[0]]
        else:
            raise ExpressionError(f"{_describe(node)} is not allowed in an expression")
        stack.extend((child, depth + 1) for child in children)


def _check_exponent(exponent: ast.expr) -> None:
    if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.operand, ast.Constant):
        exponent = exponent.operand
    constant = exponent.value if isinstance(exponent, ast.Constant) else None
    if isinstance(constant, (int, float)) and abs(constant) > MAX_EXPONENT:
        raise ExpressionError(f"the exponent {constant!r} is too large (the limit is {MAX_EXPONENT:g})")


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
    return names.get(type(node), f"{_source(node)!r}")


def _source(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_variables(assignments: Sequence[str]) -> dict[str, float]:
    """``["x=0.5", "w=-2"]`` as ``{"x": 0.5, "w": -2.0}``; names normalised as Python does."""
    variables: dict[str, float] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())
        if not sep or not name:
            raise ExpressionError(f"{item!r} is not name=value")
        if not name.isidentifier() or name in FUNCTIONS:
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
    """Evaluate a checked tree on Values, bottom-up with an explicit stack (no recursion)."""
    results: dict[int, Value | float] = {}
    stack: list[tuple[ast.expr, bool]] = [(tree, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = float(node.value)  # type: ignore[arg-type]  # _check admitted only numbers
        elif isinstance(node, ast.Name):
            if node.id not in variables:
                raise ExpressionError(f"{node.id!r} has no value: give it one, as {node.id}=1.0")
            results[id(node)] = variables[node.id]
        elif not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in _operands(node))
        elif isinstance(node, ast.BinOp):
            results[id(node)] = BINARY[type(node.op)](results.pop(id(node.left)), results.pop(id(node.right)))
        elif isinstance(node, ast.UnaryOp):
            results[id(node)] = UNARY[type(node.op)](results.pop(id(node.operand)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            argument = results.pop(id(node.args[0]))
            results[id(node)] = FUNCTIONS[node.func.id](argument if isinstance(argument, Value) else Value(argument))
    return results[id(tree)]


def _operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [node.args[0]]
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
    )
    parser.add_argument("expression", help='for example "tanh(x*w + b)" (quote it for the shell)')
    parser.add_argument("variables", nargs="*", metavar="name=value", help="a value for each variable")
    parser.add_argument("-o", "--output", type=Path, help="also draw the graph to this file (.svg .png .pdf .dot .gv)")
    parser.add_argument("--rankdir", choices=["LR", "TB"], default="LR", help="drawing direction (default LR)")
    parser.add_argument("--digits", type=int, default=10, help="significant digits to print (default 10)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 on success, 2 on any refused input)."""
    parser = _parser()
    try:
        return _run(parser.parse_args(argv))
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except (_ArgumentError, ExpressionError, ArithmeticError, ValueError, RendererNotFoundError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if not 1 <= args.digits <= 17:
        raise ExpressionError("--digits must be from 1 to 17")
    if args.output is not None and args.output.suffix.lower() not in FILE_FORMATS:
        raise ExpressionError(f"cannot tell the format of {str(args.output)!r}: use {' '.join(FILE_FORMATS)}")
    tree = parse(args.expression)
    numbers = parse_variables(args.variables)
    variables = {name: Value(number, label=name) for name, number in numbers.items()}
    result = evaluate(tree, variables)
    output = result if isinstance(result, Value) else Value(result)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    unused = sorted(set(numbers) - used)
    if unused:  # likely a typo, but the answer is still right: warn, do not refuse
        print(f"warning: {', '.join(map(repr, unused))} given but not used (its derivative is 0)", file=sys.stderr)
    digits = args.digits
    print(f"{ast.unparse(tree)} = {output.data:.{digits}g}")
    names = list(variables)
    for name, derivative in zip(names, grad(output, [variables[n] for n in names])):
        print(f"  d/d{name} = {derivative:.{digits}g}")
    if args.output is not None:
        output.backward()
        save_graph(output, args.output, rankdir=args.rankdir)
        print(f"graph written to {args.output}")
    return 0
