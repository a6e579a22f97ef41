"""Read nbgrader notebooks (the one reader of nbgrader's cell metadata) and run the code they define.

nbgrader gives a cell a grade id and a kind: *solution* (the student's to write; in the master,
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``), *locked* (set-up) or *test* (worth
points). A student's notebook is read as it comes: entries that are not code cells are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import linecache
from dataclasses import dataclass, field
from pathlib import Path

SOLUTION, LOCKED, TEST = "solution", "locked", "test"
_FLAGS = {TEST: "grade", SOLUTION: "solution", LOCKED: "locked"}  # by precedence: a graded cell is a test
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TEST_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@dataclass
class Cell:
    kind: str  # SOLUTION, LOCKED, TEST or "" (none of them)
    grade_id: str | None  # None: the cell has no nbgrader metadata
    source: str
    points: object  # a test's points, as its metadata says (a submission's may say anything)
    raw: dict = field(repr=False)  # the cell itself, to change it in place


def load(path) -> dict:
    return json.loads(Path(path).read_text())


def code_cells(notebook: dict) -> list[Cell]:
    """The code cells of a notebook read (its JSON, or nbformat's notebook), in order."""
    found = []
    for cell in notebook.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            grading, source = cell.get("metadata", {}).get("nbgrader", {}), cell.get("source", "")
            kind = next((kind for kind, flag in _FLAGS.items() if grading.get(flag)), "")
            source = "".join(source) if isinstance(source, list) else str(source)
            found.append(Cell(kind, grading.get("grade_id"), source, grading.get("points", 0), cell))
    return found


def without_markers(source: str, markers: tuple[str, ...] = SOLUTION_MARKERS) -> str:
    """A cell's source without nbgrader's marker lines (by default ``### BEGIN/END SOLUTION``)."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in markers)


def execute(source: str, filename: str, namespace: dict) -> None:
    """Run a cell's ``source`` in ``namespace``, as a notebook does: tracebacks and the checks can quote its lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def run_solution_cells(notebook, replace: dict[str, str] | None = None) -> dict:
    """Run a notebook's locked and solution cells in order (``replace``: other sources, by grade id).

    Returns their namespace. Used on the master (the reference solution) and on a student's
    notebook (the exploration notebook looks at the student's own ResNet50).
    """
    namespace: dict = {"__name__": "notebook"}
    for cell in code_cells(load(notebook)):
        if cell.kind in (LOCKED, SOLUTION):
            source = (replace or {}).get(cell.grade_id, cell.source)
            with contextlib.redirect_stdout(io.StringIO()):
                execute(source, f"<{cell.grade_id}>", namespace)
    return namespace
