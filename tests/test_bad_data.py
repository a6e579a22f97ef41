"""Every kind of broken data file gets a clear error naming the file and the problem."""

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from resnets_utils import data


def _replace(path, key, value):
    with h5py.File(path, "r+") as file:
        del file[key]
        if value is not None:
            file[key] = value


def _truncate(path):
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 3])


BREAKAGES = {
    # name: (how to break train_signs.h5, words the error must contain)
    "missing images": (lambda p: _replace(p, "train_set_x", None), "no 'train_set_x' dataset"),
    "missing labels": (lambda p: _replace(p, "train_set_y", None), "no 'train_set_y' dataset"),
    "missing classes": (lambda p: _replace(p, "list_classes", None), "no 'list_classes' dataset"),
    "wrong image size": (
        lambda p: _replace(p, "train_set_x", np.zeros((1080, 32, 32, 3), np.uint8)),
        "shape (1080, 32, 32, 3)",
    ),
    "grey images": (lambda p: _replace(p, "train_set_x", np.zeros((1080, 64, 64), np.uint8)), "RGB"),
    "float images": (
        lambda p: _replace(p, "train_set_x", np.zeros((1080, 64, 64, 3), np.float32)),
        "dtype float32",
    ),
    "float labels": (lambda p: _replace(p, "train_set_y", np.zeros(1080, np.float64)), "integers"),
    "label outside 0..5": (lambda p: _replace(p, "train_set_y", np.full(1080, 7)), "outside 0..5"),
    "negative label": (lambda p: _replace(p, "train_set_y", np.full(1080, -1)), "outside 0..5"),
    "too few labels": (lambda p: _replace(p, "train_set_y", np.zeros(10, np.int64)), "1080 images but 10"),
    "other classes": (lambda p: _replace(p, "list_classes", np.arange(10)), "labels 0..5"),
    "truncated file": (_truncate, "not a readable HDF5 file"),
    "not an h5 file": (lambda p: p.write_text("<html>not found</html>"), "not a readable HDF5 file"),
    "empty file": (lambda p: p.write_bytes(b""), "not a readable HDF5 file"),
}


@pytest.fixture
def data_copy(generated_dir, tmp_path):
    folder = tmp_path / "signs"
    shutil.copytree(generated_dir, folder)
    return folder


@pytest.mark.parametrize("case", BREAKAGES)
def test_broken_training_file_gets_a_clear_error(data_copy, case):
    breakage, words = BREAKAGES[case]
    path = data_copy / data.TRAIN_FILE
    breakage(path)
    with pytest.raises(data.DatasetError) as error:
        data.load_dataset(data_copy)
    message = str(error.value)
    assert str(path) in message
    assert words in message
    # Every message says what to do about it.
    assert "Delete" in message or "copy" in message.lower()
    assert error.value.__cause__ is None or isinstance(error.value.__cause__, data.DatasetError)


@pytest.mark.parametrize("kept", [data.TRAIN_FILE, data.TEST_FILE])
def test_one_file_without_the_other_is_an_error_not_a_silent_regeneration(data_copy, kept):
    other = data.TEST_FILE if kept == data.TRAIN_FILE else data.TRAIN_FILE
    (data_copy / other).unlink()
    with pytest.raises(data.DatasetError, match=f"{other} does not"):
        data.load_dataset(data_copy)
    assert not (data_copy / other).exists()  # a user's real file is never paired with a generated one


def test_missing_file_for_load_split_says_how_to_make_it(tmp_path):
    with pytest.raises(data.DatasetError, match="python -m resnets_utils.data"):
        data.load_split(tmp_path / data.TRAIN_FILE, "train")


def test_command_line_prints_one_clear_line_not_a_traceback(data_copy):
    _truncate(data_copy / data.TRAIN_FILE)
    result = subprocess.run(
        [sys.executable, "-m", "resnets_utils.data", "--data-dir", str(data_copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_command_line_prepares_the_data(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "resnets_utils.data", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1080 training and 120 test images" in result.stdout
    assert (tmp_path / data.TRAIN_FILE).exists()
