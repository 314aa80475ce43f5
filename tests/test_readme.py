"""Every Python snippet in the README runs as written, and the printed report it shows is the real one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_the_snippet_runs(snippet: str, tmp_path: Path) -> None:
    code = snippet + "\n" + "".join(f"\n{name}()" for name in re.findall(r"^def (test_\w+)", snippet, re.M))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_the_gradcheck_report_shown_is_the_one_printed(tmp_path: Path) -> None:
    snippet = next(s for s in SNIPPETS if "bad_sin" in s)
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    shown = re.search(r"```\n(gradcheck at .*?)```", README.read_text(encoding="utf-8"), re.S)
    assert shown is not None
    shown = shown.group(1)
    assert done.stdout.strip() == shown.strip()


def test_the_compiled_source_shown_is_the_one_printed(tmp_path: Path) -> None:
    snippet = next(s for s in SNIPPETS if "autograd.compile(" in s)
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    shown = re.search(r"```\n(def compiled.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert shown is not None
    assert done.stdout.strip() == shown.group(1).strip()


def test_the_first_snippet_prints_what_its_comment_says(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SNIPPETS[0]], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip() == "0.7071 -1.5000 1.0000"
    assert (tmp_path / "graph.svg").exists()
    assert (tmp_path / "graph.html").exists()


EXAMPLES = sorted((README.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_each_example_runs(script: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
