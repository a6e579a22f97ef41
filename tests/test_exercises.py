"""The optional exercises of Beyond_ResNet50: each check passes the reference, says an untouched stub
is not implemented, and names each mistake of its table (at least 10 per function, edits of the
master's own solution as in test_checks)."""

import re

import pytest

from resnets_utils import assignments, checks
from resnets_utils.course import lessons, notebooks
from resnets_utils.course.reference import REPO, load_reference

EXERCISES = assignments.EXERCISES["beyond_resnet50"]
MASTER = REPO / "course" / "source" / EXERCISES.folder / EXERCISES.notebook
SOURCES = {
    cell.grade_id: notebooks.without_markers(cell.source)
    for cell in notebooks.code_cells(notebooks.load(MASTER))
    if cell.kind == notebooks.SOLUTION
}
# solution cell -> (the function its check takes, the check)
CHECK = {
    "basic_block": ("basic_block", checks.check_basic_block),
    "basic_resnet": ("ResNet18", checks.check_resnet18),
    "preactivation_block": ("preactivation_block", checks.check_preactivation_block),
    "preact_resnet": ("PreActResNet18", checks.check_preact_resnet18),
}

# Mistakes that read the same in both blocks of two 3x3 convolutions.
BOTH_BLOCKS = [
    (
        "valid padding",
        (
            'kernel_size=(3, 3), strides=(1, 1), padding="same"',
            'kernel_size=(3, 3), strides=(1, 1), padding="valid"',
        ),
        "the padding of the 3x3 convolutions must be 'same'",
    ),
    (
        "training not passed",
        (
            ('X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X, training=training)'),
            'X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)',
        ),
        "`training` is not passed to BatchNormalization",
    ),
]

