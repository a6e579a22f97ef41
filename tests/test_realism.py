"""The realism benchmark: it skips without the real photos, and the package never reads them."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BENCHMARK = REPO / "benchmarks" / "realism.py"


def _benchmark():
    spec = importlib.util.spec_from_file_location("realism", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_real_photos_the_benchmark_says_it_skips(tmp_path):
    history = (REPO / "docs" / "performance.md").read_text()
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--real", str(tmp_path / "absent.h5")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "skipping: no real photos at" in result.stdout
    assert (REPO / "docs" / "performance.md").read_text() == history  # no row for a run that did not happen


def test_the_confusion_matrix_has_true_classes_as_rows():
    matrix = _benchmark().confusion(np.array([0, 0, 1, 5]), np.array([0, 3, 1, 5]))
    assert matrix.shape == (6, 6) and matrix.sum() == 4
    assert matrix[0, 0] == 1 and matrix[0, 3] == 1 and matrix[1, 1] == 1 and matrix[5, 5] == 1


def test_the_package_never_reads_the_real_photos():
    for path in (REPO / "resnets_utils").rglob("*.py"):
        text = path.read_text()
        assert "real_signs" not in text and "dev_signs" not in text, path
