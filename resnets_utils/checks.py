"""Checks of the graded functions, with a diagnosis of the likely mistake.

Each check builds the student's function on fixed inputs with fixed initial weights and
compares it with the reference solution: first the layers (types, names, settings,
connections), then the output values (``TOLERANCE``). The expected results are data
files written by ``scripts/make_expected.py`` from the master notebook's solution:
``resnets_utils/expected/`` for the visible cases, ``course/expected/`` for the hidden
ones (never released).

A failing check raises :class:`CheckFailed` whose message names the most likely mistake
in one sentence. Everything the checks run is kept off stderr, because nbgrader fails a
grade cell that writes there, and TensorFlow logs freely.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import warnings
import weakref
from pathlib import Path

import numpy as np

from resnets_utils.architecture import NotALayerError, describe, shape_text

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
PUBLIC_EXPECTED = Path(__file__).resolve().parent / "expected" / "residual_networks.json"
HIDDEN_VARIABLE = "RESNETS_HIDDEN_EXPECTED"
HIDDEN_EXPECTED = Path(__file__).resolve().parent.parent / "course" / "expected" / "residual_networks_hidden.json"

STAGE_BLOCKS = {2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"}
STAGE_STRIDES = {2: 1, 3: 2, 4: 2, 5: 2}


class CheckFailed(AssertionError):  # noqa: N818 (reads as the verdict in a student's traceback)
    """A graded function does not match the reference; the message says why."""


# ----------------------------------------------------------------------------- inputs


def block_input(shape, seed) -> np.ndarray:
    """The fixed input of a block case: standard normal values, float32."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def constant_initializer(seed=0):
    """A constant kernel initializer taking ``seed`` like Keras' random ones do."""
    import keras

    return keras.initializers.Constant(0.05)


def initializers():
    """The initializers every block case is run with, by name."""
    from keras.initializers import glorot_uniform

    return {"constant": constant_initializer, "glorot_uniform": glorot_uniform}


def block_arguments(case: dict) -> dict:
    arguments = {"f": case["f"], "filters": list(case["filters"]), "stage": case["stage"], "block": case["block"]}
    if "s" in case:
        arguments["s"] = case["s"]
    return arguments


# ----------------------------------------------------------------------------- public checks


def check_identity_block(identity_block, cases: str = "public") -> None:
    """Check ``identity_block`` on the visible (``"public"``) or ``"hidden"`` cases."""
    _run("identity_block", identity_block, cases)


def check_convolutional_block(convolutional_block, cases: str = "public") -> None:
    """Check ``convolutional_block`` on the visible (``"public"``) or ``"hidden"`` cases."""
    _run("convolutional_block", convolutional_block, cases)


def check_resnet50(ResNet50, cases: str = "public") -> None:
    """Check ``ResNet50``: the full layer summary and its outputs on fixed inputs."""
    _run("ResNet50", ResNet50, cases)


def _run(name: str, function, cases: str) -> None:
    expected = load_expected(cases)[name]
    wrong_blocks = []
    try:
        with quiet():
            try:
                for case in expected:
                    judge(name, observe(name, function, case), case)
            except CheckFailed:
                # ResNet50 is built from the student's blocks: a wrong block is the mistake to fix first.
                if name == "ResNet50" and (wrong_blocks := _wrong_blocks_of(function)):
                    block, failure = wrong_blocks[0]
                    raise CheckFailed(
                        f"ResNet50 is built from your {block}, which does not pass its checks yet; "
                        f"fix it first ({failure})"
                    ) from None
                raise
            if name == "ResNet50":
                wrong_blocks = _wrong_blocks_of(function)
        if cases == "public" and name != "ResNet50":
            _remember_pass(function)
    except CheckFailed as failure:
        # Raised afresh here so the student sees one short traceback, not our internals.
        raise CheckFailed(str(failure)) from None
    count = len(expected)
    print(f"{name}: the {cases} case passes." if count == 1 else f"{name}: all {count} {cases} cases pass.")
    for block, failure in wrong_blocks:  # the grader's policy: ResNet50 is judged by the model it builds
        print(
            f"Note: ResNet50 builds the right model, so it earns its points, but your {block} does not "
            f"pass its own checks yet: {failure}"
        )


