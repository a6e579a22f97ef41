"""nbgrader's side of grading: the gradebook, the autograded notebooks, feedback and export.

Only the grading process calls this (one writer, so SQLite never sees two at once). The
scores go into nbgrader's own gradebook as automatic scores, and the autograded notebook
is nbgrader's released notebook with the student's solution cells and, under each test
cell, the verdict in one line: no hidden test's source or output ever reaches it, so the
feedback built from it (``nbgrader generate_feedback``) cannot leak them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

from resnets_utils.autograde.verdicts import counted

MARKER = ".resnets-grade.json"


def run_nbgrader(arguments: list[str], course: Path) -> None:
    """Run nbgrader in ``course`` with this Python's tools first on PATH (nbgrader calls alembic)."""
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "nbgrader", *arguments, "--log-level=WARN"]
    subprocess.run(command, cwd=course, env=environment, check=True)


def db_url(course: Path) -> str:
    return f"sqlite:///{Path(course) / 'gradebook.db'}"


def autograded_folder(course: Path, assignment: str, student: str) -> Path:
    return Path(course) / "autograded" / student / assignment


def graded_fingerprint(course: Path, assignment: str, student: str) -> str | None:
    """The fingerprint of the submission last graded for ``student``, if its grades were saved."""
    marker = autograded_folder(course, assignment, student) / MARKER
    try:
        return json.loads(marker.read_text())["fingerprint"]
    except (OSError, ValueError, KeyError):
        return None


def record(
    course: Path,
    assignment: str,
    notebook: str,
    student: str,
    verdicts: dict,
    fingerprint: str,
    feedback_notebook: dict,
    timestamp: str | None = None,
    notes: list[str] = (),
) -> None:
    """Save one submission's verdicts: gradebook scores, autograded notebook, then the marker.

    The marker is written last, so a submission counts as graded only when all three are
    saved; saving again (after an interruption) overwrites the same rows and files.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    with Gradebook(db_url(course)) as gradebook:
        gradebook.update_or_create_student(student)
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's own method
                submission = gradebook.add_submission(assignment, student)
        if timestamp:
            try:
                submission.timestamp = parse_utc(timestamp)
            except (ValueError, OverflowError, TypeError):
                timestamp = None  # not a time: the submission counts as on time, as without one
        for grade_id, verdict in verdicts.items():
            grade = gradebook.find_grade(grade_id, notebook.removesuffix(".ipynb"), assignment, student)
            grade.auto_score = verdict.points
            # As nbgrader's autograder: a test with an automatic score needs no look, unless an
            # instructor's manual score (kept, as nbgrader keeps it) now disagrees with a new run.
            grade.needs_manual_grade = grade.manual_score is not None
        gradebook.db.commit()
    folder = autograded_folder(course, assignment, student)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / notebook, json.dumps(feedback_notebook, indent=1))
    if timestamp:
        _write_atomically(folder / "timestamp.txt", timestamp)
    summary = {
        grade_id: {"points": v.points, "max_points": v.max_points, "reason": v.reason, "detail": v.detail}
        for grade_id, v in verdicts.items()
    }
    marker = {"fingerprint": fingerprint, "verdicts": summary, "not_read": list(notes)}
    _write_atomically(folder / MARKER, json.dumps(marker, indent=1))


def saved_verdicts(course: Path, assignment: str, student: str) -> dict:
    marker = autograded_folder(course, assignment, student) / MARKER
    return json.loads(marker.read_text())["verdicts"]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def feedback_notebook(release: dict, solutions: dict[str, str], verdicts: dict, notes: list[str] = ()) -> dict:
    """The released notebook with the student's solution cells and each test's verdict as its output.

    ``notes`` name what the grader refused to read (links, FIFOs, files over a limit): a first cell lists them.
    """
    notebook = json.loads(json.dumps(release))  # a deep copy
    if notes:
        text = "**Not read by the grader** (only plain files within the limits are):\n\n" + "\n".join(
            "- `{}`".format(note.replace("`", "'")) for note in notes
        )
        cell = {"cell_type": "markdown", "id": "resnets-grade-not-read", "metadata": {}, "source": text}
        notebook["cells"].insert(0, cell)
    for cell in notebook["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = grading.get("grade_id")
        if cell["cell_type"] != "code":
            continue
        cell["outputs"], cell["execution_count"] = [], None
        if grading.get("solution") and grade_id in solutions:
            cell["source"] = solutions[grade_id]
        elif grade_id in verdicts:
            verdict = verdicts[grade_id]
            if verdict.reason:
                cell["outputs"] = [
                    {
                        "output_type": "error",
                        "ename": "Failed",
                        "evalue": verdict.reason,
                        "traceback": [f"Failed: {verdict.reason}"],
                    }
                ]
            else:
                text = f"Passed: {verdict.points:g} of {counted(verdict.max_points, 'point')}.\n"
                cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    return notebook
