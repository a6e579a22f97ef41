"""The graded assignments, as data: their functions, tests, points, cases and policies.

Each assignment is a module of this package holding one :class:`Assignment`, registered in
:data:`ASSIGNMENTS` under its nbgrader name (its folder ``course/source/<name>/``). The checks,
the autograder, ``scripts/make_expected.py`` and the tests learn what is graded from here only:
a second assignment is a new module and one line below. Nothing here imports the rest of the
package but ``language``, so every module may read it.

The words a student reads (``spelled``, ``arguments``, ``values_hint``) are English, marked with
``N_`` where they are defined and said in the student's language where they are used (``say``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from resnets_utils.language import ENGLISH, LANGUAGES, say

BLOCK, MODEL = "block", "model"  # a function called on a tensor; a function returning a keras.Model
PUBLIC, HIDDEN = "public", "hidden"  # the notebook's visible cases; those only the grader runs


@dataclass(frozen=True)
class Stages:
    """A model's residual stages: the letters of each stage's blocks, the stride of each stage's first
    block, and the functions that build a block with a projection shortcut and one without (the same
    function when it decides by itself, as ``basic_block`` does)."""

    blocks: dict[int, str]
    strides: dict[int, int]
    projection: str = "convolutional_block"
    identity: str = "identity_block"
    # function -> its words, marked with N_ (a function not listed reads as its name, "_" -> " ")
    spelled: dict[str, str] = field(default_factory=dict)

    def words(self, function: str) -> str:
        """How the messages name a block built by ``function``, in the student's language: "convolutional block"."""
        return say(self.spelled.get(function, function.replace("_", " ")))


@dataclass(frozen=True)
class GradedFunction:
    name: str  # as the notebook defines it
    cell: str  # grade id of the solution cell that defines it
    kind: str  # BLOCK or MODEL
    arguments: str  # what a hidden case's message may tell the student to vary, e.g. "shapes, f, filters" (N_)
    values_hint: str  # when the layers match but the values do not: "check which tensor each ..." (N_)
    built_from: tuple[str, ...] = ()  # a model: the graded blocks it calls
    stages: Stages | None = None  # a model: the stage table its layers are judged against


@dataclass(frozen=True)
class Test:
    grade_id: str  # of the test cell in the master notebook
    function: str  # the graded function it runs
    cases: str  # PUBLIC or HIDDEN
    points: float
    visible: str | None = None  # a hidden test: the grade id of its function's visible test


