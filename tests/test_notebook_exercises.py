"""The notebooks' exercises: committed unanswered, passed by the reference answers, failed by wrong ones.

nbmake runs every notebook as committed (see pyproject.toml); there each check cell must say
"not answered yet" without failing. Here each notebook runs in a fresh kernel with its reference
answers filled in, every check must pass, and then, in the same kernel, the committed (blank)
answer must give "not answered yet" again and a wrong answer must make the check fail.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
from nbclient.exceptions import CellExecutionError
from notebook_answers import EXERCISES
from notebook_tools import NOTEBOOKS, cell_by_id, read, session, text_of

ALL_NOTEBOOKS = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_its_exercises_listed() -> None:
    assert sorted(EXERCISES) == ALL_NOTEBOOKS


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_committed_notebook_is_unanswered_and_clean(name: str) -> None:
    notebook = read(NOTEBOOKS / name)
    for exercise in EXERCISES[name]:
        answer = cell_by_id(notebook, exercise.answer_cell)
        assert "✏️ YOUR ANSWER" in answer.source
        assert answer.source.strip() != exercise.answer.strip(), "the committed exercise is already solved"
        check = cell_by_id(notebook, exercise.check_cell)
        assert "not answered yet" in text_of(check), "commit the outputs of a clean run"
    raw = (NOTEBOOKS / name).read_text(encoding="utf-8")
    assert " at 0x" not in raw, "an object's text form with its memory address was saved"
    cells = json.loads(raw)["cells"]
    assert all("execution" not in cell["metadata"] for cell in cells), "execution timestamps were saved"
    counts = [cell["execution_count"] for cell in cells if cell["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "commit one clean run, top to bottom"


NEEDS_TORCH = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra")


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.torch, NEEDS_TORCH]) if "pytorch" in n else n for n in ALL_NOTEBOOKS],
)
def test_reference_answers_pass_and_wrong_answers_fail(name: str) -> None:
    exercises = EXERCISES[name]
    answers = {exercise.answer_cell: exercise.answer for exercise in exercises}
    committed = read(NOTEBOOKS / name)
    with session(NOTEBOOKS / name, replace=answers) as running:
        running.run_all()  # raises CellExecutionError if any cell fails
        for exercise in exercises:
            check = cell_by_id(running.notebook, exercise.check_cell)
            assert text_of(check).startswith("correct"), text_of(check)
        for exercise in exercises:
            check_source = cell_by_id(committed, exercise.check_cell).source
            running.run_source(cell_by_id(committed, exercise.answer_cell).source)
            assert text_of(running.run_source(check_source)).startswith("not answered yet")
            running.run_source(exercise.wrong)
            with pytest.raises(CellExecutionError) as failure:
                running.run_source(check_source)
            assert failure.value.ename in {"AssertionError", "GradcheckError"}, failure.value
