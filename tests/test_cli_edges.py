"""python -m autograd at its edges: expressions that look like options, non-finite answers, missing formats."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from autograd import cli
from autograd import render as rendering


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class TestExpressionsThatLookLikeOptions:
    def test_double_negation(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "--x", "x=3") == (0, "--x = 3\n  d/dx = 1\n", "")

    def test_options_around_it(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "--digits", "3", "--x*2", "x=1.23456")
        assert (status, out.splitlines()[0]) == (0, "--x * 2 = 2.47")
        status, out, _ = run(capsys, "--digits=3", "--x*2", "x=1.23456")
        assert (status, out.splitlines()[0]) == (0, "--x * 2 = 2.47")

    def test_an_unknown_option_after_the_expression_is_still_reported(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, _, err = run(capsys, "x", "x=1", "--verbose")
        assert status == 2
        assert "unrecognized arguments: --verbose" in err


class TestNonFiniteAnswersAreRefused:
    @pytest.mark.parametrize(
        ("argv", "which"),
        [
            (["x*x", "x=1e200"], "the value is inf"),
            (["x*y", "x=1e200", "y=1e200"], "the value is inf"),
            (["x*1e200*1e200 - x*1e200*1e200", "x=1"], "the value is nan"),
            (["sqrt(x)", "x=0"], "d/dx is inf"),
            (["x**0.5 + y", "x=0", "y=1"], "d/dx is inf"),
        ],
    )
    def test_exit_2_naming_what(self, capsys: pytest.CaptureFixture[str], argv: list[str], which: str) -> None:
        status, out, err = run(capsys, *argv)
        assert (status, out) == (2, "")
        assert which in err
        assert err.count("\n") == 1

    def test_as_exp_and_power_overflow_are(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(capsys, "exp(x)", "x=1000")[0] == 2
        assert run(capsys, "x**3", "x=1e200")[0] == 2


def fake_dot(folder: Path, formats: str) -> Path:
    path = folder / "fake-dot"
    path.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  -V) echo "dot - fake version 1.0" >&2 ;;\n'
        f'  "-T?") echo \'Format: "?" not recognized. Use one of: {formats}\' >&2; exit 1 ;;\n'
        "  *) cat > /dev/null; printf '<svg/>' ;;\n"
        "esac\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize("how", ["environment", "use_renderer"])
def test_a_pdf_without_a_pdf_renderer_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    program = fake_dot(tmp_path, "svg png")
    if how == "environment":
        monkeypatch.setenv(rendering.ENV_VARIABLE, str(program))
    else:
        rendering.use_renderer(program)
    status, out, err = run(capsys, "x*2", "x=1", "-o", str(tmp_path / "g.pdf"))
    assert (status, out) == (1, "")
    assert "cannot write 'pdf'" in err
    with pytest.raises(ValueError, match="cannot write 'pdf'"):  # still a ValueError for the API
        rendering.render("digraph {}", "pdf")


def test_none_of_the_programs_found_writes_pdf(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rendering, "candidates", lambda: [(str(fake_dot(tmp_path, "svg png")), "found")])
    status, out, err = run(capsys, "x*2", "x=1", "-o", str(tmp_path / "g.pdf"))
    assert (status, out) == (1, "")
    assert "no program here writes 'pdf'" in err


def test_the_length_is_checked_before_anything_reads_the_text() -> None:
    started = time.monotonic()
    with pytest.raises(cli.ExpressionError, match="characters long"):
        cli.parse("(" * 100_000_000)
    assert time.monotonic() - started < 2.0


class TestUseRendererChecksAtOnce:
    def test_a_missing_program(self) -> None:
        with pytest.raises(rendering.RendererNotFoundError, match=r"/nope/dot \(chosen by use_renderer\) is not found"):
            rendering.use_renderer("/nope/dot")
        assert rendering.candidates() != [("/nope/dot", "use_renderer")]

    def test_a_name_not_on_the_path(self) -> None:
        with pytest.raises(rendering.RendererNotFoundError, match="is not found"):
            rendering.use_renderer("no-such-dot-program")

    def test_a_file_that_is_not_executable(self, tmp_path: Path) -> None:
        plain = tmp_path / "dot"
        plain.write_text("")
        with pytest.raises(rendering.RendererNotFoundError, match="is not an executable file"):
            rendering.use_renderer(plain)

    def test_a_directory(self, tmp_path: Path) -> None:
        with pytest.raises(rendering.RendererNotFoundError, match="is not an executable file"):
            rendering.use_renderer(tmp_path)
