"""Finding, loading and converting SIGNS files, real-format files included."""

import os
import shutil

import h5py
import numpy as np
import pytest

from resnets_utils import data
from resnets_utils.data import handsigns

pytestmark = pytest.mark.usefixtures("drawn_once")


def _write_real_format(directory, train_count=30, test_count=12, seed=0):
    """Write SIGNS-format files the way the original ones are laid out, without our writer."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in (("train", train_count), ("test", test_count)):
        images = rng.integers(0, 256, (count, 64, 64, 3), dtype=np.uint8)
        labels = rng.integers(0, 6, count).astype(np.int64)
        with h5py.File(directory / f"{split}_signs.h5", "w") as file:
            file[f"{split}_set_x"] = images
            file[f"{split}_set_y"] = labels
            file["list_classes"] = np.arange(6, dtype=np.int64)
        arrays[split] = images, labels
    return arrays


def test_real_format_files_are_loaded_unchanged(tmp_path):
    arrays = _write_real_format(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    X_train, Y_train, X_test, Y_test, classes = data.load_dataset(tmp_path)
    np.testing.assert_array_equal(X_train, arrays["train"][0])
    np.testing.assert_array_equal(Y_train, arrays["train"][1].reshape(1, -1))
    np.testing.assert_array_equal(X_test, arrays["test"][0])
    np.testing.assert_array_equal(Y_test, arrays["test"][1].reshape(1, -1))
    assert classes.tolist() == [0, 1, 2, 3, 4, 5]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing rewritten


def test_narrow_integer_labels_are_accepted(tmp_path):
    _write_real_format(tmp_path)
    with h5py.File(tmp_path / data.TRAIN_FILE, "r+") as file:
        labels = file["train_set_y"][()]
        del file["train_set_y"]
        file["train_set_y"] = labels.astype(np.uint8)
    _, Y_train, *_ = data.load_dataset(tmp_path)
    assert Y_train.dtype == np.int64 and Y_train.tolist() == [labels.tolist()]


def test_missing_files_are_generated_once_in_the_given_folder(tmp_path):
    folder = tmp_path / "new" / "folder"
    data.load_dataset(folder)
    assert sorted(p.name for p in folder.iterdir()) == [data.TEST_FILE, data.TRAIN_FILE]
    stamps = [os.stat(folder / name).st_mtime_ns for name in (data.TRAIN_FILE, data.TEST_FILE)]
    data.load_dataset(folder)
    assert [os.stat(folder / name).st_mtime_ns for name in (data.TRAIN_FILE, data.TEST_FILE)] == stamps


def test_generated_files_are_the_shared_generated_set(generated_dir, tmp_path):
    data.load_dataset(tmp_path)
    assert (tmp_path / data.TRAIN_FILE).read_bytes() == (generated_dir / data.TRAIN_FILE).read_bytes()


@pytest.mark.parametrize("older", [handsigns.GENERATOR_VERSION - 1, None])
def test_files_an_older_generator_drew_are_drawn_again(generated_dir, tmp_path, older, capsys):
    for name in (data.TRAIN_FILE, data.TEST_FILE):
        shutil.copy(generated_dir / name, tmp_path / name)
        with h5py.File(tmp_path / name, "r+") as file:
            file["train_set_x" if name == data.TRAIN_FILE else "test_set_x"][0] = 0  # pixels of another version
            if older is None:  # files from before the generator had versions
                del file.attrs["generator_version"]
            else:
                file.attrs["generator_version"] = older
    data.load_dataset(tmp_path)
    assert "drawing it again" in capsys.readouterr().out
    for name in (data.TRAIN_FILE, data.TEST_FILE):
        assert data.generated_version(tmp_path / name) == handsigns.GENERATOR_VERSION
        assert (tmp_path / name).read_bytes() == (generated_dir / name).read_bytes()


def test_real_files_are_never_versioned_or_redrawn(tmp_path):
    _write_real_format(tmp_path)
    assert data.generated_version(tmp_path / data.TRAIN_FILE) is None
    before = (tmp_path / data.TRAIN_FILE).read_bytes()
    data.load_dataset(tmp_path)
    assert (tmp_path / data.TRAIN_FILE).read_bytes() == before


def test_data_dir_comes_from_the_argument_then_the_variable_then_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.resolve_data_dir() == tmp_path / "cache" / "resnets-course" / "data"
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path / "from-variable"))
    assert data.resolve_data_dir() == tmp_path / "from-variable"
    assert data.resolve_data_dir(tmp_path / "argument") == tmp_path / "argument"


def test_load_dataset_without_argument_uses_the_variable(generated_dir, tmp_path, monkeypatch):
    shutil.copytree(generated_dir, tmp_path / "signs")
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path / "signs"))
    X_train, *_ = data.load_dataset()
    assert X_train.shape == (1080, 64, 64, 3)
    assert not (tmp_path / "cache").exists()  # the default cache was not touched


def test_load_dataset_without_anything_fills_the_user_cache(tmp_path):
    X_train, *_ = data.load_dataset()  # conftest points XDG_CACHE_HOME into tmp_path
    assert X_train.shape == (1080, 64, 64, 3)
    assert (tmp_path / "cache" / "resnets-course" / "data" / data.TRAIN_FILE).exists()


def test_convert_to_one_hot_gives_classes_by_examples():
    Y = np.array([[0, 2, 5, 2]])
    one_hot = data.convert_to_one_hot(Y, 6)
    assert one_hot.shape == (6, 4)
    np.testing.assert_array_equal(one_hot.argmax(axis=0), Y[0])
    np.testing.assert_array_equal(one_hot.sum(axis=0), np.ones(4))
    assert data.convert_to_one_hot(Y, 6).T.shape == (4, 6)  # how the notebook uses it


@pytest.mark.parametrize(("labels", "message"), [([[0, 6]], "0..5"), ([[-1]], "0..5"), ([[0.5]], "integers")])
def test_convert_to_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        data.convert_to_one_hot(np.array(labels), 6)


def test_load_picture_turns_a_phone_photo_upright(tmp_path):
    """A portrait photo whose pixels are stored sideways with EXIF orientation 6 (rotate 90 degrees clockwise)."""
    from PIL import Image

    upright = np.zeros((96, 64, 3), dtype=np.uint8)  # taller than wide, a bright top band
    upright[:32] = 255
    upright[32:, :, 0] = np.linspace(0, 255, 64, dtype=np.uint8)
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # as the sensor saved it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the viewer must rotate 90 degrees clockwise
    stored.save(tmp_path / "portrait.jpg", exif=exif, quality=95)
    stored.save(tmp_path / "sideways.png")
    Image.fromarray(upright).save(tmp_path / "upright.png")
    loaded = data.load_picture(tmp_path / "portrait.jpg").astype(float)
    assert np.abs(loaded - data.load_picture(tmp_path / "upright.png")).mean() < 5  # JPEG noise only
    assert np.abs(loaded - data.load_picture(tmp_path / "sideways.png")).mean() > 30  # not the stored pixels
