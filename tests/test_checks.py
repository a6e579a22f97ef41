"""The checks pass the reference, and name the mistake in each realistic wrong implementation.

The corpus below is made of small edits of the master notebook's own solution: each is
a mistake students make, with the words its diagnosis must contain. Editing the solution
(rather than keeping copies) keeps every wrong version in step with the master.
"""

import contextlib
import copy
import functools
import io
import json
from unittest import mock

import pytest
from conftest import load_script, told_alike

from resnets_utils import checks, language, settings
from resnets_utils.checks import cases
from resnets_utils.course import notebooks
from resnets_utils.course.reference import REPO, load_reference, solution_sources

SOURCES = solution_sources()
RELEASE = REPO / "assignments" / "residual_networks" / "Residual_Networks.ipynb"

ID, CONV, NET = "identity_block", "convolutional_block", "resnet50"
RELU_AFTER_ADD = 'X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)'
SHORTCUT_CONV = """X_shortcut = Conv2D(filters=F3, kernel_size=(1, 1), strides=(s, s), padding="valid",
                        name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X_shortcut)"""
SHORTCUT_BN = 'X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut, training=training)'
CONV_2B = """X = Conv2D(filters=F2, kernel_size=(f, f), strides=(1, 1), padding="same",
               name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)"""
BN_2B = 'X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X, training=training)'
BN_2C = 'X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X, training=training)'
CONV_2A_GIVEN = '''strides=(s, s), padding="valid",
               name=conv_name_base + "2a"'''
CONV_2C = """X = Conv2D(filters=F3, kernel_size=(1, 1), strides=(1, 1), padding="valid",
               name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)"""
MIDDLE_RELU = BN_2B + '\n    X = Activation("relu")(X)'
SHORTCUT_KEPT = "X_shortcut = X  # kept to be added back at the end"