# solution cell -> [(mistake, [text in the solution, replacement], words its diagnosis must contain)]
MISTAKES = {
    "basic_block": [
        (
            "no ReLU after the first BN",
            (
                (
                    'X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X, '
                    'training=training)\n    X = Activation("relu")(X)'
                ),
                ('X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X, training=training)'),
            ),
            "the ReLU after 'bn2b_branch2a' is missing",
        ),
        (
            "no ReLU after the addition",
            ('X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)', "X = Add()([X, X_shortcut])"),
            "the ReLU after the addition is missing",
        ),
        (
            "stride on the second conv",
            ("kernel_size=(3, 3), strides=(1, 1)", "kernel_size=(3, 3), strides=(s, s)"),
            "the stride belongs on the first 3x3 convolution",
        ),
        (
            "1x1 first conv",
            ("kernel_size=(3, 3), strides=(s, s)", "kernel_size=(1, 1), strides=(s, s)"),
            "needs a (3, 3) window",
        ),
        (
            "never a projection",
            ("if s != 1 or X_shortcut.shape[-1] != filters:", "if False:"),
            "'res3a_branch1' is missing",
        ),
        (
            "projection only on stride",
            ("if s != 1 or X_shortcut.shape[-1] != filters:", "if s != 1:"),
            "'res4a_branch1' is missing",
        ),
        (
            "no shortcut BN",
            (
                (
                    "        X_shortcut = BatchNormalization(axis=3, "
                    'name=bn_name_base + "1")(X_shortcut, training=training)\n'
                ),
                "",
            ),
            "'bn3a_branch1' is missing",
        ),
        *BOTH_BLOCKS,
        (
            "initializer ignored",
            (
                'name=conv_name_base + "2b", kernel_initializer=initializer(seed=0)',
                'name=conv_name_base + "2b", kernel_initializer=glorot_uniform(seed=0)',
            ),
            "ignores the `initializer` argument",
        ),
        (
            "shortcut added before BN 2b",
            (
                ('X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X, training=training)'),
                (
                    "X = Add()([X, X_shortcut])\n"
                    "    X = BatchNormalization(axis=3, name=bn_name_base + "
                    '"2b")(X, training=training)'
                ),
            ),
            "the addition on line",
        ),
    ],
    "preactivation_block": [
        (
            "ReLU after the addition",
            ("X = Add()([X, X_shortcut])", 'X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)'),
            "the block ends with the addition",
        ),
        (
            "projection of the raw input",
            (
                'name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X)',
                ('name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X_shortcut)'),
            ),
            "where the reference gives it the ReLU after 'bn3a_branch2a'",
        ),
        (
            "never a projection",
            ("if s != 1 or X_shortcut.shape[-1] != filters:", "if False:"),
            "'res3a_branch1' is missing",
        ),
        (
            "no first BN",
            (('    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X, training=training)\n'), ""),
            "'bn2b_branch2a' is missing",
        ),
        (
            "no second ReLU",
            (
                (
                    'X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X, '
                    'training=training)\n    X = Activation("relu")(X)'
                ),
                ('X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X, training=training)'),
            ),
            "the ReLU after 'bn2b_branch2b' is missing",
        ),
        (
            "stride on the second conv",
            ("kernel_size=(3, 3), strides=(1, 1)", "kernel_size=(3, 3), strides=(s, s)"),
            "the stride belongs on the first 3x3 convolution",
        ),
        *BOTH_BLOCKS,
        (
            "initializer ignored",
            (
                'name=conv_name_base + "2a", kernel_initializer=initializer(seed=0)',
                'name=conv_name_base + "2a", kernel_initializer=glorot_uniform(seed=0)',
            ),
            "ignores the `initializer` argument",
        ),
        (
            "1x1 second conv",
            ("kernel_size=(3, 3), strides=(1, 1)", "kernel_size=(1, 1), strides=(1, 1)"),
            "needs a (3, 3) window",
        ),
        (
            "shortcut with its own BN",
            (
                'name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X)',
                (
                    'name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X)\n'
                    "        X_shortcut = BatchNormalization(axis=3, "
                    'name=bn_name_base + "1")(X_shortcut, training=training)'
                ),
            ),
            "'bn3a_branch1' on line",
        ),
    ],
    "basic_resnet": [
        (
            "no stride",
            ("s = 2 if stage > 2 and index == 0 else 1", "s = 1"),
            "stage 3's first",
        ),
        (
            "stride in stage 2",
            ("s = 2 if stage > 2 and index == 0 else 1", "s = 2 if index == 0 else 1"),
            "stage 2's first basic block needs s=1",
        ),
        (
            "stride on every block of stages 3-5",
            ("s = 2 if stage > 2 and index == 0 else 1", "s = 2 if stage > 2 else 1"),
            "block 'b' of stage 3 needs s=1",
        ),
        (
            "a block fewer",
            ("for index in range(count):", "for index in range(count - 1):"),
            "found blocks 'a'.",
        ),
        (
            "a block more",
            ("for index in range(count):", "for index in range(count + 1):"),
            "found blocks 'a', 'b', 'c'",
        ),
        (
            "filters doubled",
            ("[64, 128, 256, 512]", "[128, 256, 512, 1024]"),
            "need 64 filters, found 128",
        ),
        (
            "filters reversed",
            ("[64, 128, 256, 512]", "[512, 256, 128, 64]"),
            "need 64 filters, found 512",
        ),
        (
            "letters from b",
            ('"abcdefghijklmnopqrstuvwxyz"[index]', '"bcdefghijklmnopqrstuvwxyz"[index]'),
            "found blocks 'b', 'c'",
        ),
        (
            "result not chained",
            ("X = basic_block(X, filters", "Y = basic_block(X, filters"),
            '(`Y = basic_block(X, filters, stage=stage, block="abc',
        ),
        (
            "training=True",
            ("s=s, training=None)", "s=s, training=True)"),
            "is called with training=True",
        ),
    ],
    "preact_resnet": [
        (
            "no final BN",
            ('    X = BatchNormalization(axis=3, name="bn_final")(X)\n', ""),
            "no layer named 'bn_final'",
        ),
        (
            "no final ReLU",
            ('name="bn_final")(X)\n    X = Activation("relu")(X)', 'name="bn_final")(X)'),
            "the Activation after 'bn_final' is missing",
        ),
        (
            "ReLU before the final BN",
            (
                ('X = BatchNormalization(axis=3, name="bn_final")(X)\n    X = Activation("relu")(X)'),
                ('X = Activation("relu")(X)\n    X = BatchNormalization(axis=3, name="bn_final")(X)'),
            ),
            "'bn_final'",
        ),
        (
            "basic blocks instead",
            ("X = preactivation_block(", "X = basic_block("),
            "BatchNormalization layers where the reference has 18",
        ),
        (
            "no stride",
            ("s = 2 if stage > 2 and index == 0 else 1", "s = 1"),
            "stage 3's first",
        ),
        (
            "a block fewer",
            ("for index in range(count):", "for index in range(count - 1):"),
            "found blocks 'a'.",
        ),
        (
            "filters doubled",
            ("[64, 128, 256, 512]", "[128, 256, 512, 1024]"),
            "need 64 filters, found 128",
        ),
        (
            "result not chained",
            ("X = preactivation_block(\n", "Y = preactivation_block(\n"),
            "(`Y = preactivation_block(`), but its result is never used",
        ),
        (
            "training=True",
            ("s=s, training=None", "s=s, training=True"),
            "is called with training=True",
        ),
        (
            "final BN named otherwise",
            ('name="bn_final"', 'name="bn_last"'),
            "no layer named 'bn_final'",
        ),
    ],
}


