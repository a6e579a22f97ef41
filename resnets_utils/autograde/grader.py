"""Grade a batch of submissions in parallel: workers run them, this process judges them.

:class:`Batch` holds what every submission of one run shares: the master's cells, the cases
with this run's fresh inputs, the master's observations on them (per kind of worker machine),
the engine that runs jobs (:mod:`.local`, or :mod:`.cluster` on Dask) and the limits.
:meth:`Batch.grade` (thread-safe) takes a submission's solution cells to a worker and its report
to the verdicts; the caller records, the gradebook's one writer.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from resnets_utils import assignments
from resnets_utils.autograde import catalogue, intake, sandbox, verdicts
from resnets_utils.autograde.engines import local
from resnets_utils.autograde.engines.worker import one_line
from resnets_utils.language import ENGLISH, of_notebook, speaking


class ReferenceFailedError(RuntimeError):
    """The master's solution could not be observed: nothing can be judged."""


@dataclass
class Submission:
    student: str
    folder: Path  # submitted/<student>/<assignment>
    notebook: str  # file name of the graded notebook
    allowance: intake.Allowance = field(default_factory=intake.Allowance)
    language: str = ENGLISH  # of the handed-in notebook, once read: its feedback's
    _intake: intake.Intake | None = field(default=None, repr=False)

    @property
    def assignment(self) -> str:
        """The nbgrader assignment handed in: its folder's name (an edition's, such as ``residual_networks_zh_CN``)."""
        return self.folder.name

    @property
    def master(self) -> tuple[str, str]:
        """``(assignment, notebook)``: which master notebook grades it."""
        return self.assignment, self.notebook

    def intake(self) -> intake.Intake:
        """What the folder holds, looked at once without following any link."""
        if self._intake is None:
            parent = os.lstat(self.folder.parent).st_mode  # submitted/<student> must not lead elsewhere either
            if stat.S_ISDIR(parent):
                self._intake = intake.scan(self.folder, self.allowance, first=self.notebook)
            else:
                what = intake.describe(parent, str(self.folder.parent))
                self._intake = intake.Intake(self.folder, problem=f"the student's folder is {what}, not a folder")
        return self._intake

    def fingerprint(self) -> str:
        return intake.fingerprint(self.intake())

    def timestamp(self) -> str | None:
        if "timestamp.txt" not in self.intake().files:
            return None
        try:
            return intake.read(self.folder, "timestamp.txt", 1024).decode(errors="replace").strip() or None
        except (OSError, intake.RefusedError):
            return None

    def solutions(self, assignment: assignments.Assignment | None = None) -> tuple[dict[str, str], str]:
        """The notebook's solution cells (:func:`.catalogue.submitted_cells`) and ``""``, or why it gets no points;
        ``assignment``: by default the one the folder is named after, as nbgrader names it."""
        found, name = self.intake(), self.notebook
        if found.problem:
            return {}, f"Not graded: {found.problem}."
        if name in found.refused:
            what = found.refused[name]
            if "over the limit" in what:
                clear = "clear its outputs (Edit > Clear Outputs of All Cells), save it and hand it in again"
                return {}, f"{name} is {what}: {clear}."
            return {}, f"{name} is {what}, not a file: hand in the notebook itself."
        if name not in found.files:
            return {}, f"{name} is missing from the submission."
        try:
            notebook = json.loads(intake.read(self.folder, name, int(self.allowance.file_mb * intake.MB)))
        except FileNotFoundError:
            return {}, f"{name} is missing from the submission."
        except intake.RefusedError as refused:
            return {}, f"{refused}: hand in the notebook itself."
        except (OSError, ValueError):
            return {}, f"{name} is not a readable notebook (not valid JSON)."
        try:
            cells = catalogue.submitted_cells(notebook, assignment or assignments.get(self.folder.name))
            self.language = of_notebook(notebook)
            return cells, ""
        except (AttributeError, TypeError):
            return {}, f"{name} is not a readable notebook (not a notebook's JSON)."


@dataclass
class Result:
    submission: Submission
    verdicts: dict  # grade id -> Verdict
    solutions: dict  # grade id -> the student's source
    protections: list | None  # what contained its student code; None: none ran
    seconds: float
    kind: str = local.LOCAL  # the kind of worker machine that ran it
    retry: bool = False  # the grader failed, not the submission: the next run grades it again


def find_submissions(
    course: Path, assignment: str, notebooks: list[str], allowance: intake.Allowance
) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>`` there is, links included (they get a verdict, not a read),
    each graded by the first of the masters' ``notebooks`` it holds (editions share grade ids)."""
    folders = sorted(path for path in (Path(course) / "submitted").glob(f"*/{assignment}") if os.path.lexists(path))
    return [Submission(folder.parent.name, folder, _handed_in(folder, notebooks), allowance) for folder in folders]


def _handed_in(folder: Path, notebooks: list[str]) -> str:
    """The first of ``notebooks`` in ``folder``, looked for only in a plain folder (links are never followed);
    else the first, which the submission's verdict then says is missing."""
    try:
        plain = all(stat.S_ISDIR(os.lstat(path).st_mode) for path in (folder.parent, folder))
    except OSError:
        plain = False
    return next((name for name in notebooks if plain and os.path.lexists(folder / name)), notebooks[0])


