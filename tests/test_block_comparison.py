"""The comparison of ResNets of different blocks: what it reports is each model's, its recipe trains,
its chart draws its table, and the optional notebook's reading of the counts holds for the reference."""

import random

import numpy as np
import pytest
from conftest import in_every_language, raised, spoken_problems

from resnets_utils.course import lessons
from resnets_utils.course.reference import REPO, load_reference
from resnets_utils.experiments import block_comparison, degradation
from resnets_utils.language import LANGUAGES


def _small(preactivation):
    return lambda input_shape, classes: degradation.build_network(
        True, 6, 8, input_shape, classes, preactivation=preactivation
    )


def test_the_comparison_reports_each_models_counts_speed_and_accuracy(generated):
    X_train, Y_train, X_test, Y_test, _ = generated
    builders = {"original": _small(False), "pre-activation": _small(True)}
    result = block_comparison.compare(
        builders, X_train[:320] / 255.0, Y_train.reshape(-1)[:320], X_test / 255.0, Y_test, epochs=3
    )
    assert [net.name for net in result.networks] == list(builders)
    for net, build in zip(result.networks, builders.values(), strict=True):
        model = build(input_shape=(64, 64, 3), classes=6)
        assert net.parameters == model.count_params()
        assert net.multiply_adds == lessons.multiply_adds(model)
        assert net.pictures_per_second > 0 and 0 <= net.test_accuracy <= 1
        assert len(net.losses) == 3 and net.losses[-1] < net.losses[0], net.losses  # the recipe trains
    lines = result.table().splitlines()
    assert len(lines) == 1 + len(builders)
    assert all(name in text for name, text in zip(builders, lines[1:], strict=True))
    figure = result.figure()
    assert len(figure.axes) == 4
    heights = [[bar.get_height() for bar in axis.patches] for axis in figure.axes]
    assert np.allclose(heights[0], [net.parameters / 1e6 for net in result.networks])
    assert np.allclose(heights[3], [100 * net.test_accuracy for net in result.networks])


@pytest.mark.slow
def test_the_notebooks_reading_of_the_counts_holds_for_the_reference():
    beyond = load_reference(REPO / "course" / "source" / "residual_networks" / "Beyond_ResNet50.ipynb")
    models = {
        name: build(input_shape=(64, 64, 3), classes=6)
        for name, build in (
            ("ResNet18", beyond["ResNet18"]),
            ("PreActResNet18", beyond["PreActResNet18"]),
            ("ResNet50", load_reference()["ResNet50"]),
        )
    }
    parameters = {name: model.count_params() for name, model in models.items()}
    multiply_adds = {name: lessons.multiply_adds(model) for name, model in models.items()}
    # "ResNet-50 has about twice the parameters and multiply-adds of ResNet-18 ..."
    for counts in (parameters, multiply_adds):
        assert 1.8 <= counts["ResNet50"] / counts["ResNet18"] <= 2.3, counts
    # "... and the pre-activation network as many as ResNet-18"
    assert abs(parameters["PreActResNet18"] / parameters["ResNet18"] - 1) < 0.01
    assert multiply_adds["PreActResNet18"] == multiply_adds["ResNet18"]


def test_pictures_and_labels_of_different_lengths_are_refused_before_any_training(generated):
    X_train, Y_train, X_test, Y_test, _ = generated
    with pytest.raises(ValueError, match="320 training pictures but 1080 labels"):
        block_comparison.compare({"small": _small(False)}, X_train[:320] / 255.0, Y_train, X_test, Y_test)


@pytest.mark.parametrize("seed", range(3))
def test_the_label_count_error_is_said_in_every_language(fallbacks, seed):
    rng = random.Random(seed)
    for split in ("training", "test"):
        pictures, labels = rng.sample(range(1, 2000), 2)  # never equal
        X_train, Y_train, X_test, Y_test = np.zeros((3, 4)), np.zeros(3), np.zeros((3, 4)), np.zeros(3)
        if split == "training":
            X_train, Y_train = np.zeros((pictures, 4)), np.zeros(labels)
        else:
            X_test, Y_test = np.zeros((pictures, 4)), np.zeros(labels)
        arguments = ("net", None, X_train, Y_train, X_test, Y_test)
        told = in_every_language(lambda: raised(lambda: block_comparison.train(*arguments)), fallbacks)  # noqa: B023
        assert told["en"] == f"{pictures} {split} pictures but {labels} labels: pass one label per picture"
        for code in LANGUAGES:
            assert not spoken_problems(code, told["en"], told[code]), (told["en"], told[code])
