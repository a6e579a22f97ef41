"""Judging what the student's function built and computed, and naming the likely mistake.

Pure functions over plain data (layer rows, cases, output values, error messages): nothing
here builds a model, so the autograder judges in a process that never runs student code.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from resnets_utils.architecture import shape_text

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}

# The configuration run a second time: a block whose output changes from one call to
# the next builds some convolution with random weights, whatever it was given.
REPEATED = "glorot_uniform/training=False"

STAGE_BLOCKS = {2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"}
STAGE_STRIDES = {2: 1, 3: 2, 4: 2, 5: 2}


class CheckFailed(AssertionError):  # noqa: N818 (reads as the verdict in a student's traceback)
    """A graded function does not match the reference; the message says why."""


# Diagnoses that more than one check comes upon (in the layers, the values or Keras' errors), filled in there.
SAME_PADDING = "padding of the (f,f) convolution must be 'same', so that it keeps the height and width."
TRAINING_NOT_PASSED = (
    "`training` is not passed to BatchNormalization{where}: call it as BatchNormalization(...)(X, training=training)."
)
INITIALIZER_IGNORED = (
    "some convolution ignores the `initializer` argument ({evidence}): give every Conv2D "
    "kernel_initializer=initializer(seed=0)."
)
NO_SHORTCUT_CONVOLUTION = (
    "the shortcut path needs its own Conv2D named conv_name_base + '1' ('{conv}1', F3 filters, "
    "1x1, stride (s, s)) followed by BatchNormalization named bn_name_base + '1'."
)
SHORTCUT_INPUT = "the shortcut convolution '{conv}1' must take the block's input (X_shortcut), not the main path."
CONVOLUTIONAL_STRIDES = (
    "the stride belongs on the first 1x1 convolution and on the shortcut: strides=(s, s) for "
    "'{conv}2a' and '{conv}1', (1, 1) for the others, so both paths shrink the same way{found}."
)
IDENTITY_STRIDES = (
    "every convolution of the identity block has strides (1, 1), so the output keeps the input's shape{found}."
)


def _has(key: str, got: dict, want: dict) -> str:
    return f"has {key} {got.get(key)} where {want.get(key)} is expected"


def _has_filters(got: dict, want: dict, stage: str) -> str:
    return (
        f"has {got.get('filters')} filters where {stage} needs {want.get('filters')}: "
        "check the filters list of that stage"
    )


def numbers(values, what: str) -> np.ndarray:
    """``values`` as a float32 array; :class:`CheckFailed` when they are not finite numbers."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            found = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise CheckFailed(f"{what} are not numbers: return the output tensor X.") from None
    if not np.isfinite(found).all():
        raise CheckFailed(f"{what} contain NaN or infinite values, which a block of these layers never gives.")
    return found


def _values_differ(values: str, got: np.ndarray, expected: np.ndarray, advice: str) -> str | None:
    """None if the values match within TOLERANCE; else what differs, and ``advice``."""
    if got.shape == expected.shape and np.allclose(got, expected, **TOLERANCE):
        return None
    difference = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan")
    return (
        f"the layers match the reference but {values} do not (largest difference {difference:.3g}; "
        f"tolerance rtol={TOLERANCE['rtol']}, atol={TOLERANCE['atol']}): check which tensor each {advice}."
    )


def judge(name: str, observation: dict, case: dict) -> None:
    """Raise :class:`CheckFailed` naming the likely mistake if ``observation`` differs from ``case``'s."""
    if "error" in observation:
        raise CheckFailed(observation["error"])
    if name == "ResNet50":
        got, expected = numbers(observation["outputs"], "the predictions"), numbers(case["outputs"], "expected")
        advice = "block receives, and that every block is given X from the previous one"
        diagnosis = diagnose_resnet50(observation["rows"], case["summary"], case) or _values_differ(
            "the predictions on fixed inputs", got, expected, advice
        )
    else:
        diagnosis = diagnose_block(name, observation["rows"], case["summary"], case)
        for row in observation["rows_training"]:  # built with training=True: every BatchNormalization received it
            if not diagnosis and row["type"] == "BatchNormalization" and row.get("training") is not True:
                diagnosis = TRAINING_NOT_PASSED.format(where=f" ('{row['name']}')")
        if not diagnosis and "outputs_error" in observation:
            raise CheckFailed(observation["outputs_error"])  # reported after any mistake in the layers
        diagnosis = diagnosis or _block_values(observation, case)
    if diagnosis:
        raise CheckFailed(f"{name}: {diagnosis}")