# name: (grade id, [(text in the solution, replacement)], words the diagnosis must contain)
MISTAKES = {
    "identity: shortcut never added": (
        ID,
        [(RELU_AFTER_ADD, 'X = Activation("relu")(X)')],
        "the addition is missing: the reference applies Add()([X, X_shortcut]) to the block's input",
    ),
    "identity: ReLU before the addition": (
        ID,
        [(RELU_AFTER_ADD, 'X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])')],
        "is applied before the addition",
    ),
    "identity: no ReLU after the addition": (
        ID,
        [(RELU_AFTER_ADD, "X = Add()([X, X_shortcut])")],
        "the ReLU after the addition is missing",
    ),
    "identity: 'valid' padding in the f x f convolution": (
        ID,
        [(CONV_2B, CONV_2B.replace('padding="same"', 'padding="valid"'))],
        "padding of the (f,f) convolution must be 'same'",
    ),
    "identity: BatchNormalization on the height axis": (
        ID,
        [(BN_2B, BN_2B.replace("axis=3", "axis=1"))],
        "not normalising the channels axis",
    ),
    "identity: training not passed on": (
        ID,
        [(BN_2B, BN_2B.replace("(X, training=training)", "(X)"))],
        "`training` is not passed to BatchNormalization",
    ),
    "identity: training hard-wired to True": (
        ID,
        [(BN_2C, BN_2C.replace("training=training", "training=True"))],
        "`training` is not passed to BatchNormalization",
    ),
    "identity: kernel initializer left out": (
        ID,
        [(CONV_2B, CONV_2B.replace(", kernel_initializer=initializer(seed=0)", ""))],
        "kernel_initializer=initializer(seed=0)",
    ),
    "identity: F1 instead of F2 filters": (
        ID,
        [(CONV_2B, CONV_2B.replace("filters=F2", "filters=F1"))],
        "should have F2 = 4 filters, found 2",
    ),
    "identity: 1x1 window in the middle": (
        ID,
        [(CONV_2B, CONV_2B.replace("kernel_size=(f, f)", "kernel_size=(1, 1)"))],
        "needs an (f, f) window: kernel_size=(f, f)",
    ),
    "identity: no BatchNormalization after the third convolution": (
        ID,
        [(BN_2C, "pass")],
        "'bn1a_branch2c' is missing: the reference applies BatchNormalization(axis=3",
    ),
    "identity: misnamed layer": (
        ID,
        [(CONV_2B, CONV_2B.replace('conv_name_base + "2b"', 'conv_name_base + "2B"'))],
        "is named 'res1a_branch2B' where the spec names it 'res1a_branch2b'",
    ),
    "identity: the main path added to itself": (
        ID,
        [("X = Add()([X, X_shortcut])", "X = Add()([X, X])")],
        "takes 'bn1a_branch2c' and 'bn1a_branch2c' where the reference gives it the block's input (X_shortcut)",
    ),
    "convolutional: stride on the middle convolution": (
        CONV,
        [
            (CONV_2A_GIVEN, CONV_2A_GIVEN.replace("strides=(s, s)", "strides=(1, 1)")),
            (CONV_2B, CONV_2B.replace("strides=(1, 1)", "strides=(s, s)")),
        ],
        "the stride belongs on the first 1x1 convolution and on the shortcut",
    ),
    "convolutional: no stride on the shortcut": (
        CONV,
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("strides=(s, s)", "strides=(1, 1)"))],
        "the stride belongs on the first 1x1 convolution and on the shortcut",
    ),
    "convolutional: no shortcut convolution": (
        CONV,
        [(SHORTCUT_CONV, "pass"), (SHORTCUT_BN, "pass")],
        "'res1a_branch1' is missing",
    ),
    "convolutional: no BatchNormalization on the shortcut": (
        CONV,
        [(SHORTCUT_BN, "pass")],
        "'bn1a_branch1' is missing",
    ),
    "convolutional: shortcut taken from the main path": (
        CONV,
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("(X_shortcut)", "(X)"))],
        "takes 'bn1a_branch2c' where the reference gives it the block's input (X_shortcut)",
    ),
    "convolutional: F2 channels on the shortcut": (
        CONV,
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("filters=F3", "filters=F2"))],
        "should have F3 = 6 filters, found 4",
    ),
    "ResNet50: stage 4 one identity block short": (
        NET,
        [('for block in "bcdef":', 'for block in "bcde":')],
        "stage 4 needs 5 identity blocks",
    ),
    "ResNet50: stage 3 without stride": (
        NET,
        [('stage=3, block="a", s=2', 'stage=3, block="a", s=1')],
        "stage 3's convolutional block needs s=2",
    ),
    "ResNet50: blocks called with training=True": (
        NET,
        [("stage=5, block=block, training=None", "stage=5, block=block, training=True")],
        "training=True, which hard-wires",
    ),
    "ResNet50: max pooling at the end": (
        NET,
        [('AveragePooling2D((2, 2), name="avg_pool")', 'MaxPooling2D((2, 2), name="avg_pool")')],
        "'avg_pool' must be of type AveragePooling2D",
    ),
    "ResNet50: no average pooling": (NET, [('X = AveragePooling2D((2, 2), name="avg_pool")(X)', "pass")], "avg_pool"),
    "ResNet50: stage 5 with stage 4's filters": (
        NET,
        [("filters=[512, 512, 2048], stage=5", "filters=[256, 256, 1024], stage=5")],  # block 'a' only
        "in stage 5, block 'a', 'res5a_branch2a' outputs 2x2x256 where the reference outputs 2x2x512",
    ),
    "ResNet50: an identity block of stage 3 with too few channels": (
        NET,
        [("3, [128, 128, 512], stage=3", "3, [128, 128, 256], stage=3")],
        "'res3b_branch2c' outputs 8x8x256 where the reference outputs 8x8x512 (it has 256 filters",
    ),
    "ResNet50: a stride given to an identity block": (
        NET,
        [("[256, 256, 1024], stage=4, block=block, training", "[256, 256, 1024], stage=4, block=block, s=2, training")],
        "then the next step fails (identity_block is given an argument `s`",
    ),
    "ResNet50: an average pooling larger than stage 5's output": (
        NET,
        [('AveragePooling2D((2, 2), name="avg_pool")', 'AveragePooling2D((4, 4), name="avg_pool")')],
        "up to stage 5, block 'c' matches the reference, then the next step fails (a window is larger than the tensor",
    ),
    "ResNet50: no max pooling": (
        NET,
        [("X = MaxPooling2D((3, 3), strides=(2, 2))(X)", "pass")],
        "the MaxPooling2D after stage 1 is missing",
    ),
    "ResNet50: stage 5 entirely with stage 4's filters": (
        NET,
        [
            ("filters=[512, 512, 2048], stage=5", "filters=[256, 256, 1024], stage=5"),
            ("3, [512, 512, 2048], stage=5", "3, [256, 256, 1024], stage=5"),
        ],
        "where stage 5 needs 512",
    ),
    "identity: epsilon copied from Keras' own ResNet": (
        ID,
        [(BN_2B, BN_2B.replace("axis=3,", "axis=3, epsilon=1.001e-5,"))],
        "has epsilon 1.001e-05 where the spec's BatchNormalization keeps Keras' default 0.001",
    ),
    "identity: ReLU given to the convolution": (
        ID,
        [(CONV_2B, CONV_2B.replace('padding="same"', 'padding="same", activation="relu"'))],
        "has activation 'relu': the convolutions have no activation of their own",
    ),
    "identity: sigmoid in the middle component": (
        ID,
        [(MIDDLE_RELU, MIDDLE_RELU.replace('"relu"', '"sigmoid"'))],
        "is Activation('sigmoid') where the block uses ReLU",
    ),
    "identity: F3 filters in the middle": (
        ID,
        [(CONV_2B, CONV_2B.replace("filters=F2", "filters=F3"))],
        "should have F2 = 4 filters, found 6",
    ),
    "identity: a stride of 2 in the middle": (
        ID,
        [(CONV_2B, CONV_2B.replace("strides=(1, 1)", "strides=(2, 2)"))],
        "'res1a_branch2b' on line 32 (`X = Conv2D(filters=F2, kernel_size=(f, f), strides=(2, 2)",
    ),
    "identity: BatchNormalization before its convolution": (
        ID,
        [(CONV_2B + "\n    " + BN_2B, BN_2B + "\n    " + CONV_2B)],
        "the BatchNormalization 'bn1a_branch2b' on line 32",
    ),
    "identity: the shortcut kept after the first component": (
        ID,
        [(SHORTCUT_KEPT, "pass"), (CONV_2B, "X_shortcut = X\n    " + CONV_2B)],
        "takes 'bn1a_branch2c' and the ReLU after 'bn1a_branch2a' where the reference gives it the block's input",
    ),
    "identity: the middle ReLU forgotten": (
        ID,
        [(MIDDLE_RELU, BN_2B)],
        "the ReLU after 'bn1a_branch2b' is missing",
    ),
    "identity: seed 1": (
        ID,
        [(CONV_2B, CONV_2B.replace("seed=0", "seed=1"))],
        "has kernel_initializer GlorotUniform(seed=1) where the spec gives initializer(seed=0)",
    ),
    "identity: the initializer not called": (
        ID,
        [(CONV_2B, CONV_2B.replace("initializer(seed=0)", "initializer"))],
        "has kernel_initializer GlorotUniform(seed=None)",
    ),
    "identity: BatchNormalization created but not called": (
        ID,
        [(BN_2B, BN_2B.replace("(X, training=training)", ""))],
        "X holds a BatchNormalization layer, not a tensor",
    ),
    "identity: a BatchNormalization's result in another variable": (
        ID,
        [(BN_2C, BN_2C.replace("X = Batch", "Z = Batch"))],
        "is built, but its output never reaches the block's output: the addition on line",
    ),
    "identity: training hard-wired to False": (
        ID,
        [(BN_2B, BN_2B.replace("training=training", "training=False"))],
        "is called with training=False): call it as BatchNormalization(...)(X, training=training)",
    ),
    "identity: the sum returned before its ReLU": (
        ID,
        [(RELU_AFTER_ADD, RELU_AFTER_ADD.replace("X = Activation", "Y = Activation"))],
        "the block returns the addition, not the ReLU after the addition",
    ),
    "convolutional: the shortcut added without its BatchNormalization": (
        CONV,
        [(SHORTCUT_BN, SHORTCUT_BN.replace("X_shortcut = Batch", "Y = Batch"))],
        "which should take it, takes 'bn1a_branch2c' and 'res1a_branch1'",
    ),
    "convolutional: 'valid' padding in the middle": (
        CONV,
        [(CONV_2B, CONV_2B.replace('padding="same"', 'padding="valid"'))],
        "has padding 'valid': the padding of the (f,f) convolution must be 'same'",
    ),
    "convolutional: an (f, f) window on the shortcut": (
        CONV,
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("kernel_size=(1, 1)", "kernel_size=(f, f)"))],
        "has a (2, 2) window where it is a 1x1 convolution",
    ),
    "convolutional: F1 filters in the last convolution": (
        CONV,
        [(CONV_2C, CONV_2C.replace("filters=F3", "filters=F1"))],
        "should have F3 = 6 filters, found 2",
    ),
    "convolutional: the shortcut's BatchNormalization on axis 1": (
        CONV,
        [(SHORTCUT_BN, SHORTCUT_BN.replace("axis=3", "axis=1"))],
        "'bn1a_branch1' on line 49 (`X_shortcut = BatchNormalization(axis=1",
    ),
    "convolutional: the shortcut's BatchNormalization misnamed": (
        CONV,
        [(SHORTCUT_BN, SHORTCUT_BN.replace('"1"', '"2d"'))],
        "is named 'bn1a_branch2d' where the spec names it 'bn1a_branch1'",
    ),
    "convolutional: training not passed on the shortcut": (
        CONV,
        [(SHORTCUT_BN, SHORTCUT_BN.replace("(X_shortcut, training=training)", "(X_shortcut)"))],
        "`training` is not passed to BatchNormalization ('bn1a_branch1' on line 49",
    ),
    "convolutional: the stride on the last convolution": (
        CONV,
        [
            (CONV_2A_GIVEN, CONV_2A_GIVEN.replace("strides=(s, s)", "strides=(1, 1)")),
            (CONV_2C, CONV_2C.replace("strides=(1, 1)", "strides=(s, s)")),
        ],
        "'res1a_branch2a' on line 24 (`X = Conv2D(filters=F1, kernel_size=(1, 1), strides=(1, 1)",
    ),
    "ResNet50: stage 2 with a stride": (
        NET,
        [('stage=2, block="a", s=1', 'stage=2, block="a", s=2')],
        "in stage 2, block 'a', 'res2a_branch2a' outputs 8x8x64 where the reference outputs 15x15x64",
    ),
    "ResNet50: stage 5 called with stage=4": (
        NET,
        [
            ("filters=[512, 512, 2048], stage=5", "filters=[512, 512, 2048], stage=4"),
            ("3, [512, 512, 2048], stage=5", "3, [512, 512, 2048], stage=4"),
        ],
        "two layers are named 'res4a_branch2a' (stage 4, block 'a'): two blocks are called with the same stage",
    ),
    "ResNet50: convolutional blocks where identity blocks belong": (
        NET,
        [
            (
                "X = identity_block(X, 3, [256, 256, 1024], stage=4, block=block, training=None)",
                "X = convolutional_block(X, 3, [256, 256, 1024], stage=4, block=block, s=1, training=None)",
            )
        ],
        "stage 4 has 6 convolutional blocks: blocks 'b', 'c', 'd', 'e', 'f' are identity blocks",
    ),
    "ResNet50: a block's result not assigned": (
        NET,
        [
            (
                "X = identity_block(X, 3, [128, 128, 512], stage=3, block=block, training=None)",
                "Y = identity_block(X, 3, [128, 128, 512], stage=3, block=block, training=None)",
            )
        ],
        "block 'b' of stage 3 is built on line",
    ),
    "identity: Concatenate in place of the addition": (
        ID,
        [("X = Add()([X, X_shortcut])", "X = keras.layers.Concatenate()([X, X_shortcut])")],
        "(`X = keras.layers.Concatenate()([X, X_shortcut])`) stands where the reference applies Add()",
    ),
    "convolutional: MaxPooling on the shortcut instead of its stride": (
        CONV,
        [
            (
                SHORTCUT_CONV,
                SHORTCUT_CONV.replace("strides=(s, s)", "strides=(1, 1)")
                + "\n    X_shortcut = keras.layers.MaxPooling2D((s, s))(X_shortcut)",
            )
        ],
        "'res1a_branch1' on line 47 (`X_shortcut = Conv2D(filters=F3, kernel_size=(1, 1), strides=(1, 1)",
    ),
}

