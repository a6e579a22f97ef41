"""The autograder (resnets-grade): the hostile-and-broken corpus, containment, resuming."""

from __future__ import annotations

import csv
import html
import json
import os
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import SCRIPTS, load_file

from resnets_utils import assignments, checks, data, settings
from resnets_utils.autograde import catalogue, gradebook, grader, sandbox, verdicts
from resnets_utils.autograde.engines import local, worker
from resnets_utils.autograde.sandbox import landlock, seccomp
from resnets_utils.checks.cases import HIDDEN_IN_COURSE
from resnets_utils.course import editions
from resnets_utils.course.reference import MASTER, RELEASE, load_reference, solution, student_version

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((REPO / "tests" / "submissions").glob("*.py"))
ASSIGNMENT = "residual_networks"
GRADED = assignments.get(ASSIGNMENT)
# What an entry's NEEDS may name: the protections that stop it (it is graded only where they apply).
PROTECTIONS = {"landlock": bool(landlock.abi_version()), "seccomp": seccomp.available()}
PROTECTIONS["x86_64"] = platform.machine() == "x86_64"
STUBBED = tuple(GRADED.cells)  # the grade ids of the solution cells


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Fifo:
    pass


@dataclass(frozen=True)
class Sparse:
    size: int


class Kit:
    """What a corpus file builds its submission from (see tests/submissions/README.md)."""

    # What one submission may bring in the corpus run (small, so that the cases stay small).
    max_file_mb, max_submission_mb, max_files = 1, 3, 40

    def __init__(self, course: Path):
        self.course = course
        self.master = course / "source" / ASSIGNMENT / MASTER.name
        self.hidden = course / HIDDEN_IN_COURSE
        self.trap = course / "trap.fifo"  # a FIFO outside every submission: a reader following a link blocks

    # Source defining _to_pipes(data): writes ``data`` on every pipe the process holds (the grader's channel too).
    to_pipes = (
        "import os as _os\n"
        "import stat as _stat\n\n\n"
        "def _to_pipes(data):\n"
        "    for fd in range(3, 256):\n"
        "        try:\n"
        "            if _stat.S_ISFIFO(_os.fstat(fd).st_mode):\n"
        "                _os.write(fd, data)\n"
        "        except OSError:\n"
        "            pass\n\n\n"
    )

    @staticmethod
    def link(target) -> Link:
        return Link(str(target))

    @staticmethod
    def fifo() -> Fifo:
        return Fifo()

    @staticmethod
    def sparse(size: int) -> Sparse:
        return Sparse(size)

    def notebook(self, **sources):
        return student_version(lambda grade_id, released: sources.get(grade_id, solution(grade_id)))

    def stubbed(self, **sources):
        """The release as handed out, except the solution cells given."""
        return self.notebook(**{cell: self.stub(cell) for cell in STUBBED} | sources)

    def stub(self, grade_id: str) -> str:
        return self.cell(nbformat.read(RELEASE, as_version=4), grade_id).source

    solution = staticmethod(solution)

    @staticmethod
    def entry(name: str):
        """Another corpus entry, by its file's stem."""
        return _load(REPO / "tests" / "submissions" / f"{name}.py")

    @staticmethod
    def in_language(notebook, language: str):
        """``notebook``'s solution cells in the release of the ``language`` edition (``make release``'s), whose
        metadata records its language; the corpus hands it in that edition's folder."""
        release = REPO / "assignments" / assignments.edition_name(ASSIGNMENT, language) / RELEASE.name
        return student_version(lambda grade_id, released: Kit.cell(notebook, grade_id).source, release)

    @staticmethod
    def edit(text: str, old: str, new: str, count: int = -1) -> str:
        assert old in text, f"the master changed: {old!r} is gone; update the corpus"
        return text.replace(old, new, count)

    @staticmethod
    def cell(notebook, grade_id: str):
        return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


ALLOWANCE = ("--max-file-mb", str(Kit.max_file_mb), "--max-submission-mb", str(Kit.max_submission_mb))
ALLOWANCE += ("--max-files", str(Kit.max_files))


def _load(path: Path):
    return load_file(path, f"submission_{path.stem}")


def _course(root: Path) -> Path:
    """A copy of the repository's course (its configuration, master and hidden cases) in ``root``."""
    course = root / "course"
    course.mkdir()
    shutil.copy(REPO / "course" / "nbgrader_config.py", course)
    for folder in ("source", "expected"):
        shutil.copytree(REPO / "course" / folder, course / folder)
    return course


def _submit(course: Path, student: str, notebook, beside: dict | None = None, language: str = "en") -> Path:
    folder = course / "submitted" / student / assignments.edition_name(ASSIGNMENT, language)
    folder.mkdir(parents=True)
    path = folder / RELEASE.name
    for relative, what in {RELEASE.name: notebook, **(beside or {})}.items():
        _make(folder / relative, what)
    return path


