"""Write the checks' expected results from each assignment's master notebook's reference solution.

    python scripts/make_expected.py            # write both files
    python scripts/make_expected.py --check    # fail if the files differ from a fresh run

The cases are the assignments' (resnets_utils/assignments/). Visible cases' results go to
resnets_utils/expected/ (shipped with the package); hidden cases' to course/expected/ (instructor
side, never released).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from resnets_utils import assignments, checks
from resnets_utils.assignments import PUBLIC
from resnets_utils.course.reference import REPO, load_reference
from resnets_utils.models.architecture import describe


def outputs(assignment: assignments.Assignment) -> dict[str, Path]:
    """Where the results of each kind of case go: the visible in the package, the hidden in the checkout's course."""
    return {
        which: assignment.expected_file(which) if which == PUBLIC else REPO / "course" / assignment.expected_file(which)
        for which in assignment.cases()
    }


def _rounded(array) -> list:
    # 7 significant digits: well inside the checks' tolerance, and short diffs.
    return np.vectorize(lambda value: float(f"{value:.7g}"))(np.asarray(array, dtype=np.float64)).tolist()


def expected_results(assignment: assignments.Assignment, reference: dict, cases: dict) -> dict:
    """Each graded function's ``cases`` with the reference's layer summary and outputs."""
    return {
        function.name: [_expected(function, reference[function.name], case) for case in cases[function.name]]
        for function in assignment.functions
    }


def _expected(function: assignments.GradedFunction, reference, case: dict) -> dict:
    import keras

    if function.kind == assignments.MODEL:
        model = reference(input_shape=tuple(case["input_shape"]), classes=case["classes"])
        return {**case, "summary": describe(model), "outputs": _rounded(checks.resnet50_outputs(model, case))}
    inputs = keras.Input(shape=tuple(case["input_shape"][1:]))
    model = keras.Model(inputs, reference(inputs, training=None, **checks.block_arguments(case)))
    outputs = checks.block_outputs(reference, function.name, case)
    return {**case, "summary": describe(model), "outputs": {k: _rounded(v) for k, v in outputs.items()}}


def _serialise(results: dict) -> str:
    return json.dumps(results, indent=1) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for assignment in [*assignments.ASSIGNMENTS.values(), *assignments.EXERCISES.values()]:
        with checks.quiet():
            reference = load_reference(REPO / "course" / "source" / assignment.folder / assignment.notebook)
            fresh = {
                which: expected_results(assignment, reference, assignment.cases()[which])
                for which in outputs(assignment)
            }
        for which, results in fresh.items():
            path = outputs(assignment)[which]
            if args.check:
                committed = json.loads(path.read_text()) if path.exists() else None
                if committed is None or not _same(committed, results):
                    stale.append(str(path.relative_to(REPO)))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(_serialise(results))
                print(f"wrote {path.relative_to(REPO)}")
    if stale:
        print(f"not in sync with the master notebook: {', '.join(stale)}; run `make expected`", file=sys.stderr)
        return 1
    return 0


def _same(committed, fresh) -> bool:
    """Equal structure and text, numbers equal within the checks' tolerance."""
    if isinstance(fresh, dict):
        return (
            isinstance(committed, dict)
            and committed.keys() == fresh.keys()
            and all(_same(committed[key], fresh[key]) for key in fresh)
        )
    if isinstance(fresh, list):
        return (
            isinstance(committed, list)
            and len(committed) == len(fresh)
            and all(_same(a, b) for a, b in zip(committed, fresh, strict=True))
        )
    if isinstance(fresh, float):
        return isinstance(committed, int | float) and bool(np.isclose(committed, fresh, **checks.TOLERANCE))
    return committed == fresh


if __name__ == "__main__":
    raise SystemExit(main())
