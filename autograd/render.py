"""Turning DOT source into pictures, with no setup beyond pip.

Rendering needs a ``dot``-compatible program. `find_renderer` takes the first
of these that runs:

1. the program chosen with `use_renderer`, if any;
2. the program named by the environment variable ``CHAINRULE_DOT``, if set;
3. Graphviz's own ``dot``, found on the PATH;
4. the ``graphviz-pure`` program that the `graphviz-pure` package (a
   dependency of chainrule) installs. It is found through the package's file
   list in its installed metadata (`importlib.metadata`), then in the scripts
   folder of this Python (`sysconfig`), so the PATH need not include the
   virtual environment.

A chosen program (1 or 2) that does not run is an error, not a reason to look
further: `use_renderer` checks at once that the program exists and may be
executed. Each program is asked once for its version (``-V``) and the formats it
writes (``-T?``); when the preferred one cannot write a format (``graphviz-pure``
writes no PDF), the next one that can is used. When none is usable,
`RendererNotFoundError` says how to install one.

A renderer is trusted with nothing but the drawing. It runs in its own process
group (a session, on POSIX), and the whole group is killed when it takes longer
than `TIMEOUT_SECONDS` or when it is done. At most `MAX_OUTPUT_BYTES` of its
output and `MAX_ERROR_BYTES` of its error stream are read; more is a
`RenderError`. Output that does not start as the format asked for does
(`SIGNATURES`: SVG, PNG, PDF, JPEG, GIF), and so does empty output; error
messages quote at most `MESSAGE_CHARS` characters of what the program said.

Example:
    >>> from autograd.render import find_renderer
    >>> svg = find_renderer("svg").render("digraph { a -> b }", "svg")
    >>> svg.lstrip().startswith(b"<?xml")
    True
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_VARIABLE",
    "MAX_ERROR_BYTES",
    "MAX_OUTPUT_BYTES",
    "MESSAGE_CHARS",
    "SIGNATURES",
    "TIMEOUT_SECONDS",
    "FormatNotWrittenError",
    "RenderError",
    "Renderer",
    "RendererNotFoundError",
    "candidates",
    "find_renderer",
    "graphviz_pure_program",
    "probe",
    "render",
    "use_renderer",
]

ENV_VARIABLE = "CHAINRULE_DOT"
"""The environment variable that names the program to render with."""
TIMEOUT_SECONDS = 60.0
"""Longest a layout may take before `Renderer.render` gives up."""
PROBE_TIMEOUT_SECONDS = 10.0
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
"""Most bytes of picture read from a renderer (256 MiB); a renderer that writes more fails."""
MAX_ERROR_BYTES = 64 * 1024
"""Most bytes read from a renderer's error stream (64 KiB); a renderer that writes more fails."""
MESSAGE_CHARS = 500
"""Longest quotation of a renderer's error stream in a `RenderError` message."""
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "svg": (b"<?xml", b"<svg"),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "pdf": (b"%PDF",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "jpe": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
}
"""How a picture in each format begins (SVG after any leading whitespace); other formats need only be non-empty."""

INSTALL_HINT = (
    "install one: `pip install graphviz-pure` (a dot-compatible program, no root needed), "
    "or Graphviz itself (`apt-get install graphviz`, `brew install graphviz`, or from graphviz.org); "
    f"or point ${ENV_VARIABLE} at a dot-compatible program"
)


class RendererNotFoundError(RuntimeError):
    """No usable dot-compatible program was found; the message says how to install one."""


class FormatNotWrittenError(RendererNotFoundError, ValueError):
    """Programs run, but none that may be used writes the format asked for (PDF needs Graphviz itself).

    A `RendererNotFoundError`, since what is missing is a program, not valid
    input; and a ValueError, as it was before it had a class of its own.
    """


class RenderError(RuntimeError):
    """The program ran but failed, or took longer than its time limit."""


@dataclass(frozen=True)
class Renderer:
    """A dot-compatible program that runs, and the output formats it writes.

    Attributes:
        path: the program.
        name: ``"graphviz-pure"`` for that package's program, ``"dot"`` otherwise.
        version: the first line the program prints for ``-V``.
        formats: the formats its ``-T`` option accepts, or None when it does not list them.
    """

    path: str
    name: str
    version: str
    formats: frozenset[str] | None

    def writes(self, format: str) -> bool:
        """Whether this program can write `format` (always True when it does not list formats)."""
        return self.formats is None or format in self.formats

    def render(self, source: str, format: str, *, timeout: float = TIMEOUT_SECONDS) -> bytes:
        """Lay out DOT `source` and return the picture in `format` ("svg", "png", ...).

        Raises:
            FormatNotWrittenError: this program does not write `format` (a ValueError too).
            RenderError: the program failed, or ran longer than `timeout` seconds.
        """
        if not self.writes(format):
            listed = ", ".join(sorted(self.formats or ()))
            advice = "; for PDF, install Graphviz itself" if format == "pdf" else ""
            raise FormatNotWrittenError(
                f"{self.name} ({self.path}) cannot write {format!r}; it writes {listed}{advice}"
            )
        returncode, out, err, overflow = _run_bounded([self.path, f"-T{format}"], source.encode(), timeout, self)
        if overflow is not None:
            raise RenderError(overflow)
        message = _quote(err)
        if returncode != 0:
            raise RenderError(f"{self.name} failed with exit status {returncode}: {message}")
        _check_picture(out, format, self.name, message)
        return out


