"""The trained ResNet-50s the notebooks use, kept in the user's cache, never next to a notebook.

- yours: the model the assignment trains, saved by its training cell without its optimizer's
  state (about 95 MB, 4 bytes a parameter: beside the notebook it would travel with every
  submission nbgrader collects);
- pre-trained: the one ``make pretrain`` trains (``resnets_utils.training.pretrain``).

``best_trained()`` gives the one with the higher test accuracy; the assignment's notebook
prefers the pre-trained one too, so a photo gets the same answer in both notebooks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from resnets_utils import settings
from resnets_utils.data import handsigns
from resnets_utils.language import say
from resnets_utils.settings import grading

PRETRAINED_FILE = "resnet50_signs.keras"  # made by `make pretrain` (resnets_utils.training.pretrain)
PRETRAINED_REPORT = "resnet50_signs.json"
YOURS_FILE = "resnet50_yours.keras"
YOURS_REPORT = "resnet50_yours.json"


def models_dir() -> Path:
    """``$XDG_CACHE_HOME/resnets-course/models`` (``~/.cache`` by default)."""
    return settings.cache_dir("models")


def pretrained_path() -> Path:
    return models_dir() / PRETRAINED_FILE


def shown(path: Path) -> str:
    """``path`` with the home folder as ``~``: no user name in shared notebooks."""
    return str(path).replace(str(Path.home()), "~", 1)


def save_atomically(model, path: Path) -> None:
    """Save ``model`` to ``path`` so that an interruption leaves the previous file intact."""
    with settings.replacing(path) as partial:
        model.save(partial)


def load_pretrained():
    """The cached pre-trained ResNet-50 and its report, or ``(None, None)`` with a note on how to make it."""
    if grading():
        print(say("The pre-trained model is not loaded while the notebook is graded."))
        return None, None
    path = pretrained_path()
    if not path.exists():
        print(say("No pre-trained model yet ({path}): `make pretrain` makes it.", path=shown(path)))
        return None, None
    import keras

    report_path = path.with_name(PRETRAINED_REPORT)
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    trained_on = report.get("generator_version", 0)  # None: real SIGNS files; 0: before versions
    if trained_on not in (None, handsigns.GENERATOR_VERSION):
        print(
            say(
                "The pre-trained model ({path}) learnt from older course pictures "
                "(generator version {trained_on}, now {version}): `make pretrain` trains it again.",
                path=shown(path),
                trained_on=trained_on,
                version=handsigns.GENERATOR_VERSION,
            )
        )
        return None, None
    return keras.saving.load_model(path), report


def yours_path() -> Path:
    return models_dir() / YOURS_FILE


def save_yours(model, **report) -> None:
    """Save the model the assignment trained, with ``report`` (test accuracy, epochs, seconds).

    Not while the notebook is graded: the grader trains one batch, which is no model to keep.
    """
    if grading():
        print(say("Not saved while the notebook is graded."))
        return
    import keras

    path = yours_path()
    # The same layers in an uncompiled model: the weights, not Adam's two slots per weight (3x the size).
    weights_only = keras.Model(model.inputs, model.outputs, name=model.name)
    save_atomically(weights_only, path)  # a crash mid-way leaves the last good model
    report = {**report, "saved": time.strftime("%Y-%m-%d %H:%M")}
    settings.write_atomically(path.with_name(YOURS_REPORT), json.dumps(report, indent=1))
    megabytes = path.stat().st_size / 1e6
    print(
        say(
            "Saved your trained model in {path} ({megabytes:.0f} MB), for Explore_ResNet.ipynb.",
            path=shown(path),
            megabytes=megabytes,
        )
    )


def load_yours():
    """The model the assignment trained and saved, and its report, or ``(None, None)``."""
    path = yours_path()
    if grading() or not path.exists():
        return None, None
    import keras

    report_path = path.with_name(YOURS_REPORT)
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    try:
        return keras.saving.load_model(path, compile=False), report  # for looking at, not training on
    except Exception as error:  # a file from another Keras version, or damaged: say so and go on
        print(
            say(
                "Your saved model ({path}) could not be loaded ({error}); train it again.",
                path=shown(path),
                error=type(error).__name__,
            )
        )
        return None, None


def best_trained():
    """``(model, description)`` of the trained model with the higher test accuracy (yours or the
    pre-trained one, by their reports; only that one is loaded), or ``(None, reason)``."""
    candidates = [
        (yours_path().with_name(YOURS_REPORT), _yours),
        (pretrained_path().with_name(PRETRAINED_REPORT), _pretrained),
    ]
    candidates.sort(key=lambda candidate: -_reported_accuracy(candidate[0]))
    for _, load in candidates:
        model, description = load()
        if model is not None:
            return model, description
    # No full stop, as in the descriptions: the notebook's sentence around it ends it.
    return None, say("No trained model yet: train yours in Residual_Networks.ipynb, or run `make pretrain`")


def _reported_accuracy(report: Path) -> float:
    try:
        return float(json.loads(report.read_text()).get("test_accuracy") or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def _yours():
    model, report = load_yours()
    if model is None:
        return None, None
    accuracy, saved = report.get("test_accuracy"), report.get("saved", "?")
    if accuracy is None:
        return model, say("your ResNet-50 as trained in Residual_Networks.ipynb (saved {saved})", saved=saved)
    return model, say(
        "your ResNet-50 as trained in Residual_Networks.ipynb (saved {saved}, {accuracy:.1%} test accuracy)",
        saved=saved,
        accuracy=accuracy,
    )


def _pretrained():
    model, report = load_pretrained()
    if model is None:
        return None, None
    return model, say(
        "the pre-trained ResNet-50 from `make pretrain` ({accuracy:.1%} test accuracy)",
        accuracy=report.get("test_accuracy", 0),
    )