CHECK = {ID: checks.check_identity_block, CONV: checks.check_convolutional_block, NET: checks.check_resnet50}
FUNCTION = {ID: "identity_block", CONV: "convolutional_block", NET: "ResNet50"}


def _wrong_version(grade_id, edits):
    source = SOURCES[grade_id]
    for old, new in edits:
        assert source.count(old) == 1, f"the master's solution no longer contains: {old!r}"
        source = source.replace(old, new)
    if grade_id != NET:
        return load_reference(replace={grade_id: source})[FUNCTION[grade_id]]
    # As in the notebook, ResNet50's cell runs after the blocks passed their checks: its check does not
    # build them again (test_resnet50_checks_do_not_rebuild_blocks_that_passed_... tests that rule).
    namespace = dict(_blocks_that_passed())
    notebooks.execute(source, f"<{grade_id}>", namespace)
    return namespace[FUNCTION[grade_id]]


@functools.cache
def _blocks_that_passed() -> dict:
    """The master's namespace, its blocks checked once in this process."""
    namespace = load_reference()
    with contextlib.redirect_stdout(io.StringIO()):
        checks.check_identity_block(namespace[FUNCTION[ID]])
        checks.check_convolutional_block(namespace[FUNCTION[CONV]])
    return namespace


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.mark.parametrize("cases", ["public", "hidden"])
@pytest.mark.parametrize("grade_id", [ID, CONV, NET])
def test_reference_passes_every_check(reference, grade_id, cases, capsys):
    CHECK[grade_id](reference[FUNCTION[grade_id]], cases=cases)
    count = len(checks.load_expected(cases)[FUNCTION[grade_id]])
    expected = f"the {cases} case passes." if count == 1 else f"all {count} {cases} cases pass."
    assert capsys.readouterr().out == f"{FUNCTION[grade_id]}: {expected}\n"


