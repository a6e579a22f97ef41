"""Every kind of broken data file gets a clear error naming the file and the problem, in every language."""

import contextlib
import io
import random
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import in_every_language, raised, spoken_problems
from PIL import Image

from resnets_utils import data
from resnets_utils.language import LANGUAGES


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


def _signs_file(path, **datasets):
    with h5py.File(path, "w") as file:
        for key, value in datasets.items():
            file[key] = value
    return path


@pytest.mark.parametrize("seed", range(3))
def test_every_data_error_is_said_in_every_language(tmp_path, monkeypatch, fallbacks, seed):
    rng = random.Random(seed)
    folder = tmp_path / f"signs-{rng.randint(0, 999)}"
    folder.mkdir()
    m = rng.randint(2, 40)
    images, labels, classes = np.zeros((m, 64, 64, 3), np.uint8), np.arange(m) % 6, np.arange(6)
    split = rng.choice(["train", "test"])
    x, y = f"{split}_set_x", f"{split}_set_y"
    path = folder / f"{split}_{rng.randint(0, 999)}.h5"
    fix = f"Delete {path} to let the course generate its own data, or copy an intact SIGNS file there."
    wrong_shape = (m, rng.choice([32, 48, 65]), 64, 3)
    few = rng.randint(0, m - 1)
    outside = rng.choice([-rng.randint(1, 9), rng.randint(6, 99)])
    other_classes = np.arange(rng.choice([2, 5, 7, 10]))
    held = sorted(rng.sample(["pictures", "answers", "meta"], rng.randint(1, 3)))
    truncated = path.with_name("truncated.h5")
    truncated.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 64))))
    with pytest.raises(OSError) as unreadable:
        h5py.File(truncated, "r")
    broken = {
        # what the English says: how to break the file
        f"{path} has no '{x}' dataset (it holds: nothing). {fix}": lambda: _signs_file(path),
        f"{path} has no '{x}' dataset (it holds: {', '.join(held)}). {fix}": lambda: _signs_file(
            path, **dict.fromkeys(held, labels)
        ),
        f"'{x}' in {path} has dtype float32; SIGNS images are uint8. {fix}": lambda: _signs_file(
            path, **{x: images.astype(np.float32), y: labels, "list_classes": classes}
        ),
        f"'{x}' in {path} has shape {wrong_shape}; expected (m, 64, 64, 3) RGB images. {fix}": lambda: _signs_file(
            path, **{x: np.zeros(wrong_shape, np.uint8), y: labels, "list_classes": classes}
        ),
        f"'{y}' in {path} has dtype float64; labels must be integers. {fix}": lambda: _signs_file(
            path, **{x: images, y: labels / 2, "list_classes": classes}
        ),
        f"{path} has {m} images but {few} labels in '{y}'. {fix}": lambda: _signs_file(
            path, **{x: images, y: labels[:few], "list_classes": classes}
        ),
        f"'{y}' in {path} has labels outside 0..5 (e.g. {outside}); SIGNS labels count raised fingers. {fix}": lambda: (
            _signs_file(path, **{x: images, y: np.full(m, outside), "list_classes": classes})
        ),
        f"'list_classes' in {path} is {other_classes!r}; expected the labels 0..5. {fix}": lambda: _signs_file(
            path, **{x: images, y: labels, "list_classes": other_classes}
        ),
    }
    names = [str(path), str(truncated), str(unreadable.value), str(folder), *held]
    for english, breakage in broken.items():
        breakage()
        told = in_every_language(lambda: raised(lambda: data.load_split(path, split)), fallbacks)
        assert told["en"] == english
        for code in LANGUAGES:
            assert not spoken_problems(code, english, told[code], names), (english, told[code])

    fix = f"Delete {truncated} to let the course generate its own data, or copy an intact SIGNS file there."
    picture = folder / f"hand_{rng.randint(0, 99)}.jpg"
    picture.write_bytes(truncated.read_bytes())
    with pytest.raises(OSError) as unidentified:
        Image.open(picture)
    absent = folder / f"absent_{rng.randint(0, 99)}.png"
    kept, missing = rng.sample([data.TRAIN_FILE, data.TEST_FILE], 2)
    (folder / kept).write_bytes(b"")
    C = rng.randint(2, 9)
    high = C + rng.randint(0, 5)
    stale = tmp_path / "stale"
    for name, split_name in ((data.TRAIN_FILE, "train"), (data.TEST_FILE, "test")):  # drawn by generator 0
        data.write_split(stale / name, split_name, images, labels, source="generated by resnets_utils 0.1")
        with h5py.File(stale / name, "r+") as file:
            file.attrs["generator_version"] = 0
    monkeypatch.setattr(data, "write_generated_dataset", lambda directory, seed: None)  # not drawn again here
    errors = {
        f"{truncated} is not a readable HDF5 file (truncated, or another format): {unreadable.value}. {fix}": lambda: (
            data.load_split(truncated, split)
        ),
        f"{path.with_name('absent.h5')} does not exist. Run `python -m resnets_utils.data` to create it.": lambda: (
            data.load_split(path.with_name("absent.h5"), split)
        ),
        f"{folder / kept} exists but {folder / missing} does not. Copy the missing file there, or delete {kept} to let "
        "the course generate its own pair.": lambda: data.ensure_dataset(folder),
        "labels must be integers, got dtype float64": lambda: data.convert_to_one_hot(np.array([[0.0, 1.5]]), C),
        f"labels must lie in 0..{C - 1}, got 0..{high}": lambda: data.convert_to_one_hot(np.array([0, high]), C),
        f"{absent} does not exist: put your picture next to the notebook or give its full path.": lambda: (
            data.load_picture(absent)
        ),
        f"{picture} is not a picture that can be read (use a JPEG or PNG): {unidentified.value}": lambda: (
            data.load_picture(picture)
        ),
        f"The data in {stale} was drawn by an older version of the course: drawing it again.\n": lambda: _printed(
            lambda: data.ensure_dataset(stale)
        ),
    }
    names += [str(absent), str(folder / kept), str(folder / missing), str(picture), str(unidentified.value)]
    names += [kept, str(path.with_name("absent.h5")), str(stale)]
    for english, call in errors.items():
        told = in_every_language(lambda: raised(call), fallbacks)  # noqa: B023 (said at once)
        assert told["en"] == english
        for code in LANGUAGES:
            assert not spoken_problems(code, english, told[code], names), (english, told[code])


def _printed(call):
    """Raise what ``call()`` prints: the errors and the notes are checked alike."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        call()
    raise RuntimeError(output.getvalue())
