"""The reference solution, taken from the master notebook (instructor side only).

The master notebook ``course/source/<assignment>/<notebook>.ipynb`` is the one place
where the solution is written. This module runs its locked set-up cells and its
solution cells, so scripts and tests use exactly that code.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb"


def solution_sources(notebook=MASTER) -> dict[str, str]:
    """The source of each nbgrader cell of the master notebook, by grade id."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    sources = {}
    for cell in cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and grading.get("grade_id"):
            sources[grading["grade_id"]] = "".join(cell["source"])
    return sources


def load_reference(notebook=MASTER, replace: dict[str, str] | None = None) -> dict:
    """Run the master's set-up and solution cells and return their namespace.

    Args:
        notebook: the master notebook.
        replace: optional ``{grade_id: source}`` to run instead of a solution cell
            (tests use it to run wrong implementations in the same setting).
    """
    cells = json.loads(Path(notebook).read_text())["cells"]
    namespace: dict = {"__name__": "reference"}
    for cell in cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or grading.get("grade"):
            continue  # tests are not part of the solution
        if not (grading.get("solution") or grading.get("locked")):
            continue  # demo cells (training, plots) are not needed
        source = "".join(cell["source"])
        source = (replace or {}).get(grading["grade_id"], source)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<{grading['grade_id']}>", "exec"), namespace)
    return namespace