def test_the_corpus_is_large_enough():
    assert len(MISTAKES) >= 40


# A mistake's two tests run in one process (pytest-xdist's loadgroup), which checks it in English once.
EACH_MISTAKE = [pytest.param(name, marks=pytest.mark.xdist_group(f"mistake {name}")) for name in MISTAKES]

# Where an observation holds words (an error's message), said in the language it was made in.
WORDED = ("error", "model_error", "outputs_error")
OBSERVE = checks.observe  # the checks' own, which _observed_once stands in for
_OBSERVED = {}


def _observed_once(name, function, case, stop_at_layers=False):
    """``checks.observe``, remembered in this process when the observation holds no words: layers and
    numbers are the same in every language, so a mistake is built once and judged in each language.
    Remembered by the function's code: each check makes its wrong version afresh, whose lines the
    observation quotes (Python keeps only the latest source of a cell's name)."""
    key = (name, getattr(function, "__code__", function), json.dumps(case, sort_keys=True), stop_at_layers)
    if key not in _OBSERVED:
        observation = OBSERVE(name, function, case, stop_at_layers)
        if any(word in observation or word in observation.get("graph", {}) for word in WORDED):
            return observation
        _OBSERVED[key] = observation
    return copy.deepcopy(_OBSERVED[key])


def _check_mistake(mistake: str) -> str:
    """The message the check of ``mistake``'s wrong version raises, in the language spoken."""
    grade_id, edits, _ = MISTAKES[mistake]
    with mock.patch.object(checks, "observe", _observed_once), pytest.raises(checks.CheckFailed) as failure:
        CHECK[grade_id](_wrong_version(grade_id, edits))
    return str(failure.value)