def _make(path: Path, what) -> None:
    """A corpus entry's file: a notebook, text, bytes, a link, a FIFO or a sparse file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(what, Link):
        path.symlink_to(what.target)
    elif isinstance(what, Fifo):
        os.mkfifo(path)
    elif isinstance(what, Sparse):
        with path.open("wb") as file:
            file.truncate(what.size)
    elif isinstance(what, bytes):
        path.write_bytes(what)
    elif isinstance(what, str):
        path.write_text(what)
    else:
        nbformat.write(what, path)


def _graded_part(notebook):
    """``notebook`` up to its last test cell: what nbgrader grades, without the training and plots after it
    (about 16 s of a kernel's CPU each time nbgrader runs a complete notebook; they hold no grade)."""
    tests = [i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade")]
    return nbformat.from_dict({**notebook, "cells": notebook.cells[: tests[-1] + 1]})


def _snapshot(folder: Path) -> dict:
    """What a submission folder holds, links and FIFOs as themselves (never followed)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            found[str(path.relative_to(folder))] = ("link", os.readlink(path))
        elif stat.S_ISREG(info.st_mode):
            found[str(path.relative_to(folder))] = ("file", info.st_size, hash(path.read_bytes()))
        else:
            found[str(path.relative_to(folder))] = ("other", stat.S_IFMT(info.st_mode))
    return found


def _grade_command(course: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT, "--course", str(course), *options]


def _scores(course: Path) -> dict[str, float]:
    with (course / "grades.csv").open() as file:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}


# ----------------------------------------------------------------------------- the corpus


def test_corpus_has_twenty_submissions_each_with_its_score(tmp_path):
    assert len(CORPUS) >= 20
    kit = Kit(tmp_path)
    for path in CORPUS:
        module = _load(path)
        assert module.__doc__ and 0 <= module.SCORE <= 10, path.name
        assert module.build(kit), path.name  # still applies to the current release


@pytest.fixture(scope="module")
def graded_corpus(tmp_path_factory):
    course = _course(tmp_path_factory.mktemp("corpus"))
    kit = Kit(course)
    os.mkfifo(kit.trap)
    modules = {path.stem: _load(path) for path in _graded()}
    submitted = {
        student: _submit(
            course,
            student,
            module.build(kit),
            getattr(module, "beside", lambda kit: {})(kit),
            getattr(module, "LANGUAGE", "en"),
        )
        for student, module in modules.items()
    }
    contents = {student: _snapshot(path.parent) for student, path in submitted.items()}
    # Limits small enough for a quick test; a phase is charged its CPU time, not waits for a core.
    # The reference's longest (building ResNet-50) needs about 1 s on a Zen 4, but a Zen 3 ran
    # channel_forged_results' 4 s out once in three runs: 8 s costs the looping entries 4 s more.
    command = _grade_command(course, "--workers", "2", "--phase-seconds", "8", "--memory-mb", "4096", *ALLOWANCE)
    command += ["--scratch-mb", "64"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    return course, result, contents


def _graded() -> list[Path]:
    """The corpus entries this machine grades: those whose NEEDS all apply here."""
    return [path for path in CORPUS if all(PROTECTIONS[need] for need in getattr(_load(path), "NEEDS", ()))]


@pytest.mark.slow
def test_every_corpus_submission_gets_exactly_the_score_it_deserves(graded_corpus):
    course, result, _ = graded_corpus
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    scores = _scores(course)
    expected = {path.stem: float(_load(path).SCORE) for path in _graded()}
    reasons = {s: _verdicts(course, s) for s in scores if scores[s] != expected.get(s)}
    assert scores == expected, reasons


@pytest.mark.slow
def test_a_mixed_class_is_graded_alike_and_answered_in_each_notebooks_language(graded_corpus):
    course, _, _ = graded_corpus
    editions_handed_in = [path for path in _graded() if getattr(_load(path), "LANGUAGE", None)]
    assert {_load(path).LANGUAGE for path in editions_handed_in} == set(SCRIPTS)
    with (course / "grades.csv").open() as file:  # one row per student, an edition's under its assignment
        rows = list(csv.DictReader(file))
    assert sorted(row["student_id"] for row in rows) == sorted(path.stem for path in _graded())
    assert {row["assignment"] for row in rows} == {ASSIGNMENT}
    for path in editions_handed_in:
        entry, texts = _load(path), _student_texts(course, path.stem)
        edition = assignments.edition_name(ASSIGNMENT, entry.LANGUAGE)
        assert _handed_in_as(course, path.stem) == edition
        # The feedback page is the edition's notebook: its title, in its language.
        release = nbformat.read(REPO / "assignments" / edition / RELEASE.name, as_version=4)
        title = release.cells[0].source.splitlines()[0].lstrip("# ")
        assert SCRIPTS[entry.LANGUAGE].search(title) and title in texts["feedback"]
        reasons = [reason for grade_id, reason in texts.items() if grade_id != "feedback" and reason]
        for reason in reasons:  # in the notebook's language, with nothing left in English
            assert SCRIPTS[entry.LANGUAGE].search(reason) and not editions.english_runs(reason), reason
            words = max(re.findall(SCRIPTS[entry.LANGUAGE].pattern + "+", reason), key=len)
            assert words in texts["feedback"]  # the feedback page says it too
        if english := getattr(entry, "SAME_CODE_AS", None):  # the same code: the same points for every test
            points = {g: v["points"] for g, v in _verdicts(course, path.stem).items()}
            same = {g: v["points"] for g, v in _verdicts(course, english).items()}
            assert points == same and reasons
            assert not any(SCRIPTS[entry.LANGUAGE].search(r) for r in _student_texts(course, english).values())


@pytest.mark.slow
def test_the_protections_line_names_what_contained_the_code_that_ran(graded_corpus):
    # Refused submissions (a linked notebook, one over the limits) are recorded first and ran no code.
    _, result, _ = graded_corpus
    assert f"protections: {'; '.join(sandbox.protections())}.\n" in result.stdout, result.stdout[-2000:]


def _handed_in_as(course: Path, student: str) -> str:
    """The edition (nbgrader assignment) ``student`` handed in."""
    (folder,) = (course / "submitted" / student).iterdir()
    return folder.name


def _verdicts(course: Path, student: str) -> dict:
    return gradebook.saved_verdicts(course, _handed_in_as(course, student), student)


def _handed_back(course: Path, student: str) -> dict[str, str]:
    """Every file of the student's feedback folder (what an instructor hands back), by name, as text."""
    folder = course / "feedback" / student
    return {str(p.relative_to(folder)): p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


def _student_texts(course: Path, student: str) -> dict[str, str]:
    """What the student reads: each test's reason, and the feedback HTML."""
    texts = {grade_id: verdict["reason"] for grade_id, verdict in _verdicts(course, student).items()}
    feedback = course / "feedback" / student / _handed_in_as(course, student) / RELEASE.with_suffix(".html").name
    texts["feedback"] = feedback.read_text()
    return texts


@pytest.mark.slow
def test_no_reason_a_student_reads_holds_a_hidden_case(graded_corpus):
    course, _, contents = graded_corpus
    leak = _load(REPO / "tests" / "submissions" / "leaks_hidden_arguments.py")
    cases = {which: checks.load_expected(which, course) for which in ("public", "hidden")}
    blocks = ("identity_block", "convolutional_block")
    seen = {which: [leak.signature(c["input_shape"], c["f"], c["filters"]) for b in blocks for c in cases[which][b]]
            for which in cases}  # fmt: skip
    texts = _student_texts(course, "leaks_hidden_arguments")
    # The attack works on what it can see: the visible case it was called on shows in a visible test's reason.
    assert seen["public"][0] in texts["convolutional_block_public"], texts
    for student in contents:
        for where, text in (_student_texts(course, student) | _handed_back(course, student)).items():
            assert not [s for s in seen["hidden"] if s in text], (student, where)
    details = gradebook.saved_verdicts(course, ASSIGNMENT, "leaks_hidden_arguments")["convolutional_block_hidden"]
    assert "SEEN" in details["detail"]  # the instructor's copy keeps what the hidden test found


@pytest.mark.slow
def test_feedback_shows_what_a_submission_wrote_as_text_never_as_markup(graded_corpus):
    course, _, contents = graded_corpus
    entry = _load(REPO / "tests" / "submissions" / "html_in_names.py")
    for student in contents:
        page = _student_texts(course, student)["feedback"]
        assert "data-corpus-xss" not in re.sub(r"&lt;b data-corpus-xss=(&quot;|\")1(&quot;|\")&gt;", "", page), student
    page = _student_texts(course, "html_in_names")["feedback"]
    assert "Not read by the grader" in page and html.escape(entry.MARKUP, quote=False) in page
    assert "\x1b" not in page  # terminal codes from a reason never reach the page


@pytest.mark.slow
def test_no_submission_changes_another_or_the_course(graded_corpus):
    course, _, contents = graded_corpus
    for student, content in contents.items():
        assert _snapshot(course / "submitted" / student / _handed_in_as(course, student)) == content, student
    for student in contents:
        folder = course / "autograded" / student / _handed_in_as(course, student)
        notebook = json.loads((folder / RELEASE.name).read_text())
        assert notebook["cells"], student  # not "overwritten" by writes_other_grade
    assert json.loads((course / "source" / ASSIGNMENT / MASTER.name).read_text())["cells"]


@pytest.mark.slow
def test_feedback_shows_no_hidden_test_source_or_output(graded_corpus):
    course, _, contents = graded_corpus
    hidden_sources = [
        cell["source"] for cell in nbformat.read(MASTER, as_version=4).cells if "BEGIN HIDDEN TESTS" in cell.source
    ]
    assert hidden_sources
    for student in contents:
        page = _student_texts(course, student)["feedback"]
        assert "BEGIN HIDDEN TESTS" not in page and 'cases="hidden"' not in page and "cases=&quot;hidden" not in page
        saved = _verdicts(course, student)
        shown = {verdict["reason"] for verdict in saved.values()}
        files = _handed_back(course, student)
        assert {Path(name).suffix for name in files if Path(name).name != "timestamp.txt"} == {".html"}, files.keys()
        handed_back = "\n".join(files.values())
        for grade_id, verdict in saved.items():
            if grade_id.endswith("_hidden") and verdict["detail"] and not any(verdict["detail"] in r for r in shown):
                # What a hidden test found stays with the instructor (unless a visible test said the same).
                assert verdict["detail"] not in html.unescape(page), (student, grade_id)
                assert json.dumps(verdict["detail"])[1:-1] not in handed_back, (student, grade_id)
            if verdict["reason"]:
                assert verdict["reason"].split(":")[0] in html.unescape(page)  # the one-line reason, as text


@pytest.mark.slow
def test_a_second_run_grades_nothing_again_and_rewrites_only_missing_feedback(graded_corpus):
    course, _, contents = graded_corpus
    pages = {student: next((course / "feedback" / student).glob("*/*.html")) for student in contents}
    written = {student: page.stat().st_mtime_ns for student, page in pages.items()}
    shutil.rmtree(pages["correct"].parent)  # lost: written again
    copied = pages["identity_wrong"].parent / gradebook.MARKER  # where an earlier version copied the marker
    shutil.copy(gradebook.autograded_folder(course, ASSIGNMENT, "identity_wrong") / gradebook.MARKER, copied)
    command = _grade_command(course, *ALLOWANCE)  # other limits would read other files
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(contents)} submissions: 0 to grade" in result.stdout
    assert pages["correct"].is_file() and not copied.exists()
    kept = {s: page.stat().st_mtime_ns for s, page in pages.items() if s != "correct"}
    assert kept == {s: mtime for s, mtime in written.items() if s != "correct"}  # the others' pages untouched


@pytest.mark.slow
def test_links_fifos_and_files_over_the_limits_are_named_not_read(graded_corpus):
    course, _, _ = graded_corpus
    for path in CORPUS:
        for name in getattr(_load(path), "NOT_READ", []):
            html = (course / "feedback" / path.stem / ASSIGNMENT / "Residual_Networks.html").read_text()
            assert "Not read by the grader" in html and name in html, (path.stem, name)
    linked = gradebook.saved_verdicts(course, ASSIGNMENT, "linked_notebook")
    assert {v["reason"] for v in linked.values()} == {
        f"{RELEASE.name} is a link to {course / 'source' / ASSIGNMENT / MASTER.name}, not a file: "
        "hand in the notebook itself."
    }
    huge = gradebook.saved_verdicts(course, ASSIGNMENT, "huge_notebook")
    assert all(f"over the limit of {Kit.max_file_mb:g} MB per file" in v["reason"] for v in huge.values())


FORMGRADER_FIELDS = ("score", "max_score", "needs_manual_grade", "failed_tests", "flagged")


def _formgrader_view(course: Path, students) -> dict:
    """What nbgrader's formgrader shows of each student's notebook and its test cells."""
    from nbgrader.api import Gradebook

    notebook = RELEASE.stem
    with Gradebook(gradebook.db_url(course)) as book:
        rows = {row["student"]: row for row in book.notebook_submission_dicts(notebook, ASSIGNMENT)}
        assignments = {row["student"]: row for row in book.submission_dicts(ASSIGNMENT)}
        view = {}
        for student in students:
            grades = book.find_submission_notebook(notebook, ASSIGNMENT, student).grades
            view[student] = {
                "notebook": {key: rows[student][key] for key in FORMGRADER_FIELDS},
                "assignment_needs_manual_grade": assignments[student]["needs_manual_grade"],
                "grades": {g.name: (g.auto_score, g.needs_manual_grade, g.failed_tests) for g in grades},
            }
    return view


def test_a_gradebook_made_here_carries_the_schema_revision_nbgrader_would_stamp(tmp_path, monkeypatch):
    import sqlite3

    course = _course(tmp_path)
    tools = os.path.realpath(Path(sys.executable).parent)  # where `alembic` is: out of reach, as the step needs none
    kept = [p for p in os.environ["PATH"].split(os.pathsep) if os.path.realpath(p) != tools]
    with monkeypatch.context() as patch:
        patch.setenv("PATH", os.pathsep.join(kept))
        gradebook.generate_assignment(course, ASSIGNMENT)  # makes the gradebook
    with sqlite3.connect(course / "gradebook.db") as database:
        (stamped,) = database.execute("SELECT version_num FROM alembic_version").fetchone()
    nbgrader_reads = "import nbgrader.api; print(nbgrader.api.get_alembic_version())"  # by starting `alembic`
    read = subprocess.run(
        [sys.executable, "-c", nbgrader_reads], env=gradebook.tools_first(), capture_output=True, text=True
    )
    assert stamped == read.stdout.strip(), read.stderr[-2000:]


@pytest.mark.slow
def test_formgrader_reads_the_gradebook_as_one_written_by_nbgrader_autograde(
    graded_corpus, tmp_path, generated_dir, monkeypatch
):
    course, _, _ = graded_corpus
    students = ("correct", "blocks_only", "untouched")
    ours = _formgrader_view(course, students)
    assert not ours["correct"]["notebook"]["needs_manual_grade"] and not ours["correct"]["notebook"]["failed_tests"]
    assert ours["blocks_only"]["notebook"]["failed_tests"] and ours["untouched"]["notebook"]["failed_tests"]
    failed = {name for name, (_, _, failed) in ours["blocks_only"]["grades"].items() if failed}
    assert failed == {"resnet50_public", "resnet50_hidden"}

    plain = _course(tmp_path)
    kit = Kit(plain)
    for student in students:
        _submit(plain, student, _graded_part(_load(REPO / "tests" / "submissions" / f"{student}.py").build(kit)))
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(generated_dir))
    gradebook.run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], plain)
    gradebook.run_nbgrader(["autograde", ASSIGNMENT, "--force"], plain)
    assert _formgrader_view(plain, students) == ours


