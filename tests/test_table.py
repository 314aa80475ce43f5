"""The rule table is the one source of operations, and the core is layered without cycles.

Every row of `autograd.rules.PRIMITIVES` must be reachable from `Value` (an
operator or a method) or the package, from forward mode, from the command line,
from drawing and from the testing strategies, with no list of operations
written anywhere else. The operators' and functions' fast paths must build
exactly the node the plain path (`Value.__apply_primitive__`) builds.
"""

from __future__ import annotations

import ast
import operator
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Dual, Value, cli, draw_dot, jvp, rules
from autograd.rules import PRIMITIVES
from autograd.testing import OPS, expressions

PACKAGE = Path(autograd.__file__).parent
ROOT = PACKAGE.parent

PYTHON_OPERATORS: dict[str, Any] = {
    "+": operator.add,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "-": operator.neg,
}
"""How a user writes each Python operator (independent of the package's own maps)."""


def point_in(primitive: rules.Primitive, arity: int) -> list[float]:
    """A point where the primitive is smooth, found by a small deterministic search."""
    candidates = [0.7, 1.3, 0.45, 2.1, -0.8, -1.6, 3.0]
    for shift in range(len(candidates)):
        point = [candidates[(shift + i) % len(candidates)] for i in range(arity)]
        if primitive.smooth(*point):
            return point
    raise AssertionError(f"no smooth point found for {primitive.name}")


def arity_of(primitive: rules.Primitive) -> int:
    return primitive.arity or 5


def as_user_writes(primitive: rules.Primitive) -> Any:
    """The primitive applied the way a user writes it: an operator, Python's abs, or a Value method.

    A method of several operands takes the others as its arguments: ``x.leaky_relu(slope)``.
    """
    if primitive.operator is not None:
        return PYTHON_OPERATORS[primitive.operator]
    if primitive.name == "abs":
        return abs
    return lambda *xs: getattr(xs[0], primitive.name)(*xs[1:])


@pytest.mark.parametrize("name", list(PRIMITIVES))
class TestEveryRowIsReachable:
    def test_from_value_or_the_package(self, name: str) -> None:
        p = PRIMITIVES[name]
        point = point_in(p, arity_of(p))
        values = [Value(x) for x in point]
        if p.arity is None:  # the fused functions: autograd.sum and autograd.dot
            node = autograd.sum(values) if name == "sum" else autograd.dot(values[:2], values[2:4], values[4])
        else:
            node = as_user_writes(p)(*values)
            if p.operator is None:
                assert getattr(autograd, name) is p  # every function is exported under its name
        assert node.primitive is p
        assert node.op == name
        assert node.data == p.forward(*point)

    def test_in_forward_mode(self, name: str) -> None:
        p = PRIMITIVES[name]
        point = point_in(p, arity_of(p))
        for i in range(len(point)):
            direction = [1.0 if j == i else 0.0 for j in range(len(point))]
            value, slope = jvp(lambda *xs: p(*xs), point, direction)
            local = p.derivatives(*point, p.forward(*point))[i]
            assert (value, slope) == (p.forward(*point), local)
        if p.arity is not None:  # the way a user writes it works on Duals too
            duals = [Dual(x, 1.0) for x in point]
            assert as_user_writes(p)(*duals).primal == p.forward(*point)

    def test_on_the_command_line(self, name: str) -> None:
        p = PRIMITIVES[name]
        point = point_in(p, arity_of(p))
        variables = [f"x{i}" for i in range(len(point))]
        if p.operator is not None and p.arity == 2:
            text = f"x0 {p.operator} x1"
        elif p.operator is not None:
            text = f"{p.operator}x0"
        elif name == "sum":
            text = f"sum([{', '.join(variables)}])"
        elif name == "dot":
            text = "dot([x0, x1], [x2, x3], x4)"
        else:
            text = f"{name}({', '.join(variables)})"
        result = cli.evaluate(cli.parse(text), {v: Value(x) for v, x in zip(variables, point)})
        assert isinstance(result, Value)
        assert result.primitive is p

    def test_in_a_drawing(self, name: str) -> None:
        p = PRIMITIVES[name]
        node = p(*[Value(x) for x in point_in(p, arity_of(p))])
        assert f"label={p.symbol}" in draw_dot(node).source or f'label="{p.symbol}"' in draw_dot(node).source

    def test_in_the_strategies(self, name: str) -> None:
        op = OPS[name]
        p = PRIMITIVES[name]
        assert op.arity == arity_of(p)
        assert op.allowed is p.smooth


@given(st.data())
def test_the_strategies_draw_every_row(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(list(PRIMITIVES)))
    expression = data.draw(expressions(ops=[name], size=(1, 3)))
    assert {n for n, _ in expression.nodes} == {name}