@dataclass(frozen=True)
class Assignment:
    name: str  # nbgrader's name: the folder under course/source/
    notebook: str  # the master notebook's file name (editions in other languages share its grade ids)
    functions: tuple[GradedFunction, ...]  # in the notebook's order
    tests: tuple[Test, ...]  # in the notebook's order: each visible test before its hidden one
    # PUBLIC or HIDDEN -> function -> cases, made on each call: a grading worker never holds them all
    cases: Callable[[], dict[str, dict[str, list[dict]]]] = field(repr=False)
    folder: str = ""  # the nbgrader folder under course/source/ holding the notebook (default: name)
    graded: bool = True  # False: optional exercises, checked in their notebook on visible cases, never graded

    def __post_init__(self):
        """Refuse data the graders would misread, when the module is imported."""
        if not self.folder:
            object.__setattr__(self, "folder", self.name)
        names = [function.name for function in self.functions]
        if not self.graded:
            _require(not self.tests, f"{self.name}: exercises have no graded tests")
            cases = self.cases()
            _require(sorted(cases) == [PUBLIC], f"{self.name}: exercises have visible cases only")
            _require(all(name in cases[PUBLIC] for name in names), f"{self.name}: every exercise needs cases")
            return
        seen: set[str] = set()
        for test in self.tests:
            _require(test.function in names, f"{test.grade_id} runs {test.function}, which is not graded")
            if test.cases == HIDDEN:  # its reason refers to the visible test, judged before it
                pair = test.visible in seen and self.test(test.visible).function == test.function
                _require(pair, f"{test.grade_id} must name a visible test of {test.function} listed before it")
            else:
                _require(
                    test.cases == PUBLIC and test.visible is None, f"{test.grade_id}: a visible test pairs with none"
                )
            seen.add(test.grade_id)
        cases = self.cases()
        _require(sorted(cases) == [HIDDEN, PUBLIC], f"{self.name}: cases are public and hidden")
        for function in self.functions:
            _require(set(function.built_from) <= set(names), f"{function.name} is built from ungraded functions")
            _require(all(function.name in found for found in cases.values()), f"{function.name} has no cases")

    def function(self, name: str) -> GradedFunction:
        return next(function for function in self.functions if function.name == name)

    def test(self, grade_id: str) -> Test:
        return next(test for test in self.tests if test.grade_id == grade_id)

    @property
    def grade_ids(self) -> list[str]:
        return [test.grade_id for test in self.tests]

    @property
    def points(self) -> dict[str, float]:
        return {test.grade_id: test.points for test in self.tests}

    @property
    def cells(self) -> dict[str, str]:
        """Solution cell's grade id -> the function it defines."""
        return {function.cell: function.name for function in self.functions}

    def visible_test(self, function: str) -> str:
        """The grade id of ``function``'s visible test."""
        return next(test.grade_id for test in self.tests if test.function == function and test.cases == PUBLIC)

    def expected_file(self, cases: str) -> Path:
        """Where the expected results of the ``cases`` go: the visible ones in the package, the hidden
        ones relative to the nbgrader course (never released)."""
        if cases == PUBLIC:
            return Path(__file__).resolve().parents[1] / "expected" / f"{self.name}.json"
        return Path("expected", f"{self.name}_hidden.json")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def blocks_to_fix_first(model: GradedFunction, failure_of: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """``(block, failure)`` for each block ``model`` is built from whose ``failure_of`` is not empty.

    The course's policy for a model built from wrong blocks, which the checks and the grader both
    follow: the model is judged by the model it builds; when it fails, its message first names
    these blocks, to fix before it; when it passes, it keeps its points.
    """
    return [(block, failure) for block in model.built_from if (failure := failure_of(block))]


def _registry() -> tuple[dict[str, Assignment], dict[str, Assignment]]:
    from resnets_utils.assignments import beyond_resnet50, residual_networks

    registered = (residual_networks.ASSIGNMENT, beyond_resnet50.EXERCISES)
    graded = {assignment.name: assignment for assignment in registered if assignment.graded}
    return graded, {assignment.name: assignment for assignment in registered if not assignment.graded}


# Graded assignments by nbgrader name (what resnets-grade grades); optional exercises by name.
ASSIGNMENTS, EXERCISES = _registry()
DEFAULT = "residual_networks"  # the one the notebooks' checks grade unless told otherwise


def edition_name(name: str, language: str) -> str:
    """The nbgrader name of assignment ``name``'s edition in ``language``: ``residual_networks_zh_CN``
    (English: ``name`` itself). ``make release`` generates its folders from the English master."""
    return name if language == ENGLISH else f"{name}_{language}"


def edition_of(name: str) -> tuple[str, str]:
    """``(assignment, language)`` of an nbgrader name: ``("residual_networks", "zh_CN")`` for
    ``residual_networks_zh_CN``, ``(name, "en")`` for any other name."""
    for language in LANGUAGES:
        if name.endswith(f"_{language}"):
            return name.removesuffix(f"_{language}"), language
    return name, ENGLISH


def get(name: str) -> Assignment:
    """The registered assignment or exercise set ``name``, or the one whose language edition ``name`` is (an
    edition has the same functions, tests, points and cases); ValueError naming the known ones if there is none."""
    known = {**ASSIGNMENTS, **EXERCISES}
    base, _ = edition_of(name)
    if base not in known:
        raise ValueError(f"no assignment named {name!r}: the course has {', '.join(sorted(known))}")
    return known[base]


def _everything() -> list[Assignment]:
    return [*ASSIGNMENTS.values(), *EXERCISES.values()]


def graded_function(name: str) -> GradedFunction:
    """The checked function ``name``, in whichever assignment or exercise set defines it (a name means
    one function across the course: an assignment reusing a block reuses its name and kind)."""
    for assignment in _everything():
        if name in {function.name for function in assignment.functions}:
            return assignment.function(name)
    raise ValueError(f"no assignment checks a function named {name!r}")


def graded_names() -> set[str]:
    """Every checked function's name, across the course (graded or optional)."""
    return {function.name for assignment in _everything() for function in assignment.functions}