@pytest.mark.slow
def test_validate_warns_about_no_cell_output_and_names_the_failing_checks(tmp_path, generated_dir):
    environment = {**os.environ, data.DATA_DIR_VARIABLE: str(generated_dir)}
    printed = {}
    complete, untouched = _graded_part(student_version()), student_version(lambda grade_id, released: released)
    for name, notebook in {"complete": complete, "untouched": untouched}.items():
        nbformat.write(notebook, tmp_path / f"{name}.ipynb")
        command = [sys.executable, "-m", "nbgrader", "validate", f"{name}.ipynb"]
        result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, check=False)
        printed[name] = result.stdout + result.stderr
        assert "cannot be converted to a float" not in printed[name] and "Cell output is" not in printed[name]
    assert "Success! Your notebook passes all the tests." in printed["complete"]
    assert "VALIDATION FAILED ON 3 CELL(S)" in printed["untouched"]
    for check in ("check_identity_block", "check_convolutional_block", "check_resnet50"):
        assert check in printed["untouched"]
    for diagnosis in ("identity_block is not implemented", "convolutional_block is not implemented", "ResNet50 is bu"):
        assert f"CheckFailed: {diagnosis}" in printed["untouched"]


# ----------------------------------------------------------------------------- interrupted runs


@pytest.mark.slow
def test_a_killed_run_restarts_where_it_stopped_and_loses_no_grade(tmp_path):
    course = _course(tmp_path)
    students = ["ann", "ben", "cat", "dan"]
    for student in students:
        _submit(course, student, student_version(lambda grade_id, released: released))
    _submit(course, "eve", Kit(course).stubbed(identity_block=solution("identity_block")))  # a score of its own
    markers = {s: gradebook.autograded_folder(course, ASSIGNMENT, s) / gradebook.MARKER for s in [*students, "eve"]}
    earlier = {s: course / "feedback" / s / ASSIGNMENT / RELEASE.with_suffix(".html").name for s in markers}
    for page in earlier.values():  # pages from an earlier run, older than anything graded here
        page.parent.mkdir(parents=True)
        page.write_text("an earlier submission's feedback")
    temporary = tmp_path / "tmp"  # where both runs keep their scratch folders
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}

    command = _grade_command(course, "--workers", "1")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=environment)
    deadline = time.monotonic() + 600
    while not any(marker.exists() for marker in markers.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = {s: marker.stat().st_mtime_ns for s, marker in markers.items() if marker.exists()}
    assert 1 <= len(saved) < len(markers)
    assert len(list(temporary.glob(f"{local.SCRATCH_PREFIX}*"))) == 1  # the killed run could not delete it

    command = _grade_command(course, "--workers", "2")
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(markers) - len(saved)} to grade" in result.stdout
    assert {s: markers[s].stat().st_mtime_ns for s in saved} == saved  # nothing graded twice
    assert _scores(course) == {"ann": 0.0, "ben": 0.0, "cat": 0.0, "dan": 0.0, "eve": 3.0}
    # The killed run wrote no feedback: every page is written again, those graded before the kill too.
    assert not [s for s, page in earlier.items() if page.read_text() == "an earlier submission's feedback"]
    assert not list(temporary.iterdir())  # the next run deleted what the killed one left, then its own