def code_strings(path: Path) -> set[str]:
    """The string constants of a module's code, leaving out docstrings (their examples name operations)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    }


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_other_module_lists_the_operations(path: Path) -> None:
    """No module but the table spells out the names of several operations in its code."""
    names = set(PRIMITIVES) - {"add", "sum", "dot", "abs"}  # words with other meanings
    if path.name == "rules.py":
        return
    named = names & code_strings(path)
    assert len(named) <= 1, f"{path.name} lists operations by name: {sorted(named)}"


# -- the fast paths build the plain path's nodes, bit for bit --------------------------------


def record(node: Value) -> tuple[Any, ...]:
    edges = list(zip(node.operands, [None] * len(node.operands)))
    return (
        repr(node.data),
        node.primitive,
        tuple(("c", repr(o)) if type(o) is float else ("v", id(o)) for o, _ in edges),
        tuple(map(repr, node.local_grads)),
    )


finite = st.floats(-4.0, 4.0, allow_nan=False)


@pytest.mark.parametrize("name", [n for n, p in PRIMITIVES.items() if p.arity is not None])
@given(data=st.data())
def test_operators_and_methods_build_the_plain_paths_node(name: str, data: st.DataObject) -> None:
    p = PRIMITIVES[name]
    point = data.draw(st.lists(finite, min_size=p.arity or 1, max_size=p.arity or 1).filter(lambda xs: p.smooth(*xs)))
    values = [Value(x) for x in point]
    fast = as_user_writes(p)(*values)
    plain = Value.__apply_primitive__(p, values)
    assert record(fast) == record(plain)
    if p.arity == 2:  # with a number on either side of an operator, or as a method's argument: kept as a constant
        for mixed in ([point[0], values[1]], [values[0], point[1]]) if p.operator else ([values[0], point[1]],):
            assert record(as_user_writes(p)(*mixed)) == record(Value.__apply_primitive__(p, mixed))


# -- layers without cycles, and imports that load only what they need ---------------------------


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("autograd", "nn"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names if node.module == "autograd")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in ("autograd", "nn"))
    return found


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("primitive", set()),
        ("rules", {"autograd.primitive"}),
        ("engine", {"autograd.primitive", "autograd.rules", "autograd.autograd.rules"}),
        ("fused", {"autograd.primitive", "autograd.rules", "autograd.engine"}),
    ],
)
def test_the_core_is_layered(module: str, allowed: set[str]) -> None:
    imports = {i.replace("autograd.autograd.", "autograd.") for i in project_imports(PACKAGE / f"{module}.py")}
    imports = {"autograd.rules" if i == "autograd.rules" else i for i in imports}
    assert imports <= allowed | {"autograd"}, f"autograd.{module} imports {sorted(imports - allowed)}"


def test_the_engine_reads_in_one_sitting() -> None:
    lines = (PACKAGE / "engine.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 365, f"autograd/engine.py has {len(lines)} lines"


BLOCKED = ("graphviz", "matplotlib", "tqdm", "hypothesis")


def run_python(code: str, *path: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env_path = ":".join(str(p) for p in (*path, ROOT))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd or ROOT,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )


def test_importing_and_training_load_no_drawing_plotting_progress_or_hypothesis() -> None:
    done = run_python(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError(f"{{name}} is blocked in this test")
        sys.meta_path.insert(0, Block())
        import autograd, nn, nn.optim
        from nn import MLP, datasets, train
        X, y = datasets.moons(20, seed=1)
        history = train(MLP(2, [4, 1], seed=1), X, y, steps=3, progress=False)
        assert len(history.losses) == 3
        x = autograd.Value(0.5)
        (x * x).backward()
        print(sorted(m for m in sys.modules if m.split(".")[0] in {BLOCKED!r}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_drawing_imports_graphviz_when_first_used() -> None:
    done = run_python(
        """
        import sys, autograd
        assert "graphviz" not in sys.modules
        autograd.draw_dot(autograd.Value(1.0).exp())
        print("graphviz" in sys.modules)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# -- another project's autograd is refused, with the fix ----------------------------------------


def assert_explains_the_clash(done: subprocess.CompletedProcess[str], found: str) -> None:
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("nn.AutogradClashError")
    for words in (
        found,
        "chainrule",
        "separate virtual environment",
        "pip install --force-reinstall --no-deps chainrule",
    ):
        assert words in last, (words, last)


def test_another_autograd_first_on_the_path_is_refused_by_nn(tmp_path: Path) -> None:
    (tmp_path / "autograd").mkdir()
    stub = tmp_path / "autograd" / "__init__.py"
    stub.write_text("# another project's autograd\n", encoding="utf-8")
    done = run_python("import nn", tmp_path, cwd=tmp_path)
    assert_explains_the_clash(done, str(stub))
    assert issubclass(__import__("nn").AutogradClashError, ImportError)


def test_a_half_uninstalled_autograd_is_refused_by_nn(tmp_path: Path) -> None:
    """Uninstalling HIPS autograd after it overwrote our __init__.py removes that file: the rest is a namespace."""
    for package in ("autograd", "nn"):
        (tmp_path / package).mkdir()
        for path in (ROOT / package).glob("*.py"):
            (tmp_path / package / path.name).write_bytes(path.read_bytes())
    (tmp_path / "autograd" / "__init__.py").unlink()
    done = subprocess.run(  # -S: no site packages, so only the copies are found
        [sys.executable, "-S", "-c", "import nn"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert_explains_the_clash(done, str(tmp_path / "autograd"))
    assert "half-uninstalled" in done.stderr


def test_the_command_line_refuses_another_autograd_init_over_ours(tmp_path: Path) -> None:
    """HIPS autograd installed after chainrule overwrites our __init__.py, and only that file."""
    copy = tmp_path / "autograd"
    copy.mkdir()
    for path in PACKAGE.glob("*.py"):
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "__init__.py").write_text("# HIPS autograd's __init__\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "autograd", "x * 2", "x=1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert_explains_the_clash(done, str(copy / "__init__.py"))
