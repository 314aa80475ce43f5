"""python -m autograd: answers, pictures, and refusals of hostile or broken input."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value, cli
from autograd import render as rendering


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_value_and_gradients(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tanh(x*w + b)", "x=0.5", "w=-2", "b=1.5")
    assert (status, err) == (0, "")
    t = math.tanh(0.5 * -2 + 1.5)
    lines = out.splitlines()
    assert lines[0] == f"tanh(x * w + b) = {t:.10g}"
    assert lines[1:] == [
        f"  d/dx = {(1 - t * t) * -2:.10g}",
        f"  d/dw = {(1 - t * t) * 0.5:.10g}",
        f"  d/db = {1 - t * t:.10g}",
    ]


def test_every_function_and_operator(capsys: pytest.CaptureFixture[str]) -> None:
    expression = "exp(x) + log(y) - sqrt(y) * sigmoid(x) / relu(y) ** 2 + sin(x) - cos(-x) + abs(+x)"
    status, out, _ = run(capsys, expression, "x=0.3", "y=2", "--digits", "17")
    assert status == 0
    x, y = 0.3, 2.0
    s = 1 / (1 + math.exp(-x))
    value = math.exp(x) + math.log(y) - math.sqrt(y) * s / y**2 + math.sin(x) - math.cos(-x) + abs(x)
    assert float(out.splitlines()[0].split(" = ")[1]) == pytest.approx(value, rel=1e-15)


def test_leaky_relu_takes_the_input_and_the_slope(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "leaky_relu(x, 0.1) + leaky_relu(y, s)", "x=-2", "y=-3", "s=0.5")
    assert status == 0
    assert out.splitlines() == [
        "leaky_relu(x, 0.1) + leaky_relu(y, s) = -1.7",
        "  d/dx = 0.1",
        "  d/dy = 0.5",
        "  d/ds = -3",
    ]


def test_source_prints_backprop_written_out_and_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "tanh(x*w + b) * x", "x=0.5", "w=-2", "b=1.5", "--source")
    assert (status, err) == (0, "")
    source = out[out.index("def compiled(x, w, b):") :]
    namespace = {"tanh": math.tanh}
    exec(source, namespace)  # the program's own output
    x, w, b = Value(0.5), Value(-2.0), Value(1.5)
    y = (x * w + b).tanh() * x
    y.backward()
    assert namespace["compiled"](0.5, -2.0, 1.5) == (y.data, (x.grad, w.grad, b.grad))
    assert "g_v1 = (1.0 - v2 * v2) * g_v2" in source  # the tanh row's template


def test_constants_only(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "2 ** 0.5 * 3")
    assert status == 0
    assert out.splitlines() == [f"2 ** 0.5 * 3 = {2**0.5 * 3:.10g}"]


@pytest.mark.parametrize("suffix", [".svg", ".dot"])
def test_drawing_to_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"graph{suffix}"
    status, out, _ = run(capsys, "x * y + 1", "x=2", "y=3", "-o", str(target))
    assert status == 0
    assert f"graph written to {target}" in out
    text = target.read_text(encoding="utf-8")
    assert "grad 3.0000" in text  # d/dx drawn after backward


HOSTILE = {
    "__import__('os').system('true')": "calling",
    "().__class__": "attribute access",
    "x.real": "attribute access",
    "x[0]": "subscripting",
    "lambda: 1": "a lambda",
    "[a for a in [1]]": "a comprehension",
    "open('f')": "calling 'open'",
    "exp(x, 2)": "one argument",
    "exp(x=1)": "one argument",
    "exp(*[1])": "one argument",
    "leaky_relu(x)": "leaky_relu() takes exactly two arguments",
    "leaky_relu(x, 0.1, 2)": "two arguments",
    "leaky_relu([x], 0.1)": "two arguments",
    "leaky_relu(x, slope=0.1)": "two arguments",
    "x if x else x": "if/else",
    "x < 1": "a comparison",
    "x and 1": "and/or",
    "(y := 1)": "an assignment",
    "'text'": "not a number",
    "x @ x": "not allowed",
    "x // 2": "not allowed",
    "~x": "not allowed",
    "x +": "syntax error",
    "": "empty",
    "   ": "empty",
    "2 ** 100000": "too large",
    "x ** -5000": "the exponent -5000 is too large",
    "z + 1": "no value for 'z': give one on the command line, as z=1.0",
    "exp + 1": "exp is a function",
    "1e999 * x": "too large for a float",
    "1" + "0" * 400 + " * x": "too large for a float",
    "1" * 5000: "a number has too many digits",
    "x\x00": "syntax error",
    "-" * 5000 + "x": "nested too deeply",
    "1j * x": "1j is not a number",
    "True * x": "True is not a number",
    "log(0 * x)": "log of 0.0",
    "sqrt(x - 5)": "sqrt of -4.0",
    "x / (x - 1)": "division by zero",
    "exp(x * 1000)": "exp overflow",
    "9**9**9": "overflow",
}


@pytest.mark.parametrize(("expression", "message"), HOSTILE.items())
def test_refusals_are_one_line_with_status_2(capsys: pytest.CaptureFixture[str], expression: str, message: str) -> None:
    status, out, err = run(capsys, expression, "x=1")
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("python -m autograd: error: ")
    assert message in err
    assert "Traceback" not in err


def test_deeply_nested_parentheses(capsys: pytest.CaptureFixture[str]) -> None:
    for depth in (cli.MAX_LENGTH // 2 - 1, 1000, cli.MAX_DEPTH + 1):  # within the length limit, checked first
        status, out, err = run(capsys, "(" * depth + "x" + ")" * depth, "x=1")
        assert (status, out) == (2, "")
        assert "nested too deeply" in err
    assert run(capsys, "(" * (cli.MAX_DEPTH - 1) + "x" + ")" * (cli.MAX_DEPTH - 1), "x=1")[0] == 0


def test_nesting_limit_counts_syntax_tree_levels(capsys: pytest.CaptureFixture[str]) -> None:
    deep = "x" + " + x" * 150  # a left-leaning chain 151 levels deep
    status, _, err = run(capsys, deep, "x=1")
    assert status == 2
    assert f"limit is {cli.MAX_DEPTH}" in err
    assert run(capsys, "x" + " + x" * 50, "x=1")[0] == 0


def test_length_limit(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "x" + " " * cli.MAX_LENGTH, "x=1")
    assert status == 2
    assert "characters long" in err


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("x", "not name=value"),
        ("=1", "not name=value"),
        ("x=abc", "not a number"),
        ("x=nan", "finite"),
        ("x=inf", "finite"),
        ("1x=2", "cannot be a variable name"),
        ("exp=2", "cannot be a variable name"),
        ("if=2", "cannot be a variable name"),
        ("None=2", "cannot be a variable name"),
        ("x=0x10", "not a number"),
        ("x=1,5", "not a number"),
    ],
)
def test_bad_variables(capsys: pytest.CaptureFixture[str], assignment: str, message: str) -> None:
    status, _, err = run(capsys, "x + 1", assignment)
    assert status == 2
    assert message in err


def test_duplicate_and_unused_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert "given twice" in run(capsys, "x", "x=1", "x=2")[2]
    status, out, err = run(capsys, "x", "x=1", "y=2")
    assert status == 0
    assert "d/dy = 0" in out
    assert err == "warning: 'y' given but not used (its derivative is 0)\n"


def test_unicode_identifiers_are_normalised_like_python(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "ｘ * 2", "ｘ=3")  # fullwidth x: Python reads it as x
    assert status == 0
    assert out.splitlines() == ["x * 2 = 6", "  d/dx = 2"]
    status, out, _ = run(capsys, "θ ** 2", "θ=3")
    assert status == 0
    assert "d/dθ = 6" in out


def test_an_expression_may_start_with_a_minus(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(capsys, "-x**2", "x=3", "-o", str(tmp_path / "g.dot"))
    assert status == 0
    assert out.splitlines()[:2] == ["-x ** 2 = -9", "  d/dx = -6"]
    status, out, _ = run(capsys, "--rankdir", "TB", "-2*x", "x=1.5")
    assert (status, out.splitlines()) == (0, ["-2 * x = -3", "  d/dx = -2"])
    assert run(capsys, "--", "-x", "x=1")[0] == 0
    assert "unrecognized arguments: --verbose" in run(capsys, "x", "x=1", "--verbose")[2]


def test_functions_of_constants_fold_like_other_numbers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "g.dot"
    status, out, _ = run(capsys, "exp(2) * x + abs(-3)", "x=0.5", "-o", str(target), "--digits", "17")
    assert status == 0
    value, slope = (float(line.split(" = ")[1]) for line in out.splitlines()[:2])
    assert value == pytest.approx(math.exp(2) * 0.5 + 3, rel=1e-15)
    assert slope == pytest.approx(math.exp(2), rel=1e-15)
    source = target.read_text()
    assert "exp" not in source  # exp(2) is a number, as in the engine: not a node
    assert source.count("shape=record") == 3  # x, x * e^2, and the sum


def test_drawing_failures_exit_1_and_print_no_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(rendering.ENV_VARIABLE, str(tmp_path / "no-such-dot"))
    status, out, err = run(capsys, "x * 2", "x=1", "-o", str(tmp_path / "g.svg"))
    assert (status, out) == (1, "")
    assert err.count("\n") == 1
    assert "no-such-dot (chosen by $CHAINRULE_DOT) does not run" in err
    assert "pip install graphviz-pure" in err
    assert not (tmp_path / "g.svg").exists()
    blocker = tmp_path / "file"
    blocker.write_text("")
    status, out, err = run(capsys, "x * 2", "x=1", "-o", str(blocker / "g.dot"))  # a file where a folder should be
    assert (status, out) == (1, "")
    assert f"cannot write {blocker / 'g.dot'}" in err


def test_graph_size_limit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expression = "x" + " * x" * 30
    status, out, err = run(capsys, expression, "x=1", "-o", str(tmp_path / "g.dot"), "--max-nodes", "10")
    assert (status, out) == (2, "")
    assert "more than --max-nodes 10; give --max-nodes 31" in err  # the command line's spelling, not Python's
    assert "max_nodes" not in err
    assert run(capsys, expression, "x=1", "-o", str(tmp_path / "g.dot"), "--max-nodes", "40")[0] == 0
    status, out, err = run(capsys, "x", "x=1", "-o", str(tmp_path / "g.dot"), "--max-nodes", "0")
    assert (status, err.strip()) == (2, "python -m autograd: error: --max-nodes must be at least 1, not 0")


def test_no_arguments_asks_for_an_expression_not_for_variables(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert (status, out) == (2, "")
    assert "give an expression" in err
    assert "name=value" not in err  # "2+3" needs no variable
    assert run(capsys, "2+3")[0] == 0


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg"])
def test_jpeg_is_written(capsys: pytest.CaptureFixture[str], tmp_path: Path, suffix: str) -> None:
    assert run(capsys, "x * 2", "x=1", "-o", str(tmp_path / f"g{suffix}"))[0] == 0
    assert (tmp_path / f"g{suffix}").read_bytes()[:3] == b"\xff\xd8\xff"


def test_bad_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "x", "x=1", "-o", str(tmp_path / "g.txt"))[0] == 2
    assert run(capsys, "x", "x=1", "--rankdir", "RL")[0] == 2
    assert run(capsys, "x", "x=1", "--digits", "40")[0] == 2
    assert run(capsys)[0] == 2
    assert run(capsys, "x", "x=1", "--rank", "TB")[0] == 2  # no abbreviations: the option names are exact


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert 'python -m autograd "tanh(x*w + b)" x=0.5 w=-2 b=1' in out


def test_as_a_real_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "x*x", "x=3", "-o", str(tmp_path / "g.svg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == ["x * x = 9", "  d/dx = 6"]
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    refused = subprocess.run(
        [sys.executable, "-m", "autograd", "__import__('os').system('echo pwned')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "pwned" not in refused.stdout + refused.stderr.replace("echo pwned", "")
    assert "Traceback" not in refused.stderr


def test_a_real_command_without_graphviz_on_the_path(tmp_path: Path) -> None:
    """As after a pip-only install: no dot on the PATH, so the picture comes from graphviz-pure."""
    if rendering.graphviz_pure_program() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must render with graphviz-pure, but it is not installed")
        pytest.skip("graphviz-pure is not installed")
    environment = {key: value for key, value in os.environ.items() if key != rendering.ENV_VARIABLE}
    environment["PATH"] = str(tmp_path / "empty")
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "tanh(x*w + b)", "x=0.5", "w=-2", "b=1", "-o", str(tmp_path / "g.png")],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"tanh(x * w + b) = {math.tanh(0.0):.10g}"
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    nested = subprocess.run(
        [sys.executable, "-m", "autograd", "(" * 4_000 + "x" + ")" * 4_000, "x=1"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert (nested.returncode, nested.stdout) == (2, "")
    assert nested.stderr == (
        "python -m autograd: error: the expression is nested too deeply "
        f"(the limit is {cli.MAX_DEPTH} levels; every operator, call and parenthesis is a level)\n"
    )
