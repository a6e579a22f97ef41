"""The assignments as data: the graders read them, and a second one needs no change to them."""

from __future__ import annotations

import json

import pytest

from resnets_utils import assignments, checks
from resnets_utils.assignments import BLOCK, HIDDEN, MODEL, PUBLIC, Assignment, GradedFunction
from resnets_utils.assignments import Test as GradedTest  # not a pytest class
from resnets_utils.autograde import catalogue, verdicts

# A made-up second assignment whose grade ids no "_hidden" -> "_public" rewrite could pair.
TINY = Assignment(
    "tiny_networks",
    "Tiny.ipynb",
    (
        GradedFunction("tiny_block", "tiny_block_cell", BLOCK, "shapes, f", "layer receives"),
        GradedFunction("TinyNet", "tiny_net_cell", MODEL, "classes", "block receives", built_from=("tiny_block",)),
    ),
    (
        GradedTest("tiny_block_seen", "tiny_block", PUBLIC, 2),
        GradedTest("tiny_block_secret", "tiny_block", HIDDEN, 1, visible="tiny_block_seen"),
        GradedTest("tiny_net_seen", "TinyNet", PUBLIC, 5),
        GradedTest("tiny_net_secret", "TinyNet", HIDDEN, 2, visible="tiny_net_seen"),
    ),
    lambda: {which: {"tiny_block": [{"f": 1}], "TinyNet": [{"classes": 3}]} for which in (PUBLIC, HIDDEN)},
)


@pytest.fixture
def tiny(monkeypatch):
    """TINY registered beside the course's assignments, as its one registry line would."""
    monkeypatch.setitem(assignments.ASSIGNMENTS, TINY.name, TINY)
    return TINY


def _failed(error: str) -> dict:
    return {"cases": [{"error": error}]}


def test_a_second_assignment_is_graded_from_its_data_alone(tiny, tmp_path):
    master = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for grade_id, kind, points in [(f.cell, "solution", None) for f in tiny.functions] + [
        (t.grade_id, "grade", t.points) for t in tiny.tests
    ]:
        grading = {"grade_id": grade_id, "solution": kind == "solution", "grade": kind == "grade", "locked": False}
        source = f"def {tiny.cells[grade_id]}(): pass" if kind == "solution" else "check()"
        cell = {"cell_type": "code", "id": grade_id, "metadata": {"nbgrader": grading | {"points": points}}}
        master["cells"].append(cell | {"source": source, "outputs": [], "execution_count": None})
    path = tmp_path / "source" / tiny.name / tiny.notebook
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(master))

    read = catalogue.Master.read(path, tiny)
    assert read.grades_every_test() and read.points == tiny.points
    phases = read.phases(read.solutions, {grade_id: [] for grade_id in tiny.grade_ids})
    assert [phase["id"] for phase in phases] == [
        "tiny_block_cell",
        "tiny_net_cell",
        "tiny_block_seen",
        "tiny_net_seen",
        "tiny_block_secret",
        "tiny_net_secret",
    ]
    assert catalogue.submitted_cells(json.loads(path.read_text()), tiny) == read.solutions

    # The block fails everywhere: the hidden test points at its visible one, the model at the block.
    results = {grade_id: _failed("tiny_block: it broke.") for grade_id in tiny.grade_ids}
    expected = {grade_id: [{"f": 1}] for grade_id in tiny.grade_ids}
    found = verdicts.verdicts(results, expected, tiny.points, read.solutions, tiny)
    assert list(found) == tiny.grade_ids
    assert found["tiny_block_seen"].reason == "tiny_block: it broke."
    assert found["tiny_block_secret"].reason == "tiny_block fails the hidden cases: see the visible test above."
    fix_first = "TinyNet is built from your tiny_block, which fails its own test: fix it first"
    assert found["tiny_net_seen"].reason == f"{fix_first} (tiny_block: it broke.)"
    assert found["tiny_net_secret"].reason.startswith(fix_first)
    assert sum(v.max_points for v in found.values()) == 10 and not any(v.points for v in found.values())
    assert set(verdicts.not_graded(tiny.points, "down", tiny)) == set(tiny.grade_ids)
    assert verdicts.hidden_fails(tiny.function("TinyNet")).endswith("other arguments (classes) to see where.")


def test_inconsistent_assignment_data_is_refused_when_it_is_written():
    tests = list(TINY.tests)
    unpaired = GradedTest("tiny_net_secret", "TinyNet", HIDDEN, 2, visible="tiny_block_seen")  # another function's
    with pytest.raises(ValueError, match="must name a visible test of TinyNet"):
        Assignment("x", "X.ipynb", TINY.functions, (*tests[:3], unpaired), TINY.cases)
    hidden_first = (tests[1], tests[0], *tests[2:])
    with pytest.raises(ValueError, match="tiny_block_secret must name a visible test"):
        Assignment("x", "X.ipynb", TINY.functions, hidden_first, TINY.cases)
    model = GradedFunction("TinyNet", "tiny_net_cell", MODEL, "classes", "", built_from=("other_block",))
    with pytest.raises(ValueError, match="built from ungraded functions"):
        Assignment("x", "X.ipynb", (TINY.functions[0], model), TINY.tests, TINY.cases)


def test_a_name_means_one_function_across_the_course():
    seen: dict[str, GradedFunction] = {}
    for assignment in [*assignments.ASSIGNMENTS.values(), *assignments.EXERCISES.values()]:
        for function in assignment.functions:
            assert seen.setdefault(function.name, function).kind == function.kind
            assert (function.kind == MODEL) == (function.stages is not None), function.name
    assert assignments.graded_names() == set(seen)


def test_the_wrong_block_policy_is_one_function_that_checks_and_grader_both_ask(monkeypatch):
    asked = []

    def policy(model, failure_of):
        asked.append(model.name)
        return [("identity_block", "made up by the policy")]

    monkeypatch.setattr(assignments, "blocks_to_fix_first", policy)
    graded = assignments.get(assignments.DEFAULT)

    def broken_resnet50(input_shape=(64, 64, 3), classes=6):
        raise RuntimeError("stop")

    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_resnet50(broken_resnet50)
    assert str(failure.value).startswith("ResNet50 is built from your identity_block, which does not pass its checks")
    assert str(failure.value).endswith("fix it first (made up by the policy)")

    results = {grade_id: _failed("ResNet50: it broke.") for grade_id in graded.grade_ids}
    expected = {grade_id: [{}] for grade_id in graded.grade_ids}
    solutions = dict.fromkeys(graded.cells, "")
    found = verdicts.verdicts(results, expected, graded.points, solutions, graded)
    assert found["resnet50_public"].reason.startswith("ResNet50 is built from your identity_block, which fails its")
    assert asked == ["ResNet50"] + ["ResNet50"] * 2  # the check once; the grader once per failing model test


@pytest.mark.parametrize("name", [*assignments.ASSIGNMENTS, *assignments.EXERCISES])
def test_an_edition_is_its_assignment_under_a_name_of_its_own(name):
    from resnets_utils.language import ENGLISH, LANGUAGES

    assert assignments.edition_name(name, ENGLISH) == name and assignments.edition_of(name) == (name, ENGLISH)
    for language in LANGUAGES:
        edition = assignments.edition_name(name, language)
        assert edition != name and assignments.edition_of(edition) == (name, language)
        assert assignments.get(edition) is assignments.get(name)  # the same tests, points and cases
    with pytest.raises(ValueError, match="no assignment named 'unknown_zh_CN'"):
        assignments.get("unknown_zh_CN")
