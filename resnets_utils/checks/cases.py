"""The files of the checks' expected results, and the fixed inputs and arguments of a case.

The cases themselves are the assignment's (:mod:`resnets_utils.assignments`); ``scripts/make_expected.py``
runs them on the master notebook's solution and writes the results: the visible cases' in
``resnets_utils/expected/``, the hidden ones' in the course's ``expected/`` (never released).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from resnets_utils import assignments, settings
from resnets_utils.assignments import HIDDEN, PUBLIC
from resnets_utils.checks.judge import CheckFailed
from resnets_utils.language import say

# The default assignment's files (the notebooks' checks and the tests read these names).
PUBLIC_EXPECTED = assignments.get(assignments.DEFAULT).expected_file(PUBLIC)
HIDDEN_IN_COURSE = assignments.get(assignments.DEFAULT).expected_file(HIDDEN)
# The repository checkout's course, where `make expected` writes the hidden cases.
CHECKOUT_COURSE = Path(__file__).resolve().parents[2] / "course"
HIDDEN_EXPECTED = CHECKOUT_COURSE / HIDDEN_IN_COURSE


def hidden_expected_path(course: Path | str | None = None, assignment: str = assignments.DEFAULT) -> Path:
    """The file of the hidden cases' expected results: ``<course>/expected/<assignment>_hidden.json``
    when ``course`` is given (the grader's), else the one ``$RESNETS_HIDDEN_EXPECTED`` names, else the first
    that exists in the nbgrader course holding the current directory (a kernel that ``nbgrader autograde``
    runs in ``<course>/autograded/<student>/<assignment>/`` finds it) and in the checkout's ``course/``.
    Raises :class:`CheckFailed`, saying where it looked, if none exists.
    """
    in_course = assignments.get(assignment).expected_file(HIDDEN)
    if course:
        return _existing(HIDDEN, [Path(course).resolve() / in_course])
    if given := os.environ.get(settings.HIDDEN_EXPECTED):
        return _existing(HIDDEN, [Path(given)])
    found = settings.find_course()
    checkout = HIDDEN_EXPECTED if assignment == assignments.DEFAULT else CHECKOUT_COURSE / in_course
    return _existing(HIDDEN, list(dict.fromkeys([*([found / in_course] if found else []), checkout])))


def load_expected(cases: str = PUBLIC, course: Path | str | None = None, assignment: str = assignments.DEFAULT) -> dict:
    """The expected results of the ``"public"`` or ``"hidden"`` cases, by function (``course``: see above)."""
    if cases not in (PUBLIC, HIDDEN):
        raise ValueError(f"cases must be 'public' or 'hidden', got {cases!r}")
    if cases == PUBLIC:
        path = _existing(cases, [assignments.get(assignment).expected_file(PUBLIC)])
    else:
        path = hidden_expected_path(course, assignment)
    return json.loads(path.read_text())


def _existing(cases: str, places: list[Path]) -> Path:
    """The first of ``places`` that exists; :class:`CheckFailed`, saying where it looked, if none does."""
    for path in places:
        if path.is_file():
            return path
    names = [str(path) for path in places]
    where = names[0] if names else ""
    for name in names[1:]:
        where = say("{paths} or {path}", paths=where, path=name)
    if cases == PUBLIC:
        raise CheckFailed(
            say(
                "the expected results for the public checks are missing ({places}); "
                "they come with the instructor's copy of the course (`make expected`).",
                places=where,
            )
        )
    raise CheckFailed(  # the hidden checks (the only other cases)
        say(
            "the expected results for the hidden checks are missing ({places}); "
            "they come with the instructor's copy of the course (`make expected`): "
            "run inside that course, or set {variable} to their file.",
            places=where,
            variable=settings.HIDDEN_EXPECTED,
        )
    )


def block_input(shape, seed) -> np.ndarray:
    """The fixed input of a block case: standard normal values, float32."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def resnet50_inputs(case) -> np.ndarray:
    """The two fixed pictures of a ResNet50 case: uniform values in [0, 1), float32."""
    return np.random.default_rng(case["input_seed"]).uniform(0, 1, (2, *case["input_shape"])).astype(np.float32)


# A case's entries that are not the block's arguments: its input, and the results make_expected adds.
NOT_ARGUMENTS = {"input_shape", "input_seed", "summary", "outputs"}


def block_arguments(case: dict) -> dict:
    """The block's keyword arguments in ``case`` (``f``, ``filters``, ``stage``, ``block``, ``s``, ...)."""
    return {
        key: list(value) if isinstance(value, list) else value
        for key, value in case.items()
        if key not in NOT_ARGUMENTS
    }


def constant_initializer(seed=0):
    """A constant kernel initializer taking ``seed`` like Keras' random ones do."""
    import keras

    return keras.initializers.Constant(0.05)


def initializers():
    """The initializers every block case is run with, by name."""
    from keras.initializers import glorot_uniform

    return {"constant": constant_initializer, "glorot_uniform": glorot_uniform}