@dataclass
class Batch:
    """One run: the master, this run's cases, the reference's observations per kind of worker machine."""

    master: Path
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: int = field(default_factory=lambda: secrets.randbits(32))
    engine: object = None  # a local.LocalEngine (the default) or a cluster.DaskEngine
    assignment: assignments.Assignment | None = None  # by default the master's folder's, as nbgrader names it

    def __post_init__(self):
        self.engine = self.engine or local.LocalEngine(self.limits.threads)
        self.assignment = self.assignment or assignments.get(Path(self.master).parent.name)
        self.reference = catalogue.Master.read(self.master, self.assignment)
        self.cases = catalogue.grading_cases(self.assignment, self.seed)
        self.expected: dict[str, dict] = {}  # kind of worker machine -> the master's observations
        self.stopping = threading.Event()
        self._reference_lock = threading.Lock()
        self._prepared = threading.Event()

    def prepare(self) -> None:
        """Observe the master's solution on this run's cases, once on each kind of worker machine.

        May run beside the first submissions: :meth:`grade` waits for it before judging.
        Raises :class:`ReferenceFailedError` when the reference cannot run within the limits.
        """
        try:
            for kind, where in self.engine.kinds().items():
                self._expected(kind, where)
        finally:
            self._prepared.set()

    def _expected(self, kind: str, where: str | None) -> dict:
        """The master's observations on ``kind`` (observed on ``where`` if not yet)."""
        with self._reference_lock:
            for _ in range(3):  # a pinned job can land elsewhere if its worker dies
                if kind in self.expected:
                    break
                ran = self.engine.run(self._phases(self.reference.solutions), None, self.limits, self.stopping, where)
                try:
                    self.expected[ran.kind] = verdicts.expected_cases(ran.results, self.cases)
                except RuntimeError:
                    raise ReferenceFailedError(self._why_the_reference_failed(ran.results, where)) from None
            if kind not in self.expected:
                raise ReferenceFailedError(f"the reference solution could not be observed on {where}")
            return self.expected[kind]

    def _phases(self, solutions: dict, language: str = ENGLISH) -> list[dict]:
        return self.reference.phases(solutions, self.cases, language)

    def _why_the_reference_failed(self, results: dict, where: str | None) -> str:
        """Which phase failed and, when the limits are below the defaults, which limit and what it needed."""
        phase = next((p for p, result in results.items() if "error" in result), None)
        what = f"{phase}: {results[phase]['error']}" if phase else "no test ran"
        defaults = sandbox.Limits(threads=self.limits.threads)
        fields = ("phase_seconds", "submission_seconds", "memory_mb")
        if all(getattr(self.limits, name) >= getattr(defaults, name) for name in fields):
            return f"the reference solution fails within the grader ({what}): check the master notebook"
        again = self.engine.run(self._phases(self.reference.solutions), None, defaults, self.stopping, where)
        try:
            verdicts.expected_cases(again.results, self.cases)
        except RuntimeError:
            return f"the reference solution fails even within the default limits ({what}): check the master notebook"
        usage = again.usage
        longest = max(usage["seconds"], key=usage["seconds"].get)
        needs = {
            "memory_mb": (usage["peak_mb"], f"{usage['peak_mb']:,.0f} MB of address space"),
            "phase_seconds": (usage["seconds"][longest], f"{usage['seconds'][longest]:.1f} s for {longest}"),
            "submission_seconds": (sum(usage["seconds"].values()), f"{sum(usage['seconds'].values()):.0f} s in all"),
        }
        short = [
            f"--{name.replace('_', '-')} {getattr(self.limits, name):g} is too low: it needed {text}"
            for name, (needed, text) in needs.items()
            if getattr(self.limits, name) < needed * 1.25
        ]
        measured = "; ".join(short) or "with the default limits it needed " + ", ".join(t for _, t in needs.values())
        return f"the reference solution cannot run within these limits ({what}); {measured}"

    def grade(self, submission: Submission) -> Result:
        """The submission's verdicts; whatever fails on the way (the grader's own machinery included)
        becomes a verdict, so one submission never stops the others. Raises only
        :class:`ReferenceFailedError` (nothing can be judged) and KeyboardInterrupt."""
        start = time.perf_counter()
        try:
            solutions, problem = submission.solutions(self.assignment)
        except Exception as error:  # the folder changed or broke while it was read
            solutions, problem = {}, f"Not graded: the submission folder could not be read ({one_line(error)})."
        if problem:
            found = {g: verdicts.Verdict(0.0, self.reference.points[g], problem) for g in self.assignment.grade_ids}
            return Result(submission, found, {}, None, time.perf_counter() - start)
        try:
            phases = self._phases(solutions, submission.language)
            ran = self.engine.run(phases, submission.intake(), self.limits, self.stopping)
        except Exception as error:  # a server that died, a full disk, a Dask task that failed
            detail = f"the grader failed while running this submission ({one_line(error)})"
            print(f"grader failure while grading {submission.student}:", file=sys.stderr)
            traceback.print_exc()
            with speaking(submission.language):
                found = verdicts.not_graded(self.reference.points, detail, self.assignment)
            return Result(submission, found, solutions, None, time.perf_counter() - start, retry=True)
        self._prepared.wait()
        if not self.expected:
            raise ReferenceFailedError("the reference solution could not be observed; see the error above")
        expected = self._expected(ran.kind, ran.where)
        with speaking(submission.language):  # the feedback in the language of the notebook handed in
            found = verdicts.verdicts(ran.results, expected, self.reference.points, solutions, self.assignment)
        return Result(submission, found, solutions, ran.protections, time.perf_counter() - start, ran.kind)

    def close(self) -> None:
        self.engine.close()
