"""The cases the checks run (their arguments and fixed inputs) and the files of their expected results.

``scripts/make_expected.py`` writes them from the master notebook's solution: the visible cases'
in ``resnets_utils/expected/``, the hidden ones' in the course's ``expected/`` (never released).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from resnets_utils import settings
from resnets_utils.checks.judge import CheckFailed

PUBLIC_EXPECTED = Path(__file__).resolve().parents[1] / "expected" / "residual_networks.json"
HIDDEN_IN_COURSE = Path("expected", "residual_networks_hidden.json")
# The repository checkout's course, where `make expected` writes the hidden cases.
HIDDEN_EXPECTED = Path(__file__).resolve().parents[2] / "course" / HIDDEN_IN_COURSE


def hidden_expected_path(course: Path | str | None = None) -> Path:
    """The file of the hidden cases' expected results: ``<course>/expected/residual_networks_hidden.json``
    when ``course`` is given (the grader's), else the one ``$RESNETS_HIDDEN_EXPECTED`` names, else the first
    that exists in the nbgrader course holding the current directory (a kernel that ``nbgrader autograde``
    runs in ``<course>/autograded/<student>/<assignment>/`` finds it) and in the checkout's ``course/``.
    Raises :class:`CheckFailed`, saying where it looked, if none exists.
    """
    if course:
        return _existing("hidden", [Path(course).resolve() / HIDDEN_IN_COURSE])
    if given := os.environ.get(settings.HIDDEN_EXPECTED):
        return _existing("hidden", [Path(given)])
    found = settings.find_course()
    in_course = [found / HIDDEN_IN_COURSE] if found else []
    return _existing("hidden", list(dict.fromkeys([*in_course, HIDDEN_EXPECTED])))


def load_expected(cases: str = "public", course: Path | str | None = None) -> dict:
    """The expected results of the ``"public"`` or ``"hidden"`` cases, by function (``course``: see above)."""
    if cases not in ("public", "hidden"):
        raise ValueError(f"cases must be 'public' or 'hidden', got {cases!r}")
    path = _existing(cases, [PUBLIC_EXPECTED]) if cases == "public" else hidden_expected_path(course)
    return json.loads(path.read_text())


def _existing(cases: str, places: list[Path]) -> Path:
    """The first of ``places`` that exists; :class:`CheckFailed`, saying where it looked, if none does."""
    for path in places:
        if path.is_file():
            return path
    to_do = "" if cases == "public" else f": run inside that course, or set {settings.HIDDEN_EXPECTED} to their file"
    raise CheckFailed(
        f"the expected results for the {cases} checks are missing ({' or '.join(map(str, places))}); "
        f"they come with the instructor's copy of the course (`make expected`){to_do}."
    )


def block_input(shape, seed) -> np.ndarray:
    """The fixed input of a block case: standard normal values, float32."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def resnet50_inputs(case) -> np.ndarray:
    """The two fixed pictures of a ResNet50 case: uniform values in [0, 1), float32."""
    return np.random.default_rng(case["input_seed"]).uniform(0, 1, (2, *case["input_shape"])).astype(np.float32)


def block_arguments(case: dict) -> dict:
    arguments = {"f": case["f"], "filters": list(case["filters"]), "stage": case["stage"], "block": case["block"]}
    if "s" in case:
        arguments["s"] = case["s"]
    return arguments


def constant_initializer(seed=0):
    """A constant kernel initializer taking ``seed`` like Keras' random ones do."""
    import keras

    return keras.initializers.Constant(0.05)


def initializers():
    """The initializers every block case is run with, by name."""
    from keras.initializers import glorot_uniform

    return {"constant": constant_initializer, "glorot_uniform": glorot_uniform}