def test_every_exercise_has_a_check_and_a_table_of_ten_mistakes():
    assert {function.cell for function in EXERCISES.functions} == set(CHECK) == set(MISTAKES)
    assert all(len(rows) >= 10 for rows in MISTAKES.values())


@pytest.fixture(scope="module")
def reference():
    return load_reference(MASTER)


@pytest.mark.parametrize("cell", CHECK)
def test_each_check_passes_the_reference(reference, cell, capsys):
    name, check = CHECK[cell]
    check(reference[name])
    assert "pass" in capsys.readouterr().out


@pytest.mark.parametrize("cell", CHECK)
def test_an_untouched_stub_is_said_to_be_not_implemented(cell):
    name, check = CHECK[cell]
    released = {c.grade_id: c.source for c in notebooks.code_cells(notebooks.load(MASTER))}
    namespace = load_reference(MASTER, replace={cell: _stubbed(released[cell])})
    with pytest.raises(checks.CheckFailed, match="not implemented yet"):
        check(namespace[name])


def _stubbed(source: str) -> str:
    """``source`` with each solution region replaced by the stub nbgrader's release puts there."""
    lines, out, inside = source.splitlines(), [], False
    for line in lines:
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + "raise NotImplementedError()")
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize(
    "cell, mistake, edit, words",
    [(cell, mistake, edit, words) for cell, rows in MISTAKES.items() for mistake, edit, words in rows],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_each_mistake_is_named(cell, mistake, edit, words):
    old, new = edit
    assert old in SOURCES[cell], mistake
    name, check = CHECK[cell]
    namespace = load_reference(MASTER, replace={cell: SOURCES[cell].replace(old, new, 1)})
    with pytest.raises(checks.CheckFailed) as failure:
        check(namespace[name])
    message = str(failure.value)
    assert words in message and "\n" not in message, message


# ------------------------------------------------------------------ the answers, computed on the reference


def test_the_basic_or_bottleneck_answer_counts_the_papers_table_1(reference):
    answer = lessons.basic_or_bottleneck(reference["basic_block"], reference["ResNet18"], reference["ResNet34"])
    # He et al. (2015), Table 1: 1.8 and 3.6 billion FLOPs (multiply-adds); 11.7 M and 21.8 M parameters.
    assert "ResNet18: 11.7 million parameters and 1.8 billion multiply-adds" in answer, answer
    assert "ResNet34: 21.8 million parameters and 3.6 billion multiply-adds" in answer, answer
    assert "holds 1,179,648 kernel weights" in answer and "holds 69,632, 17 times fewer" in answer, answer


def test_the_clean_path_answer_measures_no_change_through_preactivation_blocks_only(reference):
    answer = lessons.clean_identity_path(reference["preactivation_block"], reference["basic_block"])
    preactivation, basic = (
        float(number) for number in re.findall(r"is (\S+) with pre-activation blocks and (\S+) with", answer)[0]
    )
    assert preactivation == 0 and basic > 0.5, answer


def test_the_parameter_difference_answer_is_all_in_the_batchnormalization_layers(reference):
    import keras

    answer = lessons.batchnorm_difference(reference["ResNet18"], reference["PreActResNet18"])
    models = [reference[name](input_shape=(64, 64, 3), classes=6) for name in ("ResNet18", "PreActResNet18")]
    for model in models:
        normalising = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        assert f"{model.count_params():,} parameters, {len(normalising)} BatchNormalization layers" in answer
    assert "as many in both" in answer
    # A builder whose convolutions differ is told so.
    wider = lambda input_shape, classes: reference["ResNet34"](input_shape=input_shape, classes=classes)  # noqa: E731
    assert "differ too" in lessons.batchnorm_difference(reference["ResNet18"], wider)
