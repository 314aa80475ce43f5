"""Run the notebooks the way they are committed, and run them with their exercises answered.

Committed notebooks hold the outputs of a clean run, top to bottom in a fresh kernel, with
no execution timestamps (so a re-run only changes what really changed). To refresh them:

    .venv/bin/python tests/notebook_tools.py notebooks/*.ipynb

The tests use `run` to execute a notebook with some cells' sources replaced (the reference
answers of `notebook_answers`) and then to run more cells in the same kernel.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TIMEOUT = 600  # seconds per cell


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def cell_by_id(notebook: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.get("id") == cell_id:
            return cell
    raise KeyError(f"no cell with id {cell_id!r}")


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed (streams and plain-text results), joined."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "".join(parts)


class Session:
    """A notebook executing in its own kernel, cell by cell."""

    def __init__(self, client: NotebookClient, notebook: nbformat.NotebookNode) -> None:
        self.client, self.notebook = client, notebook

    def run_all(self) -> None:
        for index, cell in enumerate(self.notebook.cells):
            self.client.execute_cell(cell, index)

    def run_source(self, source: str) -> nbformat.NotebookNode:
        """Execute extra code in the same kernel; return the executed cell (raises on error)."""
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)  # nbclient stores the executed cell back at its index
        return self.client.execute_cell(cell, len(self.notebook.cells) - 1)


@contextmanager
def session(path: Path, replace: dict[str, str] | None = None) -> Iterator[Session]:
    """Start a kernel in the notebook's folder, with the sources of the cells in `replace` swapped."""
    notebook = read(path)
    for cell_id, source in (replace or {}).items():
        cell_by_id(notebook, cell_id).source = source
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    with client.setup_kernel():
        yield Session(client, notebook)


def execute_in_place(path: Path) -> None:
    """Run a notebook from a fresh kernel and save it with its outputs (no timestamps).

    Consecutive prints are merged into one stream output: how the kernel splits them
    depends on timing, and the saved file should not.
    """
    notebook = read(path)
    NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print("running", name, flush=True)
        execute_in_place(Path(name).resolve())
