"""The autograder (resnets-grade): the hostile-and-broken corpus, containment, resuming."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from resnets_utils import data, settings
from resnets_utils.autograde import catalogue, gradebook, landlock, sandbox, seccomp, worker
from resnets_utils.checks.cases import HIDDEN_IN_COURSE
from resnets_utils.reference import MASTER, RELEASE, solution, student_version

REPO = Path(__file__).resolve().parent.parent
CORPUS = sorted((REPO / "tests" / "submissions").glob("*.py"))
ASSIGNMENT = "residual_networks"
# Without Landlock a submission can read the master or another's scratch folder: scored apart.
NEEDS_LANDLOCK = {"reads_master", "reads_other_scratch"}
NEEDS_SECCOMP = {"fork_bomb"}  # never graded where nothing would stop it
STUBBED = ("identity_block", "convolutional_block", "resnet50")


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
    def edit(text: str, old: str, new: str) -> str:
        assert old in text, f"the master changed: {old!r} is gone; update the corpus"
        return text.replace(old, new)

    @staticmethod
    def cell(notebook, grade_id: str):
        return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


ALLOWANCE = ("--max-file-mb", str(Kit.max_file_mb), "--max-submission-mb", str(Kit.max_submission_mb))
ALLOWANCE += ("--max-files", str(Kit.max_files))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"submission_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _course(root: Path) -> Path:
    """A copy of the repository's course (its configuration, master and hidden cases) in ``root``."""
    course = root / "course"
    course.mkdir()
    shutil.copy(REPO / "course" / "nbgrader_config.py", course)
    for folder in ("source", "expected"):
        shutil.copytree(REPO / "course" / folder, course / folder)
    return course


def _submit(course: Path, student: str, notebook, beside: dict | None = None) -> Path:
    folder = course / "submitted" / student / ASSIGNMENT
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
    modules = {path.stem: _load(path) for path in CORPUS if seccomp.available() or path.stem not in NEEDS_SECCOMP}
    submitted = {
        student: _submit(course, student, module.build(kit), getattr(module, "beside", lambda kit: {})(kit))
        for student, module in modules.items()
    }
    contents = {student: _snapshot(path.parent) for student, path in submitted.items()}
    # Limits small enough for a quick test, large enough for a ResNet-50 on a busy 2-core machine.
    command = _grade_command(course, "--workers", "2", "--phase-seconds", "25", "--memory-mb", "4096", *ALLOWANCE)
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    return course, result, contents


@pytest.mark.slow
def test_every_corpus_submission_gets_exactly_the_score_it_deserves(graded_corpus):
    course, result, _ = graded_corpus
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    scores = _scores(course)
    graded = [path for path in CORPUS if seccomp.available() or path.stem not in NEEDS_SECCOMP]
    expected = {path.stem: float(_load(path).SCORE) for path in graded}
    if not landlock.abi_version():
        expected = {student: score for student, score in expected.items() if student not in NEEDS_LANDLOCK}
        scores = {student: score for student, score in scores.items() if student not in NEEDS_LANDLOCK}
    reasons = {s: gradebook.saved_verdicts(course, ASSIGNMENT, s) for s in scores if scores[s] != expected.get(s)}
    assert scores == expected, reasons


@pytest.mark.slow
def test_no_submission_changes_another_or_the_course(graded_corpus):
    course, _, contents = graded_corpus
    for student, content in contents.items():
        assert _snapshot(course / "submitted" / student / ASSIGNMENT) == content, student
    for student in contents:
        notebook = json.loads((course / "autograded" / student / ASSIGNMENT / RELEASE.name).read_text())
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
        html = (course / "feedback" / student / ASSIGNMENT / "Residual_Networks.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in html and 'cases="hidden"' not in html and "cases=&quot;hidden" not in html
        saved = gradebook.saved_verdicts(course, ASSIGNMENT, student)
        shown = {verdict["reason"] for verdict in saved.values()}
        for grade_id, verdict in saved.items():
            if grade_id.endswith("_hidden") and verdict["detail"] and not any(verdict["detail"] in r for r in shown):
                # What a hidden test found stays with the instructor (unless a visible test said the same).
                assert verdict["detail"] not in html, (student, grade_id)
            if verdict["reason"]:
                assert verdict["reason"].split(":")[0] in html  # the one-line reason is there


@pytest.mark.slow
def test_a_second_run_grades_nothing_again(graded_corpus):
    course, _, contents = graded_corpus
    command = _grade_command(course, "--no-feedback", *ALLOWANCE)  # other limits would read other files
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(contents)} submissions: 0 to grade" in result.stdout


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
        _submit(plain, student, _load(REPO / "tests" / "submissions" / f"{student}.py").build(kit))
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(generated_dir))
    gradebook.run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], plain)
    gradebook.run_nbgrader(["autograde", ASSIGNMENT, "--force"], plain)
    assert _formgrader_view(plain, students) == ours


