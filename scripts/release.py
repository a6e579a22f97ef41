"""Regenerate the language editions, assignments/ and solutions/ from the masters in course/source/.

    python scripts/release.py                 # every edition: release with nbgrader, execute the solutions
    python scripts/release.py residual_networks_zh_CN   # only these editions (nbgrader names)
    python scripts/release.py --no-execute    # the same, solutions left unexecuted
    python scripts/release.py --notebook Explore_ResNet.ipynb   # execute only these solutions again
    python scripts/release.py --check         # fail if any generated copy is stale

Each master folder course/source/<name>/ has an edition per language, its own nbgrader
assignment: course/source/<name>_<language>/ holds the masters translated from the catalogues
in course/locale/ (generated, marked in their metadata; same cells, grade ids and points).
assignments/<edition>/ is nbgrader's student version (generate_assignment): solutions
replaced by stubs, hidden tests removed, no outputs. solutions/<edition>/ is the master
with the nbgrader markers removed, executed top to bottom in its language (not in grading
mode). Executed outputs vary (timings, accuracy), so --check compares the solutions' cells,
not their outputs.
"""

from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from resnets_utils.assignments import edition_of
from resnets_utils.autograde import gradebook
from resnets_utils.course import editions, notebooks
from resnets_utils.language import ENGLISH, ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
LOCALE = COURSE / "locale"
ASSIGNMENTS = ROOT / "assignments"
SOLUTIONS = ROOT / "solutions"
MARKERS = notebooks.SOLUTION_MARKERS + notebooks.HIDDEN_TEST_MARKERS
# What JupyterLab writes beside a notebook it opens (git ignores it too): not part of a release.
IGNORED = [*filecmp.DEFAULT_IGNORES, ".ipynb_checkpoints"]
GENERATED_NOTE = "generated from course/source by `make release`; edit the master there, not this copy"


def all_editions() -> dict[str, dict]:
    """nbgrader name -> notebook file name -> master, for every master folder's editions (English first)."""
    found = {}
    for folder in editions.master_folders(COURSE / "source"):
        found.update(editions.editions_of(folder, LOCALE))
    return found


def release(name: str, masters: dict, destination: Path) -> None:
    """Run nbgrader generate_assignment on a scratch course holding ``masters``; copy the result."""
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch) / "course"
        (course / "source" / name).mkdir(parents=True)
        shutil.copy(COURSE / "nbgrader_config.py", course)
        for file_name, notebook in masters.items():
            nbformat.write(notebook, course / "source" / name / file_name)
        gradebook.generate_assignment(course, name)
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(course / "release" / name, destination)


def solution(master):
    """A copy of the master notebook without nbgrader's markers and outputs."""
    notebook = nbformat.from_dict(master)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = notebooks.without_markers(cell.source, MARKERS)
            cell.outputs, cell.execution_count = [], None
    language = notebook.metadata.get("resnets_course", {}).get("language")
    notebook.metadata["resnets_course"] = {"note": GENERATED_NOTE} | ({"language": language} if language else {})
    return notebook


def execute(notebook, directory: Path, language: str) -> None:
    """Run ``notebook`` top to bottom in ``directory``, its checks speaking ``language``."""
    from nbclient import NotebookClient

    with _environment(ENVIRONMENT, None if language == ENGLISH else language):
        NotebookClient(
            notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(directory)}}
        ).execute()


@contextlib.contextmanager
def _environment(name: str, value: str | None):
    """``$name`` set to ``value`` (None: unset) for the kernels started inside."""
    before = os.environ.pop(name, None)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)
        if before is not None:
            os.environ[name] = before


def _graded(notebook) -> bool:
    return any(cell.get("metadata", {}).get("nbgrader", {}).get("grade") for cell in notebook.cells)


