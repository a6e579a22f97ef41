"""Optional exercises after ResNet-50 (``Beyond_ResNet50.ipynb``): the basic block and the
pre-activation block, checked like the graded blocks on visible cases, never graded.

The notebook sits beside the graded master in ``course/source/residual_networks/``; its
reference solutions stay in it, and ``make expected`` runs them on the cases below.
"""

from __future__ import annotations

from resnets_utils.assignments import BLOCK, MODEL, PUBLIC, Assignment, GradedFunction, Stages
from resnets_utils.language import N_

# The words a student reads are marked with N_ and said where the messages use them; "input_shape,
# classes" names arguments only (code), so it is not translated.

# He et al. (2015), Table 1: two basic blocks per stage; the first of stages 3 to 5 halves the size.
RESNET18_STAGES = Stages(
    blocks={2: "ab", 3: "ab", 4: "ab", 5: "ab"},
    strides={2: 1, 3: 2, 4: 2, 5: 2},
    projection="basic_block",
    identity="basic_block",
    spelled={"basic_block": N_("basic block")},
)

PREACT_RESNET18_STAGES = Stages(
    blocks=RESNET18_STAGES.blocks,
    strides=RESNET18_STAGES.strides,
    projection="preactivation_block",
    identity="preactivation_block",
    spelled={"preactivation_block": N_("pre-activation block")},
)

FUNCTIONS = (
    GradedFunction(
        "basic_block",
        "basic_block",
        BLOCK,
        N_("shapes, filters, s"),
        N_("layer receives and the order of the steps"),
    ),
    GradedFunction(
        "ResNet18",
        "basic_resnet",
        MODEL,
        "input_shape, classes",
        N_("block receives, and that every block is given X from the previous one"),
        built_from=("basic_block",),
        stages=RESNET18_STAGES,
    ),
    GradedFunction(
        "preactivation_block",
        "preactivation_block",
        BLOCK,
        N_("shapes, filters, s"),
        N_("layer receives, and that nothing follows the addition"),
    ),
    GradedFunction(
        "PreActResNet18",
        "preact_resnet",
        MODEL,
        "input_shape, classes",
        N_("block receives, and the BatchNormalization and ReLU after the last stage"),
        built_from=("preactivation_block",),
        stages=PREACT_RESNET18_STAGES,
    ),
)


# One case keeps the shape (an identity shortcut); two change it (a projection shortcut).
def cases() -> dict[str, dict[str, list[dict]]]:
    blocks = [
        {"input_shape": [3, 4, 4, 4], "input_seed": 21, "filters": 4, "stage": 2, "block": "b", "s": 1},
        {"input_shape": [3, 6, 6, 3], "input_seed": 22, "filters": 5, "stage": 3, "block": "a", "s": 2},
        # More channels at the same size: a projection without a stride
        {"input_shape": [2, 4, 4, 3], "input_seed": 24, "filters": 6, "stage": 4, "block": "a", "s": 1},
    ]
    model = [{"input_shape": [64, 64, 3], "classes": 6, "input_seed": 23}]
    preactivation = [dict(case) for case in blocks]
    return {
        PUBLIC: {
            "basic_block": blocks,
            "ResNet18": model,
            "preactivation_block": preactivation,
            "PreActResNet18": [dict(case) for case in model],
        }
    }


EXERCISES = Assignment(
    "beyond_resnet50", "Beyond_ResNet50.ipynb", FUNCTIONS, (), cases, folder="residual_networks", graded=False
)
