"""The realism benchmark and the scoring it uses: it skips without the real photos, the package never reads them."""

import subprocess
import sys
from pathlib import Path

import numpy as np

from resnets_utils.models import evaluation

REPO = Path(__file__).resolve().parent.parent
BENCHMARK = REPO / "benchmarks" / "realism.py"


def test_without_the_real_photos_the_benchmark_says_it_skips(tmp_path):
    history = (REPO / "docs" / "performance.md").read_text()
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--real", str(tmp_path / "absent.h5")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "skipping: no real photos at" in result.stdout
    assert (REPO / "docs" / "performance.md").read_text() == history  # no row for a run that did not happen


class _Fixed:
    """A stand-in classifier whose outputs are given."""

    def __init__(self, outputs):
        self.outputs = np.asarray(outputs, dtype=np.float32)

    def predict(self, images, verbose=0):
        return self.outputs[: len(images)]


def test_accuracy_counts_the_pictures_whose_largest_output_is_their_label():
    model = _Fixed([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert list(evaluation.predicted_classes(model, np.zeros(4))) == [1, 0, 1, 0]
    assert evaluation.accuracy(model, np.zeros(4), np.array([[1, 0, 0, 0]])) == 0.75  # labels as (1, m) too


def test_the_confusion_matrix_has_true_classes_as_rows():
    matrix = evaluation.confusion_matrix(np.array([0, 0, 1, 5]), np.array([0, 3, 1, 5]), 6)
    assert matrix.shape == (6, 6) and matrix.sum() == 4
    assert matrix[0, 0] == 1 and matrix[0, 3] == 1 and matrix[1, 1] == 1 and matrix[5, 5] == 1


def test_the_package_never_reads_the_real_photos():
    for path in (REPO / "resnets_utils").rglob("*.py"):
        text = path.read_text()
        assert "real_signs" not in text and "dev_signs" not in text, path
