"""Regenerate assignments/ and solutions/ from the master notebooks in course/source/.

    python scripts/release.py                 # release with nbgrader, then execute the solutions
    python scripts/release.py --no-execute    # the same, solutions left unexecuted
    python scripts/release.py --check         # fail if assignments/ or solutions/ are stale

assignments/<name>/ is nbgrader's student version (generate_assignment): solutions
replaced by stubs, hidden tests removed, no outputs. solutions/<name>/ is the master
with the nbgrader markers removed, executed top to bottom (not in grading mode).
Executed outputs vary (timings, accuracy), so --check compares the solutions' cells, not
their outputs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from resnets_utils.autograde.gradebook import run_nbgrader
from resnets_utils.course import notebooks

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
ASSIGNMENTS = ROOT / "assignments"
SOLUTIONS = ROOT / "solutions"
MARKERS = notebooks.SOLUTION_MARKERS + notebooks.HIDDEN_TEST_MARKERS
GENERATED_NOTE = "generated from course/source by `make release`; edit the master there, not this copy"


def assignment_names() -> list[str]:
    return sorted(path.name for path in (COURSE / "source").iterdir() if path.is_dir())


def release(name: str, destination: Path) -> None:
    """Run nbgrader generate_assignment on a scratch copy of the course; copy the result."""
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        shutil.copy(COURSE / "nbgrader_config.py", course)
        shutil.copytree(COURSE / "source" / name, course / "source" / name)
        run_nbgrader(["generate_assignment", name, "--force"], course)
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(course / "release" / name, destination)


def solution(master: Path):
    """The master notebook without nbgrader's markers and outputs."""
    notebook = nbformat.read(master, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = notebooks.without_markers(cell.source, MARKERS)
            cell.outputs, cell.execution_count = [], None
    notebook.metadata["resnets_course"] = {"note": GENERATED_NOTE}
    return notebook


def execute(notebook, directory: Path) -> None:
    from nbclient import NotebookClient

    NotebookClient(
        notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(directory)}}
    ).execute()


def _graded(master: Path) -> bool:
    return any(cell.kind == notebooks.TEST for cell in notebooks.code_cells(notebooks.load(master)))


def _cells(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def check() -> list[str]:
    stale = []
    for name in assignment_names():
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / name
            release(name, fresh)
            committed = ASSIGNMENTS / name
            comparison = filecmp.dircmp(fresh, committed)
            if not committed.exists() or _differs(comparison):
                stale.append(f"assignments/{name}")
        for master in sorted((COURSE / "source" / name).glob("*.ipynb")):
            committed = SOLUTIONS / name / master.name
            if not committed.exists() or _cells(nbformat.read(committed, as_version=4)) != _cells(solution(master)):
                stale.append(f"solutions/{name}/{master.name}")
    return stale


def _differs(comparison: filecmp.dircmp) -> bool:
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return True
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    return bool(mismatch or errors) or any(_differs(sub) for sub in comparison.subdirs.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the copies are stale")
    parser.add_argument("--no-execute", action="store_true", help="do not execute the solutions")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        if stale:
            print(f"not in sync with course/source: {', '.join(stale)}; run `make release`", file=sys.stderr)
            return 1
        print("assignments/ and solutions/ are in sync with course/source/")
        return 0
    if not args.no_execute and shutil.which("dot") is None:
        # The reference notebooks would show the diagrams' text fallback instead of the diagrams.
        print("Graphviz's `dot` is missing: install it (`make graphviz`) and run again.", file=sys.stderr)
        return 1
    for name in assignment_names():
        release(name, ASSIGNMENTS / name)
        print(f"released assignments/{name}")
        # Graded notebooks first: the assignment saves the model that the exploration notebook looks at.
        for master in sorted(
            (COURSE / "source" / name).glob("*.ipynb"), key=lambda path: (not _graded(path), path.name)
        ):
            notebook = solution(master)
            target = SOLUTIONS / name / master.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not args.no_execute:
                print(f"executing {master.name} (full training, a few minutes)...", flush=True)
                execute(notebook, target.parent)
            nbformat.write(notebook, target)
            print(f"wrote solutions/{name}/{master.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
