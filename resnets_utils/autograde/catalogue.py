"""What is graded: the tests (:data:`TESTS`), the master's cells, the cases and a worker's phases.

The master notebook holds the set-up cells, the solution and each test's points. Every run
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
from resnets_utils.autograde.engines import worker
from resnets_utils.course import notebooks


@dataclass(frozen=True)
class Test:
    cell: str  # grade id of the solution cell that defines the function
    function: str  # the function the test observes
    cases: str  # which of the checks' cases: "public" (the notebook's visible ones) or "hidden"


# The master's test cells, by grade id (the order of the notebook: each public test before its hidden one).
TESTS = {
    "identity_block_public": Test("identity_block", "identity_block", "public"),
    "identity_block_hidden": Test("identity_block", "identity_block", "hidden"),
    "convolutional_block_public": Test("convolutional_block", "convolutional_block", "public"),
    "convolutional_block_hidden": Test("convolutional_block", "convolutional_block", "hidden"),
    "resnet50_public": Test("resnet50", "ResNet50", "public"),
    "resnet50_hidden": Test("resnet50", "ResNet50", "hidden"),
}
FUNCTIONS = {test.cell: test.function for test in TESTS.values()}  # solution cell -> the function it defines


@dataclass(frozen=True)
class Master:
    """The master notebook's locked set-up cells, its solutions (by grade id) and the tests' points."""

    setup: list[str]
    solutions: dict[str, str]  # without nbgrader's markers
    points: dict[str, float]

    @classmethod
    def read(cls, path: Path) -> Master:
        cells = notebooks.code_cells(notebooks.load(path))
        return cls(
            [cell.source for cell in cells if cell.kind == notebooks.LOCKED],
            {c.grade_id: notebooks.without_markers(c.source) for c in cells if c.kind == notebooks.SOLUTION},
            {cell.grade_id: float(cell.points) for cell in cells if cell.kind == notebooks.TEST},
        )

    def grades_every_test(self) -> bool:
        """Whether the master has every test cell this grader knows."""
        return set(TESTS) <= set(self.points)

    def phases(self, solutions: dict[str, str], cases: dict[str, list[dict]]) -> list[dict]:
        """A worker's phases for ``solutions``: the set-up cells, the solution cells, then one per test.

        Every visible test comes before the first hidden one: nothing student code could learn
        while a hidden case runs can reach a visible test's reason, which the student reads.
        """
        found = [worker.cell(f"setup-{index}", source) for index, source in enumerate(self.setup)]
        found += [worker.cell(cell, solutions[cell]) for cell in FUNCTIONS if cell in solutions]
        tests = sorted(TESTS, key=lambda grade_id: TESTS[grade_id].cases == "hidden")
        return found + [worker.test(grade_id, TESTS[grade_id].function, cases[grade_id]) for grade_id in tests]


def grading_cases(seed: int) -> dict[str, list[dict]]:
    """The cases of each test: the checks' cases, without their expected values, with fresh input seeds."""
    rng = np.random.default_rng(seed)
    return {
        grade_id: [
            {key: value for key, value in case.items() if key not in ("summary", "outputs")}
            | {"input_seed": int(rng.integers(1 << 31))}
            for case in checks.load_expected(test.cases)[test.function]
        ]
        for grade_id, test in TESTS.items()
    }


def submitted_cells(notebook: dict) -> dict[str, str]:
    """A submission's solution cells by grade id; only those are run for grading.

    A cell is found by its grade id or, when its nbgrader metadata was lost (a cell pasted
    into a new one), as the first code cell without metadata that defines the function.
    """
    cells = notebooks.code_cells(notebook)
    found: dict[str, str] = {}
    for cell in cells:
        if isinstance(cell.grade_id, str) and cell.grade_id in FUNCTIONS:  # a submission's grade id may be anything
            found.setdefault(cell.grade_id, cell.source)
    for grade_id, function in FUNCTIONS.items():
        defining = [cell.source for cell in cells if cell.grade_id is None and _defines(cell.source, function)]
        if grade_id not in found and defining:
            found[grade_id] = defining[0]
    return found


def _defines(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return bool(re.search(rf"^def {function}\(", source, re.M))
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)
