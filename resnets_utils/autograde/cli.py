"""resnets-grade: grade every submission of an assignment, in parallel, safely (make autograde).

    resnets-grade [ASSIGNMENT] [--course DIR] [--workers N | --scheduler ADDRESS] [--force] [limits: see --help]

The course is ``--course``, else the current folder if it holds ``nbgrader_config.py`` (as for
nbgrader, which reads no parent folder's). ASSIGNMENT grades its language editions too (the nbgrader
assignments ``<assignment>_<language>`` that ``make release`` generates, when the course has them);
an edition's name grades that one only. Read from it: ``source/<edition>/`` (the masters: every
notebook with the assignment's tests; each submission is graded against the master of its
edition and notebook name), ``expected/`` (the hidden cases, shared by the editions) and
``submitted/<student>/<edition>/``; written: nbgrader's
gradebook, ``autograded/``, ``feedback/`` and ``grades.csv``. A submission already graded (same
files) is skipped unless ``--force``; an interrupted run loses only the submissions in progress.
With ``--scheduler tcp://HOST:PORT`` (or ``tls://``) the jobs run on that Dask cluster instead.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from resnets_utils import assignments, settings
from resnets_utils.autograde import catalogue, gradebook, grader, intake, sandbox
from resnets_utils.autograde.engines import cluster, local
from resnets_utils.checks import CheckFailed
from resnets_utils.checks.cases import hidden_expected_path
from resnets_utils.course import notebooks
from resnets_utils.language import ENGLISH, LANGUAGES
from resnets_utils.wording import counted, duration


def _at_least(minimum: float, kind=float):
    """An argparse type: a number of ``kind``, ``minimum`` or more (one line of error otherwise)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"{text} is too small: give {minimum:g} or more")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    limits, allowance = sandbox.Limits(), intake.Allowance()
    parser = argparse.ArgumentParser(prog="resnets-grade", description=__doc__.splitlines()[0])
    names = [assignments.edition_name(name, language) for name in assignments.ASSIGNMENTS for language in LANGUAGES]
    parser.add_argument(
        "assignment", nargs="?", default=assignments.DEFAULT, choices=[*assignments.ASSIGNMENTS, *names]
    )
    parser.add_argument("--course", type=Path, help="the nbgrader course folder (default: the current folder)")
    parser.add_argument(
        "--workers", type=_at_least(1, int), default=os.cpu_count() or 1, help="default: the number of cores"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster of this scheduler (tcp://HOST:PORT or tls://HOST:PORT) instead of here",
    )
    parser.add_argument("--force", action="store_true", help="grade again submissions already graded")
    parser.add_argument(
        "--cold", action="store_true", help="start Python and TensorFlow again for every submission (slower)"
    )
    limit_options = (
        ("--phase-seconds", _at_least(0.1), limits.phase_seconds, "time limit of one cell or test"),
        ("--submission-seconds", _at_least(0.1), limits.submission_seconds, "time limit of one submission"),
        ("--memory-mb", _at_least(1, int), limits.memory_mb, "memory limit of one submission"),
        ("--max-file-mb", _at_least(0.001), allowance.file_mb, "largest file of a submission that is read"),
        ("--max-submission-mb", _at_least(0.001), allowance.total_mb, "most bytes of one submission that are read"),
        ("--max-files", _at_least(1, int), allowance.files, "most files and folders of one submission that are read"),
        ("--scratch-mb", _at_least(1, int), limits.scratch_mb, "most one submission may write while it is graded"),
    )
    for flag, kind, default, what in limit_options:
        parser.add_argument(flag, type=kind, default=default, help=f"{what} (default {default:g})")
    parser.add_argument("--no-feedback", action="store_true", help="skip nbgrader's feedback HTML")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a polite kill stops like Ctrl-C
    if args.scheduler and not cluster.dask_installed():
        return _error(cluster.CLUSTER_EXTRA_MISSING, status=2)
    course, assignment = _course(args.course), args.assignment
    if course is None:
        here = f"{Path.cwd()} is not an nbgrader course (no {settings.COURSE_CONFIG})"
        return _error(f"{here}: run resnets-grade inside the course folder, or pass --course PATH", status=2)
    editions = editions_in(course, assignment)
    masters = {name: masters_of(course / "source" / name, assignments.get(name)) for name in editions}
    if empty := [name for name, found in masters.items() if not found]:
        return _error(f"no master notebook in {course / 'source' / empty[0]} has every test of {assignment}")
    try:
        hidden = hidden_expected_path(course, assignment)
    except CheckFailed as missing:
        return _error(str(missing))
    # Read by this process only, as it draws each run's cases (checks.load_expected); no worker sees it.
    os.environ[settings.HIDDEN_EXPECTED] = str(hidden)
    allowance = intake.Allowance(args.max_file_mb, args.max_submission_mb, args.max_files)
    submissions = [
        submission
        for name, found in masters.items()
        for submission in grader.find_submissions(course, name, [master.name for master in found], allowance)
    ]
    # nbgrader's gradebook cannot hold a student id that is not text (a folder name not in UTF-8).
    unnamed = {os.fsencode(s.student).decode(errors="backslashreplace") for s in submissions if not _text(s.student)}
    if unnamed:  # a student may have handed in several editions: named once
        submissions = [submission for submission in submissions if _text(submission.student)]
        print(f"skipped {_listed(unnamed, 'student folder')} in {course / 'submitted'}: {RENAME}", file=sys.stderr)
    if not submissions:
        folders = " or ".join(f"{course}/submitted/<student>/{name}/" for name in editions)
        print(
            f"No submissions to grade: put each in {folders} (or collect them with nbgrader), then run this again.",
            file=sys.stderr,
        )
        return 1
    # nbgrader's own step: the gradebook learns each edition's notebooks and test cells (the first
    # always: grades.csv lists the others' grades under its name).
    handed_in = [name for name in editions if any(s.assignment == name for s in submissions)]
    for name in dict.fromkeys([editions[0], *handed_in]):
        gradebook.generate_assignment(course, name)
    releases = {
        (name, master.name): notebooks.load(course / "release" / name / master.name)
        for name in handed_in
        for master in masters[name]
    }

    fingerprints = {(s.assignment, s.student): s.fingerprint() for s in submissions}
    todo = [
        s
        for s in submissions
        if args.force
        or gradebook.graded_fingerprint(course, s.assignment, s.student) != fingerprints[s.assignment, s.student]
    ]
    skipped = len(submissions) - len(todo)
    where = f"on the Dask cluster at {args.scheduler}" if args.scheduler else f"with {counted(args.workers, 'worker')}"
    print(
        f"{counted(len(submissions), 'submission')}: {len(todo)} to grade {where}"
        + (f", {skipped} already graded (--force grades them again)" if skipped else "")
    )

    interrupted, missed, retry = False, [], []
    if todo:
        threads = 1 if args.scheduler else max(1, (os.cpu_count() or 1) // args.workers)
        limits = sandbox.Limits(
            args.phase_seconds, args.submission_seconds, args.memory_mb, threads=threads, scratch_mb=args.scratch_mb
        )
        try:
            engine, workers = _engine(args, threads)
        except cluster.EngineError as failure:
            return _error(str(failure))
        run = (masters, limits, engine, workers, course, releases, fingerprints)
        try:
            interrupted, missed, retry = _grade_all(todo, *run)
        except grader.ReferenceFailedError as failure:
            return _error(f"{failure}. No submission was graded.")
    if interrupted:
        print("Interrupted: every grade shown above is saved; run the same command to grade the rest.")
        return 130
    no_page, grades = [], course / "grades.csv"
    try:
        if not args.no_feedback:
            for name in handed_in:
                no_page += gradebook.generate_feedback(course, name)
        gradebook.export(course, grades)
    except KeyboardInterrupt:
        print(
            "Interrupted: every grade is saved; run the same command to write the rest of the feedback and grades.csv."
        )
        return 130
    _summary(course, submissions, grades)
    problems = []  # each said in one line, after every grade is saved
    if missed or retry:
        names = _listed(missed + retry, "submission")
        problems.append(
            f"the grader failed on {names}; every other grade is saved: run the same command to grade them again"
        )
    if unnamed:
        problems.append(f"{_listed(unnamed, 'student folder')} not graded: {RENAME}")
    if no_page:
        problems.append(
            f"nbgrader could not write the feedback of {_listed(no_page, 'student')} (its errors are above); "
            f"every grade is saved in {grades}: run the same command to try their feedback again"
        )
    return max([_error(problem) for problem in problems], default=0)


RENAME = "a student id must be UTF-8 text (nbgrader's gradebook holds nothing else): rename the folder"


def _text(name: str) -> bool:
    """Whether a file name is text: names that are not UTF-8 reach Python with lone surrogates."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _listed(names, noun: str) -> str:
    """``3 submissions (a, b, c)``: at most ten names, then how many more."""
    names = sorted(names)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"{counted(len(names), noun)} ({shown})"


def _error(message: str, status: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _course(given: Path | None) -> Path | None:
    """``--course``, else the current folder if it is a course (nbgrader reads no parent's configuration)."""
    if given is not None:
        return given.resolve()
    found = settings.find_course(Path.cwd())
    return found if found == Path.cwd().resolve() else None


def _engine(args, threads: int):
    """Where the jobs run, and how many run at once."""
    if not args.scheduler:
        return local.LocalEngine(threads, warm=not args.cold), args.workers
    if warning := cluster.insecure_warning(args.scheduler):
        print(warning, file=sys.stderr)
    engine = cluster.DaskEngine(args.scheduler)
    kinds = engine.kinds()
    print(f"{counted(len(engine.workers), 'Dask worker')}, {engine.slots()} at a time, {counted(len(kinds), 'kind')}:")
    for kind, address in kinds.items():
        print(f"  {kind}: {'; '.join(engine.workers[address]['protections']) or 'no Landlock, no seccomp'}")
    return engine, engine.slots()


def editions_in(course: Path, name: str) -> list[str]:
    """The nbgrader assignments that ``resnets-grade name`` grades: ``name`` and, for an assignment, each of
    its language editions the course has (``source/<name>_<language>/``)."""
    if assignments.edition_of(name)[1] != ENGLISH:
        return [name]
    found = [assignments.edition_name(name, language) for language in LANGUAGES]
    return [name, *(edition for edition in found if (course / "source" / edition).is_dir())]


def masters_of(source: Path, assignment: assignments.Assignment) -> list[Path]:
    """The notebooks of ``source`` with every test of ``assignment`` (not one to explore, which has none)."""
    return [
        path for path in sorted(source.glob("*.ipynb")) if catalogue.Master.read(path, assignment).grades_every_test()
    ]


def _batches(masters: dict[str, list[Path]], todo, limits, engine) -> dict[tuple[str, str], grader.Batch]:
    """A batch for each master notebook some submission in ``todo`` is graded against, by
    ``(edition, notebook name)``; masters with the same cells share one, observed once."""
    batches: dict[tuple[str, str], grader.Batch] = {}
    for name, paths in masters.items():
        for path in paths:
            if any(submission.master == (name, path.name) for submission in todo):
                reference = catalogue.Master.read(path, assignments.get(name))
                same = next((batch for batch in batches.values() if batch.reference == reference), None)
                batches[name, path.name] = same or grader.Batch(path, limits, engine=engine)
    return batches


def _grade_all(todo, masters, limits, engine, workers, course, releases, fingerprints):
    """Grade ``todo``, each submission against the master of its edition and notebook name; record each result as
    it comes (this thread is the only writer).

    Returns whether the run was interrupted, the students nothing could be recorded for (a
    failure of the grader itself), and those recorded with verdicts of the grader's failure.
    """
    batches = _batches(masters, todo, limits, engine)
    distinct = list({id(batch): batch for batch in batches.values()}.values())
    protections: dict[str, set] = {}  # kind of worker machine -> what contained the student code run there
    missed, retry = [], []
    progress = Progress(len(todo))
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # Each master's solution is observed by one of the workers, beside the first submissions.
            references = [pool.submit(batch.prepare) for batch in distinct]
            pending = {pool.submit(batches[s.master].grade, s): s for s in todo}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for reference in references:
                        if reference.done() and reference.exception():
                            raise reference.exception()
                    for future in done:
                        submission = pending.pop(future)
                        student = _named(submission)
                        try:
                            result = future.result()
                            # A grade the grader failed to give is saved as such, and graded again next time.
                            fingerprint = (
                                "" if result.retry else fingerprints[submission.assignment, submission.student]
                            )
                            release = releases[submission.master]
                            gradebook.record(course, submission.assignment, result, fingerprint, release)
                        except grader.ReferenceFailedError:
                            raise
                        except Exception as failure:  # a bug of the grader's: say whose grade it cost, go on
                            missed.append(student)
                            print(f"grader failure while recording {student}:", file=sys.stderr)
                            traceback.print_exc()
                            progress.step(f"{student}: not graded ({type(failure).__name__}: {failure})")
                            continue
                        if result.retry:
                            retry.append(student)
                        if result.protections is not None:
                            protections.setdefault(result.kind, set()).add(tuple(result.protections))
                        score = sum(v.points for v in result.verdicts.values())
                        progress.step(f"{student}: {score:g}/{sum(v.max_points for v in result.verdicts.values()):g}")
            except BaseException:
                # Interrupted or failed: stop the workers (nothing half-graded is recorded).
                for batch in distinct:
                    batch.stopping.set()
                for future in pending:
                    future.cancel()
                raise
    except KeyboardInterrupt:
        return True, missed, retry
    finally:
        progress.close()
        engine.close()  # the batches' one engine
    seconds = time.perf_counter() - progress.start
    print(f"Graded {counted(len(todo) - len(missed), 'submission')} in {seconds:.1f} s")
    print(protections_line(protections))
    return False, missed, retry


def protections_line(found: dict[str, set]) -> str:
    """What contained the submissions whose code ran, per kind of worker machine; said loudly when they differ."""
    bare = "separate processes and limits only (no Landlock, no seccomp)"
    words = {kind: sorted("; ".join(applied) or bare for applied in sets) for kind, sets in found.items()}
    if not words:
        return "protections: none needed (no submission's code ran)."
    if len(distinct := {applied for every in words.values() for applied in every}) == 1:
        return f"protections: {distinct.pop()}."
    lines = ["warning: the submissions were not all contained the same way:"]
    lines += [f"  {kind}: {applied}" for kind, sets in words.items() for applied in sets]
    return "\n".join(lines)


class Progress:
    """A progress bar with an ETA on a terminal; one line per submission elsewhere (logs, CI)."""

    def __init__(self, total: int, stream=sys.stdout):
        self.total, self.done, self.stream = total, 0, stream
        self.start = time.perf_counter()
        self.tty = stream.isatty()

    def step(self, what: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        filled = int(30 * self.done / self.total)
        bar = "#" * filled + "." * (30 - filled)
        line = f"[{bar}] {self.done}/{self.total}  {duration(elapsed)} elapsed, about {duration(eta)} left"
        self.stream.write(f"\r\033[K{what}\n{line}" if self.tty else f"{line}  {what}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")


def _named(submission) -> str:
    """The student, and the edition they handed in when it is not the English one."""
    language = assignments.edition_of(submission.assignment)[1]
    return submission.student if language == ENGLISH else f"{submission.student} ({language})"


def _summary(course: Path, submissions, grades: Path) -> None:
    with grades.open() as file:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(file)}
    print(f"\n{'student':<28}{'score':>7}{'max':>6}  failed tests")
    for submission in submissions:
        # An edition's row is under its assignment's name, unless only the edition was graded.
        base = assignments.edition_of(submission.assignment)[0]
        row = rows.get((base, submission.student)) or rows.get((submission.assignment, submission.student))
        try:
            saved = gradebook.saved_verdicts(course, submission.assignment, submission.student)
        except (OSError, ValueError, KeyError):
            saved = {}
        failed = ", ".join(grade_id for grade_id, verdict in saved.items() if verdict["reason"]) or "-"
        score = f"{float(row['score']):g}" if row else "?"
        maximum = f"{float(row['max_score']):g}" if row else "?"
        print(f"{_named(submission):<28}{score:>7}{maximum:>6}  {failed}")
    folders = sorted({submission.assignment for submission in submissions})
    print(
        f"\ngrades: {grades}\nfeedback: {course / 'feedback'}\nreasons: {course / 'autograded'}/<student>/"
        f"{'|'.join(folders)}/{gradebook.MARKER}"
    )