def _run_bounded(
    command: list[str], data: bytes, timeout: float, who: Renderer
) -> tuple[int, bytes, bytes, str | None]:
    """Run `command` in its own process group with `data` on stdin: (exit status, output, errors, what overflowed).

    Each stream is read up to its limit; past it, or past `timeout` seconds,
    the whole group is killed and the last item says why. The group is killed
    at the end in any case, so no grandchild outlives the call.
    """
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as error:
        raise RenderError(f"{who.name} ({who.path}) could not be run: {error}") from None
    overflow: list[str] = []
    outputs: dict[str, bytes] = {}

    def read(stream: Any, limit: int, what: str) -> None:
        chunks, size = [], 0
        while chunk := stream.read1(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                overflow.append(f"{who.name} wrote more than {limit} bytes to its {what}; draw a smaller graph")
                _kill_group(process)
                break
        outputs[what] = b"".join(chunks)

    def write() -> None:
        with suppress(OSError):  # a renderer may exit (or be killed) before reading everything
            process.stdin.write(data)  # type: ignore[union-attr]
        with suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]

    threads = [
        threading.Thread(target=read, args=(process.stdout, MAX_OUTPUT_BYTES, "output"), daemon=True),
        threading.Thread(target=read, args=(process.stderr, MAX_ERROR_BYTES, "error stream"), daemon=True),
        threading.Thread(target=write, daemon=True),
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    try:
        returncode = process.wait(timeout)
        for thread in threads:  # a grandchild may still hold the pipes open: it has the rest of the time
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in threads):
            raise subprocess.TimeoutExpired(command, timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.wait()
        for thread in threads:
            thread.join(PROBE_TIMEOUT_SECONDS)  # the pipes close when the group dies
        raise RenderError(
            f"{who.name} took more than {timeout:g} s to lay out the graph; draw a smaller graph"
        ) from None
    finally:
        # A group's id is not reused while any member lives, so this kills only what the renderer started.
        _kill_group(process)
        if not any(thread.is_alive() for thread in threads[:2]):  # else a reader holds its stream's lock
            for stream in (process.stdout, process.stderr):
                stream.close()  # type: ignore[union-attr]
    return returncode, outputs.get("output", b""), outputs.get("error stream", b""), overflow[0] if overflow else None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the renderer and everything it started (its process group, on POSIX)."""
    if os.name == "posix":
        with suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with suppress(OSError):
        process.kill()


def _quote(err: bytes) -> str:
    """The renderer's error stream on one line, cut to `MESSAGE_CHARS` characters."""
    text = " ".join(err[: 4 * MESSAGE_CHARS].decode(errors="replace").split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _check_picture(out: bytes, format: str, name: str, message: str) -> None:
    """Raise RenderError unless `out` is a non-empty picture that starts as `format` does."""
    said = f" (it said: {message})" if message else ""
    if not out:
        raise RenderError(f"{name} wrote nothing for format {format!r}{said}")
    signatures = SIGNATURES.get(format)
    start = out.lstrip() if format == "svg" else out
    if signatures is not None and not start.startswith(signatures):
        raise RenderError(f"{name} wrote something that is not {format.upper()} (it begins {out[:16]!r}){said}")


_chosen: str | None = None


def use_renderer(program: str | os.PathLike[str] | None) -> None:
    """Render with `program` from now on (None returns to the automatic choice).

    This takes precedence over ``$CHAINRULE_DOT``. A bare name is looked up
    on the PATH; the program must exist and be executable, which is checked
    here (whether it works as a dot program is checked when it is first used).

    Raises:
        RendererNotFoundError: `program` is not found, or is not an executable file.

    Example:
        >>> from autograd.render import use_renderer
        >>> use_renderer(None)  # the automatic choice (the default)
    """
    global _chosen
    if program is None:
        _chosen = None
        return
    chosen = os.fspath(program)
    located = shutil.which(chosen) if Path(chosen).name == chosen else chosen
    if located is None or not os.path.isfile(located) or not os.access(located, os.X_OK):
        problem = "is not found" if located is None or not os.path.exists(located) else "is not an executable file"
        raise RendererNotFoundError(f"{chosen} (chosen by use_renderer) {problem}; {INSTALL_HINT}")
    _chosen = chosen


def probe(program: str) -> Renderer | None:
    """Run `program` with ``-V`` and ``-T?``; a `Renderer` if it works as a dot program, else None.

    The answer is remembered for as long as the program file is unchanged.
    """
    path = shutil.which(program) if Path(program).name == program else program
    if path is None:
        return None
    try:
        modified = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _probe(path, modified)


@lru_cache(maxsize=32)
def _probe(path: str, modified: int) -> Renderer | None:
    version = _run_quietly([path, "-V"])
    if version is None:
        return None
    first_line = version.strip().splitlines()[0] if version.strip() else Path(path).name
    name = "graphviz-pure" if "graphviz-pure" in first_line or Path(path).stem == "graphviz-pure" else "dot"
    return Renderer(path, name, first_line, _listed_formats(_run_quietly([path, "-T?"], need_success=False)))


def _run_quietly(command: list[str], *, need_success: bool = True) -> str | None:
    """The program's output (stderr and stdout), or None when it cannot run (or fails, if `need_success`)."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if need_success and done.returncode != 0:
        return None
    return (done.stderr + done.stdout).decode(errors="replace")


def _listed_formats(answer: str | None) -> frozenset[str] | None:
    # Graphviz and graphviz-pure both answer an unknown format with 'Use one of: svg png:cairo ...'.
    marker = "Use one of:"
    if answer is None or marker not in answer:
        return None
    listed = answer.split(marker, 1)[1].split()
    return frozenset(item.split(":", 1)[0] for item in listed) or None


def graphviz_pure_program() -> str | None:
    """Where the `graphviz-pure` package put its program, or None when it is not installed.

    Looks in the package's installed file list, then in this Python's scripts
    folder, then next to the Python executable: all public, documented places.
    """
    names = ("graphviz-pure", "graphviz-pure.exe")
    try:
        distribution = metadata.distribution("graphviz-pure")
    except metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name in names:
            located = Path(str(distribution.locate_file(file))).resolve()
            if located.is_file():
                return str(located)
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        for name in names:
            if (Path(folder) / name).is_file():
                return str(Path(folder) / name)
    return None


def candidates() -> list[tuple[str, str]]:
    """The programs `find_renderer` would try, in order, each with who chose it ("found" when nobody did)."""
    if _chosen is not None:
        return [(_chosen, "use_renderer")]
    forced = os.environ.get(ENV_VARIABLE)
    if forced:
        return [(forced, f"${ENV_VARIABLE}")]
    found = [shutil.which("dot"), graphviz_pure_program() or shutil.which("graphviz-pure")]
    return [(program, "found") for program in found if program]


def find_renderer(format: str | None = None) -> Renderer:
    """The program to render with: the first that runs (and writes `format`, when given).

    A program chosen with `use_renderer` or ``$CHAINRULE_DOT`` is returned
    whatever the format: its `Renderer.render` then says what it cannot write.

    Raises:
        RendererNotFoundError: no program runs, or the chosen one does not.
        FormatNotWrittenError: programs run, but none of them writes `format` (a ValueError too).
    """
    tried: list[str] = []
    usable: list[Renderer] = []
    for program, origin in candidates():
        renderer = probe(program)
        if origin != "found":
            if renderer is None:
                raise RendererNotFoundError(
                    f"{program} (chosen by {origin}) does not run as a dot program; {INSTALL_HINT}"
                )
            return renderer  # a chosen program is used even for a format it lacks: its render() says so
        if renderer is None:
            tried.append(program)
        elif format is None or renderer.writes(format):
            return renderer
        else:
            usable.append(renderer)
    if usable:
        written = "; ".join(f"{r.name} writes {', '.join(sorted(r.formats or ()))}" for r in usable)
        advice = " (for PDF, install Graphviz itself)" if format == "pdf" else ""
        raise FormatNotWrittenError(f"no program here writes {format!r}: {written}{advice}")
    detail = f" (tried {', '.join(tried)})" if tried else ""
    raise RendererNotFoundError(f"no program to draw graphs with was found{detail}; {INSTALL_HINT}")


def render(source: str, format: str = "svg", renderer: Renderer | None = None) -> bytes:
    """Render DOT `source` to `format` with `renderer` (by default, `find_renderer(format)`).

    Example:
        >>> png = render("digraph { a -> b }", "png")
        >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    return (renderer or find_renderer(format)).render(source, format)