@functools.cache
def _told_in_english(mistake: str) -> str:
    """What the check of ``mistake``'s wrong version says in English."""
    with language.speaking("en"):
        return _check_mistake(mistake)


@pytest.mark.parametrize("mistake", EACH_MISTAKE)
def test_each_mistake_gets_its_own_diagnosis(mistake):
    message = _told_in_english(mistake)
    assert MISTAKES[mistake][2] in message, message
    assert "\n" not in message  # one sentence, not a dump


@pytest.mark.parametrize("mistake", EACH_MISTAKE)
def test_each_mistake_is_told_in_every_language_with_its_names_and_numbers(mistake, fallbacks):
    told = {"en": _told_in_english(mistake)}
    fallbacks.clear()  # English has no catalogue: everything is "missed" there
    for code in language.LANGUAGES:
        with language.speaking(code):
            told[code] = _check_mistake(mistake)
        assert not fallbacks, f"{code} says in English: {fallbacks}"
    for code in language.LANGUAGES:
        assert not told_alike(told["en"], told[code]), (told["en"], told[code])


def test_an_error_in_keras_quotes_the_students_own_line():
    # A BatchNormalization created but never called on X: Keras fails on the next line, which takes a layer.
    uncalled = BN_2B.replace("(X, training=training)", "")
    wrong = _wrong_version(ID, [(BN_2B, uncalled)])
    with pytest.raises(checks.CheckFailed) as failure:
        checks.check_identity_block(wrong)
    source = SOURCES[ID].replace(BN_2B, uncalled)
    number = next(n for n, line in enumerate(source.splitlines(), 1) if line.strip() == uncalled) + 1
    assert f'at line {number} of its cell (`X = Activation("relu")(X)`)' in str(failure.value), failure.value


