"""Turning DOT source into pictures, with no setup beyond pip.

Rendering needs a ``dot``-compatible program. `find_renderer` looks, in order:

1. at ``$CHAINRULE_DOT``, if set (a path to any dot-compatible program);
2. for Graphviz's own ``dot`` on the PATH;
3. for the ``graphviz-pure`` program that the `graphviz-pure` package (a
   dependency of chainrule) installs, found through the package's own file
   list (`importlib.metadata`), so the PATH does not need to include the
   virtual environment.

Each candidate is tried once (``-V``) before it is used. When none works,
`RendererNotFoundError` says how to install one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

__all__ = ["Renderer", "RendererNotFoundError", "find_renderer", "render"]

ENV_VARIABLE = "CHAINRULE_DOT"
TIMEOUT_SECONDS = 60.0

INSTALL_HINT = (
    "install one of: `pip install graphviz-pure` (a dot-compatible program, no root needed), "
    "or Graphviz itself (`apt-get install graphviz`, `brew install graphviz`, or graphviz.org), "
    f"or point ${ENV_VARIABLE} at a dot-compatible program"
)


class RendererNotFoundError(RuntimeError):
    """No usable dot-compatible program was found."""


@dataclass(frozen=True)
class Renderer:
    """A dot-compatible program and the output formats it can write."""

    path: str
    name: str  # "dot" (Graphviz) or "graphviz-pure"
    formats: frozenset[str]

    def render(self, source: str, format: str) -> bytes:
        """Lay out DOT `source` and return the picture in `format` (svg, png, pdf, ...)."""
        if format not in self.formats:
            raise ValueError(
                f"{self.name} cannot write {format!r}; it writes {', '.join(sorted(self.formats))}"
                + (" (for PDF, install Graphviz itself)" if format == "pdf" else "")
            )
        try:
            done = subprocess.run(
                [self.path, f"-T{format}"],
                input=source.encode(),
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{self.name} took more than {TIMEOUT_SECONDS:.0f} s to lay out the graph") from None
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"{self.name} failed ({done.returncode}): {message}")
        return done.stdout


GRAPHVIZ_FORMATS = frozenset({"svg", "png", "pdf", "dot", "gv", "plain", "json", "jpg", "jpeg"})
GRAPHVIZ_PURE_FORMATS = frozenset({"svg", "png", "dot", "gv", "plain", "json", "jpg", "jpeg"})


def _works(path: str) -> bool:
    try:
        return subprocess.run([path, "-V"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _graphviz_pure_program() -> str | None:
    """The program the graphviz-pure package installed, from the package's file list."""
    try:
        distribution = metadata.distribution("graphviz-pure")
    except metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name in ("graphviz-pure", "graphviz-pure.exe"):
            return str(Path(str(distribution.locate_file(file))).resolve())
    return None


def _candidates() -> list[Renderer]:
    found = []
    forced = os.environ.get(ENV_VARIABLE)
    if forced:
        name = "graphviz-pure" if "graphviz-pure" in Path(forced).name else "dot"
        found.append(Renderer(forced, name, GRAPHVIZ_PURE_FORMATS if name == "graphviz-pure" else GRAPHVIZ_FORMATS))
        return found
    system = shutil.which("dot")
    if system:
        found.append(Renderer(system, "dot", GRAPHVIZ_FORMATS))
    pure = _graphviz_pure_program() or shutil.which("graphviz-pure")
    if pure:
        found.append(Renderer(pure, "graphviz-pure", GRAPHVIZ_PURE_FORMATS))
    return found


@lru_cache(maxsize=1)
def _cached_renderer(environment_choice: str | None) -> Renderer:
    tried = []
    for candidate in _candidates():
        if _works(candidate.path):
            return candidate
        tried.append(candidate.path)
    if environment_choice:
        raise RendererNotFoundError(
            f"${ENV_VARIABLE}={environment_choice} does not run as a dot program; {INSTALL_HINT}"
        )
    detail = f" (tried {', '.join(tried)})" if tried else ""
    raise RendererNotFoundError(f"no program to draw graphs with{detail}; {INSTALL_HINT}")


def find_renderer() -> Renderer:
    """The dot-compatible program to render with (see the module docstring for the order)."""
    return _cached_renderer(os.environ.get(ENV_VARIABLE))


def render(source: str, format: str = "svg", renderer: Renderer | None = None) -> bytes:
    """Render DOT `source` to `format` with `renderer` (by default, `find_renderer()`)."""
    return (renderer or find_renderer()).render(source, format)
