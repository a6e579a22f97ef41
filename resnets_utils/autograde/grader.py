"""Grade a batch of submissions in parallel: workers run them, this process judges and records.

:class:`Batch` holds what every submission of one run shares: the master's set-up and
solution cells, the cases with this run's fresh inputs, the expected observations from
the master's solution, the library copy and the limits. :meth:`Batch.grade` runs one
submission (thread-safe: it only starts a worker and judges its results); recording is
left to the caller, so that the gradebook has a single writer.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from resnets_utils.autograde import sandbox, verdicts


@dataclass
class Submission:
    student: str
    folder: Path  # submitted/<student>/<assignment>
    notebook: str  # file name of the graded notebook

    def fingerprint(self) -> str:
        """A hash of every file submitted: a changed submission is graded again."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def timestamp(self) -> str | None:
        path = self.folder / "timestamp.txt"
        return path.read_text().strip() if path.exists() else None


@dataclass
class Result:
    submission: Submission
    verdicts: dict  # grade id -> Verdict
    solutions: dict  # grade id -> the student's source
    protections: list
    seconds: float


def find_submissions(course: Path, assignment: str, notebook: str) -> list[Submission]:
    folders = sorted(path for path in (Path(course) / "submitted").glob(f"*/{assignment}") if path.is_dir())
    return [Submission(folder.parent.name, folder, notebook) for folder in folders]


@dataclass
class Batch:
    master: Path
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: int = field(default_factory=lambda: secrets.randbits(32))

    def __post_init__(self):
        self.scratch = Path(tempfile.mkdtemp(prefix="resnets-grade-"))
        self.library = sandbox.prepare_library(self.scratch)
        self.setup, self.reference_solutions, self.points = verdicts.master_cells(self.master)
        self.cases = verdicts.grading_cases(self.seed)
        self._count = 0
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.expected = None
        self._prepared = threading.Event()

    def prepare(self) -> None:
        """Observe the master's solution on this run's cases: the expected values.

        May run beside the first submissions: :meth:`grade` waits for it before judging.
        """
        try:
            results, _ = self._run(self.reference_solutions, None)
            self.expected = verdicts.expected_cases(results, self.cases)
        finally:
            self._prepared.set()

    def _run(self, solutions: dict, folder: Path | None):
        with self._lock:
            self._count += 1
            workdir = self.scratch / "work" / f"{self._count:05d}"
        if folder is not None:
            shutil.copytree(folder, workdir)
        else:
            workdir.mkdir(parents=True)
        phases = verdicts.phases(self.setup, solutions, self.cases)
        return sandbox.run_phases(
            phases, workdir, self.library, self.limits, f"{self.seed}-{workdir.name}", self.stopping
        )

    def grade(self, submission: Submission) -> Result:
        start = time.perf_counter()
        path = submission.folder / submission.notebook
        problem, solutions = None, {}
        try:
            solutions = verdicts.submitted_cells(json.loads(path.read_text()))
        except FileNotFoundError:
            problem = f"{submission.notebook} is missing from the submission."
        except (OSError, ValueError, AttributeError, TypeError):
            problem = f"{submission.notebook} is not a readable notebook (not valid JSON)."
        if problem:
            found = {g: verdicts.Verdict(0.0, self.points[g], problem) for g in verdicts.TESTS}
            return Result(submission, found, {}, [], time.perf_counter() - start)
        results, protections = self._run(solutions, submission.folder)
        self._prepared.wait()
        if self.expected is None:
            raise RuntimeError("the reference solution could not be observed; see the error above")
        found = verdicts.verdicts(results, self.expected, self.points, solutions)
        return Result(submission, found, solutions, protections, time.perf_counter() - start)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
