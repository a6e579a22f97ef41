"""The course's fit (model.fit from one tf.data pipeline), its smoke run under nbgrader, oneDNN in every notebook."""

import os
import random
import subprocess
import sys
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from conftest import in_every_language, raised, spoken_problems
from nbclient import NotebookClient

from resnets_utils import settings, training
from resnets_utils.course import editions
from resnets_utils.language import LANGUAGES
from resnets_utils.settings import ONEDNN

SOURCE = Path(__file__).resolve().parents[1] / "course" / "source"
NOTEBOOKS = editions.master_notebooks(SOURCE)


def _small_model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization(axis=3)(x)
    x = keras.layers.Activation("relu")(x)
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8, 8, 3)), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_begin(self, logs=None):
        self.events.append(("begin", self.params["epochs"]))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(("epoch", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append(("end",))


@pytest.fixture
def not_grading(monkeypatch):
    monkeypatch.delenv(settings.GRADING, raising=False)


def test_an_uncompiled_model_gets_a_clear_error(not_grading):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="compile the model first"):
        training.fit(model, *_data(), epochs=1)


def test_grading_trains_one_small_batch_in_this_process(monkeypatch):
    monkeypatch.setenv(settings.GRADING, "autograde")
    model = _small_model()
    history = training.fit(model, *_data(), epochs=5, batch_size=16, verbose=0)
    assert history.epoch == [0]
    assert history.params["steps"] == 1  # SMOKE_EXAMPLES pictures, one batch


def _python(code, **variables):
    """Run ``code`` in a fresh interpreter with TF_ENABLE_ONEDNN_OPTS unset; its stdout and stderr."""
    environment = {key: value for key, value in os.environ.items() if key != ONEDNN}
    environment.update(variables, TF_CPP_MIN_LOG_LEVEL="0")
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    return result.stdout.strip(), result.stderr


def test_importing_the_package_first_gives_tensorflow_its_onednn_kernels():
    _, log = _python("import resnets_utils, tensorflow")
    assert "oneDNN custom operations are on" in log  # TensorFlow's own start-up line
    show = "import os, resnets_utils; print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"
    assert _python(show)[0] == "1"
    assert _python(show, TF_ENABLE_ONEDNN_OPTS="0")[0] == "0"  # the user's choice wins
    # TensorFlow already imported (a stand-in: the package only looks whether it is loaded): left alone.
    loaded = "import os, sys, types; sys.modules['tensorflow'] = types.ModuleType('tensorflow'); import resnets_utils"
    assert _python(f"{loaded}; print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))")[0] == "None"


def test_fit_trains_exactly_what_model_fit_trains(not_grading):
    X, Y = _data(60)  # 4 batches of 16 per epoch, the last one short
    validation = _data(30, seed=1)
    plain, piped = _small_model(), _small_model()
    expected = plain.fit(X, Y, epochs=3, batch_size=16, shuffle=False, validation_data=validation, verbose=0)
    recorder = Recorder()
    history = training.fit(piped, X, Y, epochs=3, batch_size=16, shuffle=False,
                           validation_data=validation, callbacks=[recorder], verbose=0)  # fmt: skip

    assert history.epoch == [0, 1, 2] and history.params["steps"] == 4
    metrics = ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert recorder.events == [("begin", 3), *[("epoch", epoch, metrics) for epoch in range(3)], ("end",)]
    for trained, reference in zip(piped.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(trained, reference, rtol=1e-5, atol=1e-6)
    assert history.history["val_loss"] == pytest.approx(expected.history["val_loss"], rel=1e-5)


def _counting_traces(model) -> list:
    """Record each time TensorFlow traces ``model``'s training step (its Python runs only then)."""
    traces, step = [], model.train_step
    model.train_step = lambda data: (traces.append(1), step(data))[1]
    return traces


def test_the_training_step_is_traced_once_and_trains_the_same(not_grading, monkeypatch):
    X, Y = _data(64)
    plain = _small_model()
    plain_traces = _counting_traces(plain)
    plain.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert len(plain_traces) == 2  # Keras creates the optimizer's variables in the first trace

    model = _small_model()
    traces = _counting_traces(model)
    training.fit(model, X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert len(traces) == 1

    labels = Y.argmax(axis=1)
    losses = {}
    for prepared in (True, False):
        model = _small_model()
        model.compile(
            optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        traces = _counting_traces(model)
        if not prepared:
            monkeypatch.setattr(training, "create_training_variables", lambda *arguments: None)
        losses[prepared] = training.losses_per_step(model, X, labels, 16)
        assert len(traces) == (1 if prepared else 2)
    np.testing.assert_array_equal(losses[True], losses[False])


def test_fit_shows_every_picture_once_per_epoch_in_a_new_order(not_grading):
    seen = []
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)  # eager: each step calls train_step
    original_step = model.train_step

    def recording_step(data):
        seen.append(np.asarray(data[0]).ravel().tolist())
        return original_step(data)

    model.train_step = recording_step
    X = np.arange(10, dtype="float32")[:, None]
    training.fit(model, X, X, epochs=2, batch_size=4, verbose=0)
    epochs = [sum(seen[:3], []), sum(seen[3:], [])]
    assert len(seen) == 6 and [len(batch) for batch in seen] == [4, 4, 2] * 2
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(10))
    assert epochs[0] != epochs[1] != list(range(10))


def test_the_input_pipeline_batches_like_model_fit_without_autotuning():
    X = np.arange(10, dtype="float32")[:, None]
    pipeline = training.input_pipeline(X, -X, batch_size=4)
    batches = [(x.numpy().ravel().tolist(), y.numpy().ravel().tolist()) for x, y in pipeline]
    assert batches == [([0, 1, 2, 3], [0, -1, -2, -3]), ([4, 5, 6, 7], [-4, -5, -6, -7]), ([8, 9], [-8, -9])]
    # Autotuning is what made the iterator's deletion wait about 20 s after a ResNet-50 fit.
    assert pipeline.options().autotune.enabled is False
    shuffled = training.input_pipeline(X, X, batch_size=4, shuffle=True, repeat=True)
    assert shuffled.options().autotune.enabled is False
    first_epochs = [value for x, _ in shuffled.take(6) for value in x.numpy().ravel().tolist()]
    assert sorted(first_epochs[:10]) == sorted(first_epochs[10:]) == list(range(10))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_every_notebook_turns_onednn_on_before_tensorflow_loads(notebook, generated_dir):
    """As in a kernel of `make lab`'s JupyterLab, whose server never imports resnets_utils."""
    first = next(cell for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code")
    probe = "from tensorflow.python.util import _pywrap_util_port\nprint('oneDNN', _pywrap_util_port.IsMklEnabled())"
    cells = [nbformat.v4.new_code_cell(first.source), nbformat.v4.new_code_cell(probe)]
    environment = {key: value for key, value in os.environ.items() if key != ONEDNN}
    environment[settings.DATA_DIR] = str(generated_dir)  # the first cell may load the data
    client = NotebookClient(nbformat.v4.new_notebook(cells=cells), timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})  # fmt: skip
    executed = client.execute(env=environment)
    assert executed.cells[1].outputs[-1]["text"].strip() == "oneDNN True"


def test_camera_changes_train_on_new_versions_of_each_picture_and_validate_on_the_originals(not_grading):
    trained_on, validated_on = [], []
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", run_eagerly=True)
    train_step, test_step = model.train_step, model.test_step

    def recording_train_step(data):
        trained_on.append(np.asarray(data[0]))
        return train_step(data)

    def recording_test_step(data):
        validated_on.append(np.asarray(data[0]))
        return test_step(data)

    model.train_step, model.test_step = recording_train_step, recording_test_step
    rng = np.random.default_rng(5)
    X, Y = rng.random((8, 16, 16, 3)).astype("float32"), np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]
    validation = rng.random((4, 16, 16, 3)).astype("float32")
    training.fit(model, X, Y, epochs=2, batch_size=8, augment=training.camera_changes(),
                 validation_data=(validation, Y[:4]), verbose=0)  # fmt: skip
    first, second = trained_on
    for shown in (first, second):
        assert shown.shape == X.shape and shown.min() >= 0.0 and shown.max() <= 1.0
        # no shown picture is one of the originals: each was changed
        assert all(np.abs(shown[:, None] - X[None]).max(axis=(2, 3, 4)).min(axis=1) > 0.01)
    assert np.abs(np.sort(first.ravel()) - np.sort(second.ravel())).max() > 0.01  # changed anew each epoch
    np.testing.assert_array_equal(validated_on[0], validation)


def test_camera_changes_name_what_they_take():
    with pytest.raises(TypeError, match="shift, turn, zoom, exposure, contrast"):
        training.camera_changes(blur=0.5)
    assert len(training.camera_changes(zoom=0.0).layers) == len(training.CAMERA_CHANGES)


@pytest.mark.parametrize("seed", range(3))
def test_the_training_errors_are_said_in_every_language(not_grading, fallbacks, seed):
    rng = random.Random(seed)
    unknown = sorted(rng.sample(["blur", "noise", "hue", "flip", "crop", "shear"], rng.randint(1, 3)))
    unsupported = sorted(
        rng.sample(["sample_weight", "class_weight", "validation_split", "steps_per_epoch"], rng.randint(1, 2))
    )
    X, Y = _data(rng.randint(4, 32), seed)
    inputs = keras.Input((8, 8, 3))
    uncompiled = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    errors = {
        f"camera_changes takes shift, turn, zoom, exposure, contrast, not {', '.join(unknown)}": lambda: (
            training.camera_changes(**dict.fromkeys(unknown, 0.1))
        ),
        "compile the model first: model.compile(optimizer=..., loss=..., metrics=[...])": lambda: training.fit(
            uncompiled, X, Y, epochs=1
        ),
        f"augment needs the TensorFlow backend and none of {unsupported}": lambda: training.fit(
            _small_model(), X, Y, epochs=1, augment=training.camera_changes(), **dict.fromkeys(unsupported)
        ),
    }
    for english, call in errors.items():
        told = in_every_language(lambda: raised(call), fallbacks)  # noqa: B023 (said at once)
        assert told["en"] == english
        for code in LANGUAGES:
            problems = spoken_problems(code, english, told[code], [*unknown, str(unsupported)])
            assert not problems, (english, told[code], problems)
