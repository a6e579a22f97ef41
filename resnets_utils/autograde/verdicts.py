"""What is graded and how: the tests, their cases, the phases a worker runs, and the verdicts.

Every test observes the student's function on the cases of its kind (the visible ones, or
the hidden ones), with **fresh random inputs for each grading run**: outputs copied from
the notebook's visible checks cannot pass, and neither can anything read from disk. The
expected values come from the master's solution, observed the same way in its own worker;
the comparison happens here, in the grading process, which never runs student code.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from resnets_utils import checks

# grade id of each test cell -> (function, kind of cases); the master's grade cells.
TESTS = {
    "identity_block_public": ("identity_block", "public"),
    "identity_block_hidden": ("identity_block", "hidden"),
    "convolutional_block_public": ("convolutional_block", "public"),
    "convolutional_block_hidden": ("convolutional_block", "hidden"),
    "resnet50_public": ("ResNet50", "public"),
    "resnet50_hidden": ("ResNet50", "hidden"),
}
SOLUTION_CELLS = ("identity_block", "convolutional_block", "resnet50")
FUNCTION_OF_CELL = {
    "identity_block": "identity_block",
    "convolutional_block": "convolutional_block",
    "resnet50": "ResNet50",
}


@dataclass(frozen=True)
class Verdict:
    points: float
    max_points: float
    reason: str  # one line for the student; "" when the test passes
    detail: str = ""  # for the instructor: what a hidden test found (never in the feedback)


def grading_cases(seed: int) -> dict[str, list[dict]]:
    """The cases of each test: the checks' cases with fresh input seeds drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    cases = {}
    for grade_id, (function, kind) in TESTS.items():
        cases[grade_id] = [
            {key: value for key, value in case.items() if key not in ("summary", "outputs")}
            | {"input_seed": int(rng.integers(1 << 31))}
            for case in checks.load_expected(kind)[function]
        ]
    return cases


