"""`make pretrain`: trains, can be interrupted and resumed, and the notebook loads the result."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from resnets_utils import settings, training
from resnets_utils.data import handsigns, load_dataset
from resnets_utils.models import saved
from resnets_utils.training import pretrain

pytestmark = pytest.mark.slow


# `make pretrain` with a small residual network in place of ResNet-50 (the same loop, checkpoints
# and report), optionally sending itself a real SIGINT as the given epoch begins.
SMALL_PRETRAIN = """
import os, signal, sys
from resnets_utils.experiments import degradation
from resnets_utils.training import pretrain

interrupt_at = int(os.environ["INTERRUPT_AT_EPOCH"])
# A runner started in the background (`cmd &` without job control) passes SIGINT on ignored;
# the user at a terminal whom this test plays has Python's handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
pretrain.network = lambda input_shape, classes: degradation.build_network(True, 4, 8, input_shape, classes)
epochs_begun = []
feed = pretrain.input_pipeline


def pipeline(*arguments):
    epochs_begun.append(1)
    print(f"test: a pipeline of {len(arguments[0])} pictures", flush=True)
    if len(epochs_begun) == interrupt_at:
        os.kill(os.getpid(), signal.SIGINT)
    return feed(*arguments)


pretrain.input_pipeline = pipeline
raise SystemExit(pretrain.main(sys.argv[1:]))
"""


def _small_pretrain(out_dir, data_dir, interrupt_at=0):
    command = [
        sys.executable, "-c", SMALL_PRETRAIN, "--epochs", "3", "--training-pictures", "64",
        "--fresh-pictures", "0", "--batch-size", "32", "--out-dir", str(out_dir),
    ]  # fmt: skip
    environment = {**os.environ, settings.DATA_DIR: str(data_dir), "INTERRUPT_AT_EPOCH": str(interrupt_at)}
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)


def test_pretrain_resumes_after_an_interruption_and_the_notebook_loads_it(generated_dir, monkeypatch, capsys):
    monkeypatch.delenv(settings.GRADING, raising=False)
    out_dir = pretrain.models_dir()
    state = out_dir / pretrain.STATE_FILE

    first = _small_pretrain(out_dir, generated_dir, interrupt_at=2)
    output = first.stdout + first.stderr
    assert first.returncode == 130, output[-3000:]
    assert "run the same command again to resume" in output
    assert json.loads(state.read_text())["epoch"] == 1  # the first epoch is kept, the second was cut short

    second = _small_pretrain(out_dir, generated_dir)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-3000:]
    assert "Resuming after epoch 1 of 3" in output and "Epoch 1/3" not in output
    assert output.count("test: a pipeline of 64 pictures") == 2  # one for each of the two epochs left
    assert not state.exists() and not (out_dir / pretrain.CHECKPOINT_FILE).exists()

    # The notebook's loader gives back the model the command saved.
    model, report = saved.load_pretrained()
    assert report["epochs"] == 3 and report["training_seconds"] > 0
    assert report["generator_version"] == handsigns.GENERATOR_VERSION
    _, _, X_test_orig, Y_test_orig, _ = load_dataset(generated_dir)
    predicted = model.predict(X_test_orig / 255.0, verbose=0).argmax(axis=1)
    assert np.mean(predicted == Y_test_orig[0]) == pytest.approx(report["test_accuracy"], abs=1 / 120)


def test_without_a_pretrained_model_the_notebook_says_how_to_make_one(monkeypatch, capsys):
    monkeypatch.delenv(settings.GRADING, raising=False)
    assert saved.load_pretrained() == (None, None)
    assert "make pretrain" in capsys.readouterr().out


def test_a_model_trained_on_older_pictures_is_refused_with_what_to_run(monkeypatch, capsys):
    monkeypatch.delenv(settings.GRADING, raising=False)
    path = saved.pretrained_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not read: the report already says the pictures were older")
    report = {"test_accuracy": 0.96, "generator_version": handsigns.GENERATOR_VERSION - 1}
    path.with_name(saved.PRETRAINED_REPORT).write_text(json.dumps(report))
    assert saved.load_pretrained() == (None, None)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "`make pretrain`" in lines[0] and "older" in lines[0]


def test_grading_never_loads_the_pretrained_model(monkeypatch, capsys):
    monkeypatch.setenv(settings.GRADING, "autograde")
    assert saved.load_pretrained() == (None, None)
    assert "graded" in capsys.readouterr().out


def test_pretrain_feeds_each_epoch_from_the_un_autotuned_pipeline(generated_dir, tmp_path, monkeypatch):
    monkeypatch.delenv(settings.GRADING, raising=False)
    pipelines = []
    monkeypatch.setattr(pretrain, "input_pipeline", lambda *a: pipelines.append(a) or training.input_pipeline(*a))
    # One epoch of ResNet-50 itself; the small network's runs above show a pipeline per epoch.
    changes = {"epochs": 1, "training_pictures": 16, "fresh_pictures_per_epoch": 0, "batch_size": 8}
    report = pretrain.pretrain(changes, data_dir=generated_dir, out_dir=tmp_path)
    assert report["backend"] == "tensorflow" and report["epochs"] == 1
    assert [len(arguments[0]) for arguments in pipelines] == [16]
    assert (tmp_path / pretrain.MODEL_FILE).exists() and not (tmp_path / pretrain.STATE_FILE).exists()
