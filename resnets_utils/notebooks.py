"""Run the code a notebook defines: its locked set-up cells and its solution cells.

Used on the master (the reference solution) and on a student's notebook (the
exploration notebook looks at the student's own ResNet50).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path


def run_solution_cells(notebook, replace: dict[str, str] | None = None) -> dict:
    """Run a notebook's locked and solution cells (by nbgrader's metadata); return their namespace.

    Test cells and ungraded cells (training, plots) are skipped.

    Args:
        notebook: path of the notebook.
        replace: optional ``{grade_id: source}`` to run instead of a cell's own source.
    """
    cells = json.loads(Path(notebook).read_text())["cells"]
    namespace: dict = {"__name__": "notebook"}
    for cell in cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or grading.get("grade"):
            continue
        if not (grading.get("solution") or grading.get("locked")):
            continue
        source = "".join(cell["source"])
        source = (replace or {}).get(grading["grade_id"], source)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, f"<{grading['grade_id']}>", "exec"), namespace)
    return namespace
