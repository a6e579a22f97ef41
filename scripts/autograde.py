"""Grade every submission of an assignment with nbgrader, then write feedback and grades.

    python scripts/autograde.py [ASSIGNMENT] [--course DIR]

Submissions go in course/submitted/<student>/<assignment>/<notebook>.ipynb. This runs
nbgrader's own generate_assignment (so the gradebook knows the assignment), autograde,
generate_feedback and export, in the course folder, and prints each student's score.
Results: course/autograded/, course/feedback/ and course/grades.csv.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from release import COURSE, run_nbgrader


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="residual_networks")
    parser.add_argument("--course", type=Path, default=COURSE, help="the nbgrader course folder")
    args = parser.parse_args(argv)
    course, name = args.course.resolve(), args.assignment

    submissions = sorted((course / "submitted").glob(f"*/{name}"))
    if not submissions:
        print(
            f"no submissions to grade: put each one in {course}/submitted/<student>/{name}/ "
            "(or collect them with nbgrader), then run this again.",
            file=sys.stderr,
        )
        return 1
    run_nbgrader(["generate_assignment", name, "--force"], course)
    run_nbgrader(["autograde", name], course)
    run_nbgrader(["generate_feedback", name, "--force"], course)
    grades = course / "grades.csv"
    run_nbgrader(["export", "--to", str(grades)], course)

    with grades.open() as file:
        rows = [row for row in csv.DictReader(file) if row["assignment"] == name]
    print(f"{'student':<24}{'score':>8}{'max':>6}")
    for row in sorted(rows, key=lambda row: row["student_id"]):
        print(f"{row['student_id']:<24}{float(row['score']):>8g}{float(row['max_score']):>6g}")
    print(f"grades: {grades}\nfeedback: {course / 'feedback'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
