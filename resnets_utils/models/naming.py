"""The course's layer names, and the only module that reads or writes them.

As in He et al.'s released model: ``res{stage}{block}_branch{part}`` is a convolution and
``bn{stage}{block}_branch{part}`` its BatchNormalization; ``part`` is ``2a``, ``2b``, ``2c``
along the residual branch, ``1`` for the shortcut's projection; the stem is ``conv1`` and
``bn_conv1``. ``keras.applications``' names (``conv3_block2_1_conv``, shortcut ``_0_``) are
read too, so the same views work on Keras' own ResNet50.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resnets_utils.language import say

STEM = ("conv1", "bn_conv1")
SHORTCUT = "1"
BRANCH = ("2a", "2b", "2c")

_COURSE = re.compile(r"(res|bn)(\d)([a-z]+)_branch(\w+)")
_APPLICATIONS = re.compile(r"conv(\d)_block(\d+)_([^_]+)")
_APPLICATIONS_PARTS = {"0": SHORTCUT, "1": BRANCH[0], "2": BRANCH[1], "3": BRANCH[2]}  # keras.applications' numbers


@dataclass(frozen=True)
class Place:
    """Where a layer sits: stage 1 is the stem (block ""), ``part`` as in the names above."""

    stage: int
    block: str
    part: str = ""
    batchnorm: bool = False


def conv(stage: int, block: str, part: str) -> str:
    """``conv(3, "b", "2a")`` -> ``"res3b_branch2a"``."""
    return f"res{stage}{block}_branch{part}"


def batchnorm(stage: int, block: str, part: str) -> str:
    """``batchnorm(3, "b", "2a")`` -> ``"bn3b_branch2a"``."""
    return f"bn{stage}{block}_branch{part}"


def place(name: str) -> Place | None:
    """The place a course or ``keras.applications`` layer name gives, or None for other names."""
    if match := _COURSE.fullmatch(name):
        kind, stage, block, part = match.groups()
        return Place(int(stage), block, part, kind == "bn")
    if match := _APPLICATIONS.match(name):
        stage, number, part = match.groups()
        part = _APPLICATIONS_PARTS.get(part, part)
        return Place(int(stage), chr(ord("a") + int(number) - 1), part, name.endswith("_bn"))
    if name in STEM or name.startswith("conv1_"):
        return Place(1, "", "", name in (STEM[1], "conv1_bn"))
    return None


def block_of(name: str) -> tuple[int, str] | None:
    """``(stage, block)`` of a layer name, ``(1, "")`` for the stem, or None."""
    found = place(name)
    return (found.stage, found.block) if found else None


def is_shortcut(name: str) -> bool:
    """Whether the layer is on a convolutional block's shortcut (its projection or that one's BatchNormalization)."""
    found = place(name)
    return bool(found and found.block and found.part == SHORTCUT)


def is_block_layer(name: str, stage: int | None = None) -> bool:
    """Whether ``name`` is a course name of a block's layer (in ``stage``, if given); not the stem."""
    found = _COURSE.fullmatch(name)
    return bool(found and (stage is None or int(found.group(2)) == stage))


def block_start(name: str) -> tuple[int, str] | None:
    """``(stage, block)`` when ``name`` is a block's first convolution (``res3b_branch2a``), else None."""
    found = _COURSE.fullmatch(name)
    if found and found.group(1) == "res" and found.group(4) == BRANCH[0]:
        return int(found.group(2)), found.group(3)
    return None


def blocks(names, stage: int) -> list[str]:
    """The blocks of ``stage`` among the course layer ``names``, in the order their first convolutions come."""
    return [start[1] for name in names if (start := block_start(name)) and start[0] == stage]


def in_words(name: str) -> str | None:
    """Where a course layer sits in ResNet-50, in words, in the student's language: "stage 1",
    "stage 3, block 'b'"; None otherwise (its stage and block as data: :func:`block_of`)."""
    if name in STEM:
        return say("stage {stage}", stage=1)
    if match := _COURSE.fullmatch(name):
        return say("stage {stage}, block '{block}'", stage=match.group(2), block=match.group(3))
    return None