def _cells(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def check(found: dict[str, dict]) -> list[str]:
    """What is out of sync with ``found`` (:func:`all_editions`): each generated file or folder, by path."""
    stale = []
    for name, masters in found.items():
        if edition_of(name)[1] != ENGLISH:
            for file_name, notebook in masters.items():
                committed = COURSE / "source" / name / file_name
                if not committed.exists() or committed.read_text() != nbformat.writes(notebook):
                    stale.append(f"course/source/{name}/{file_name}")
        with tempfile.TemporaryDirectory() as scratch:
            fresh = Path(scratch) / name
            release(name, masters, fresh)
            committed = ASSIGNMENTS / name
            if not committed.exists() or _differs(filecmp.dircmp(fresh, committed, ignore=IGNORED)):
                stale.append(f"assignments/{name}")
        for file_name, notebook in masters.items():
            committed = SOLUTIONS / name / file_name
            if not committed.exists() or _cells(nbformat.read(committed, as_version=4)) != _cells(solution(notebook)):
                stale.append(f"solutions/{name}/{file_name}")
    known = {*found, "README.md"}
    stale += [
        f"{path.relative_to(ROOT)} (no master)"
        for base in (ASSIGNMENTS, SOLUTIONS, COURSE / "source")
        for path in sorted(base.iterdir())
        if path.name not in known
    ]
    return stale


def _differs(comparison: filecmp.dircmp) -> bool:
    if comparison.left_only or comparison.right_only or comparison.funny_files:
        return True
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    return bool(mismatch or errors) or any(_differs(sub) for sub in comparison.subdirs.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("editions", nargs="*", metavar="EDITION", help="nbgrader names to release (default: all)")
    parser.add_argument("--check", action="store_true", help="only report whether the copies are stale")
    parser.add_argument("--no-execute", action="store_true", help="do not execute the solutions")
    parser.add_argument(
        "--notebook", action="append", default=[], metavar="FILE",
        help="write and execute only these solutions (the others stay as they are); an exploration notebook "
        "then looks at the model that the last execution of the assignment saved",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        found = all_editions()
    except ValueError as incomplete:  # a catalogue lacks a unit: the translators' command says which
        print(f"{incomplete}\nrun `python scripts/translations.py check`", file=sys.stderr)
        return 1
    if args.check:
        stale = check(found)
        if stale:
            print(f"not in sync with course/source: {', '.join(stale)}; run `make release`", file=sys.stderr)
            return 1
        print("the editions, assignments/ and solutions/ are in sync with course/source/")
        return 0
    if not args.no_execute and shutil.which("dot") is None:
        # The reference notebooks would show the diagrams' text fallback instead of the diagrams.
        print("Graphviz's `dot` is missing: install it (`make graphviz`) and run again.", file=sys.stderr)
        return 1
    if unknown := sorted(set(args.notebook) - {name for masters in found.values() for name in masters}):
        print(f"no notebook named {', '.join(unknown)} in course/source", file=sys.stderr)
        return 2
    if unknown := sorted(set(args.editions) - set(found)):
        print(f"no edition named {', '.join(unknown)}: the course has {', '.join(found)}", file=sys.stderr)
        return 2
    for name, masters in found.items():
        if args.editions and name not in args.editions:
            continue
        language = edition_of(name)[1]
        if language != ENGLISH:  # nbgrader's workflows (and resnets-grade) read an assignment's masters here
            for file_name, notebook in masters.items():
                target = COURSE / "source" / name / file_name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(nbformat.writes(notebook))
            print(f"wrote course/source/{name}")
        release(name, masters, ASSIGNMENTS / name)
        print(f"released assignments/{name}")
        # Graded notebooks first: the assignment saves the model that the exploration notebook looks at.
        for file_name, master in sorted(masters.items(), key=lambda item: (not _graded(item[1]), item[0])):
            if args.notebook and file_name not in args.notebook:
                continue
            notebook = solution(master)
            target = SOLUTIONS / name / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not args.no_execute:
                print(f"executing {name}/{file_name} (full training, a few minutes)...", flush=True)
                execute(notebook, target.parent, language)
            nbformat.write(notebook, target)
            print(f"wrote solutions/{name}/{file_name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