def test_diagnoses_are_all_different():
    # Messages are checked per mistake above; here, that no two mistakes share a hint by accident.
    words = [entry[2] for entry in MISTAKES.values()]
    duplicated = {w for w in words if words.count(w) > 1}
    allowed = {
        "`training` is not passed to BatchNormalization",  # not passed, and passed as a constant
        "the stride belongs on the first 1x1 convolution and on the shortcut",  # two misplacements
    }
    assert duplicated <= allowed


@pytest.mark.parametrize("grade_id", [ID, CONV, NET])
def test_an_unfilled_stub_says_which_function_is_not_implemented(grade_id):
    stub = solution_sources(RELEASE)[grade_id]  # nbgrader's own stub, as students receive it
    wrong = load_reference(replace={grade_id: stub})[FUNCTION[grade_id]]
    with pytest.raises(checks.CheckFailed, match=f"{FUNCTION[grade_id]} is not implemented yet"):
        CHECK[grade_id](wrong)


def test_hard_coded_public_outputs_fail_the_hidden_checks(reference):
    """A function that returns the visible expected output passes nothing else."""
    import numpy as np
    from keras.initializers import glorot_uniform

    public = checks.load_expected("public")["identity_block"][0]
    real = reference["identity_block"]

    def memorised(X, f, filters, stage, block, training=True, initializer=None):
        if isinstance(X, np.ndarray) and X.shape == tuple(public["input_shape"]):
            name = "constant" if initializer is cases.constant_initializer else "glorot_uniform"
            return np.asarray(public["outputs"][f"{name}/training={training}"], dtype=np.float32)
        initializer = initializer or glorot_uniform
        return real(X, f, [2, 4, 6], 1, "a", training=training, initializer=initializer)  # the visible case's layers

    checks.check_identity_block(memorised)  # passes the visible case...
    with pytest.raises(checks.CheckFailed):
        checks.check_identity_block(memorised, cases="hidden")  # ...but not the hidden ones


def _runs_only_symbolically(ResNet50):
    import keras
    import tensorflow as tf

    def wrapped(input_shape=(64, 64, 3), classes=6):
        model = ResNet50(input_shape, classes)
        fails_when_run = keras.layers.Lambda(  # builds on symbolic tensors, fails on real ones
            lambda t: t if not tf.executing_eagerly() else tf.debugging.assert_negative(t) or t
        )
        return keras.Model(model.input, fails_when_run(model.output))

    return wrapped


@pytest.mark.parametrize("model", ["empty Sequential", "fails on real values"])
def test_a_model_that_builds_but_cannot_run_gets_a_clear_message(reference, model):
    import keras

    ResNet50 = {
        "empty Sequential": lambda input_shape=(64, 64, 3), classes=6: keras.Sequential(),
        "fails on real values": _runs_only_symbolically(reference["ResNet50"]),
    }[model]
    with pytest.raises(
        checks.CheckFailed, match=r"ResNet50 failed (at line \d+ .*)?while running the model"
    ) as failure:
        checks.check_resnet50(ResNet50)
    assert "\n" not in str(failure.value)
    if model == "fails on real values":  # the failing line is the "student's" own lambda: it is quoted
        assert "(`lambda t: t if not tf.executing_eagerly()" in str(failure.value)


def test_checks_write_nothing_to_stderr(reference, capfd):
    checks.check_resnet50(reference["ResNet50"])
    checks.check_convolutional_block(reference["convolutional_block"], cases="hidden")
    assert capfd.readouterr().err == ""


def test_missing_hidden_results_fail_with_a_clear_message(reference, monkeypatch, tmp_path):
    monkeypatch.setenv(settings.HIDDEN_EXPECTED, str(tmp_path / "absent.json"))
    with pytest.raises(checks.CheckFailed, match="instructor's copy"):
        checks.check_identity_block(reference["identity_block"], cases="hidden")


def _course(folder, hidden=True):
    folder.mkdir(parents=True)
    (folder / settings.COURSE_CONFIG).write_text("")
    if hidden:
        (folder / cases.HIDDEN_IN_COURSE).parent.mkdir(parents=True)
        (folder / cases.HIDDEN_IN_COURSE).write_text("{}")
    return folder


