"""The Explore notebook's experiments, one module each, registered in ``EXPERIMENTS``.

A new experiment is a module here and one entry below: ``scripts/measure.py NAME`` then
times it, and ``course.measured.say(NAME)`` gives the notebooks the measured sentence. An entry
that names its result class also has its seeded run recorded (``course.recorded``), on which the
tests check what the notebooks say of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from resnets_utils.language import N_


@dataclass(frozen=True)
class Experiment:
    """How the measured sentence names an experiment, and one seeded run of it to time."""

    what: str  # marked with N_: the sentence says it in the student's language
    prepare: Callable[[int], Callable[[], object]]  # seed -> the run, its data and models already loaded
    # "module:Class" of a run whose losses the tests check the notebooks' claims on (course.recorded)
    result: str | None = None


def _course_data():
    from resnets_utils.data import load_dataset

    images, labels, *_ = load_dataset()
    return images, labels


def _degradation(seed: int):
    from resnets_utils.experiments import degradation

    images, labels = _course_data()
    return lambda: degradation.run(images, labels, seed=seed)


def _deeper_degradation(seed: int):
    from resnets_utils.experiments import degradation

    images, labels = _course_data()
    return lambda: degradation.run(images, labels, seed=seed, depths=degradation.DEEPER, kinds=degradation.DEEPER_KINDS)


def _block_comparison(seed: int):
    from resnets_utils.course.reference import MASTER, load_reference
    from resnets_utils.data import load_dataset
    from resnets_utils.experiments import block_comparison

    beyond = load_reference(MASTER.parent / "Beyond_ResNet50.ipynb")
    builders = {"ResNet18": beyond["ResNet18"], "PreActResNet18": beyond["PreActResNet18"]}
    builders["ResNet50"] = load_reference()["ResNet50"]
    X_train, Y_train, X_test, Y_test, _ = load_dataset()
    return lambda: block_comparison.compare(builders, X_train / 255.0, Y_train, X_test / 255.0, Y_test, seed=seed)


def _gradient_flow(seed: int):
    from resnets_utils.experiments import gradient_flow

    images, labels = _course_data()
    return lambda: gradient_flow.measure(images, labels, seed=seed)


def _no_shortcuts(seed: int):
    from resnets_utils.course.reference import load_reference
    from resnets_utils.experiments import no_shortcuts

    resnet50 = load_reference()["ResNet50"]
    images, labels = _course_data()
    return lambda: no_shortcuts.compare(
        lambda: resnet50(input_shape=(64, 64, 3), classes=6), images / 255.0, labels, seed=seed
    )


DEGRADATION = "resnets_utils.experiments.degradation:Degradation"
EXPERIMENTS = {
    "degradation": Experiment(N_("the degradation experiment"), _degradation, DEGRADATION),
    "deeper_degradation": Experiment(N_("the deeper degradation experiment"), _deeper_degradation, DEGRADATION),
    "block_comparison": Experiment(N_("the comparison of three ResNets"), _block_comparison),
    "gradient_flow": Experiment(N_("one gradient-flow measurement"), _gradient_flow),
    "no_shortcuts": Experiment(
        N_("the training with and without shortcuts"),
        _no_shortcuts,
        "resnets_utils.experiments.no_shortcuts:ShortcutRun",
    ),
}
