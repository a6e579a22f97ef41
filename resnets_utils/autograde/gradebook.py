"""nbgrader's side of grading: the gradebook, the autograded notebooks, feedback and export.

Only the grading process calls this (one writer, so SQLite never sees two at once). The
scores go into nbgrader's own gradebook as automatic scores, and the autograded notebook
is nbgrader's released notebook with the student's solution cells and, under each test
cell, the verdict in one line: no hidden test's source or output ever reaches it, so the
feedback built from it (``nbgrader generate_feedback``) cannot leak them.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import warnings
from datetime import datetime
from pathlib import Path

from resnets_utils import settings
from resnets_utils.assignments import edition_of
from resnets_utils.course import notebooks
from resnets_utils.language import say, speaking
from resnets_utils.settings import write_atomically

MARKER = ".resnets-grade.json"


def tools_first() -> dict:
    """This process's environment with this Python's tools first on PATH (nbgrader's commands start `alembic`)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(arguments: list[str], course: Path) -> None:
    """Run nbgrader's command line in ``course`` with this Python's tools first on PATH."""
    command = [sys.executable, "-m", "nbgrader", *arguments, "--log-level=WARN"]
    subprocess.run(command, cwd=course, env=tools_first(), check=True)


# nbgrader's steps in this process, as its commands run them in ``course`` with the course's
# nbgrader_config.py: each command would start Python and import nbgrader again (about 1 s each).


def _step_arguments(course: Path, assignment: str | None = None) -> dict:
    """What an nbgrader step takes: the course directory, its config, and a log showing warnings."""
    import nbgrader.api
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    nbgrader.api.get_alembic_version = alembic_head  # read here, not by the `alembic` command nbgrader starts
    log = logging.getLogger("nbgrader")
    if not log.handlers:  # as nbgrader's command line with --log-level=WARN
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[nbgrader] %(levelname)s | %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False
    config = PyFileConfigLoader(settings.COURSE_CONFIG, path=str(course)).load_config()
    # nbconvert cleans the HTML of markdown and outputs (off by default): defence beside our own escaping.
    config.HTMLExporter.sanitize_html = True
    coursedir = CourseDirectory(root=str(course), config=config, log=log)
    if assignment:
        coursedir.assignment_id = assignment
    return {"coursedir": coursedir, "config": config, "log": log}


def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, which nbgrader stamps on a new gradebook.

    nbgrader reads it by starting the `alembic` command (about 2 s of CPU for each new gradebook);
    this reads the same migration scripts in this process.
    """
    from importlib.resources import files

    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(files("nbgrader") / "alembic")).get_current_head()


def generate_assignment(course: Path, assignment: str) -> None:
    """``nbgrader generate_assignment ASSIGNMENT --force``: the release, and the gradebook's test cells."""
    from nbgrader.converters import GenerateAssignment

    GenerateAssignment(force=True, **_step_arguments(course, assignment)).start()


def generate_feedback(course: Path, assignment: str) -> list[str]:
    """``nbgrader generate_feedback ASSIGNMENT``, as ``make`` would: a page for each autograded notebook
    that has none or an older one (graded again, even in a run that was killed); the rest are kept.
    Returns the students nbgrader could not write a page for (it says why in its log).

    nbgrader copies the autograded folder's other files beside each page; the marker, which holds what
    hidden tests found, stays with the instructor (and is taken out where an earlier version copied it).
    """
    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException

    def pages(notebook: Path) -> Path:  # autograded/<student>/<assignment>/X.ipynb -> feedback/<student>/<assignment>
        return Path(course) / "feedback" / notebook.parent.relative_to(Path(course) / "autograded")

    def stale(notebook: Path) -> bool:
        page = pages(notebook) / f"{notebook.stem}.html"
        return not page.is_file() or page.stat().st_mtime_ns < notebook.stat().st_mtime_ns

    for notebook in Path(course).glob(f"autograded/*/{assignment}/*.ipynb"):
        if stale(notebook):  # nbgrader writes a student's pages again only if they are gone
            shutil.rmtree(pages(notebook), ignore_errors=True)
    for copied in Path(course).glob(f"feedback/*/{assignment}/{MARKER}"):
        copied.unlink()
    arguments = _step_arguments(course, assignment)
    arguments["coursedir"].ignore = [*arguments["coursedir"].ignore, MARKER]
    try:
        GenerateFeedback(**arguments).start()
    except NbGraderException:  # after every other student's page is written
        pass
    return sorted({n.parent.parent.name for n in Path(course).glob(f"autograded/*/{assignment}/*.ipynb") if stale(n)})


def export(course: Path, to: Path) -> None:
    """``nbgrader export --to TO``: every grade of the gradebook as CSV, one row per student and
    assignment: a language edition (``residual_networks_zh_CN``) counts as its assignment, and the
    maximum counts the points of notebooks with the same tests once."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    arguments = _step_arguments(course)
    coursedir = arguments.pop("coursedir")
    with Gradebook(coursedir.db_url, coursedir.course_id) as book:
        CsvExportPlugin(to=str(to), **arguments).export(_EditionsCountedOnce(book))


def max_score(assignment) -> float:
    """An nbgrader assignment's maximum, each set of tests counted once: a student hands in one
    edition of a notebook (English, Chinese, ...), never all of them, and nbgrader would add them up."""
    best: dict[frozenset, float] = {}
    for notebook in assignment.notebooks:
        tests = frozenset(cell.name for cell in notebook.grade_cells)
        best[tests] = max(best.get(tests, 0.0), notebook.max_score)
    return sum(best.values())


class _Proxy:
    def __init__(self, wrapped):
        self._wrapped = wrapped

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


class _EditionsCountedOnce(_Proxy):
    """The gradebook as nbgrader's exporter reads it: each assignment's ``max_score`` from :func:`max_score`,
    and its language editions folded into it (a student's submission is the latest of those they handed in)."""

    @property
    def assignments(self):
        names = {assignment.name for assignment in self._wrapped.assignments}
        return [
            _AssignmentCountedOnce(assignment)
            for assignment in self._wrapped.assignments
            if edition_of(assignment.name)[0] == assignment.name or edition_of(assignment.name)[0] not in names
        ]

    def find_submission(self, assignment: str, student: str):
        from nbgrader.api import MissingEntry

        names = [assignment] + [
            other.name
            for other in self._wrapped.assignments
            if other.name != assignment and edition_of(other.name)[0] == assignment
        ]
        found = []
        for name in names:
            try:
                found.append(self._wrapped.find_submission(name, student))
            except MissingEntry:
                pass
        if not found:
            raise MissingEntry()
        return max(found, key=_handed_in_at)


def _handed_in_at(submission) -> datetime:
    """When a gradebook submission was handed in (nbgrader's UTC time, zone dropped); the earliest time if unknown."""
    return submission.timestamp.replace(tzinfo=None) if submission.timestamp else datetime.min


class _AssignmentCountedOnce(_Proxy):
    @property
    def max_score(self) -> float:
        return max_score(self._wrapped)


def db_url(course: Path) -> str:
    return f"sqlite:///{Path(course) / 'gradebook.db'}"


def autograded_folder(course: Path, assignment: str, student: str) -> Path:
    return Path(course) / "autograded" / student / assignment


def _marker(course: Path, assignment: str, student: str) -> dict:
    return json.loads((autograded_folder(course, assignment, student) / MARKER).read_text())


def graded_fingerprint(course: Path, assignment: str, student: str) -> str | None:
    """The fingerprint of the submission last graded for ``student``, if its grades were saved."""
    try:
        return _marker(course, assignment, student)["fingerprint"]
    except (OSError, ValueError, KeyError):
        return None


def saved_verdicts(course: Path, assignment: str, student: str) -> dict:
    return _marker(course, assignment, student)["verdicts"]


def record(course: Path, assignment: str, result, fingerprint: str, release: dict) -> None:
    """Save a :class:`.grader.Result`: gradebook scores, autograded notebook (from ``release``), then the marker.

    The marker is written last, so a submission counts as graded only when all three are saved;
    saving again (after an interruption) overwrites the same rows and files.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.utils import parse_utc

    student, notebook, verdicts = result.submission.student, result.submission.notebook, result.verdicts
    timestamp, notes = result.submission.timestamp(), result.submission.intake().notes()  # notes: what was not read

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
    with speaking(result.submission.language):  # the student's feedback, in their notebook's language
        feedback = feedback_notebook(release, result.solutions, verdicts, notes)
    write_atomically(folder / notebook, json.dumps(valid_text(feedback), indent=1))
    if timestamp:
        write_atomically(folder / "timestamp.txt", timestamp)
    summary = {grade_id: dataclasses.asdict(verdict) for grade_id, verdict in verdicts.items()}
    marker = {"fingerprint": fingerprint, "verdicts": summary, "not_read": notes}
    write_atomically(folder / MARKER, json.dumps(marker, indent=1))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value):
    """``value`` (JSON's types) with each lone surrogate as \ufffd: a notebook's JSON may hold them
    (``"\\ud800"``), but no UTF-8 file or page can."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [valid_text(item) for item in value]
    if isinstance(value, dict):
        return {valid_text(key): valid_text(item) for key, item in value.items()}
    return value


_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def plain_markdown(text: str) -> str:
    """``text`` (a file name, a reason: anything a submission controls) as markdown that renders it as
    written, on one line: control characters shown as \ufffd, HTML's signs as entities, markdown's escaped."""
    text = "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text)
    return _MARKDOWN_SIGNS.sub(r"\\\1", html.escape(text, quote=False))


def feedback_notebook(release: dict, solutions: dict[str, str], verdicts: dict, notes: list[str] = ()) -> dict:
    """The released notebook with the student's solution cells and each test's verdict as its output.

    ``notes`` name what the grader refused to read (links, FIFOs, files over a limit): a first cell lists them.
    """
    notebook = json.loads(json.dumps(release))  # a deep copy
    if notes:
        text = (
            say("**Not read by the grader** (only plain files within the limits are):")
            + "\n\n"
            + "\n".join(f"- {plain_markdown(note)}" for note in notes)
        )
        cell = {"cell_type": "markdown", "id": "resnets-grade-not-read", "metadata": {}, "source": text}
        notebook["cells"].insert(0, cell)
    for cell in notebooks.code_cells(notebook):
        cell.raw["outputs"], cell.raw["execution_count"] = [], None
        verdict = verdicts.get(cell.grade_id)
        if cell.kind == notebooks.SOLUTION and cell.grade_id in solutions:
            cell.raw["source"] = solutions[cell.grade_id]
        elif verdict and verdict.reason:
            failed = say("Failed")
            error = {"output_type": "error", "ename": failed, "evalue": verdict.reason}
            cell.raw["outputs"] = [error | {"traceback": [f"{failed}: {verdict.reason}"]}]
        elif verdict:
            points, most = verdict.points, verdict.max_points
            if most == 1:
                text = say("Passed: {points:g} of 1 point.", points=points) + "\n"
            else:
                text = say("Passed: {points:g} of {most:g} points.", points=points, most=most) + "\n"
            cell.raw["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    return notebook
