"""Write the checks' expected results from the master notebook's reference solution.

    python scripts/make_expected.py            # write both files
    python scripts/make_expected.py --check    # fail if the files differ from a fresh run

Visible cases go to resnets_utils/expected/ (shipped with the package); hidden cases to
course/expected/ (instructor side, never released).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from resnets_utils import checks
from resnets_utils.course.reference import load_reference
from resnets_utils.models.architecture import describe

# Each case: the block's arguments and its input. F3 equals the input's channels in
# identity blocks; hidden cases use other shapes, windows, strides and names.
CASES = {
    "public": {
        "identity_block": [
            {"input_shape": [3, 4, 4, 6], "input_seed": 1, "f": 2, "filters": [2, 4, 6], "stage": 1, "block": "a"},
        ],
        "convolutional_block": [
            {
                "input_shape": [3, 4, 4, 3],
                "input_seed": 2,
                "f": 2,
                "filters": [2, 4, 6],
                "stage": 1,
                "block": "a",
                "s": 2,
            },
        ],
        "ResNet50": [{"input_shape": [64, 64, 3], "classes": 6, "input_seed": 3}],
    },
    "hidden": {
        "identity_block": [
            {"input_shape": [2, 5, 5, 8], "input_seed": 11, "f": 3, "filters": [3, 5, 8], "stage": 3, "block": "c"},
            {"input_shape": [2, 3, 3, 4], "input_seed": 12, "f": 1, "filters": [6, 2, 4], "stage": 7, "block": "x"},
        ],
        "convolutional_block": [
            {
                "input_shape": [2, 6, 6, 3],
                "input_seed": 13,
                "f": 3,
                "filters": [4, 4, 5],
                "stage": 4,
                "block": "a",
                "s": 3,
            },
            {
                "input_shape": [2, 5, 5, 4],
                "input_seed": 14,
                "f": 2,
                "filters": [3, 2, 7],
                "stage": 2,
                "block": "b",
                "s": 1,
            },
        ],
        "ResNet50": [{"input_shape": [96, 96, 3], "classes": 10, "input_seed": 15}],
    },
}

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = {"public": checks.PUBLIC_EXPECTED, "hidden": checks.HIDDEN_EXPECTED}


def _rounded(array) -> list:
    # 7 significant digits: well inside the checks' tolerance, and short diffs.
    return np.vectorize(lambda value: float(f"{value:.7g}"))(np.asarray(array, dtype=np.float64)).tolist()


def expected_results(reference: dict, cases: dict) -> dict:
    import keras

    results = {}
    for name in ("identity_block", "convolutional_block"):
        function = reference[name]
        results[name] = []
        for case in cases[name]:
            inputs = keras.Input(shape=tuple(case["input_shape"][1:]))
            model = keras.Model(inputs, function(inputs, training=None, **checks.block_arguments(case)))
            outputs = checks.block_outputs(function, name, case)
            results[name].append(
                {**case, "summary": describe(model), "outputs": {k: _rounded(v) for k, v in outputs.items()}}
            )
    results["ResNet50"] = []
    for case in cases["ResNet50"]:
        model = reference["ResNet50"](input_shape=tuple(case["input_shape"]), classes=case["classes"])
        outputs = checks.resnet50_outputs(model, case)
        results["ResNet50"].append({**case, "summary": describe(model), "outputs": _rounded(outputs)})
    return results


def _serialise(results: dict) -> str:
    return json.dumps(results, indent=1) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    args = parser.parse_args(argv)
    with checks.quiet():
        reference = load_reference()
        fresh = {kind: expected_results(reference, CASES[kind]) for kind in CASES}
    stale = []
    for kind, results in fresh.items():
        path = OUTPUTS[kind]
        if args.check:
            committed = json.loads(path.read_text()) if path.exists() else None
            if committed is None or not _same(committed, results):
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_serialise(results))
            print(f"wrote {path.relative_to(ROOT)}")
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
