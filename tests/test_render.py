"""Rendering: real SVG and PNG with each program, the order of preference, the overrides, the errors."""

from __future__ import annotations

import os
import shutil
import stat
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd import Value, draw_dot, save_graph
from autograd import render as rendering
from autograd.files import write_atomically

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def system_dot() -> str | None:
    return shutil.which("dot")


def pip_program() -> str | None:
    """Where pip put graphviz-pure's program: the scripts folder of this Python (found independently of the code)."""
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        path = Path(sysconfig.get_path("scripts")) / name
        if path.is_file():
            return str(path.resolve())
    return None


def required(program: str | None, name: str) -> str:
    """The program, or a skip outside CI; in CI (CI=true) a missing renderer fails the test."""
    if program is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must render with {name}, but it is not installed")
        pytest.skip(f"{name} is not installed")
    return program


def fake_program(folder: Path, name: str, *, works: bool = True, formats: str = "svg png", output: str = "") -> Path:
    """A shell script that answers -V and -T? like Graphviz and prints `output` for any -T<format>."""
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        f"{'' if works else 'exit 1'}\n"
        'case "$1" in\n'
        f'  -V) echo "{name} - fake version 1.0" >&2 ;;\n'
        f'  "-T?") echo \'Format: "?" not recognized. Use one of: {formats}\' >&2; exit 1 ;;\n'
        f"  *) cat > /dev/null; printf '%s' '{output}' ;;\n"
        "esac\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label='b {1|2} <"\\">')
    out = (x * w + b).tanh()
    out.label = "θ"
    out.backward()
    return out


PROGRAMS = {"dot": system_dot, "graphviz-pure": pip_program}


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_real_files_with_each_renderer(name: str, suffix: str, tmp_path: Path) -> None:
    program = required(PROGRAMS[name](), name)
    rendering.use_renderer(program)
    assert rendering.find_renderer().name == name
    path = save_graph(neuron(), tmp_path / f"graph{suffix}")
    data = path.read_bytes()
    if suffix == ".png":
        assert data.startswith(PNG_MAGIC)
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 100
        assert height > 20
    else:
        svg = ET.fromstring(data)
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        text = " ".join("".join(svg.itertext()).split())
        for expected in ("θ", "data 0.7071", "grad -1.5000", "tanh", 'b {1|2} <"\\">'):
            assert expected in text
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