@pytest.mark.slow
def test_validate_warns_about_no_cell_output_and_names_the_failing_checks(tmp_path, generated_dir):
    environment = {**os.environ, data.DATA_DIR_VARIABLE: str(generated_dir)}
    printed = {}
    for name, notebook in {"complete": student_version(), "untouched": student_version(lambda g, r: r)}.items():
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
    _submit(course, "eve", student_version())
    markers = {s: gradebook.autograded_folder(course, ASSIGNMENT, s) / gradebook.MARKER for s in [*students, "eve"]}

    process = subprocess.Popen(_grade_command(course, "--workers", "1"), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not any(marker.exists() for marker in markers.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = {s: marker.stat().st_mtime_ns for s, marker in markers.items() if marker.exists()}
    assert 1 <= len(saved) < len(markers)

    result = subprocess.run(_grade_command(course, "--workers", "2"), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(markers) - len(saved)} to grade" in result.stdout
    assert {s: markers[s].stat().st_mtime_ns for s in saved} == saved  # nothing graded twice
    assert _scores(course) == {"ann": 0.0, "ben": 0.0, "cat": 0.0, "dan": 0.0, "eve": 10.0}


# ----------------------------------------------------------------------------- the sandbox, quickly


def _phases(*cells: str) -> list[dict]:
    found = [worker.cell(f"cell-{i}", source) for i, source in enumerate(cells)]
    return [*found, worker.test("test", "undefined_function", [])]


@pytest.fixture
def servers(tmp_path):
    """Cold servers (nothing imported): the quick sandbox tests run no TensorFlow."""
    found = sandbox.Servers(sandbox.prepare_library(tmp_path), tmp_path / "servers", warm=False)
    yield found
    found.close()


def test_a_worker_that_loops_crashes_or_exits_loses_only_that_phase(tmp_path, servers):
    workdir = tmp_path / "work"
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
def test_a_worker_cannot_read_the_course_or_write_outside_its_folder(tmp_path, servers):
    workdir = tmp_path / "work" / "00002"
    workdir.mkdir(parents=True)
    other = tmp_path / "work" / "00001"  # another submission's scratch folder, as during a run
    other.mkdir()
    (other / "Residual_Networks.ipynb").write_text("{}")
    outside = tmp_path / "outside.txt"
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
    assert protections == landlock.protections() + seccomp.protections()


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


@pytest.mark.skipif(not seccomp.available(), reason="no seccomp filter for this architecture")
def test_a_fork_bomb_starts_no_process_and_a_child_leaves_nothing_running(tmp_path, servers):
    workdir = tmp_path / "work"
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
            job = worker.Job(_phases("x = 1"), str(workdir), [], [], False, 1 << 32, 1 << 20, {})
            pid, channel = server.start(job, workdir)
            while os.read(channel, 4096):
                pass  # the child ended: its channel is closed
            os.close(channel)
            assert server.stop_child(grace=5.0) == 0
            server.socket.send(worker.KILL)  # late: the next job must still start
    finally:
        server.close()


def test_a_warm_server_forks_with_one_thread_and_its_children_see_tensorflow(tmp_path):
    warm = sandbox.Servers(sandbox.prepare_library(tmp_path), tmp_path / "servers", warm=True)
    try:
        workdir = tmp_path / "work"
        workdir.mkdir()
        check = "import sys\nassert 'tensorflow' in sys.modules and 'keras' in sys.modules\n"
        for _ in range(2):
            results, _ = sandbox.run_phases(_phases(check), workdir, warm, sandbox.Limits())
            assert results["cell-0"] == {"ok": True}, results
        assert warm.warm and len(warm._idle) == 1 and warm._idle[0].threads == 1  # one server served both
    finally:
        warm.close()


def test_solution_cells_are_found_by_metadata_or_by_the_function_they_define():
    notebook = json.loads(json.dumps(nbformat.read(RELEASE, as_version=4)))
    cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "resnet50")
    del cell["metadata"]["nbgrader"]
    found = catalogue.submitted_cells(notebook)
    assert set(found) == set(STUBBED) and found["resnet50"].startswith("def ResNet50(")


def test_the_grader_knows_every_test_cell_of_the_master():
    master = catalogue.Master.read(MASTER)
    assert set(master.points) == set(catalogue.TESTS) and set(master.solutions) == set(STUBBED)
    assert all("### BEGIN SOLUTION" not in source for source in master.solutions.values())
    assert master.setup and master.grades_every_test()


def test_cases_get_fresh_inputs_for_every_run():
    first, second = catalogue.grading_cases(1), catalogue.grading_cases(2)
    assert first.keys() == set(catalogue.TESTS)
    seeds = [case["input_seed"] for cases in first.values() for case in cases]
    assert seeds != [case["input_seed"] for cases in second.values() for case in cases]
    assert all("outputs" not in case for cases in first.values() for case in cases)  # never sent to a worker
    assert catalogue.grading_cases(1) == first


def test_only_well_formed_messages_are_taken_from_a_worker():
    # Student code can write on the channel too: nothing it writes there may break the grading process.
    forged = [b"5", b"[1]", b"not json", b'{"start": [1]}', b'{"done": "resnet50_public"}']
    forged += [b'{"done": "x", "result": 3}', b'{"protections": "none"}']
    assert [worker.received(line) for line in forged] == [None] * len(forged)
    done = worker.message(worker.DONE, "x", result={"ok": True}, peak_mb=1.0)
    assert worker.received(done.encode()) == (worker.DONE, {"done": "x", "result": {"ok": True}, "peak_mb": 1.0})
    assert worker.received(worker.message(worker.START, "x").encode()) == (worker.START, {"start": "x"})


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
