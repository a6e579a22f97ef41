"""One class graded five ways on this machine, one after the other: where grading time goes.

    python benchmarks/grading_parallel.py [--submissions 30] [--workers 2] [--no-log]

The same submissions (complete, untouched and half-done ones, in turn), each way in its own
copy of the course, every run including nbgrader's release step, feedback and export:

- plain serial ``nbgrader autograde`` (each notebook top to bottom in the student's kernel);
- ``resnets-grade --cold``: a new Python and TensorFlow for every submission;
- ``resnets-grade``: warm workers, TensorFlow imported once per worker;
- ``resnets-grade --scheduler`` on a Dask cluster of this machine (``dask scheduler`` and
  ``dask worker`` processes, started before the clock runs), with 1 and with N workers.

Prints, for the whole run and for the grading step alone (nbgrader's ``autograde`` command;
resnets-grade's "Graded N submissions in X s", from its first worker's start to the last
grade saved), seconds per submission and the speed-up over serial nbgrader; what going
through Dask costs against the warm pool, Dask's scaling efficiency from 1 to N workers, and
whether every way gave every student the same score. Logs a row in docs/performance.md.
Targets on 2 cores: at least 10x serial nbgrader, no more than 10% lost through Dask.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from resnets_utils.autograde.gradebook import run_nbgrader
from resnets_utils.course.measured import log_row
from resnets_utils.course.reference import REPO, solution, student_version
from resnets_utils.machine import cpu_name

ASSIGNMENT = "residual_networks"
KINDS = {
    "complete": solution,
    "untouched": lambda grade_id, released: released,
    "blocks_only": lambda grade_id, released: released if grade_id == "resnet50" else solution(grade_id),
}
HEADING = "## Grading a class (`make bench-grading`, benchmarks/grading_parallel.py)"
COLUMNS = (
    "| date | CPU | submissions | s/sub, whole run: nbgrader, cold, warm, Dask 1, Dask N "
    "| s/sub, grading step: the same | warm vs nbgrader: run, step | Dask vs warm: run, step "
    "| Dask scaling 1 to N: run, step | same scores |"
)
GRADED = re.compile(r"^Graded \d+ submissions? in ([0-9.]+) s", re.M)


def _course(root: Path, submissions: dict) -> Path:
    course = root / "course"
    course.mkdir(parents=True)
    shutil.copy(REPO / "course" / "nbgrader_config.py", course)
    for folder in ("source", "expected"):
        shutil.copytree(REPO / "course" / folder, course / folder)
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "Residual_Networks.ipynb")
    return course


def _scores(course: Path) -> dict:
    with (course / "grades.csv").open() as file:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}


def _nbgrader(course: Path) -> float:
    """Plain nbgrader's whole run; the seconds of its autograde step."""
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
    start = time.perf_counter()
    run_nbgrader(["autograde", ASSIGNMENT], course)
    step = time.perf_counter() - start
    run_nbgrader(["generate_feedback", ASSIGNMENT], course)
    run_nbgrader(["export", "--to", str(course / "grades.csv")], course)
    return step


def _resnets_grade(course: Path, *options: str) -> float:
    """A resnets-grade run; the seconds of its grading step, as it prints them."""
    command = [sys.executable, "-m", "resnets_utils.autograde", ASSIGNMENT, "--course", str(course), *options]
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(GRADED.search(printed).group(1))


