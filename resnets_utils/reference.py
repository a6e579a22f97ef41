"""The reference solution, taken from the master notebook (instructor side only).

The master notebook is the one place where the solution is written; scripts and tests
run exactly its set-up and solution cells.
"""

from __future__ import annotations

import json
from pathlib import Path

from resnets_utils.notebooks import run_solution_cells

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb"


def solution_sources(notebook=MASTER) -> dict[str, str]:
    """The source of each nbgrader cell of the master notebook, by grade id."""
    sources = {}
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and grading.get("grade_id"):
            sources[grading["grade_id"]] = "".join(cell["source"])
    return sources


def load_reference(notebook=MASTER, replace: dict[str, str] | None = None) -> dict:
    """The master's set-up and solution cells, run; ``replace`` swaps a cell's source by grade id."""
    return run_solution_cells(notebook, replace)
