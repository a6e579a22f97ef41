"""How long nbgrader takes to autograde one complete submission, and where the time goes.

    python benchmarks/grading.py

Prints the wall-clock seconds of ``nbgrader autograde`` on one submission (the released
notebook with the reference solutions filled in; the best of two runs, since back-to-back
runs on a 2-core machine differ by up to 10%), of the course's ``resnets-grade`` worker
on the same submission, the cost of importing TensorFlow on its own, and the slowest cells
when the notebook is executed in grading mode.
Target: under 20 s on 2 cores.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from resnets_utils.autograde import grader
from resnets_utils.autograde.gradebook import run_nbgrader
from resnets_utils.course.reference import MASTER, REPO, student_version

ASSIGNMENT = "residual_networks"


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    submission = student_version()
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        shutil.copy(REPO / "course" / "nbgrader_config.py", course)
        shutil.copytree(REPO / "course" / "source", course / "source")
        folder = course / "submitted" / "complete" / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(submission, folder / "Residual_Networks.ipynb")
        run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], course)
        autograde = [_seconds(lambda: run_nbgrader(["autograde", ASSIGNMENT, "--force"], course)) for _ in range(2)]

        # The submission under nbclient in grading mode, timing every cell (without the hidden
        # tests, which nbgrader adds).
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        client = NotebookClient(submission, timeout=600, kernel_name="python3", record_timing=True)
        client.resources = {"metadata": {"path": scratch}}
        execute = _seconds(client.execute)

        # The course's own grader on the same submission: one sandboxed worker (the reference
        # solution is observed once per run, for all submissions, so it is timed apart).
        batch = grader.Batch(MASTER)
        reference = _seconds(batch.prepare)
        result = batch.grade(grader.Submission("complete", folder, "Residual_Networks.ipynb"))
        batch.close()
        assert sum(verdict.points for verdict in result.verdicts.values()) == 10

    tensorflow = _seconds(lambda: subprocess.run([sys.executable, "-c", "import tensorflow"], check=True))
    cells = []
    for cell in submission.cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type == "code" and "shell.execute_reply" in timing:
            start, end = timing["iopub.execute_input"], timing["shell.execute_reply"]
            seconds = (_parse(end) - _parse(start)).total_seconds()
            cells.append((seconds, cell.metadata.get("nbgrader", {}).get("grade_id") or cell.source.splitlines()[0]))

    runs = " and ".join(f"{seconds:.1f}" for seconds in autograde)
    print(
        f"nbgrader autograde, one complete submission: {min(autograde):6.1f} s   "
        f"(best of {runs} s; target < 20 s, {os.cpu_count()} cores)"
    )
    print(f"the submission under nbclient, grading mode, no hidden tests: {execute:6.1f} s")
    once = f"(+ {reference:.1f} s once per run)"
    print(f"resnets-grade, the same submission (one worker): {result.seconds:6.1f} s   {once}")
    print(f"python -c 'import tensorflow':               {tensorflow:6.1f} s")
    print("slowest cells:")
    for seconds, name in sorted(cells, reverse=True)[:8]:
        print(f"  {seconds:6.2f} s  {name[:70]}")


def _parse(stamp: str):
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


if __name__ == "__main__":
    main()