def master_cells(master: Path) -> tuple[list[str], dict[str, str], dict[str, float]]:
    """The master's locked set-up sources, solution sources (by grade id) and test points."""
    from resnets_utils.reference import without_markers

    setup, solutions, points = [], {}, {}
    for cell in json.loads(Path(master).read_text())["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not grading:
            continue
        if grading.get("grade"):
            points[grading["grade_id"]] = float(grading.get("points", 0))
        elif grading.get("solution"):
            solutions[grading["grade_id"]] = without_markers(source)
        elif grading.get("locked"):
            setup.append(source)
    return setup, solutions, points


def submitted_cells(notebook: dict) -> dict[str, str]:
    """A submission's solution cells by grade id; only those are run for grading.

    A cell is found by its nbgrader metadata or, when that was lost (a cell pasted into a
    new one), as the first unlocked code cell that defines the function.
    """
    sources, unmarked = {}, []
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        grading = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = grading.get("grade_id")
        if grade_id in SOLUTION_CELLS and grade_id not in sources:
            sources[grade_id] = source
        elif not grading:
            unmarked.append(source)
    for grade_id in SOLUTION_CELLS:
        found = next((source for source in unmarked if _defines(source, FUNCTION_OF_CELL[grade_id])), None)
        if grade_id not in sources and found is not None:
            sources[grade_id] = found
    return sources


def _defines(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return bool(re.search(rf"^def {function}\(", source, re.M))
    return any(isinstance(node, ast.FunctionDef) and node.name == function for node in tree.body)


def phases(setup: list[str], solutions: dict[str, str], cases: dict[str, list[dict]]) -> list[dict]:
    """The worker's phases: set-up cells, solution cells, then one phase per test."""
    found = [{"id": f"setup-{index}", "kind": "cell", "source": source} for index, source in enumerate(setup)]
    found += [
        {"id": grade_id, "kind": "cell", "source": solutions[grade_id]}
        for grade_id in SOLUTION_CELLS
        if grade_id in solutions
    ]
    found += [
        {"id": grade_id, "kind": "test", "function": TESTS[grade_id][0], "cases": cases[grade_id]} for grade_id in TESTS
    ]
    return found


def expected_cases(reference_results: dict, cases: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each test's cases with the reference's rows and outputs, as the checks expect them."""
    expected = {}
    for grade_id, test_cases in cases.items():
        result = reference_results.get(grade_id, {})
        observations = result.get("cases")
        if not observations or any("error" in observation for observation in observations):
            raise RuntimeError(f"the reference solution fails its own test {grade_id}: {result}")
        expected[grade_id] = [
            {**case, "summary": observation["rows"], "outputs": observation["outputs"]}
            for case, observation in zip(test_cases, observations, strict=True)
        ]
    return expected


def verdicts(results: dict, expected: dict[str, list[dict]], points: dict[str, float], solutions: dict) -> dict:
    """``{grade id: Verdict}`` from a submission's worker results."""
    found = {}
    for grade_id, (function, _) in TESTS.items():
        reason = _failure(grade_id, function, results, expected[grade_id], solutions)
        found[grade_id] = Verdict(0.0 if reason else points[grade_id], points[grade_id], reason)
    for grade_id, (function, kind) in TESTS.items():
        verdict = found[grade_id]
        if kind == "hidden" and verdict.reason:
            # What a hidden case found would tell its shapes and values: the student gets a hint only.
            public = found[grade_id.replace("_hidden", "_public")]
            hint = (
                "see the visible test above"
                if public.reason
                else "the visible cases pass, so look at what changes with the arguments (shapes, f, filters, s)"
            )
            found[grade_id] = Verdict(
                0.0, verdict.max_points, f"{function} fails the hidden cases: {hint}.", verdict.reason
            )
    if found["resnet50_public"].reason or found["resnet50_hidden"].reason:
        broken = [name for name in ("identity_block", "convolutional_block") if found[f"{name}_public"].reason]
        for grade_id in ("resnet50_public", "resnet50_hidden"):
            verdict = found[grade_id]
            if verdict.reason and broken:
                which = "which fails its own test" if len(broken) == 1 else "which fail their own tests"
                first = f"ResNet50 is built from your {' and '.join(broken)}, {which}: fix it first"
                reason = _short(f"{first} ({verdict.reason})")
                found[grade_id] = Verdict(verdict.points, verdict.max_points, reason, verdict.detail)
    return found


def _failure(grade_id: str, function: str, results: dict, cases: list[dict], solutions: dict) -> str:
    cell = next(cell for cell, name in FUNCTION_OF_CELL.items() if name == function)
    if cell not in solutions:
        return _short(f"the solution cell of {function} is missing from the notebook (its nbgrader metadata was lost).")
    cell_result = results.get(cell, {})
    result = results.get(grade_id)
    if result is None:
        return "not run: the grader stopped before this test."
    if "error" in result:
        return _short(f"{function}: {result['error']}")
    observations = result.get("cases")
    if not isinstance(observations, list) or len(observations) != len(cases):
        return "the test's results are malformed."
    for observation, case in zip(observations, cases, strict=True):
        try:
            if not isinstance(observation, dict):
                raise checks.CheckFailed("the test's results are malformed.")
            if "error" in observation and "error" in cell_result:
                raise checks.CheckFailed(f"{function} is not defined: its cell failed ({cell_result['error']})")
            checks.judge(function, observation, case)
        except checks.CheckFailed as failure:
            return _short(str(failure))
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as error:  # forged or garbled observations
            return _short(f"the test's results are malformed ({type(error).__name__}).")
    return ""


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counted(number: float, noun: str) -> str:
    """``counted(1, "point")`` -> ``"1 point"``; ``counted(3, "worker")`` -> ``"3 workers"``."""
    return f"{number:g} {noun}{'' if number == 1 else 's'}"