def test_only_scratch_folders_of_ended_processes_are_swept(tmp_path):
    rng = np.random.default_rng(0)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        owners = {
            "alive": local._process_identity(alive.pid),
            "ended": local._process_identity(os.getpid()).replace(str(os.getpid()), str(ended.pid), 1),
            "reused": f"{alive.pid} {rng.integers(1, 10**6)}",  # its pid, another start time
            "unreadable": None,  # no owner record: not ours to judge
            "empty": "",
        }
        for name, owner in owners.items():
            folder = tmp_path / f"{local.SCRATCH_PREFIX}{name}"
            folder.mkdir()
            (folder / "work").mkdir()
            if owner is not None:
                (folder / local.OWNER).write_text(owner)
        (tmp_path / "another-tool-ended").mkdir()  # not a scratch folder: never looked at
        (tmp_path / f"{local.SCRATCH_PREFIX}link").symlink_to(tmp_path / f"{local.SCRATCH_PREFIX}ended")
        if os.geteuid() == 0:  # another user's folder, even of an ended process: not ours to delete
            shutil.copytree(tmp_path / f"{local.SCRATCH_PREFIX}ended", tmp_path / f"{local.SCRATCH_PREFIX}theirs")
            os.chown(tmp_path / f"{local.SCRATCH_PREFIX}theirs", 54321, 54321)
        swept = local.sweep_abandoned_scratch(tmp_path)
    finally:
        alive.kill()
        alive.wait()
    assert sorted(folder.name.removeprefix(local.SCRATCH_PREFIX) for folder in swept) == ["ended", "reused"]
    kept = {folder.name.removeprefix(local.SCRATCH_PREFIX) for folder in tmp_path.iterdir()}
    theirs = {"theirs"} if os.geteuid() == 0 else set()
    assert kept == {"alive", "another-tool-ended", "empty", "unreadable", "link"} | theirs


# ----------------------------------------------------------------------------- the sandbox, quickly


def _phases(*cells: str) -> list[dict]:
    found = [worker.cell(f"cell-{i}", source) for i, source in enumerate(cells)]
    return [*found, worker.test("test", "undefined_function", [])]