def load_expected(cases: str = "public") -> dict:
    if cases == "public":
        path = PUBLIC_EXPECTED
    elif cases == "hidden":
        path = Path(os.environ.get(HIDDEN_VARIABLE) or HIDDEN_EXPECTED)
    else:
        raise ValueError(f"cases must be 'public' or 'hidden', got {cases!r}")
    if not path.exists():
        raise CheckFailed(
            f"the expected results for the {cases} checks are missing ({path}); "
            "they come with the instructor's copy of the course (`make expected`)."
        )
    return json.loads(path.read_text())


@contextlib.contextmanager
def quiet():
    """Keep warnings and anything written to stderr (Python or C level) out of the cell."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    try:
        with (
            tempfile.TemporaryFile() as sink,
            warnings.catch_warnings(),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved_fd, 2)
    finally:
        os.close(saved_fd)


# ----------------------------------------------------------------------------- building


def _build(name: str, call, case: dict | None = None, doing: str = "building the layers", diagnose=None):
    """Run ``call()`` (which builds or runs the student's layers), turning errors into diagnoses.

    ``diagnose(error, message)``, if given, may explain an error first (None: it cannot).
    """
    try:
        result = call()
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not implemented yet: replace each `raise NotImplementedError()` "
            "between ### START CODE HERE ### and ### END CODE HERE ### with your code."
        ) from None
    except Exception as error:  # the student's code may fail in any way; explain, don't crash
        message = _first_line(error)
        diagnosis = diagnose(error, message) if diagnose else None
        if diagnosis is None and case:
            diagnosis = _diagnose_shape_error(name, message, case)
        if diagnosis:
            raise CheckFailed(f"{name}: {diagnosis}") from None
        hint = _hint_for_error(message)
        raise CheckFailed(f"{name} failed while {doing} ({type(error).__name__}: {message}).{hint}") from None
    if result is None:
        raise CheckFailed(f"{name} returns None: end it with `return X`.")
    return result


def _first_line(error: Exception) -> str:
    """The line of an error's message that says what went wrong (Keras puts a heading first)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return lines[1]
    return lines[0] if lines else ""


def _hint_for_error(message: str) -> str:
    if re.search(r"name .* used .* times|unique", message, re.I):
        return " Two layers have the same name: check the names built from conv_name_base and bn_name_base."
    return ""


def _diagnose_shape_error(name: str, message: str, case: dict) -> str | None:
    """Explain an addition of two tensors of different shapes, from the shapes themselves."""
    shapes = [tuple(int(n) for n in re.findall(r"\d+", found)) for found in re.findall(r"\(([\d, None]+)\)", message)]
    shapes = [shape[-3:] for shape in shapes if len(shape) >= 3]
    if "incompatible" not in message.lower() or len(shapes) < 2:
        return None
    if name == "ResNet50":
        return (
            f"a block adds two tensors of different shapes {shapes[0]} and {shapes[1]}: within a stage, the "
            "convolutional block and the identity blocks take the same filters list, so that every "
            "identity block receives as many channels (F3) as it outputs."
        )
    _, height, width, channels = case["input_shape"]
    stride = case.get("s", 1)
    size = -(-height // stride)  # what the block's output should have: ceil(height / s)
    F3 = case["filters"][2]
    for main, other in (shapes[:2], shapes[1::-1]):
        if main[0] == size and other[0] == size and main[2] != other[2]:
            return (
                f"the main path and the shortcut have {main[2]} and {other[2]} channels at the addition: "
                f"the last convolution ('2c') and the shortcut must both end with F3 = {F3} channels."
            )
        if main[:2] != other[:2] and main[0] == size:
            if other == (height, width, channels) and name == "convolutional_block":
                return (
                    "the shortcut path needs its own Conv2D named conv_name_base + '1' (F3 filters, 1x1, "
                    "stride (s, s)) and BatchNormalization named bn_name_base + '1' before the addition."
                )
            if other[0] == size - (case["f"] - 1):
                return "padding of the (f,f) convolution must be 'same', so that it keeps the height and width."
            if name == "convolutional_block" and other[0] == -(-size // stride):
                return "the shortcut convolution '1' must take the block's input (X_shortcut), not the main path."
            if name == "convolutional_block":
                return (
                    "the stride belongs on the first 1x1 convolution and on the shortcut: strides=(s, s) for "
                    "'2a' and '1', (1, 1) for the others, so both paths shrink the same way."
                )
            return "every convolution of the identity block has strides (1, 1), so the output keeps the input's shape."
    return None


def _symbolic_block(function, name, case, training=None):
    """The student's block as a Keras model on a symbolic input of the case's shape."""
    import keras

    inputs = keras.Input(shape=tuple(case["input_shape"][1:]))
    outputs = _build(name, lambda: function(inputs, training=training, **block_arguments(case)), case)
    if not isinstance(outputs, keras.KerasTensor):
        raise CheckFailed(f"{name} must return the output tensor X, not a {type(outputs).__name__}.")
    return _build(name, lambda: keras.Model(inputs, outputs), case)


# The configuration run a second time: a block whose output changes from one call to
# the next builds some convolution with random weights, whatever it was given.
REPEATED = "glorot_uniform/training=False"


def block_outputs(function, name, case, only: str | None = None) -> dict[str, np.ndarray]:
    """The block's outputs on the case's input, for every initializer and training mode
    (or only the configuration named ``only``, e.g. ``"constant/training=True"``)."""
    X = block_input(case["input_shape"], case["input_seed"])
    outputs = {}
    for initializer_name, initializer in initializers().items():
        for training in (True, False):
            if only and only != f"{initializer_name}/training={training}":
                continue
            result = _build(
                name,
                lambda: function(X, training=training, initializer=initializer, **block_arguments(case)),  # noqa: B023
                case,
            )
            outputs[f"{initializer_name}/training={training}"] = np.asarray(result)
    return outputs


def resnet50_inputs(case) -> np.ndarray:
    shape = case["input_shape"]
    return np.random.default_rng(case["input_seed"]).uniform(0, 1, (2, *shape)).astype(np.float32)


def resnet50_outputs(model, case) -> np.ndarray:
    """The model's predictions on the case's fixed inputs, in inference mode.

    A plain call, not ``model.predict``: predict first traces the whole network into a
    graph, which costs more than the two pictures themselves (1.7 s against 0.4 s).
    """
    return np.asarray(model(resnet50_inputs(case), training=False))


# ----------------------------------------------------------------------------- blocks


def observe(name: str, function, case: dict) -> dict:
    """What the checks compare for one case: the layer rows and the output values.

    Only plain data (lists, strings, numbers): the autograder computes this in a sandbox
    and judges it in another process. A function that cannot be built gives ``{"error": ...}``.
    """
    try:
        with quiet():
            if name == "ResNet50":
                return _observe_resnet50(function, case)
            return _observe_block(name, function, case)
    except CheckFailed as failure:
        return {"error": str(failure)}
    except NotALayerError as error:
        return {"error": f"{name}: {_not_a_layer(error.operation)}"}


def _not_a_layer(operation: str) -> str:
    if operation == "Add":
        return (
            "the addition is written as `X + X_shortcut`, which Keras records as an operation, not a layer: "
            "write `X = Add()([X, X_shortcut])`, as the specification says (the checks compare the layers)."
        )
    return f"an operation on tensors ({operation}) is not a Keras layer: use the layers the specification names."


def judge(name: str, observation: dict, case: dict) -> None:
    """Raise :class:`CheckFailed` naming the likely mistake if ``observation`` differs from ``case``'s."""
    if "error" in observation:
        raise CheckFailed(observation["error"])
    if name == "ResNet50":
        _judge_resnet50(observation, case)
    else:
        _judge_block(name, observation, case)


def _observe_block(name, function, case):
    observation = {
        "rows": describe(_symbolic_block(function, name, case)),
        # Built with training=True, every BatchNormalization must have received it.
        "rows_training": describe(_symbolic_block(function, name, case, training=True)),
    }
    try:
        observation["outputs"] = {k: v.tolist() for k, v in block_outputs(function, name, case).items()}
        # A second run tells a missing `initializer` (random weights) from a wrong order of steps.
        observation["again"] = {k: v.tolist() for k, v in block_outputs(function, name, case, REPEATED).items()}
    except CheckFailed as failure:
        observation["outputs_error"] = str(failure)  # reported after any mistake in the layers
    return observation


def _judge_block(name: str, observation: dict, case: dict) -> None:
    diagnosis = diagnose_block(name, observation["rows"], case["summary"], case)
    if diagnosis:
        raise CheckFailed(f"{name}: {diagnosis}")
    for row in observation["rows_training"]:
        if row["type"] == "BatchNormalization" and row.get("training") is not True:
            raise CheckFailed(
                f"{name}: `training` is not passed to BatchNormalization '{row['name']}': call it as "
                "BatchNormalization(...)(X, training=training)."
            )
    if "outputs_error" in observation:
        raise CheckFailed(observation["outputs_error"])
    _compare_block_values(name, observation, case)


def _compare_block_values(name, observation, case):
    outputs = {k: np.asarray(v, dtype=np.float32) for k, v in observation["outputs"].items()}
    for key, expected in case["outputs"].items():
        expected = np.asarray(expected, dtype=np.float32)
        got = outputs.get(key)
        if got is None or got.shape != expected.shape:
            shape = None if got is None else got.shape
            raise CheckFailed(f"{name}: output shape {shape} differs from the expected {expected.shape}.")
        if np.allclose(got, expected, **TOLERANCE):
            continue
        initializer_name = key.split("/")[0]
        other_mode = f"{initializer_name}/training={'False' if key.endswith('True') else 'True'}"
        if np.allclose(got, np.asarray(case["outputs"][other_mode]), **TOLERANCE):
            raise CheckFailed(
                f"{name}: `training` is not passed to BatchNormalization: call every one as "
                "BatchNormalization(...)(X, training=training)."
            )
        if initializer_name == "constant" and all(
            np.allclose(outputs[k], np.asarray(v), **TOLERANCE)
            for k, v in case["outputs"].items()
            if k.startswith("glorot_uniform/")
        ):
            raise CheckFailed(
                f"{name}: some convolution ignores the `initializer` argument and always uses the same "
                "initializer: write kernel_initializer=initializer(seed=0) for every Conv2D."
            )
        again = np.asarray(observation["again"][REPEATED], dtype=np.float32)
        if not np.allclose(outputs[REPEATED], again, **TOLERANCE):
            raise CheckFailed(
                f"{name}: the output changes from one call to the next, so some convolution does not use "
                "the `initializer` argument: give every Conv2D kernel_initializer=initializer(seed=0)."
            )
        difference = float(np.max(np.abs(got - expected)))
        raise CheckFailed(
            f"{name}: the layers look right but the output values differ from the reference "
            f"({key}, largest difference {difference:.3g}; tolerance rtol={TOLERANCE['rtol']}, "
            f"atol={TOLERANCE['atol']}). Check which tensor each layer receives and the order of the steps."
        )


def _named(rows):
    return {row["name"]: row for row in rows}


def diagnose_block(name: str, rows: list[dict], expected: list[dict], case: dict) -> str | None:
    """One sentence naming the likely mistake in a block's layers, or None if they match."""
    student, reference = _named(rows), _named(expected)
    stage, block = case["stage"], case["block"]
    conv, bn = f"res{stage}{block}_branch", f"bn{stage}{block}_branch"
    is_conv_block = name == "convolutional_block"

    adds = [row for row in rows if row["type"] == "Add"]
    if not adds:
        return "the shortcut is not added: add it to the main path with Add()([X, X_shortcut]), then apply ReLU."
    output = rows[-1]
    if output["type"] == "Add":
        if any(student[source]["type"] == "Activation" for source in output["inputs"]):
            return (
                "ReLU applied before the addition: add the shortcut to the output of the last "
                "BatchNormalization first, then apply ReLU to the sum."
            )
        return "missing ReLU after the addition: apply Activation('relu') to the sum."
    if output["type"] != "Activation" or student[output["inputs"][0]]["type"] != "Add":
        return "the block must end with the addition followed by ReLU."

    for row in rows:
        if row["type"] == "BatchNormalization" and row.get("axis") not in (3, -1, [3], [-1]):
            return (
                f"BatchNormalization is not normalising the channels axis ('{row['name']}' has "
                f"axis={row.get('axis')}): use BatchNormalization(axis=3, ...)."
            )
        if "training" in row:
            return (
                f"`training` is not passed to BatchNormalization ('{row['name']}' is called with "
                f"training={row['training']}): call it as BatchNormalization(...)(X, training=training)."
            )

    for layer in reference:
        if layer.startswith(("res", "bn")) and layer not in student:
            return _missing_layer(layer, conv, bn, is_conv_block, student)

    for layer, expected_row in reference.items():
        if not layer.startswith("res"):
            continue
        message = _conv_setting_mismatch(layer, student[layer], expected_row, conv, is_conv_block)
        if message:
            return message

    add = adds[0]
    add_sources = set(add["inputs"])
    if is_conv_block:
        if f"{bn}1" not in add_sources:
            return (
                f"the shortcut path must end in the addition: add the output of BatchNormalization "
                f"'{bn}1' to the main path."
            )
        if student[f"{conv}1"]["inputs"] != reference[f"{conv}1"]["inputs"]:
            return f"the shortcut convolution '{conv}1' must take the block's input (X_shortcut), not the main path."
    elif not any(student[source]["type"] == "InputLayer" for source in add_sources):
        return "the shortcut must be the block's input: keep X_shortcut = X before the main path and add it at the end."
    if f"{bn}2c" not in add_sources:
        return f"add the main path's last BatchNormalization ('{bn}2c') to the shortcut, with no ReLU between."

    return _first_difference(rows, expected)


def _missing_layer(layer, conv, bn, is_conv_block, student):
    base = "conv_name_base" if layer.startswith("res") else "bn_name_base"
    suffix = layer[len(conv if layer.startswith("res") else bn) :]
    if suffix == "1" and layer.startswith("bn") and f"{conv}1" in student:
        return (
            f"the shortcut needs BatchNormalization(axis=3, name=bn_name_base + '1') after its convolution '{conv}1'."
        )
    if suffix == "1":
        return (
            f"the shortcut path needs its own Conv2D named conv_name_base + '1' ('{conv}1', F3 filters, "
            "1x1, stride (s, s)) followed by BatchNormalization named bn_name_base + '1'."
        )
    if layer.startswith("bn"):
        return (
            f"no BatchNormalization named '{layer}': every convolution of the main path is followed by "
            f"BatchNormalization(axis=3, name=bn_name_base + '{suffix}')."
        )
    return f"no layer named '{layer}': name the convolution {base} + '{suffix}'."


def _conv_setting_mismatch(layer, got, expected, conv, is_conv_block):
    suffix = layer[len(conv) :]
    for key in ("kernel_size", "strides", "padding", "filters"):
        if got.get(key) == expected.get(key):
            continue
        if key == "padding":
            if suffix == "2b":
                return "padding of the (f,f) convolution must be 'same', so that it keeps the height and width."
            return f"the 1x1 convolutions use padding 'valid' ('{layer}' has padding '{got.get(key)}')."
        if key == "strides":
            if is_conv_block:
                return (
                    "the stride belongs on the first 1x1 convolution and on the shortcut: strides=(s, s) "
                    f"for '{conv}2a' and '{conv}1', (1, 1) for the others "
                    f"('{layer}' has strides {tuple(got.get(key))})."
                )
            return f"every convolution of the identity block has strides (1, 1) ('{layer}' has {tuple(got.get(key))})."
        if key == "kernel_size":
            if suffix == "2b":
                return f"the middle convolution '{layer}' must have an (f, f) window: kernel_size=(f, f)."
            return f"'{layer}' is a 1x1 convolution: kernel_size=(1, 1)."
        if key == "filters":
            which = {"2a": "F1", "2b": "F2", "2c": "F3", "1": "F3"}[suffix]
            return (
                f"'{layer}' should have {which} = {expected['filters']} filters, found {got['filters']} "
                "(filters = [F1, F2, F3] for '2a', '2b', '2c'; the shortcut's convolution has F3)."
            )
    return None


def _first_difference(rows, expected) -> str | None:
    if len(rows) != len(expected):
        got_types = [row["type"] for row in rows]
        expected_types = [row["type"] for row in expected]
        for kind in sorted(set(got_types) | set(expected_types)):
            if got_types.count(kind) != expected_types.count(kind):
                got, want = got_types.count(kind), expected_types.count(kind)
                return f"the model has {got} {kind} layer{'' if got == 1 else 's'} where the reference has {want}."
        return f"the model has {len(rows)} layers where the reference has {len(expected)}."
    for got, want in zip(rows, expected, strict=True):
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                return (
                    f"{_spoken(want['name'], expected)} ({want['type']}) differs in {key}: expected "
                    f"{want.get(key)}, found {got.get(key)}."
                )
    return None


# ----------------------------------------------------------------------------- ResNet-50


def _wrong_blocks_of(ResNet50) -> list[tuple[str, str]]:
    """``(block, diagnosis)`` for each block ResNet50 is built from that fails its public checks."""
    wrong = []
    used = getattr(ResNet50, "__globals__", {})
    for block in ("identity_block", "convolutional_block"):
        function = used.get(block)
        if not callable(function) or _passed_public_checks(function):
            continue
        try:
            for case in load_expected("public")[block]:
                judge(block, observe(block, function, case), case)
        except CheckFailed as failure:
            wrong.append((block, str(failure)))
            continue
        _remember_pass(function)
    return wrong


# Block functions that passed their public checks in this process, with the code they had
# then: the ResNet50 checks need not build them again (about 1.8 s per check). Running the
# cell again defines a new function, which is checked afresh.
_PASSED = weakref.WeakKeyDictionary()


def _fingerprint(function):
    return getattr(function, "__code__", None), getattr(function, "__defaults__", None)


def _remember_pass(function) -> None:
    with contextlib.suppress(TypeError):  # an object that takes no weak reference is simply not remembered
        _PASSED[function] = _fingerprint(function)


def _passed_public_checks(function) -> bool:
    try:
        return _PASSED.get(function) == _fingerprint(function)
    except TypeError:
        return False


def _observe_resnet50(ResNet50, case):
    import keras

    model = _build(
        "ResNet50",
        lambda: ResNet50(input_shape=tuple(case["input_shape"]), classes=case["classes"]),
        case,
        diagnose=lambda error, message: _diagnose_partial_resnet50(error, message, case),
    )
    if not isinstance(model, keras.Model):
        raise CheckFailed(f"ResNet50 must return a keras Model, not a {type(model).__name__}.")

    def run():
        return {"rows": describe(model), "outputs": resnet50_outputs(model, case).tolist()}

    # A model that builds nearly always runs, but not every one does (an empty Sequential, a Lambda).
    return _build("ResNet50", run, case, doing="running the model on two pictures")


def _judge_resnet50(observation, case):
    diagnosis = diagnose_resnet50(observation["rows"], case["summary"], case)
    if diagnosis:
        raise CheckFailed(f"ResNet50: {diagnosis}")
    got = np.asarray(observation["outputs"], dtype=np.float32)
    expected = np.asarray(case["outputs"], dtype=np.float32)
    if got.shape != expected.shape or not np.allclose(got, expected, **TOLERANCE):
        difference = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan")
        raise CheckFailed(
            "ResNet50: the layers match the reference but the predictions on fixed inputs do not "
            f"(largest difference {difference:.3g}): check which tensor each "
            "block receives, and that every block is given X from the previous one."
        )


def diagnose_resnet50(rows: list[dict], expected: list[dict], case: dict) -> str | None:
    """One sentence naming the likely mistake in ResNet-50's layers, or None if they match."""
    student = _named(rows)
    for row in rows:
        if row.get("training") is True:
            return (
                f"'{row['name']}' is called with training=True, which hard-wires BatchNormalization's "
                "mode into the model: call the blocks with training=None so that Keras uses batch "
                "statistics in fit and the moving averages in evaluate and predict."
            )
    for stage, letters in STAGE_BLOCKS.items():
        found = sorted(
            match.group(1) for row in rows if (match := re.fullmatch(rf"res{stage}([a-z])_branch2a", row["name"]))
        )
        if found != list(letters):
            wanted = len(letters) - 1
            return (
                f"stage {stage} needs {wanted} identity blocks ('{letters[1]}' to '{letters[-1]}') after its "
                f"convolutional block 'a'; found blocks {', '.join(repr(b) for b in found) or 'none'}."
            )
        if f"res{stage}a_branch1" not in student:
            return f"stage {stage} must start with a convolutional block named 'a' (it has a shortcut convolution)."
        stride = student[f"res{stage}a_branch2a"]["strides"]
        if stride != [STAGE_STRIDES[stage]] * 2:
            return (
                f"stage {stage}'s convolutional block needs s={STAGE_STRIDES[stage]}, found s={stride[0]} "
                "(s=1 in stage 2, where max pooling has already shrunk the input; s=2 in stages 3 to 5)."
            )
    reference = _named(expected)
    for layer, want in reference.items():
        got = student.get(layer)
        if got is None:
            if layer == "avg_pool":
                return "add AveragePooling2D((2, 2), name='avg_pool') after stage 5."
            if "#" in layer:  # a layer nobody names: say where it goes
                return f"{_spoken(layer, expected)} is missing."
            return f"no layer named '{layer}'."
        if got["type"] != want["type"]:
            return f"'{layer}' must be of type {want['type']}, not {got['type']}."
        match = re.fullmatch(r"res(\d)[a-z]_branch(2a|2b|2c|1)", layer)
        if match and got.get("filters") != want.get("filters"):
            return (
                f"'{layer}' has {got.get('filters')} filters where stage {match.group(1)} needs "
                f"{want.get('filters')}: check the filters list of that stage."
            )
        for key in ("pool_size", "strides", "padding", "kernel_size", "activation"):
            if got.get(key) != want.get(key):
                return f"'{layer}' has {key} {got.get(key)} where {want.get(key)} is expected."
    return _first_difference(rows, expected)


# ----------------------------------------------------------------------------- where a layer is


def place_of(name: str) -> str | None:
    """Where a course layer name sits in ResNet-50: "stage 1", "stage 3, block 'b'"; None otherwise."""
    if match := re.fullmatch(r"(?:res|bn)(\d)([a-z]+)_branch\w+", name):
        return f"stage {match.group(1)}, block '{match.group(2)}'"
    if name in ("conv1", "bn_conv1"):
        return "stage 1"
    return None


def _spoken(name: str, rows: list[dict]) -> str:
    """A layer as the student wrote it: 'res3b_branch2a', or "the MaxPooling2D after stage 1"
    for a layer known only by its canonical name (``MaxPooling2D#1``)."""
    if "#" not in name:
        return f"'{name}'"
    kind = name.split("#")[0]
    by_name = _named(rows)
    inputs = by_name[name]["inputs"]
    if not inputs or by_name[inputs[0]]["type"] == "InputLayer":
        return f"the {kind} after the input"
    source = inputs[0]
    if "#" not in source:
        return f"the {kind} after '{source}'"
    ancestor, added = source, by_name[source]["type"] == "Add"
    while "#" in ancestor and by_name[ancestor]["inputs"]:
        ancestor = by_name[ancestor]["inputs"][0]
        added = added or by_name[ancestor]["type"] == "Add"
    place = place_of(ancestor) or f"'{ancestor}'"
    if added and "block" in place:
        return f"the {kind} after the addition of {place}"
    return f"the {kind} after {place}"


def _diagnose_partial_resnet50(error: Exception, message: str, case: dict) -> str | None:
    """When Keras fails while ResNet50 is built, compare what was built so far with the reference,
    stage by stage, and name the first layer whose output goes wrong (or the step that failed)."""
    rows = _built_before(error)
    if not rows:
        return None
    built = _named(rows)
    reference = [row for row in case["summary"] if "#" not in row["name"] and row["type"] != "InputLayer"]
    last = None
    for want in reference:
        got = built.get(want["name"])
        if got is None:
            continue
        where = place_of(want["name"]) or "the model"
        if got["output_shape"] != want["output_shape"]:
            why = ""
            if got.get("filters") != want.get("filters"):
                why = (
                    f" (it has {got.get('filters')} filters where {want.get('filters')} are needed: "
                    f"check the filters list of {where.split(',')[0]})"
                )
            elif got.get("strides") != want.get("strides"):
                why = f" (it has strides {got.get('strides')} where {want.get('strides')} are needed)"
            return (
                f"in {where}, '{want['name']}' outputs {shape_text(got)} where the reference outputs "
                f"{shape_text(want)}{why}; Keras then failed: {message.rstrip('.')}."
            )
        last = want
    if last is None:
        return None
    return (
        f"everything up to {place_of(last['name']) or repr(last['name'])} matches the reference, then the "
        f"next step fails ({type(error).__name__}: {message})."
    )


STUDENT_FUNCTIONS = ("ResNet50", "identity_block", "convolutional_block")


def _built_before(error: Exception) -> list[dict]:
    """The layer rows of what the student's functions had built when ``error`` was raised, read
    from the tensors their frames held (their local variables); empty if none can be found."""
    import keras

    frames, trace = [], error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_name in STUDENT_FUNCTIONS:
            frames.append(trace.tb_frame)
        trace = trace.tb_next
    if not frames:
        return []
    given = frames[0].f_locals.get("X_input")  # the stub's input tensor, in its locked lines
    if frames[0].f_code.co_name != "ResNet50" or not isinstance(given, keras.KerasTensor):
        return []
    outputs = [
        value
        for frame in frames
        for value in frame.f_locals.values()
        if isinstance(value, keras.KerasTensor) and value is not given
    ]
    if not outputs:
        return []
    try:
        return describe(keras.Model(given, outputs))
    except Exception:  # not one connected graph (a second Input, a tensor from elsewhere): say nothing
        return []