@contextlib.contextmanager
def dask_cluster(root: Path, workers: int):
    """A Dask scheduler and ``workers`` single-slot worker processes on 127.0.0.1; yields its address."""
    root.mkdir(parents=True)
    address_file, log = root / "scheduler.json", (root / "dask.log").open("ab")
    dask = [sys.executable, "-m", "dask"]
    scheduler = ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file"]
    processes = [subprocess.Popen([*dask, *scheduler, str(address_file)], stdout=log, stderr=log)]
    try:
        while not address_file.exists():
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        worker = ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        processes += [subprocess.Popen([*dask, *worker], stdout=log, stderr=log) for _ in range(workers)]
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait()
        log.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-log", action="store_true", help="print only; add no row to docs/performance.md")
    args = parser.parse_args(argv)
    notebooks = {kind: student_version(fill) for kind, fill in KINDS.items()}
    kinds = list(KINDS)
    submissions = {f"student{i:03d}_{kinds[i % 3]}": notebooks[kinds[i % 3]] for i in range(args.submissions)}
    n = args.workers

    seconds, steps, scores = {}, {}, {}
    with tempfile.TemporaryDirectory() as scratch:

        def timed(name: str, grade) -> None:
            course = _course(Path(scratch) / name, submissions)
            start = time.perf_counter()
            steps[name] = grade(course)
            seconds[name] = time.perf_counter() - start
            scores[name] = _scores(course)
            print(f"  {name}: {seconds[name]:.0f} s, grading step {steps[name]:.1f} s", flush=True)

        timed("nbgrader", _nbgrader)
        timed("cold", lambda course: _resnets_grade(course, "--workers", str(n), "--cold"))
        timed("warm", lambda course: _resnets_grade(course, "--workers", str(n)))
        for workers in sorted({1, n}):
            with dask_cluster(Path(scratch) / f"cluster{workers}", workers) as address:
                timed(f"dask{workers}", lambda course, a=address: _resnets_grade(course, "--scheduler", a))

    count = args.submissions
    same = all(found == scores["nbgrader"] for found in scores.values())
    rows = [
        ("nbgrader autograde (serial, whole notebook)", "nbgrader"),
        (f"resnets-grade --workers {n} --cold (per-submission start)", "cold"),
        (f"resnets-grade --workers {n} (warm workers)", "warm"),
        ("resnets-grade --scheduler, 1 Dask worker", "dask1"),
        (f"resnets-grade --scheduler, {n} Dask workers", f"dask{n}"),
    ]
    print(f"\n{count} submissions, {os.cpu_count()} cores ({cpu_name()}); a run includes release, feedback, export")
    print(f"{'grader':<56}{'run s':>7}{'s/sub':>7}{'speed-up':>10}{'step s':>9}{'s/sub':>7}{'speed-up':>10}")
    for label, key in rows:
        run, step = seconds[key], steps[key]
        print(
            f"{label:<56}{run:>7.0f}{run / count:>7.2f}{seconds['nbgrader'] / run:>9.1f}x"
            f"{step:>9.1f}{step / count:>7.2f}{steps['nbgrader'] / step:>9.1f}x"
        )
    pairs = {
        "speed-up": [found["nbgrader"] / found["warm"] for found in (seconds, steps)],
        "dask": [found[f"dask{n}"] / found["warm"] - 1 for found in (seconds, steps)],
        "scaling": [found["dask1"] / found[f"dask{n}"] / n for found in (seconds, steps)],
    }
    speedup, dask, scaling = pairs["speed-up"], pairs["dask"], pairs["scaling"]
    print(f"warm workers against serial nbgrader: {speedup[0]:.1f}x whole run, {speedup[1]:.1f}x grading step "
          "(target at least 10x)")  # fmt: skip
    print(f"Dask ({n} workers) against the warm pool: {dask[0]:+.0%} whole run, {dask[1]:+.0%} grading step "
          "(target at most +10%)")  # fmt: skip
    print(f"Dask scaling efficiency from 1 to {n} workers: {scaling[0]:.0%} whole run, {scaling[1]:.0%} grading step")
    print(f"same score for every student in every run: {'yes' if same else 'NO'}")
    if not args.no_log:
        runs = ", ".join(f"{seconds[key] / count:.2f}" for _, key in rows)
        grading = ", ".join(f"{steps[key] / count:.2f}" for _, key in rows)
        log_row(
            HEADING,
            COLUMNS,
            f"| {datetime.date.today()} | {cpu_name()} | {count} | {runs} | {grading} "
            f"| {speedup[0]:.1f}x, {speedup[1]:.1f}x | {dask[0]:+.0%}, {dask[1]:+.0%} "
            f"| {scaling[0]:.0%}, {scaling[1]:.0%} | {'yes' if same else 'NO'} |",
        )


if __name__ == "__main__":
    main()
