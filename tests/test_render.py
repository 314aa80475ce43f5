"""Finding a renderer: the order of preference, the environment override, and the error that helps."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd import render as rendering
from autograd.files import write_atomically


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    rendering._cached_renderer.cache_clear()
    yield
    rendering._cached_renderer.cache_clear()


def fake_program(folder: Path, name: str, works: bool) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\nexit {0 if works else 1}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_graphviz_pure_is_found_through_its_package_without_path(monkeypatch: pytest.MonkeyPatch) -> None:
    program = rendering._graphviz_pure_program()
    if program is None:
        pytest.skip("graphviz-pure is not installed")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(rendering.ENV_VARIABLE, raising=False)
    found = rendering.find_renderer()
    assert found.name == "graphviz-pure"
    assert found.path == program
    assert "pdf" not in found.formats


def test_system_dot_is_preferred(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_program(tmp_path, "dot", works=True)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(rendering.ENV_VARIABLE, raising=False)
    found = rendering.find_renderer()
    assert (found.name, found.path) == ("dot", str(tmp_path / "dot"))


def test_a_broken_system_dot_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_program(tmp_path, "dot", works=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(rendering.ENV_VARIABLE, raising=False)
    if rendering._graphviz_pure_program() is None:
        pytest.skip("graphviz-pure is not installed")
    assert rendering.find_renderer().name == "graphviz-pure"


def test_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    chosen = fake_program(tmp_path, "my-dot", works=True)
    monkeypatch.setenv(rendering.ENV_VARIABLE, str(chosen))
    assert rendering.find_renderer().path == str(chosen)


def test_a_bad_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(rendering.ENV_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(rendering.RendererNotFoundError, match=r"\$CHAINRULE_DOT=.*missing does not run"):
        rendering.find_renderer()


def test_nothing_found_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(rendering.ENV_VARIABLE, raising=False)
    monkeypatch.setattr(rendering, "_graphviz_pure_program", lambda: None)
    with pytest.raises(rendering.RendererNotFoundError, match="pip install graphviz-pure"):
        rendering.find_renderer()


def test_renderer_errors_are_reported(tmp_path: Path) -> None:
    broken = rendering.Renderer(str(fake_program(tmp_path, "dot", works=False)), "dot", rendering.GRAPHVIZ_FORMATS)
    with pytest.raises(RuntimeError, match=r"dot failed \(1\)"):
        broken.render("digraph { a -> b }", "svg")
    with pytest.raises(ValueError, match="cannot write 'bmp'"):
        broken.render("digraph { a -> b }", "bmp")


def test_write_atomically_replaces_whole_files_with_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.txt"
    write_atomically(target, b"first")
    write_atomically(target, b"second")
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o044  # readable by others, unlike mkstemp's private mode
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]
