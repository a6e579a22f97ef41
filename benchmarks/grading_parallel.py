"""A class graded two ways on this machine: plain serial ``nbgrader autograde`` and ``resnets-grade``.

    python benchmarks/grading_parallel.py [--submissions 40] [--workers N]

Both grade the same submissions (complete, untouched and half-done ones, in turn), each in
its own copy of the course, one after the other in this run. Prints the seconds of each,
seconds per submission, the ratio and whether both gave every student the same score.
Plain nbgrader runs each notebook top to bottom in the student's kernel; resnets-grade
runs only the graded functions, in sandboxed workers, N at a time.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from resnets_utils.autograde.gradebook import run_nbgrader
from resnets_utils.reference import REPO, solution, student_version

ASSIGNMENT = "residual_networks"
KINDS = {
    "complete": solution,
    "untouched": lambda grade_id, released: released,
    "blocks_only": lambda grade_id, released: released if grade_id == "resnet50" else solution(grade_id),
}


def _course(root: Path, submissions: dict) -> Path:
    course = root / "course"
    course.mkdir(parents=True)
    shutil.copy(REPO / "course" / "nbgrader_config.py", course)
    shutil.copytree(REPO / "course" / "source", course / "source")
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "Residual_Networks.ipynb")
    return course


def _scores(course: Path) -> dict:
    with (course / "grades.csv").open() as file:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    notebooks = {kind: student_version(fill) for kind, fill in KINDS.items()}
    kinds = list(KINDS)
    submissions = {f"student{i:03d}_{kinds[i % 3]}": notebooks[kinds[i % 3]] for i in range(args.submissions)}

    with tempfile.TemporaryDirectory() as scratch:
        serial_course = _course(Path(scratch) / "serial", submissions)
        start = time.perf_counter()
        run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], serial_course)
        run_nbgrader(["autograde", ASSIGNMENT], serial_course)
        run_nbgrader(["generate_feedback", ASSIGNMENT], serial_course)
        run_nbgrader(["export", "--to", str(serial_course / "grades.csv")], serial_course)
        serial = time.perf_counter() - start

        parallel_course = _course(Path(scratch) / "parallel", submissions)
        start = time.perf_counter()
        command = [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT, "--course", str(parallel_course),
                   "--workers", str(args.workers)]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        parallel = time.perf_counter() - start
        same = _scores(serial_course) == _scores(parallel_course)

    count = args.submissions
    print(f"{count} submissions, {os.cpu_count()} cores; each time includes release step, feedback and export")
    print(f"{'grader':<44}{'total s':>9}{'s/submission':>14}")
    print(f"{'nbgrader autograde (serial, whole notebook)':<44}{serial:>9.0f}{serial / count:>14.1f}")
    print(f"{f'resnets-grade --workers {args.workers}':<44}{parallel:>9.0f}{parallel / count:>14.1f}")
    print(f"speed-up: {serial / parallel:.2f}x; same score for every student: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