@pytest.fixture
def scratch():
    """A scratch folder as the grader makes one: jobs (as users of their own) pass through but cannot list it."""
    folder = Path(tempfile.mkdtemp(prefix="resnets-test-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def servers(scratch):
    """Cold servers (nothing imported): the quick sandbox tests run no TensorFlow."""
    found = sandbox.Servers(sandbox.prepare_library(scratch), scratch / "servers", warm=False)
    yield found
    found.close()


def test_a_worker_that_loops_crashes_or_exits_loses_only_that_phase(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    limits = sandbox.Limits(phase_seconds=3, submission_seconds=60)
    phases = _phases("while True:\n    pass", "import os\nos._exit(3)", "import ctypes\nctypes.string_at(0)", "x = 1")
    results, _ = sandbox.run_phases(phases, workdir, servers, limits)
    assert "time limit" in results["cell-0"]["error"]
    assert "exit status 3" in results["cell-1"]["error"]
    assert "SIGSEGV" in results["cell-2"]["error"]
    assert results["cell-3"] == {"ok": True}
    assert "not defined" in results["test"]["cases"][0]["error"]


@pytest.mark.skipif(not landlock.abi_version(), reason="this kernel has no Landlock")
def test_a_worker_cannot_read_the_course_or_write_outside_its_folder(scratch, servers):
    workdir = scratch / "work" / "00002"
    workdir.mkdir(parents=True)
    other = scratch / "work" / "00001"  # another submission's scratch folder, as during a run
    other.mkdir()
    (other / "Residual_Networks.ipynb").write_text("{}")
    outside = scratch / "outside.txt"
    probes = [
        f"open({str(MASTER)!r}).read()\n",  # raises: the cell's error is the proof
        f"open({str(outside)!r}, 'w').write('x')\n",
        f"open({str(other / 'Residual_Networks.ipynb')!r}).read()\n",
        f"import os\nos.listdir({str(other.parent)!r})\n",
    ]
    results, protections = sandbox.run_phases(
        _phases(*probes, "open('mine.txt', 'w').write('x')"), workdir, servers, sandbox.Limits()
    )
    assert all("Permission" in results[f"cell-{i}"]["error"] for i in range(len(probes))), results
    assert results[f"cell-{len(probes)}"] == {"ok": True} and (workdir / "mine.txt").exists()
    assert not outside.exists()
    assert protections == sandbox.protections()


def _processes_in(folder: Path) -> set[int]:
    """The processes whose working folder is ``folder``."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == folder:
                found.add(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="jobs get users of their own only when the grader is root")
def test_without_landlock_a_job_of_its_own_user_cannot_reach_a_neighbours_folder(scratch, servers, monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)  # its user alone must keep the neighbours out
    # The scratch layout is LocalEngine's: work/ 0711, each job's folder 0700.
    (scratch / "work").mkdir(mode=0o711)
    other = scratch / "work" / "00001"
    other.mkdir(mode=0o700)
    (other / "Residual_Networks.ipynb").write_text("{}")
    workdir = scratch / "work" / "00002"
    workdir.mkdir(mode=0o700)
    probes = [
        f"open({str(other / 'Residual_Networks.ipynb')!r}).read()\n",
        f"import os\nos.listdir({str(other.parent)!r})",
    ]
    results, protections = sandbox.run_phases(_phases(*probes, "open('mine.txt', 'w').write('x')"), workdir, servers,
                                              sandbox.Limits())  # fmt: skip
    assert all("Permission" in results[f"cell-{i}"]["error"] for i in range(len(probes))), results
    assert results["cell-2"] == {"ok": True} and protections[0].startswith("an unprivileged user")
    assert not any(p.startswith("file system") for p in protections)


@pytest.mark.skipif(not seccomp.available(), reason="no seccomp filter for this architecture")
def test_a_fork_bomb_starts_no_process_and_a_child_leaves_nothing_running(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    bomb = "import os\nwhile True:\n    os.fork()\n"
    spawn = "import subprocess\nsubprocess.Popen(['sleep', '600'])\n"
    # The child closes its channel and carries on: it is killed all the same.
    hides = "import os, time\nos.closerange(3, 1024)\ntime.sleep(600)\n"
    limits = sandbox.Limits(phase_seconds=20, submission_seconds=60)
    results, _ = sandbox.run_phases(_phases(bomb, spawn, "x = 1", hides), workdir, servers, limits)
    assert results["cell-0"]["error"].startswith("PermissionError") and "not permitted" in results["cell-0"]["error"]
    assert results["cell-1"]["error"].startswith("PermissionError")
    assert results["cell-2"] == {"ok": True}
    assert "killed by SIGKILL" in results["cell-3"]["error"] or "exit" in results["cell-3"]["error"], results
    assert not _processes_in(workdir)  # nothing it started, or was, is left running


def test_a_kill_that_comes_after_its_child_ended_does_not_stop_the_server(tmp_path):
    server = sandbox.Server(sandbox.prepare_library(tmp_path), tmp_path / "server", threads=1, warm=False)
    try:
        for attempt in range(2):
            workdir = tmp_path / f"work{attempt}"
            sandbox.home_of(workdir).mkdir(parents=True)
            workdir.mkdir()
            job = worker.Job(str(workdir), [], [], False, 1 << 32, 1 << 20, {})
            pid, channel, phases = server.start(job, workdir)
            os.close(phases)  # no phase: the child reports its protections and ends
            while os.read(channel, 4096):
                pass  # the child ended: its channel is closed
            os.close(channel)
            assert server.stop_child(grace=5.0) == 0
            server.socket.send(worker.KILL)  # late: the next job must still start
    finally:
        server.close()


def test_a_phase_reaches_the_child_only_when_it_runs(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    # Each cell looks through the child's memory for the next cell's source, which must not be there yet.
    look = "import gc\nassert not [o for o in gc.get_objects() if isinstance(o, str) and 'NEXT' + '-{}' in o]\n"
    phases = _phases(look.format(1), "x = 'NEXT-1'\n" + look.format(2), "y = 'NEXT-2'")
    results, _ = sandbox.run_phases(phases, workdir, servers, sandbox.Limits())
    assert [results[f"cell-{i}"] for i in range(3)] == [{"ok": True}] * 3, results


def test_a_false_report_on_the_channel_is_blamed_on_the_cell_that_wrote_it(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    forger = Kit.to_pipes + '_to_pipes(b\'{"done": "cell-0", "result": {"ok": true}, "peak_mb": 0}\\n\')\n'
    limits = sandbox.Limits(phase_seconds=2, submission_seconds=60)
    results, _ = sandbox.run_phases(_phases(forger + "while True:\n    pass\n", "x = 1"), workdir, servers, limits)
    assert "reported itself done" in results["cell-0"]["error"] and "time limit (2 s)" in results["cell-0"]["error"]
    assert results["cell-1"] == {"ok": True}  # the cell it held up ran in a new child


def test_a_flood_on_the_channel_costs_only_its_phase(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    long_line = Kit.to_pipes + f"_to_pipes(b'x' * {worker.MAX_LINE + 1})\n"
    many_lines = Kit.to_pipes + f"_to_pipes(b'{{}}\\n' * {worker.MAX_LINES + 1})\n"
    nested = Kit.to_pipes + "_to_pipes(b'[' * 100000 + b']' * 100000 + b'\\n')\n"
    results, _ = sandbox.run_phases(_phases(long_line, many_lines, nested, "x = 1"), workdir, servers, sandbox.Limits())
    assert "grader's channel" in results["cell-0"]["error"] and "grader's channel" in results["cell-1"]["error"]
    assert results["cell-2"] == results["cell-3"] == {"ok": True}


def test_a_killed_server_costs_only_the_phase_it_was_running(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    started = workdir / "started"

    def kill_the_server():
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        for child in _processes_in(workdir):  # the job's child: its parent is the server
            os.kill(int(Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1]), signal.SIGKILL)

    killer = threading.Thread(target=kill_the_server)
    killer.start()
    sleeper = "open('started', 'w').close()\nimport time\ntime.sleep(30)\n"
    results, _ = sandbox.run_phases(_phases("x = 1", sleeper, "y = 2"), workdir, servers, sandbox.Limits())
    killer.join()
    assert results["cell-0"] == results["cell-2"] == {"ok": True}
    assert "killed" in results["cell-1"]["error"] or "worker stopped" in results["cell-1"]["error"], results


def test_scratch_writes_past_the_limit_cost_only_their_phase(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    (workdir / "submitted.bin").write_bytes(b"x" * (3 << 20))  # the submission's own files do not count
    filler = "for n in range(1000):\n    open(f'f{n}', 'wb').write(b'x' * (1 << 20))\n"
    many = "import os\nfor n in range(100000):\n    os.mkdir(f'd{n}')\n"
    limits = sandbox.Limits(scratch_mb=8, scratch_entries=500)
    results, _ = sandbox.run_phases(_phases("x = 1", filler, many, "y = 2"), workdir, servers, limits)
    assert results["cell-0"] == results["cell-3"] == {"ok": True}
    assert "more than the limit of 8 MB" in results["cell-1"]["error"]
    assert "more than the limit" in results["cell-2"]["error"]


def test_a_neighbour_that_hogs_the_cores_does_not_make_a_job_time_out(scratch, servers):
    workdir = scratch / "work"
    workdir.mkdir()
    work = "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * (os.cpu_count() or 1))]
    try:
        start = time.monotonic()
        limits = sandbox.Limits(phase_seconds=1.8, submission_seconds=60)
        results, _ = sandbox.run_phases(_phases(work, "import time\ntime.sleep(3)"), workdir, servers, limits)
        elapsed = time.monotonic() - start
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert elapsed > 2.5  # the 1 s of CPU took longer than the limit on the clock, shared with the hogs
    assert results["cell-0"] == {"ok": True}, results
    assert "time limit (1.8 s)" in results["cell-1"]["error"]  # sleeping is charged in full


def test_each_power_a_job_must_not_have_is_refused(scratch, servers):
    probe = _load(REPO / "tests" / "submissions" / "probes_powers.py").PROBE
    if platform.machine() != "x86_64":
        pytest.skip("the probe calls system calls by their x86-64 numbers")
    workdir = scratch / "work"
    workdir.mkdir()
    report = probe + "import json\njson.dump(_RESULTS, open('powers.json', 'w'))\n"
    results, _ = sandbox.run_phases(_phases(report), workdir, servers, sandbox.Limits())
    assert results["cell-0"] == {"ok": True}, results
    found = json.loads((workdir / "powers.json").read_text())
    # What stops each power, where the mechanism for it exists here.
    needs = {"reading /dev/zero": "landlock", "listing /dev": "landlock", "writing /dev/shm": "landlock"}
    needs |= {"root's user": "root", "capabilities": "root"}
    present = PROTECTIONS | {"root": os.geteuid() == 0}
    missing = {power: need for power, need in needs.items() if not present[need]}
    missing |= {} if seccomp.available() else {power: "seccomp" for power in found if power not in needs}
    granted = {p: w for p, w in found.items() if w not in ("EPERM", "EACCES") and p not in missing}
    assert not granted, granted
    if missing:
        pytest.skip(f"not checked here, for lack of the mechanism: {missing}")


@pytest.mark.parametrize("threads", [1, 4])  # a job's threads: the cores over the workers
def test_a_warm_server_forks_with_one_thread_and_its_children_see_tensorflow(scratch, threads):
    warm = sandbox.Servers(sandbox.prepare_library(scratch), scratch / "servers", threads, warm=True)
    try:
        workdir = scratch / "work"
        workdir.mkdir()
        # imported before the fork, and frozen there: the child's collections skip those objects
        check = "import gc, sys\nassert 'tensorflow' in sys.modules and 'keras' in sys.modules\n"
        check += "assert gc.get_freeze_count() > 10**5, gc.get_freeze_count()\n"
        for _ in range(2):
            results, _ = sandbox.run_phases(_phases(check), workdir, warm, sandbox.Limits())
            assert results["cell-0"] == {"ok": True}, results
        assert warm.warm and len(warm._idle) == 1 and warm._idle[0].threads == 1  # one server served both
    finally:
        warm.close()


def _parent(pid: int) -> int:
    return int(worker.stat_fields(pid)[1])


def test_warm_servers_are_forks_of_one_origin_that_runs_no_job_and_is_replaced_if_it_dies(scratch):
    servers = sandbox.Servers(sandbox.prepare_library(scratch), scratch / "servers", warm=True)
    check = "import sys\nassert 'tensorflow' in sys.modules and 'keras' in sys.modules\n"
    try:
        with servers.server() as first, servers.server() as second:  # two jobs at once, as with two workers
            origin = servers._origin.pid
            assert len({origin, first.pid, second.pid}) == 3
            assert _parent(first.pid) == _parent(second.pid) == origin  # TensorFlow imported once, in the origin
            assert first.threads == second.threads == 1
        copies = [first.pid, second.pid]
        os.kill(origin, signal.SIGKILL)  # whatever ends the origin ends its idle copies too
        servers._origin.process.wait()
        for attempt in range(2):
            workdir = scratch / "work" / str(attempt)
            workdir.mkdir(parents=True)
            results, _ = sandbox.run_phases(_phases(check), workdir, servers, sandbox.Limits())
            assert results["cell-0"] == {"ok": True}, results  # served by a copy of a new origin
        assert servers._origin.pid != origin and len(servers._idle) == 1
        alive = [servers._origin.pid, servers._idle[0].pid]
    finally:
        servers.close()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in alive + copies):
        assert time.monotonic() < deadline, "a server outlived Servers.close()"
        time.sleep(0.05)


def _state(pid: int) -> str:
    return (worker.stat_fields(pid) or ["Z"])[0]


def test_a_warm_server_with_threads_is_replaced_by_cold_ones_and_the_instructor_is_told(scratch, monkeypatch, capsys):
    class Threaded(sandbox.Server):
        def __init__(self, library, home, threads, warm):
            super().__init__(library, home, threads, False)  # cold, quick to start, whatever is asked
            self.warm, self.threads = warm, 2 if warm else 1  # as a warm one that started a thread says

    monkeypatch.setattr(sandbox, "Server", Threaded)
    servers = sandbox.Servers(sandbox.prepare_library(scratch), scratch / "servers", warm=True)
    try:
        workdir = scratch / "work"
        workdir.mkdir()
        for _ in range(2):
            results, _ = sandbox.run_phases(_phases("x = 1"), workdir, servers, sandbox.Limits())
            assert results["cell-0"] == {"ok": True}, results
        assert not servers.warm and not servers._idle  # each cold server served one job
    finally:
        servers.close()
    assert capsys.readouterr().err.count(sandbox.COLD_NOTE.format(threads=2)) == 1


def test_solution_cells_are_found_by_metadata_or_by_the_function_they_define():
    notebook = json.loads(json.dumps(nbformat.read(RELEASE, as_version=4)))
    cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "resnet50")
    del cell["metadata"]["nbgrader"]
    found = catalogue.submitted_cells(notebook, GRADED)
    assert set(found) == set(STUBBED) and found["resnet50"].startswith("def ResNet50(")


def test_the_grader_knows_every_test_cell_of_the_master():
    master = catalogue.Master.read(MASTER, GRADED)
    assert set(master.points) == set(GRADED.grade_ids) and set(master.solutions) == set(STUBBED)
    assert all("### BEGIN SOLUTION" not in source for source in master.solutions.values())
    assert master.setup and master.grades_every_test()


def test_cases_get_fresh_inputs_for_every_run():
    first, second = catalogue.grading_cases(GRADED, 1), catalogue.grading_cases(GRADED, 2)
    assert first.keys() == set(GRADED.grade_ids)
    seeds = [case["input_seed"] for cases in first.values() for case in cases]
    assert seeds != [case["input_seed"] for cases in second.values() for case in cases]
    assert all("outputs" not in case for cases in first.values() for case in cases)  # never sent to a worker
    assert catalogue.grading_cases(GRADED, 1) == first


def test_only_well_formed_messages_are_taken_from_a_worker():
    # Student code can write on the channel too: nothing it writes there may break the grading process.
    forged = [b"5", b"[1]", b"not json", b'{"done": "resnet50_public"}', b'{"done": "x", "result": 3, "peak_mb": 1}']
    forged += [b'{"protections": "none"}', b'{"protections": [1]}', b"[" * 100_000 + b"]" * 100_000]
    forged += [b'{"done": "x", "result": {}, "peak_mb": ' + b"9" * 401 + b"}", b'{"done": "x", "result": {}}']
    assert [worker.received(line) for line in forged] == [None] * len(forged)
    done = worker.message(worker.DONE, "x", result={"ok": True}, peak_mb=1.0)
    assert worker.received(done.encode()) == (worker.DONE, {"done": "x", "result": {"ok": True}, "peak_mb": 1.0})
    protections = worker.message(worker.PROTECTIONS, ["a"])
    assert worker.received(protections.encode()) == (worker.PROTECTIONS, {"protections": ["a"]})


def _garbage(rng, depth=0):
    """A random value of the kinds JSON carries, and of the kinds that trouble a judge."""
    kinds = ["int", "huge", "float", "nan", "str", "none", "bool"] + (["list", "dict"] if depth < 4 else [])
    kind = kinds[rng.integers(len(kinds))]
    return {
        "int": lambda: int(rng.integers(-5, 5)),
        "huge": lambda: 10 ** int(rng.integers(39, 500)),
        "float": lambda: float(rng.normal()),
        "nan": lambda: float(["nan", "inf", "-inf"][rng.integers(3)]),
        "str": lambda: "x" * int(rng.integers(3)),
        "none": lambda: None,
        "bool": lambda: bool(rng.integers(2)),
        "list": lambda: [_garbage(rng, depth + 1) for _ in range(rng.integers(4))],
        "dict": lambda: {k: _garbage(rng, depth + 1) for k in ("rows", "outputs", "error", "name")[: rng.integers(5)]},
    }[kind]()


def _mutated(value, rng):
    """``value`` with one randomly chosen part (at any depth) replaced by garbage."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = list(value)[rng.integers(len(value))]
        return {**value, key: _mutated(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = int(rng.integers(len(value)))
        return value[:index] + [_mutated(value[index], rng)] + value[index + 1 :]
    return _garbage(rng)


def test_the_judge_gives_a_verdict_on_any_report_and_never_raises():

    public = checks.load_expected("public")
    expected = {test.grade_id: public[test.function] for test in GRADED.tests}
    points = {grade_id: 1.0 for grade_id in GRADED.grade_ids}
    solutions = {cell: "" for cell in GRADED.cells}
    reference = load_reference()
    observed = {name: [checks.observe(name, reference[name], case) for case in public[name]] for name in public}
    honest = {test.grade_id: {"cases": observed[test.function]} for test in GRADED.tests}
    assert not any(v.reason for v in verdicts.verdicts(honest, expected, points, solutions, GRADED).values())
    rng = np.random.default_rng(26)
    for _ in range(300):
        report = _mutated(honest, rng) if rng.random() < 0.7 else _garbage(rng)
        results = report if isinstance(report, dict) else {}
        found = verdicts.verdicts(results, expected, points, solutions, GRADED)
        for verdict in found.values():
            assert verdict.points in (0.0, 1.0) and isinstance(verdict.reason, str) and len(verdict.reason) <= 400
            assert not any(unicodedata.category(c) == "Cc" for c in verdict.reason)


def _any_text(rng, size: int) -> str:
    """Text a hostile notebook's JSON or a file name can hold: lone surrogates, controls, NUL, astral and
    right-to-left characters, noncharacters, combining marks, markup."""
    pools = [(0xD800, 0xE000), (0x0, 0x20), (0x7F, 0xA0), (0x1F600, 0x1F650), (0x202A, 0x202F), (0xFFF0, 0x10000)]
    pools += [(0x300, 0x370), (0x20, 0x7F), (0x4E00, 0x4E40)]
    return "".join(chr(int(rng.integers(*pools[rng.integers(len(pools))]))) for _ in range(size))


def _recorded(course: Path, students, rng=None) -> None:
    """Each of ``students`` handed in the release and recorded as graded, without running anything: with
    ``rng``, random text (:func:`_any_text`) in their solutions and reasons, and refused links and a
    timestamp.txt of random bytes beside their notebooks."""
    for student in students:
        folder = _submit(course, student, student_version(lambda grade_id, released: released)).parent
        for _ in range(3 if rng else 0):  # refused links, named in the feedback: bytes of any kind
            os.symlink(
                bytes(rng.integers(1, 256, size=12, dtype=np.uint8)).replace(b"/", b"_"),
                bytes(folder) + b"/" + bytes(rng.integers(1, 256, size=12, dtype=np.uint8)).replace(b"/", b"_"),
            )
        if rng:
            (folder / "timestamp.txt").write_bytes(bytes(rng.integers(0, 256, size=40, dtype=np.uint8)))
    gradebook.generate_assignment(course, ASSIGNMENT)
    release = json.loads((course / "release" / ASSIGNMENT / RELEASE.name).read_text())
    for student in students:
        submission = grader.Submission(student, course / "submitted" / student / ASSIGNMENT, RELEASE.name)
        reasons = {grade_id: _any_text(rng, 60) if rng else "" for grade_id in GRADED.grade_ids}
        found = {
            grade_id: verdicts.Verdict(0.0 if reason else 1.0, 1.0, reason) for grade_id, reason in reasons.items()
        }
        solutions = {cell: _any_text(rng, 200) if rng else solution(cell) for cell in STUBBED}
        result = grader.Result(submission, found, solutions, protections=None, seconds=0.0)
        gradebook.record(course, ASSIGNMENT, result, submission.fingerprint(), release)


def test_a_feedback_page_is_written_whatever_text_the_submission_holds_and_one_that_fails_stops_nothing(tmp_path):
    course, students = _course(tmp_path), ("ann", "ben", "cat")
    _recorded(course, students, np.random.default_rng(7))
    (gradebook.autograded_folder(course, ASSIGNMENT, "ben") / RELEASE.name).write_text("{")  # a broken file
    (course / "submitted" / os.fsdecode(b"d\xffn") / ASSIGNMENT).mkdir(parents=True)  # no student id in nbgrader

    result = subprocess.run(_grade_command(course), capture_output=True, text=True, check=False)
    assert "3 submissions: 0 to grade" in result.stdout, result.stdout + result.stderr[-2000:]
    assert result.returncode == 1 and "could not write the feedback of 1 student (ben)" in result.stderr
    assert "1 student folder (d\\xffn) not graded: a student id must be UTF-8 text" in result.stderr
    assert set(_scores(course)) == set(students)  # every grade exported
    for student in ("ann", "cat"):
        page = course / "feedback" / student / ASSIGNMENT / RELEASE.with_suffix(".html").name
        page.read_bytes().decode("utf-8")  # written, and valid UTF-8
        assert "Not read by the grader" in page.read_text()


def test_stopping_while_the_feedback_is_written_says_so_and_the_next_run_writes_the_rest(tmp_path):
    course, students = _course(tmp_path), [f"s{i:02d}" for i in range(12)]
    _recorded(course, students)
    pages = course / "feedback"
    process = subprocess.Popen(_grade_command(course), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(pages.glob("*/*/*.html")) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)  # as Ctrl-C
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "every grade is saved" in out and "Traceback" not in err, out + err
    assert 1 <= len(list(pages.glob("*/*/*.html"))) < len(students)
    result = subprocess.run(_grade_command(course), capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "0 to grade" in result.stdout, result.stderr[-2000:]
    assert len(list(pages.glob("*/*/*.html"))) == len(students) and _scores(course) == dict.fromkeys(students, 6.0)


def test_markdown_from_any_file_name_renders_as_that_text():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rng = np.random.default_rng(4)
    alphabet = list("<>&\"'`*_[]()#!|~-+.\\/=: \n\t\x1bab") + ["<img src=x onerror=alert(1)>", "<script>", "&lt;"]
    for _ in range(300):
        name = "".join(alphabet[i] for i in rng.integers(len(alphabet), size=rng.integers(1, 30)))
        page = markdown2html_mistune(f"- {gradebook.plain_markdown(name)}")
        assert "<img" not in page and "<script" not in page and page.count("<") == 4, (name, page)  # <ul><li>...


def test_a_grader_failure_becomes_a_verdict_to_grade_again():
    class Broken:
        def kinds(self):
            return {}

        def run(self, *arguments):
            raise OSError(28, "No space left on device")

        def close(self):
            pass

    batch = grader.Batch(MASTER, engine=Broken())
    submission = grader.Submission("ann", REPO / "assignments" / ASSIGNMENT, RELEASE.name)
    result = batch.grade(submission)
    assert result.retry and result.protections is None
    assert all(v.points == 0 and "will be graded again" in v.reason for v in result.verdicts.values())
    assert all("No space left on device" in v.detail and "space" not in v.reason for v in result.verdicts.values())


def test_the_protections_line_counts_only_submissions_whose_code_ran():
    from resnets_utils.autograde.cli import protections_line

    assert protections_line({}) == "protections: none needed (no submission's code ran)."
    assert protections_line({"here": {("a", "b")}}) == "protections: a; b."
    mixed = protections_line({"here": {("a", "b"), ()}})
    assert mixed.startswith("warning:") and "no Landlock, no seccomp" in mixed


@pytest.mark.parametrize(
    "option",
    [("--workers", "0"), ("--workers", "-3"), ("--workers", "two"), ("--phase-seconds", "0"), ("--memory-mb", "-1")]
    + [("--submission-seconds", "0"), ("--max-file-mb", "0"), ("--max-files", "0")],
)
def test_impossible_options_get_one_line_not_a_traceback(tmp_path, option):
    result = subprocess.run(_grade_command(tmp_path / "course", *option), capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: argument {option[0]}: {option[1]!r} is not a whole number" in result.stderr or (
        f"error: argument {option[0]}: {option[1]} is too small: give" in result.stderr
    )


@pytest.mark.slow
def test_a_reference_that_cannot_run_within_the_limits_says_which_limit_and_what_it_needed(tmp_path):
    course = _course(tmp_path)
    _submit(course, "ann", student_version())
    result = subprocess.run(_grade_command(course, "--memory-mb", "300"), capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: the reference solution cannot run within these limits (setup-0: ")
    assert "--memory-mb 300 is too low: it needed" in line and "MB of address space" in line
    assert line.endswith("No submission was graded.")
    assert not gradebook.autograded_folder(course, ASSIGNMENT, "ann").exists()  # nothing half-recorded


def test_the_command_says_what_to_do_without_submissions(tmp_path):
    course = _course(tmp_path)
    result = subprocess.run(_grade_command(course), capture_output=True, text=True, check=False, env=os.environ)
    assert result.returncode == 1 and "submitted/<student>/residual_networks" in result.stderr


def test_outside_a_course_the_command_says_where_to_run_it(tmp_path):
    (tmp_path / settings.COURSE_CONFIG).write_text("")
    (tmp_path / "source").mkdir()  # below a course, as nbgrader: the current folder's configuration only
    command = [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT]
    for folder in (tmp_path.parent, tmp_path / "source"):
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert "inside the course folder, or pass --course PATH" in result.stderr


def _files(folder: Path) -> dict:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


@pytest.mark.slow
def test_run_inside_a_copy_of_the_course_it_grades_that_copy_with_its_own_hidden_cases(tmp_path):
    course = _course(tmp_path)  # outside the repository, found as the current folder (no --course)
    assert REPO not in course.resolve().parents
    hidden = json.loads((course / HIDDEN_IN_COURSE).read_text())
    assert 2 not in {case["f"] for case in hidden["identity_block"]}  # the repository's hidden cases vary f
    for case in hidden["identity_block"]:
        case["f"] = 2  # in this copy only: an identity_block that ignores f passes them
    (course / HIDDEN_IN_COURSE).write_text(json.dumps(hidden))
    ignores_f = Kit.edit(solution("identity_block"), "kernel_size=(f, f)", "kernel_size=(2, 2)")
    _submit(course, "ann", Kit(course).stubbed(identity_block=ignores_f))
    repository_course = _files(REPO / "course")

    environment = {name: value for name, value in os.environ.items() if name != settings.HIDDEN_EXPECTED}
    command = [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT, "--workers", "2"]
    result = subprocess.run(command, cwd=course, env=environment, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # identity_block's 2 visible points, and the hidden one with this copy's cases (the repository's would fail).
    assert _scores(course) == {"ann": 3.0}
    assert not gradebook.saved_verdicts(course, ASSIGNMENT, "ann")["identity_block_hidden"]["reason"]
    assert (course / "feedback" / "ann" / ASSIGNMENT / RELEASE.with_suffix(".html").name).is_file()
    assert (course / "gradebook.db").is_file() and (course / "release" / ASSIGNMENT / RELEASE.name).is_file()
    assert _files(REPO / "course") == repository_course  # nothing written in the repository's course


def test_the_feedback_tells_a_hidden_case_in_the_notebooks_own_words():

    cases = {which: checks.load_expected(which) for which in ("public", "hidden")}
    expected = {test.grade_id: cases[test.cases][test.function] for test in GRADED.tests}
    points = {grade_id: 1.0 for grade_id in GRADED.grade_ids}
    solutions = {cell: "" for cell in GRADED.cells}
    # Right on the visible case only: the shortcut's stride written as (2, 2) instead of (s, s).
    shortcut = 'strides=(s, s), padding="valid",\n                        name=conv_name_base + "1"'
    source = solution("convolutional_block").replace(shortcut, shortcut.replace("(s, s)", "(2, 2)"))
    assert "strides=(2, 2)" in source
    namespace = load_reference(replace={"convolutional_block": source})
    results = {
        test.grade_id: {
            "cases": [checks.observe(test.function, namespace[test.function], c) for c in expected[test.grade_id]]
        }
        for test in GRADED.tests
    }
    found = verdicts.verdicts(results, expected, points, solutions, GRADED)
    assert not found["convolutional_block_public"].reason
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_convolutional_block(namespace["convolutional_block"], cases="hidden")
    assert found["convolutional_block_hidden"].reason == str(failure.value)
    assert "(with f = 3, s = 3, another input shape" in str(failure.value)
    assert "the setting strides of the Conv2D conv_name_base + '1' differs from the spec's" in str(failure.value)


@pytest.mark.slow
def test_editions_of_the_master_each_grade_the_submissions_of_their_name(tmp_path):
    course = _course(tmp_path)
    source = course / "source" / ASSIGNMENT
    edition = "Residual_Networks_zh_CN.ipynb"  # a translated edition: the same grade ids
    shutil.copy(source / MASTER.name, source / edition)
    # No grade cells (the Explore notebook), or solution cells but no graded test (the optional
    # exercises): not masters, still ignored.
    assert (source / "Explore_ResNet.ipynb").is_file() and (source / "Beyond_ResNet50.ipynb").is_file()
    notebook = Kit(course).stubbed(identity_block=solution("identity_block"))
    _submit(course, "ann", notebook)
    (course / "submitted" / "bob" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(notebook, course / "submitted" / "bob" / ASSIGNMENT / edition)

    result = subprocess.run(_grade_command(course, "--workers", "2"), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _scores(course) == {"ann": 3.0, "bob": 3.0}  # identity_block's 2 visible points and its hidden one
    with (course / "grades.csv").open() as file:  # one edition's points, not the sum of both
        assert {float(row["max_score"]) for row in csv.DictReader(file)} == {sum(GRADED.points.values())}
    assert gradebook.saved_verdicts(course, ASSIGNMENT, "ann") == gradebook.saved_verdicts(course, ASSIGNMENT, "bob")
    assert sorted(p.name for p in gradebook.autograded_folder(course, ASSIGNMENT, "bob").glob("*.ipynb")) == [edition]
    assert (course / "feedback" / "bob" / ASSIGNMENT / Path(edition).with_suffix(".html").name).is_file()