@pytest.mark.parametrize("name", PROGRAMS)
def test_inline_display_uses_the_located_program(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    program = required(PROGRAMS[name](), name)
    if name == "graphviz-pure":
        monkeypatch.setenv("PATH", "/nonexistent")  # nothing on the PATH: found through the package
    else:
        rendering.use_renderer(program)
    drawing = draw_dot(neuron())
    bundle = drawing._repr_mimebundle_(include=["image/svg+xml", "image/png"])
    assert "grad -1.5000" in "".join(ET.fromstring(bundle["image/svg+xml"]).itertext())
    assert bundle["image/png"].startswith(PNG_MAGIC)


def test_inline_display_and_render_go_through_the_chosen_program(tmp_path: Path) -> None:
    rendering.use_renderer(fake_program(tmp_path, "my-dot", output="<svg>from my-dot</svg>"))
    drawing = draw_dot(neuron())
    assert drawing._repr_mimebundle_()["image/svg+xml"] == "<svg>from my-dot</svg>"
    assert drawing.pipe(encoding="utf-8") == "<svg>from my-dot</svg>"
    picture = drawing.render(tmp_path / "out" / "g")
    assert picture == str(tmp_path / "out" / "g.svg")
    assert Path(picture).read_text() == "<svg>from my-dot</svg>"
    assert (tmp_path / "out" / "g").read_text() == drawing.source
    other = drawing.render(outfile=tmp_path / "other.svg", cleanup=True)
    assert Path(other).read_text() == "<svg>from my-dot</svg>"
    assert not (tmp_path / "other.gv").exists()


def test_pdf_needs_graphviz_itself(tmp_path: Path) -> None:
    rendering.use_renderer(required(pip_program(), "graphviz-pure"))
    with pytest.raises(ValueError, match=r"cannot write 'pdf'.*install Graphviz itself"):
        save_graph(neuron(), tmp_path / "g.pdf")
    assert not list(tmp_path.iterdir())


def test_pdf_with_graphviz(tmp_path: Path) -> None:
    rendering.use_renderer(required(system_dot(), "dot"))
    assert save_graph(neuron(), tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


def test_graphviz_pure_is_found_through_its_package_without_path(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = required(pip_program(), "graphviz-pure")
    monkeypatch.setenv("PATH", "/nonexistent")
    found = rendering.find_renderer()
    assert (found.name, found.path) == ("graphviz-pure", expected)
    assert found.formats is not None
    assert {"svg", "png"} <= found.formats
    assert "pdf" not in found.formats


def test_system_dot_is_preferred(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_program(tmp_path, "dot")
    monkeypatch.setenv("PATH", str(tmp_path))
    found = rendering.find_renderer()
    assert (found.name, found.path, found.version) == ("dot", str(tmp_path / "dot"), "dot - fake version 1.0")


def test_a_broken_system_dot_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    required(pip_program(), "graphviz-pure")
    fake_program(tmp_path, "dot", works=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert rendering.find_renderer().name == "graphviz-pure"


def test_a_format_the_first_program_lacks_comes_from_the_next(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    required(pip_program(), "graphviz-pure")
    fake_program(tmp_path, "dot", formats="svg:core")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert rendering.find_renderer("svg").name == "dot"
    assert rendering.find_renderer("png").name == "graphviz-pure"
    with pytest.raises(ValueError, match=r"no program here writes 'pdf'.*install Graphviz itself"):
        rendering.find_renderer("pdf")


def test_formats_are_read_from_the_program(tmp_path: Path) -> None:
    listed = rendering.probe(str(fake_program(tmp_path, "a", formats="png:cairo:cairo png:gd svg:core dot")))
    assert listed is not None
    assert listed.formats == frozenset({"png", "svg", "dot"})
    silent = tmp_path / "b"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    unlisted = rendering.probe(str(silent))
    assert unlisted is not None
    assert unlisted.formats is None
    assert unlisted.writes("anything")
    assert rendering.probe(str(tmp_path / "missing")) is None


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = fake_program(tmp_path, "my-dot")
    monkeypatch.setenv(rendering.ENV_VARIABLE, str(chosen))
    assert rendering.find_renderer().path == str(chosen)


def test_use_renderer_beats_the_environment_and_can_be_undone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(rendering.ENV_VARIABLE, str(fake_program(tmp_path, "from-env")))
    rendering.use_renderer(fake_program(tmp_path, "from-code"))
    assert rendering.find_renderer().path == str(tmp_path / "from-code")
    rendering.use_renderer(None)
    assert rendering.find_renderer().path == str(tmp_path / "from-env")


@pytest.mark.parametrize("how", ["environment", "function"])
def test_a_chosen_program_that_does_not_run_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str) -> None:
    missing = tmp_path / "missing"
    if how == "environment":
        monkeypatch.setenv(rendering.ENV_VARIABLE, str(missing))
        origin = r"\$CHAINRULE_DOT"
    else:
        with pytest.raises(rendering.RendererNotFoundError, match=r"missing \(chosen by use_renderer\) is not found"):
            rendering.use_renderer(missing)
        return
    with pytest.raises(rendering.RendererNotFoundError, match=rf"missing \(chosen by {origin}\) does not run"):
        rendering.find_renderer()


def test_nothing_found_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(rendering, "graphviz_pure_program", lambda: None)
    with pytest.raises(rendering.RendererNotFoundError, match="pip install graphviz-pure") as raised:
        rendering.find_renderer()
    assert isinstance(raised.value, RuntimeError)
    assert "apt-get install graphviz" in str(raised.value)
    with pytest.raises(rendering.RendererNotFoundError):
        save_graph(neuron(), tmp_path / "g.svg")
    with pytest.raises(rendering.RendererNotFoundError):
        draw_dot(neuron())._repr_mimebundle_()
    assert save_graph(neuron(), tmp_path / "g.dot").read_text().startswith("digraph")  # the source needs no program


def test_renderer_errors_are_reported(tmp_path: Path) -> None:
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    failing.chmod(0o755)
    broken = rendering.Renderer(str(failing), "dot", "dot 0", frozenset({"svg"}))
    with pytest.raises(rendering.RenderError, match=r"dot failed with exit status 3: syntax error in line 1"):
        broken.render("digraph { a -> b }", "svg")
    with pytest.raises(ValueError, match="cannot write 'bmp'; it writes svg"):
        broken.render("digraph { a -> b }", "bmp")
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(0o755)
    with pytest.raises(rendering.RenderError, match=r"more than 0.2 s"):
        rendering.Renderer(str(slow), "dot", "dot 0", None).render("digraph {}", "svg", timeout=0.2)


def test_write_atomically_replaces_whole_files_with_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.txt"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o044  # readable by others, unlike mkstemp's private mode
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]
