"""How a test is judged: a submission's observations against the master's, in the grading process.

The expected values come from the master's solution, observed on the same fresh cases in
its own worker (:meth:`.grader.Batch.prepare`); the comparison happens here, in the grading
process, which never runs student code, and trusts nothing a worker reports.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from resnets_utils import checks
from resnets_utils.autograde.catalogue import TESTS, Test


@dataclass(frozen=True)
class Verdict:
    points: float
    max_points: float
    reason: str  # one line for the student; "" when the test passes
    detail: str = ""  # for the instructor: what a hidden test found (never in the feedback)


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
    for grade_id, test in TESTS.items():
        public = grade_id.replace("_hidden", "_public")
        try:
            reason, hidden = _failure(grade_id, test, results, expected[grade_id], solutions, expected.get(public))
        except Exception as error:  # a worker's report can hold anything: it never stops the judging
            reason = hidden = f"the test's results are malformed ({type(error).__name__})."
        if reason and test.cases == "hidden":
            # The checks' words for a hidden case: what it changes and what went wrong, none of its values.
            if found[public].reason:
                hidden = f"{test.function} fails the hidden cases: see the visible test above."
            found[grade_id] = Verdict(0.0, points[grade_id], _short(hidden), reason)
        else:
            found[grade_id] = Verdict(0.0 if reason else points[grade_id], points[grade_id], reason)
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


def _failure(grade_id, test: Test, results: dict, cases: list[dict], solutions: dict, public=None) -> tuple[str, str]:
    """``(reason, what a student may read of it if the test is hidden)``; ``("", "")`` if the test passes."""
    reason, failure = _judged(grade_id, test, results, cases, solutions)
    if not reason:
        return "", ""
    if failure is None or not public:  # the worker's words, which the student's code may have written
        return reason, f"{test.function} fails the hidden cases: {HIDDEN_FAILS}."
    return reason, checks.hidden_case(test.function, failure[1], public[0], failure[0])


HIDDEN_FAILS = "its code fails or stops under them; call it with other arguments (shapes, f, filters, s) to see where"


def _judged(grade_id, test: Test, results: dict, cases: list[dict], solutions: dict):
    """``(reason, (CheckFailed, case) or None)``; ``("", None)`` if the test passes."""
    function = test.function
    if test.cell not in solutions:
        return _short(
            f"the solution cell of {function} is missing from the notebook (its nbgrader metadata was lost)."
        ), None
    cell_result = results.get(test.cell, {})
    result = results.get(grade_id)
    if result is None:
        return "not run: the grader stopped before this test.", None
    if "error" in result:
        return _short(f"{function}: {result['error']}"), None
    observations = result.get("cases")
    if not isinstance(observations, list) or len(observations) != len(cases):
        return "the test's results are malformed.", None
    for observation, case in zip(observations, cases, strict=True):
        try:
            if not isinstance(observation, dict):
                raise checks.CheckFailed("the test's results are malformed.")
            if "error" in observation and "error" in cell_result:
                raise checks.CheckFailed(f"{function} is not defined: its cell failed ({cell_result['error']})")
            checks.judge(function, observation, case)
        except checks.CheckFailed as failure:
            return _short(str(failure)), (failure, case)
        except Exception as error:  # forged or garbled observations: whatever they make the judge raise
            return _short(f"the test's results are malformed ({type(error).__name__})."), None
    return "", None


def _short(text: str, limit: int = 400) -> str:
    """One line of at most ``limit`` characters, without control characters (terminal codes)."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def not_graded(points: dict[str, float], detail: str) -> dict:
    """Verdicts for a submission the grader could not run (its own failure): 0 for now, graded again next run."""
    reason = "the grader could not run this test (its own failure, not your code's); it will be graded again."
    return {grade_id: Verdict(0.0, points[grade_id], reason, _short(detail)) for grade_id in TESTS}
