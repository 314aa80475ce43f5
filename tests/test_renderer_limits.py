"""A renderer is trusted with nothing: its time, its output, its error stream and its picture are all bounded."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from autograd import render as rendering


def renderer(folder: Path, body: str) -> rendering.Renderer:
    """A fake renderer: a shell script that runs `body` for -T<format> (it does not list its formats)."""
    path = folder / "fake-dot"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return rendering.Renderer(str(path), "dot", "fake", None)


def is_gone(pid: int, wait: float = 5.0) -> bool:
    """Whether process `pid` has ended (a zombie waiting for its parent counts as ended)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
class TestTimeout:
    def test_the_renderers_children_are_killed_too(self, tmp_path: Path) -> None:
        pidfile = tmp_path / "child.pid"
        slow = renderer(tmp_path, f"sleep 30 >/dev/null 2>&1 </dev/null &\necho $! > {pidfile}\nsleep 30")
        with pytest.raises(rendering.RenderError, match=r"more than 0\.5 s"):
            slow.render("digraph {}", "svg", timeout=0.5)
        assert is_gone(int(pidfile.read_text())), "the renderer's child outlived the timeout"

    def test_a_child_holding_the_output_open_is_killed_in_time(self, tmp_path: Path) -> None:
        pidfile = tmp_path / "child.pid"
        slow = renderer(tmp_path, f"sleep 20 &\necho $! > {pidfile}\nprintf '<svg/>'\nexit 0")
        started = time.monotonic()
        with pytest.raises(rendering.RenderError, match=r"more than 0\.5 s"):
            slow.render("digraph {}", "svg", timeout=0.5)
        assert time.monotonic() - started < 10
        assert is_gone(int(pidfile.read_text()))


class TestOutputLimits:
    def test_too_much_output(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(rendering, "MAX_OUTPUT_BYTES", 1_000_000)
        flood = renderer(tmp_path, "cat >/dev/null\nprintf '<svg>'\nhead -c 3000000 /dev/zero")
        with pytest.raises(rendering.RenderError, match="more than 1000000 bytes to its output"):
            flood.render("digraph {}", "svg")

    def test_too_much_on_the_error_stream(self, tmp_path: Path) -> None:
        flood = renderer(tmp_path, "head -c 1000000 /dev/zero | tr '\\0' e >&2\nprintf '<svg/>'")
        with pytest.raises(rendering.RenderError, match="more than 65536 bytes to its error stream") as caught:
            flood.render("digraph {}", "svg")
        assert len(str(caught.value)) < 300

    def test_a_long_error_message_is_cut_short(self, tmp_path: Path) -> None:
        noisy = renderer(tmp_path, "head -c 60000 /dev/zero | tr '\\0' e >&2\nexit 1")
        with pytest.raises(rendering.RenderError, match="exit status 1: eee") as caught:
            noisy.render("digraph {}", "svg")
        assert len(str(caught.value)) <= rendering.MESSAGE_CHARS + 100


class TestThePictureIsChecked:
    @pytest.mark.parametrize("format", ["svg", "png", "pdf", "jpg"])
    def test_garbage_is_refused(self, tmp_path: Path, format: str) -> None:
        garbage = renderer(tmp_path, "cat >/dev/null\nprintf 'garbage'")
        with pytest.raises(rendering.RenderError, match=f"not {format.upper()} \\(it begins b'garbage'\\)"):
            garbage.render("digraph {}", format)

    def test_empty_output_is_refused(self, tmp_path: Path) -> None:
        empty = renderer(tmp_path, "cat >/dev/null\necho 'Warning: nothing to do' >&2")
        with pytest.raises(rendering.RenderError, match="wrote nothing for format 'svg' \\(it said: Warning"):
            empty.render("digraph {}", "svg")

    @pytest.mark.parametrize(
        ("format", "start"),
        [("svg", "\\n  <?xml"), ("svg", "<svg"), ("png", "\\211PNG\\r\\n\\032\\n"), ("pdf", "%%PDF-1.5"),
         ("jpeg", "\\377\\330\\377\\340"), ("plain", "graph 1 1 1")],
    )  # fmt: skip
    def test_a_picture_that_begins_as_its_format_is_accepted(self, tmp_path: Path, format: str, start: str) -> None:
        fine = renderer(tmp_path, f"cat >/dev/null\nprintf '{start} rest'")
        assert fine.render("digraph {}", format).endswith(b" rest")

    def test_a_renderer_that_does_not_read_its_input(self, tmp_path: Path) -> None:
        rude = renderer(tmp_path, "printf '<svg/>'")
        assert rude.render("digraph { " + "a -> b; " * 200_000 + "}", "svg") == b"<svg/>"


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_the_renderer_runs_in_its_own_process_group(tmp_path: Path) -> None:
    group = renderer(tmp_path, "cat >/dev/null\nprintf '<svg>%s</svg>' $(ps -o pgid= $$)")
    out = group.render("digraph {}", "svg")
    assert int(out[5:-6]) != os.getpgrp()
