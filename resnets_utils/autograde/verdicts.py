"""How a test is judged: a submission's observations against the master's, in the grading process.

The expected values come from the master's solution, observed on the same fresh cases in
its own worker (:meth:`.grader.Batch.prepare`); the comparison happens here, in the grading
process, which never runs student code, and trusts nothing a worker reports.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from resnets_utils import assignments, checks
from resnets_utils.assignments import HIDDEN, MODEL, Assignment, Test
from resnets_utils.language import say


@dataclass(frozen=True)
class Verdict:
    points: float
    max_points: float
    reason: str  # one line for the student, in the language of their notebook; "" when the test passes
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


def verdicts(
    results: dict, expected: dict[str, list[dict]], points: dict[str, float], solutions: dict, assignment: Assignment
) -> dict:
    """``{grade id: Verdict}`` from a submission's worker results."""
    found = {}
    for test in assignment.tests:  # each visible test before its hidden one (the assignment checks)
        grade_id, visible = test.grade_id, expected.get(test.visible) if test.visible else None
        try:
            reason, hidden = _failure(assignment, test, results, expected[grade_id], solutions, visible)
        except Exception as error:  # a worker's report can hold anything: it never stops the judging
            reason = hidden = say("the test's results are malformed ({error}).", error=type(error).__name__)
        if reason and test.cases == HIDDEN:
            # The checks' words for a hidden case: what it changes and what went wrong, none of its values.
            if found[test.visible].reason:
                hidden = say("{name} fails the hidden cases: see the visible test above.", name=test.function)
            found[grade_id] = Verdict(0.0, points[grade_id], _short(hidden), reason)
        else:
            found[grade_id] = Verdict(0.0 if reason else points[grade_id], points[grade_id], reason)

    def failure_of(block: str) -> str:
        return found[assignment.visible_test(block)].reason

    for test in assignment.tests:
        verdict, model = found[test.grade_id], assignment.function(test.function)
        if not verdict.reason or model.kind != MODEL:
            continue
        if broken := [block for block, _ in assignments.blocks_to_fix_first(model, failure_of)]:
            found[test.grade_id] = Verdict(
                verdict.points,
                verdict.max_points,
                _short(_fix_first(model.name, broken, verdict.reason)),
                verdict.detail,
            )
    return found


def _fix_first(model: str, broken: list[str], reason: str) -> str:
    """A model's reason when it is built from ``broken`` blocks, which fail their own tests."""
    if len(broken) == 1:
        return say(
            "{model} is built from your {block}, which fails its own test: fix it first ({reason})",
            model=model,
            block=broken[0],
            reason=reason,
        )
    blocks = broken[0]
    for block in broken[1:]:
        blocks = say("{blocks} and {block}", blocks=blocks, block=block)
    return say(
        "{model} is built from your {blocks}, which fail their own tests: fix them first ({reason})",
        model=model,
        blocks=blocks,
        reason=reason,
    )


def _failure(assignment, test: Test, results: dict, cases: list[dict], solutions: dict, visible=None):
    """``(reason, what a student may read of it if the test is hidden)``; ``("", "")`` if the test passes."""
    reason, failure = _judged(assignment, test, results, cases, solutions)
    if not reason:
        return "", ""
    if failure is None or not visible:  # the worker's words, which the student's code may have written
        return reason, hidden_fails(assignment.function(test.function))
    return reason, checks.hidden_case(test.function, failure[1], visible[0], failure[0])


def hidden_fails(function: assignments.GradedFunction) -> str:
    """A hidden test's reason when the function's code fails under its cases (the error is the student's)."""
    return say(
        "{name} fails the hidden cases: its code fails or stops under them; "
        "call it with other arguments ({arguments}) to see where.",
        name=function.name,
        arguments=say(function.arguments),
    )


def _judged(assignment, test: Test, results: dict, cases: list[dict], solutions: dict):
    """``(reason, (CheckFailed, case) or None)``; ``("", None)`` if the test passes."""
    function, grade_id, cell = test.function, test.grade_id, assignment.function(test.function).cell
    if cell not in solutions:
        return _short(
            say(
                "the solution cell of {name} is missing from the notebook (its nbgrader metadata was lost).",
                name=function,
            )
        ), None
    cell_result = results.get(cell, {})
    result = results.get(grade_id)
    if result is None:
        return say("not run: the grader stopped before this test."), None
    if "error" in result:
        return _short(f"{function}: {result['error']}"), None
    observations = result.get("cases")
    if not isinstance(observations, list) or len(observations) != len(cases):
        return say("the test's results are malformed."), None
    for observation, case in zip(observations, cases, strict=True):
        try:
            if not isinstance(observation, dict):
                raise checks.CheckFailed(say("the test's results are malformed."))
            if "error" in observation and "error" in cell_result:
                raise checks.CheckFailed(
                    say("{name} is not defined: its cell failed ({error})", name=function, error=cell_result["error"])
                )
            checks.judge(function, observation, case)
        except checks.CheckFailed as failure:
            return _short(str(failure)), (failure, case)
        except Exception as error:  # forged or garbled observations: whatever they make the judge raise
            return _short(say("the test's results are malformed ({error}).", error=type(error).__name__)), None
    return "", None


def _short(text: str, limit: int = 400) -> str:
    """One line of at most ``limit`` characters, without control characters (terminal codes)."""
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def not_graded(points: dict[str, float], detail: str, assignment: Assignment) -> dict:
    """Verdicts for a submission the grader could not run (its own failure): 0 for now, graded again next run."""
    reason = say("the grader could not run this test (its own failure, not your code's); it will be graded again.")
    return {grade_id: Verdict(0.0, points[grade_id], reason, _short(detail)) for grade_id in assignment.grade_ids}
