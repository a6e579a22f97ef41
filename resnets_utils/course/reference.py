"""The reference solution, taken from the master notebook (instructor side only).

The master notebook is the one place where the solution is written; scripts and tests
run exactly its set-up and solution cells. The defaults are this repository's course and
release, for the maintainer's scripts and the tests.
"""

from __future__ import annotations

import functools
from pathlib import Path

from resnets_utils.course import notebooks

REPO = Path(__file__).resolve().parents[2]
MASTER = REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb"
RELEASE = REPO / "assignments" / "residual_networks" / "Residual_Networks.ipynb"


@functools.cache
def _sources(notebook: Path) -> dict[str, str]:
    return {cell.grade_id: cell.source for cell in notebooks.code_cells(notebooks.load(notebook)) if cell.grade_id}


def solution_sources(notebook=MASTER) -> dict[str, str]:
    """The source of each nbgrader cell of a notebook (the master by default), by grade id."""
    return dict(_sources(Path(notebook)))


def load_reference(notebook=MASTER, replace: dict[str, str] | None = None) -> dict:
    """The master's set-up and solution cells, run; ``replace`` swaps a cell's source by grade id."""
    return notebooks.run_solution_cells(notebook, replace)


def solution(grade_id: str, _released_source: str = "") -> str:
    """The master's solution for one cell, without nbgrader's markers (a ``fill`` for ``student_version``)."""
    return notebooks.without_markers(solution_sources()[grade_id])


def student_version(fill=solution, release=RELEASE):
    """The released notebook with each solution cell's source given by ``fill(grade_id, released_source)``.

    The default fills in the master's solutions: a complete submission.
    """
    import nbformat

    notebook = nbformat.read(release, as_version=4)
    for cell in notebooks.code_cells(notebook):
        if cell.kind == notebooks.SOLUTION:
            cell.raw.source = fill(cell.grade_id, cell.source)
    return notebook
