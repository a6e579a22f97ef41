"""The residual_networks assignment: identity_block, convolutional_block and ResNet50 (10 points).

The master notebook is ``course/source/residual_networks/Residual_Networks.ipynb``; its test
cells carry these grade ids and points (a test compares them).
"""

from __future__ import annotations

from resnets_utils.assignments import BLOCK, HIDDEN, MODEL, PUBLIC, Assignment, GradedFunction, Stages, Test
from resnets_utils.language import N_

# The words a student reads are marked with N_ and said where the messages use them; "input_shape,
# classes" names arguments only (code), so it is not translated.
BLOCK_VALUES_HINT = N_("layer receives and the order of the steps")

# ResNet-50 as He et al. built it: 3, 4, 6 and 3 blocks; stage 2 keeps the size max pooling left.
RESNET50_STAGES = Stages(
    blocks={2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"},
    strides={2: 1, 3: 2, 4: 2, 5: 2},
    spelled={"convolutional_block": N_("convolutional block"), "identity_block": N_("identity block")},
)

FUNCTIONS = (
    GradedFunction("identity_block", "identity_block", BLOCK, N_("shapes, f, filters"), BLOCK_VALUES_HINT),
    GradedFunction("convolutional_block", "convolutional_block", BLOCK, N_("shapes, f, filters, s"), BLOCK_VALUES_HINT),
    GradedFunction(
        "ResNet50",
        "resnet50",
        MODEL,
        "input_shape, classes",
        N_("block receives, and that every block is given X from the previous one"),
        built_from=("identity_block", "convolutional_block"),
        stages=RESNET50_STAGES,
    ),
)

TESTS = (
    Test("identity_block_public", "identity_block", PUBLIC, 2),
    Test("identity_block_hidden", "identity_block", HIDDEN, 1, visible="identity_block_public"),
    Test("convolutional_block_public", "convolutional_block", PUBLIC, 2),
    Test("convolutional_block_hidden", "convolutional_block", HIDDEN, 1, visible="convolutional_block_public"),
    Test("resnet50_public", "ResNet50", PUBLIC, 3),
    Test("resnet50_hidden", "ResNet50", HIDDEN, 1, visible="resnet50_public"),
)


# Each case: the function's arguments and its input's seed. F3 equals the input's channels in
# identity blocks; hidden cases use other shapes, windows, strides and names.
def cases() -> dict[str, dict[str, list[dict]]]:
    """The cases, made on each call: no worker holds the hidden ones in memory until it runs them."""
    return {
        PUBLIC: {
            "identity_block": [
                {"input_shape": [3, 4, 4, 6], "input_seed": 1, "f": 2, "filters": [2, 4, 6], "stage": 1, "block": "a"},
            ],
            "convolutional_block": [
                {
                    "input_shape": [3, 4, 4, 3],
                    "input_seed": 2,
                    "f": 2,
                    "filters": [2, 4, 6],
                    "stage": 1,
                    "block": "a",
                    "s": 2,
                },
            ],
            "ResNet50": [{"input_shape": [64, 64, 3], "classes": 6, "input_seed": 3}],
        },
        HIDDEN: {
            "identity_block": [
                {"input_shape": [2, 5, 5, 8], "input_seed": 11, "f": 3, "filters": [3, 5, 8], "stage": 3, "block": "c"},
                {"input_shape": [2, 3, 3, 4], "input_seed": 12, "f": 1, "filters": [6, 2, 4], "stage": 7, "block": "x"},
            ],
            "convolutional_block": [
                {
                    "input_shape": [2, 6, 6, 3],
                    "input_seed": 13,
                    "f": 3,
                    "filters": [4, 4, 5],
                    "stage": 4,
                    "block": "a",
                    "s": 3,
                },
                {
                    "input_shape": [2, 5, 5, 4],
                    "input_seed": 14,
                    "f": 2,
                    "filters": [3, 2, 7],
                    "stage": 2,
                    "block": "b",
                    "s": 1,
                },
            ],
            "ResNet50": [{"input_shape": [96, 96, 3], "classes": 10, "input_seed": 15}],
        },
    }


ASSIGNMENT = Assignment("residual_networks", "Residual_Networks.ipynb", FUNCTIONS, TESTS, cases)