def _block_values(observation: dict, case: dict) -> str | None:
    outputs = {k: numbers(v, f"the output values ({k})") for k, v in observation["outputs"].items()}
    for key, expected in case["outputs"].items():
        expected = numbers(expected, "expected")
        got = outputs.get(key)
        if got is None or got.shape != expected.shape:
            return f"output shape {None if got is None else got.shape} differs from the expected {expected.shape}."
        if np.allclose(got, expected, **TOLERANCE):
            continue
        initializer_name = key.split("/")[0]
        other_mode = f"{initializer_name}/training={'False' if key.endswith('True') else 'True'}"
        if np.allclose(got, np.asarray(case["outputs"][other_mode]), **TOLERANCE):
            return TRAINING_NOT_PASSED.format(where="")
        if initializer_name == "constant" and all(
            np.allclose(outputs[k], np.asarray(v), **TOLERANCE)
            for k, v in case["outputs"].items()
            if k.startswith("glorot_uniform/")
        ):
            return INITIALIZER_IGNORED.format(evidence="it always uses the same initializer")
        again = numbers(observation["again"][REPEATED], "the output values")
        if not np.allclose(outputs[REPEATED], again, **TOLERANCE):
            return INITIALIZER_IGNORED.format(evidence="the output changes from one call to the next")
        return _values_differ(f"the output values ({key})", got, expected, "layer receives and the order of the steps")
    return None


def _named(rows):
    return {row["name"]: row for row in rows}


def diagnose_block(name: str, rows: list[dict], expected: list[dict], case: dict) -> str | None:
    """One sentence naming the likely mistake in a block's layers, or None if they match."""
    student, reference = _named(rows), _named(expected)
    conv, bn = f"res{case['stage']}{case['block']}_branch", f"bn{case['stage']}{case['block']}_branch"
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
            return TRAINING_NOT_PASSED.format(where=f" ('{row['name']}' is called with training={row['training']})")

    for layer in reference:
        if layer.startswith(("res", "bn")) and layer not in student:
            return _missing_layer(layer, conv, bn, student)

    for layer in [layer for layer in reference if layer.startswith("res")]:
        if message := _conv_setting_mismatch(layer, student[layer], reference[layer], conv, is_conv_block):
            return message

    add_sources = set(adds[0]["inputs"])
    if is_conv_block:
        if f"{bn}1" not in add_sources:
            return (
                f"the shortcut path must end in the addition: add the output of BatchNormalization "
                f"'{bn}1' to the main path."
            )
        if student[f"{conv}1"]["inputs"] != reference[f"{conv}1"]["inputs"]:
            return SHORTCUT_INPUT.format(conv=conv)
    elif not any(student[source]["type"] == "InputLayer" for source in add_sources):
        return "the shortcut must be the block's input: keep X_shortcut = X before the main path and add it at the end."
    if f"{bn}2c" not in add_sources:
        return f"add the main path's last BatchNormalization ('{bn}2c') to the shortcut, with no ReLU between."

    return _first_difference(rows, expected)


def _missing_layer(layer, conv, bn, student):
    suffix = layer[len(conv if layer.startswith("res") else bn) :]
    if suffix == "1" and layer.startswith("bn") and f"{conv}1" in student:
        return (
            f"the shortcut needs BatchNormalization(axis=3, name=bn_name_base + '1') after its convolution '{conv}1'."
        )
    if suffix == "1":
        return NO_SHORTCUT_CONVOLUTION.format(conv=conv)
    if layer.startswith("bn"):
        return (
            f"no BatchNormalization named '{layer}': every convolution of the main path is followed by "
            f"BatchNormalization(axis=3, name=bn_name_base + '{suffix}')."
        )
    return f"no layer named '{layer}': name the convolution conv_name_base + '{suffix}'."


def _conv_setting_mismatch(layer, got, expected, conv, is_conv_block):
    suffix = layer[len(conv) :]
    key = next(
        (key for key in ("kernel_size", "strides", "padding", "filters") if got.get(key) != expected.get(key)), None
    )
    if key == "padding":
        if suffix == "2b":
            return SAME_PADDING
        return f"the 1x1 convolutions use padding 'valid' ('{layer}' has padding '{got.get(key)}')."
    if key == "strides":
        found = f" ('{layer}' has strides {tuple(got.get(key))})"
        return (CONVOLUTIONAL_STRIDES if is_conv_block else IDENTITY_STRIDES).format(conv=conv, found=found)
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
        got_types, expected_types = Counter(row["type"] for row in rows), Counter(row["type"] for row in expected)
        for kind in sorted(got_types | expected_types):
            got, want = got_types[kind], expected_types[kind]
            if got != want:
                return f"the model has {got} {kind} layer{'' if got == 1 else 's'} where the reference has {want}."
        return f"the model has {len(rows)} layers where the reference has {len(expected)}."
    for got, want in zip(rows, expected, strict=True):
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                return f"{_spoken(want['name'], expected)} ({want['type']}) {_has(key, got, want)}."
    return None


