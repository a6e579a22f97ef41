"""The reference solution, taken from the master notebook (instructor side only).

The master notebook is the one place where the solution is written; scripts and tests
run exactly its set-up and solution cells.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from resnets_utils.notebooks import run_solution_cells

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb"


@functools.cache
def _solution_sources(notebook: Path) -> dict[str, str]:
    sources = {}
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and grading.get("grade_id"):
            sources[grading["grade_id"]] = "".join(cell["source"])
    return sources


def solution_sources(notebook=MASTER) -> dict[str, str]:
    """The source of each nbgrader cell of the master notebook, by grade id."""
    return dict(_solution_sources(Path(notebook)))


def load_reference(notebook=MASTER, replace: dict[str, str] | None = None) -> dict:
    """The master's set-up and solution cells, run; ``replace`` swaps a cell's source by grade id."""
    return run_solution_cells(notebook, replace)


RELEASE = REPO / "assignments" / "residual_networks" / "Residual_Networks.ipynb"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def without_markers(source: str) -> str:
    """A solution cell's source without nbgrader's ``### BEGIN/END SOLUTION`` lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def solution(grade_id: str, _released_source: str = "") -> str:
    """The master's solution for one cell, without nbgrader's markers (a ``fill`` for ``student_version``)."""
    return without_markers(solution_sources()[grade_id])


def student_version(fill=solution, release=RELEASE):
    """The released notebook with each solution cell's source given by ``fill(grade_id, released_source)``.

    The default fills in the master's solutions: a complete submission.
    """
    import nbformat

    notebook = nbformat.read(release, as_version=4)
    for cell in notebook.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution"):
            cell.source = fill(grading["grade_id"], cell.source)
    return notebook
