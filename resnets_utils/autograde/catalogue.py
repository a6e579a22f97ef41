"""What is graded, for the grader: the master's cells, the cases and a worker's phases.

The assignment's tests, functions and cases are data (:mod:`resnets_utils.assignments`); the master
notebook holds the set-up cells, the solution and each test's points. Every run
draws **fresh random inputs** for the cases: outputs copied from the notebook's visible
checks cannot pass, and neither can anything read from disk.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from resnets_utils import checks
from resnets_utils.assignments import HIDDEN, Assignment
from resnets_utils.autograde.engines import worker
from resnets_utils.course import notebooks
from resnets_utils.language import ENGLISH


@dataclass(frozen=True)
class Master:
    """A master notebook of ``assignment``: its locked set-up cells, its solutions (by grade id) and
    the tests' points (nbgrader's, which a test compares with the assignment's)."""

    assignment: Assignment
    setup: list[str]
    solutions: dict[str, str]  # without nbgrader's markers
    points: dict[str, float]

    @classmethod
    def read(cls, path: Path, assignment: Assignment) -> Master:
        cells = notebooks.code_cells(notebooks.load(path))
        return cls(
            assignment,
            [cell.source for cell in cells if cell.kind == notebooks.LOCKED],
            {c.grade_id: notebooks.without_markers(c.source) for c in cells if c.kind == notebooks.SOLUTION},
            {cell.grade_id: float(cell.points) for cell in cells if cell.kind == notebooks.TEST},
        )

    def grades_every_test(self) -> bool:
        """Whether the master has a test cell for every test of its assignment."""
        return set(self.assignment.grade_ids) <= set(self.points)

    def phases(self, solutions: dict[str, str], cases: dict[str, list[dict]], language: str = ENGLISH) -> list[dict]:
        """A worker's phases for ``solutions``: the set-up cells, the solution cells, then one per test,
        whose messages are said in ``language`` (the handed-in notebook's).

        Every visible test comes before the first hidden one: nothing student code could learn
        while a hidden case runs can reach a visible test's reason, which the student reads.
        """
        found = [worker.cell(f"setup-{index}", source) for index, source in enumerate(self.setup)]
        found += [worker.cell(cell, solutions[cell]) for cell in self.assignment.cells if cell in solutions]
        tests = sorted(self.assignment.tests, key=lambda test: test.cases == HIDDEN)
        return found + [worker.test(test.grade_id, test.function, cases[test.grade_id], language) for test in tests]


def grading_cases(assignment: Assignment, seed: int) -> dict[str, list[dict]]:
    """The cases of each test: the checks' cases, without their expected values, with fresh input seeds.

    Read from the expected files, not the assignment module: a course may hold hidden cases of its own.
    """
    rng = np.random.default_rng(seed)
    expected = {
        which: checks.load_expected(which, assignment=assignment.name) for which in {t.cases for t in assignment.tests}
    }
    return {
        test.grade_id: [
            {key: value for key, value in case.items() if key not in ("summary", "outputs")}
            | {"input_seed": int(rng.integers(1 << 31))}
            for case in expected[test.cases][test.function]
        ]
        for test in assignment.tests
    }


def submitted_cells(notebook: dict, assignment: Assignment) -> dict[str, str]:
    """A submission's solution cells by grade id; only those are run for grading.

    A cell is found by its grade id or, when its nbgrader metadata was lost (a cell pasted
    into a new one), as the first code cell without metadata that defines the function.
    """
    cells = notebooks.code_cells(notebook)
    found: dict[str, str] = {}
    for cell in cells:
        if isinstance(cell.grade_id, str) and cell.grade_id in assignment.cells:  # a grade id may be anything
            found.setdefault(cell.grade_id, cell.source)
    for grade_id, function in assignment.cells.items():
        defining = [cell.source for cell in cells if cell.grade_id is None and _defines(cell.source, function)]
        if grade_id not in found and defining:
            found[grade_id] = defining[0]
    return found


def _defines(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # not Python, or past the parser's depth
        return bool(re.search(rf"^def {function}\(", source, re.M))
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)