def test_the_hidden_results_are_found_in_the_course_nbgrader_runs_in(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.HIDDEN_EXPECTED, raising=False)
    course = _course(tmp_path / "course")
    (course / "autograded" / "bob" / "residual_networks").mkdir(parents=True)
    monkeypatch.chdir(course / "autograded" / "bob" / "residual_networks")  # where nbgrader autograde's kernel runs
    assert cases.hidden_expected_path() == (course / cases.HIDDEN_IN_COURSE).resolve()
    assert cases.hidden_expected_path(course) == (course / cases.HIDDEN_IN_COURSE).resolve()
    monkeypatch.chdir(_course(tmp_path / "other", hidden=False))  # a course without them: the repository's
    assert cases.hidden_expected_path() == cases.HIDDEN_EXPECTED
    monkeypatch.setenv(settings.HIDDEN_EXPECTED, str(course / cases.HIDDEN_IN_COURSE))  # the variable wins
    assert cases.hidden_expected_path() == course / cases.HIDDEN_IN_COURSE
    with pytest.raises(checks.CheckFailed):  # but a course given (the grader's) holds them or fails
        cases.hidden_expected_path(tmp_path / "other")


def test_missing_hidden_results_say_where_they_were_looked_for(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.HIDDEN_EXPECTED, raising=False)
    monkeypatch.setattr(cases, "HIDDEN_EXPECTED", tmp_path / "checkout" / "course" / cases.HIDDEN_IN_COURSE)
    monkeypatch.chdir(_course(tmp_path / "course", hidden=False))
    course = tmp_path / "course"
    with pytest.raises(checks.CheckFailed) as failure:
        checks.load_expected("hidden")
    message = str(failure.value)
    assert str((course / cases.HIDDEN_IN_COURSE).resolve()) in message and str(cases.HIDDEN_EXPECTED) in message
    assert settings.HIDDEN_EXPECTED in message and "\n" not in message


def test_expected_results_are_in_sync_with_the_master(capsys):
    assert load_script("make_expected").main(["--check"]) == 0, capsys.readouterr().err


def test_resnet50_points_to_a_wrong_block_first():
    source = SOURCES[ID].replace(RELU_AFTER_ADD, "X = Add()([X, X_shortcut])")
    wrong_block = load_reference(replace={ID: source})
    with pytest.raises(
        checks.CheckFailed, match="ResNet50 is built from your identity_block.*the ReLU after the addition is missing"
    ):
        checks.check_resnet50(wrong_block["ResNet50"])


def test_a_correct_resnet50_from_a_block_with_a_hidden_mistake_passes_with_a_note(capsys):
    # The grader's policy: ResNet50 is judged by the model it builds. A block that ignores its
    # `initializer` builds the same ResNet-50 (which never passes another initializer).
    source = SOURCES[ID].replace("initializer(seed=0)", "glorot_uniform(seed=0)")
    assert source != SOURCES[ID]
    namespace = load_reference(replace={ID: source})
    with pytest.raises(checks.CheckFailed, match="ignores the `initializer` argument"):
        checks.check_identity_block(namespace["identity_block"])
    checks.check_resnet50(namespace["ResNet50"])
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2] == "ResNet50: the public case passes."
    assert printed[-1].startswith(
        "Note: ResNet50 builds the right model, so it earns its points, but your identity_block"
    )
    assert "ignores the `initializer` argument" in printed[-1]


def test_resnet50_checks_do_not_rebuild_blocks_that_passed_but_do_check_a_redefined_one(monkeypatch):
    namespace = load_reference()
    checks.check_identity_block(namespace["identity_block"])
    checks.check_convolutional_block(namespace["convolutional_block"])
    observed = []
    real_observe = checks.observe
    monkeypatch.setattr(
        checks, "observe", lambda name, *rest, **options: observed.append(name) or real_observe(name, *rest, **options)
    )
    checks.check_resnet50(namespace["ResNet50"])
    assert observed == ["ResNet50"]

    # The student runs the identity_block cell again, now with a mistake: checked afresh.
    wrong = load_reference(replace={ID: SOURCES[ID].replace(RELU_AFTER_ADD, "X = Add()([X, X_shortcut])")})
    namespace["identity_block"] = wrong["identity_block"]
    with pytest.raises(
        checks.CheckFailed, match="ResNet50 is built from your identity_block.*the ReLU after the addition is missing"
    ):
        checks.check_resnet50(namespace["ResNet50"])
    assert observed.count("identity_block") == 1


