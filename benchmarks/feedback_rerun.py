"""Feedback in a second grading run: every page written again (as before) against the changed ones only.

    python benchmarks/feedback_rerun.py [--submissions 30] [--pairs 3] [--no-log]

Grades a class of complete submissions once (resnets-grade, feedback included), then, in turn
``--pairs`` times: the baseline, nbgrader's ``generate_feedback --force`` (what every run did for
every student), and ``gradebook.generate_feedback`` after one student's autograded notebook was
written again (a run that graded one submission). Prints the median seconds of each and the
pages each wrote; logs a row in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading_parallel import ASSIGNMENT, _course

from resnets_utils.autograde import gradebook
from resnets_utils.course.measured import log_row
from resnets_utils.course.reference import solution, student_version
from resnets_utils.machine import cpu_name

HEADING = "## Feedback in a second grading run (benchmarks/feedback_rerun.py)"
COLUMNS = "| date | CPU | submissions | every page again (s) | one changed (s) | pages written: every, changed |"


def _pages(course: Path) -> dict[Path, int]:
    return {page: page.stat().st_mtime_ns for page in course.glob(f"feedback/*/{ASSIGNMENT}/*.html")}


def _every_page_again(course: Path) -> None:
    from nbgrader.converters import GenerateFeedback

    GenerateFeedback(force=True, **gradebook._step_arguments(course, ASSIGNMENT)).start()


def _one_changed(course: Path) -> None:
    notebook = next(course.glob(f"autograded/*/{ASSIGNMENT}/*.ipynb"))
    notebook.write_bytes(notebook.read_bytes())  # as recording a new grade does
    gradebook.generate_feedback(course, ASSIGNMENT)


def _timed(run, course: Path) -> tuple[float, int]:
    before = _pages(course)
    start = time.perf_counter()
    run(course)
    seconds = time.perf_counter() - start
    after = _pages(course)
    return seconds, sum(after[page] != before.get(page) for page in after)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--no-log", action="store_true", help="print only; add no row to docs/performance.md")
    args = parser.parse_args(argv)
    complete = student_version(solution)
    with tempfile.TemporaryDirectory() as scratch:
        course = _course(Path(scratch), {f"student{i:03d}": complete for i in range(args.submissions)})
        command = [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT, "--course", str(course)]
        subprocess.run(command, check=True, capture_output=True)
        _timed(_one_changed, course)  # imports nbgrader's converters outside the clock
        runs = {"every": [], "changed": []}
        for _ in range(args.pairs):
            runs["every"].append(_timed(_every_page_again, course))
            runs["changed"].append(_timed(_one_changed, course))
    every, changed = (statistics.median(s for s, _ in runs[kind]) for kind in ("every", "changed"))
    written = [runs[kind][-1][1] for kind in ("every", "changed")]
    print(f"{cpu_name()}, {args.submissions} submissions graded, median of {args.pairs} pairs:")
    print(f"  every page again (nbgrader --force): {every:.2f} s, {written[0]} pages written")
    print(f"  one notebook graded again:           {changed:.2f} s, {written[1]} page written")
    if not args.no_log:
        log_row(
            HEADING,
            COLUMNS,
            f"| {datetime.date.today()} | {cpu_name()} | {args.submissions} | {every:.2f} | {changed:.2f} "
            f"| {written[0]}, {written[1]} |",
        )


if __name__ == "__main__":
    main()