def error_message(name: str, case: dict, doing: str, error_type: str, text: str, built: list[dict], line=None) -> str:
    """The message for an error the student's code raised while ``doing`` something: a diagnosis
    from what ResNet50 had ``built`` or from the shapes in Keras' message if either tells one,
    else where it arose (``line``: the student's line number and text, if found) and Keras' words."""
    message = _first_line(text)
    diagnosis = diagnose_partial_resnet50(built, error_type, message, case) or diagnose_shape_error(name, message, case)
    if diagnosis:
        return f"{name}: {diagnosis}"
    hint = ""
    if re.search(r"name .* used .* times|unique", message, re.I):
        hint = " Two layers have the same name: check the names built from conv_name_base and bn_name_base."
    where = f" at line {line[0]} of its cell (`{line[1][:120]}`)" if line else ""
    return f"{name} failed{where} while {doing} ({error_type}: {message}).{hint}"


def _first_line(text: str) -> str:
    """The line of an error's message that says what went wrong (Keras puts a heading first)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1 and lines[0].startswith("Exception encountered when calling"):
        return lines[1]
    return lines[0] if lines else ""


def not_a_layer(operation: str) -> str:
    if operation == "Add":
        return (
            "the addition is written as `X + X_shortcut`, which Keras records as an operation, not a layer: "
            "write `X = Add()([X, X_shortcut])`, as the specification says (the checks compare the layers)."
        )
    return f"an operation on tensors ({operation}) is not a Keras layer: use the layers the specification names."


def diagnose_shape_error(name: str, message: str, case: dict) -> str | None:
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
    conv = f"res{case['stage']}{case['block']}_branch"
    is_conv_block = name == "convolutional_block"
    for main, other in (shapes[:2], shapes[1::-1]):
        if main[0] == size and other[0] == size and main[2] != other[2]:
            return (
                f"the main path and the shortcut have {main[2]} and {other[2]} channels at the addition: "
                f"the last convolution ('2c') and the shortcut must both end with F3 = {case['filters'][2]} channels."
            )
        if main[:2] != other[:2] and main[0] == size:
            if other == (height, width, channels) and is_conv_block:
                return NO_SHORTCUT_CONVOLUTION.format(conv=conv)
            if other[0] == size - (case["f"] - 1):
                return SAME_PADDING
            if is_conv_block and other[0] == -(-size // stride):
                return SHORTCUT_INPUT.format(conv=conv)
            return (CONVOLUTIONAL_STRIDES if is_conv_block else IDENTITY_STRIDES).format(conv=conv, found="")
    return None


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
            return (
                f"stage {stage} needs {len(letters) - 1} identity blocks ('{letters[1]}' to '{letters[-1]}') after its "
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
    for layer, want in _named(expected).items():
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
            return f"'{layer}' {_has_filters(got, want, f'stage {match.group(1)}')}."
        for key in ("pool_size", "strides", "padding", "kernel_size", "activation"):
            if got.get(key) != want.get(key):
                return f"'{layer}' {_has(key, got, want)}."
    return _first_difference(rows, expected)


def diagnose_partial_resnet50(rows: list[dict], error_type: str, message: str, case: dict) -> str | None:
    """Compare what ResNet50 had built when Keras failed (``rows``) with the reference, stage by stage, and
    name the first layer whose output goes wrong, or the step that failed (None without both, as in a worker)."""
    if not rows or "summary" not in case:
        return None
    built = _named(rows)
    named = [row for row in case["summary"] if "#" not in row["name"] and row["type"] != "InputLayer"]
    reference = [row for row in named if row["name"] in built]  # what was built, in the reference's order
    for want in reference:
        got = built[want["name"]]
        where = place_of(want["name"]) or "the model"
        if got["output_shape"] != want["output_shape"]:
            why = ""
            if got.get("filters") != want.get("filters"):
                why = f" (it {_has_filters(got, want, where.split(',')[0])})"
            elif got.get("strides") != want.get("strides"):
                why = f" (it {_has('strides', got, want)})"
            return (
                f"in {where}, '{want['name']}' outputs {shape_text(got)} where the reference outputs "
                f"{shape_text(want)}{why}; Keras then failed: {message.rstrip('.')}."
            )
    if not reference:
        return None
    last = reference[-1]["name"]
    return (
        f"everything up to {place_of(last) or repr(last)} matches the reference, then the "
        f"next step fails ({error_type}: {message})."
    )


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