@pytest.mark.parametrize("relu", ["keras.layers.ReLU()(X)", "Activation(keras.activations.relu)(X)"])
def test_layers_equal_to_activation_relu_are_accepted(relu):
    for grade_id, check in ((ID, checks.check_identity_block), (CONV, checks.check_convolutional_block)):
        source = SOURCES[grade_id].replace('X = Activation("relu")(X)', f"X = {relu}")
        assert source != SOURCES[grade_id]
        check(load_reference(replace={grade_id: source})[check.__name__.removeprefix("check_")])


def test_resnet50_may_call_the_blocks_without_training_since_their_default_lets_keras_choose():
    source = SOURCES[NET].replace(", training=None)", ")")
    assert "training" not in source
    checks.check_resnet50(load_reference(replace={NET: source})["ResNet50"])


@pytest.mark.parametrize("grade_id", [ID, CONV])
def test_x_plus_shortcut_is_told_to_use_the_add_layer_not_a_keras_traceback(grade_id):
    source = SOURCES[grade_id].replace("X = Add()([X, X_shortcut])", "X = X + X_shortcut")
    assert source != SOURCES[grade_id]
    function = load_reference(replace={grade_id: source})[FUNCTION[grade_id]]
    with pytest.raises(
        checks.CheckFailed, match=r"written as `X \+ X_shortcut`.*write `X = Add\(\)\(\[X, X_shortcut\]\)`"
    ):
        CHECK[grade_id](function)


# Spellings that build the same block, which the notebook's specification says are accepted.
EQUIVALENT = {
    "axis=-1": [("axis=3", "axis=-1")],
    "Add()([X_shortcut, X])": [("Add()([X, X_shortcut])", "Add()([X_shortcut, X])")],
    "padding='same' on 1x1 convolutions": [
        ('kernel_size=(1, 1), strides=(1, 1), padding="valid"', 'kernel_size=(1, 1), strides=(1, 1), padding="same"'),
        ('kernel_size=(1, 1), strides=(s, s), padding="valid"', 'kernel_size=(1, 1), strides=(s, s), padding="same"'),
    ],
    "strides=s": [("strides=(s, s)", "strides=s"), ("strides=(1, 1)", "strides=1")],
    "keras.layers.ReLU()": [('Activation("relu")(X)', "keras.layers.ReLU()(X)")],
    "one Activation object reused": [
        ("F1, F2, F3 = filters", 'F1, F2, F3 = filters\n    relu = Activation("relu")'),
        ('Activation("relu")(X)', "relu(X)"),
    ],
}


@pytest.mark.parametrize("spelling", EQUIVALENT)
@pytest.mark.parametrize("grade_id", [ID, CONV])
def test_equivalent_spellings_pass_the_visible_and_hidden_checks(grade_id, spelling):
    source = SOURCES[grade_id]
    for old, new in EQUIVALENT[spelling]:
        source = source.replace(old, new)
    assert source != SOURCES[grade_id]
    function = load_reference(replace={grade_id: source})[FUNCTION[grade_id]]
    CHECK[grade_id](function)
    CHECK[grade_id](function, cases="hidden")


def test_a_hidden_case_is_told_in_the_references_words_never_in_what_the_code_made(reference):
    """What a student reads of a hidden case says what it changes and what went wrong, but carries nothing
    the student's code made at run time (a layer name, an error's text), which could carry the case's values."""
    from keras.initializers import glorot_uniform

    public = checks.load_expected("public")["identity_block"][0]
    real = reference["identity_block"]

    def marks(X, f, filters, stage, block, training=None, initializer=glorot_uniform):
        if tuple(X.shape[1:]) == tuple(public["input_shape"][1:]):
            return real(X, f, filters, stage, block, training=training, initializer=initializer)
        import keras

        X = keras.layers.Conv2D(filters[0], (1, 1), name=f"MARK{list(X.shape)}f{f}")(X)  # a name that carries the case
        return real(X, f, filters, stage, block, training=training, initializer=initializer)

    def raises(X, f, filters, stage, block, training=None, initializer=glorot_uniform):
        if tuple(X.shape[1:]) != tuple(public["input_shape"][1:]):
            raise ValueError(f"MARK{list(X.shape)}f{f}")  # an error whose text carries the case
        return real(X, f, filters, stage, block, training=training, initializer=initializer)

    for function in (marks, raises):
        checks.check_identity_block(function)
        with pytest.raises(checks.CheckFailed) as failure:
            checks.check_identity_block(function, cases="hidden")
        message = str(failure.value)
        assert message.startswith("identity_block passes the visible case but not a hidden one (with f = "), message
        assert "MARK" not in message, message
