"""The course's layer names, read and written in one module, and keras.applications' names beside them."""

import itertools

import keras
import pytest

from resnets_utils.course.reference import load_reference
from resnets_utils.models import naming

STAGES = {2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"}  # ResNet-50's blocks


PLACES = list(itertools.product(range(2, 6), "abf", [*naming.BRANCH, naming.SHORTCUT]))


@pytest.mark.parametrize("stage, block, part", PLACES)
def test_every_written_name_reads_back_as_its_place(stage, block, part):
    for name, batchnorm in ((naming.conv(stage, block, part), False), (naming.batchnorm(stage, block, part), True)):
        assert naming.place(name) == naming.Place(stage, block, part, batchnorm)
        assert naming.block_of(name) == (stage, block)
        assert naming.is_shortcut(name) == (part == naming.SHORTCUT)
        assert naming.in_words(name) == f"stage {stage}, block '{block}'"
        assert naming.block_start(name) == ((stage, block) if part == "2a" and not batchnorm else None)


@pytest.mark.parametrize("name", ["avg_pool", "fc", "input_layer", "res2a_branch", "resnet", "bn2a", "add_3"])
def test_other_names_have_no_place(name):
    assert naming.place(name) is None and naming.block_of(name) is None and naming.in_words(name) is None
    assert not naming.is_shortcut(name) and not naming.is_block_layer(name)


def _shortcuts_and_blocks(model):
    names = [layer.name for layer in model.layers]
    shortcuts = sorted(naming.block_of(name) for name in names if naming.is_shortcut(name))
    blocks = sorted({naming.block_of(name) for name in names} - {None, (1, "")})
    return shortcuts, blocks


def test_the_course_and_keras_applications_resnet50_read_alike():
    course = load_reference()["ResNet50"](input_shape=(64, 64, 3), classes=6)
    applications = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
    expected_blocks = sorted((stage, block) for stage, letters in STAGES.items() for block in letters)
    # Each stage's first block has a projection shortcut: a convolution and its BatchNormalization.
    expected_shortcuts = sorted([(stage, "a") for stage in STAGES] * 2)
    assert _shortcuts_and_blocks(course) == _shortcuts_and_blocks(applications) == (expected_shortcuts, expected_blocks)
    names = [layer.name for layer in course.layers]
    assert {stage: "".join(naming.blocks(names, stage)) for stage in STAGES} == STAGES
