"""Judging what the student's function built and computed, and naming the likely mistake.

Pure functions over plain data (layer rows, cases, output values, error messages): nothing
here builds a model, so the autograder judges in a process that never runs student code.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from resnets_utils.assignments import MODEL, Stages, graded_function
from resnets_utils.checks.compare import (
    CONVOLUTIONAL_STRIDES,
    IDENTITY_STRIDES,
    SAME_PADDING,
    TRAINING_NOT_PASSED,
    first_difference,
    hidden_words,
)
from resnets_utils.models import naming
from resnets_utils.models.architecture import shape_text

TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}

# The configuration run a second time: a block whose output changes from one call to
# the next builds some convolution with random weights, whatever it was given.
REPEATED = "glorot_uniform/training=False"


class CheckFailed(AssertionError):  # noqa: N818 (reads as the verdict in a student's traceback)
    """A graded function does not match the reference; the message says why. ``hidden``: what may be
    said of it when the case is hidden, in the reference's words only (nothing the student's code made)."""

    def __init__(self, message: str = "", hidden: str | None = None):
        super().__init__(message)
        self.hidden = hidden or "its code fails under this case: call it with these arguments to see where"


def hidden_case(name: str, case: dict, public: dict | None, failure: CheckFailed) -> str:
    """What a student is told of a hidden case ``failure``: what the case changes from the visible
    ``public`` one and what went wrong, in words that carry none of the case's values or outputs
    beyond the arguments named."""
    changes = []
    if public is not None:
        for key, said in (("f", "f = {}"), ("s", "s = {}"), ("classes", "classes = {}")):
            if key in case and case.get(key) != public.get(key):
                changes.append(said.format(case[key]))
        # A block's input shape starts with the batch size, which the student need not vary.
        is_model = graded_function(name).kind == MODEL
        shape = (lambda c: c.get("input_shape")) if is_model else (lambda c: c.get("input_shape", [])[1:])
        if shape(case) != shape(public):
            changes.append("another input shape")
        if case.get("filters") != public.get("filters"):
            changes.append("other filters")
        if (case.get("stage"), case.get("block")) != (public.get("stage"), public.get("block")):
            changes.append("another stage and block")
    with_changes = f" (with {', '.join(changes)})" if changes else ""
    return f"{name} passes the visible case but not a hidden one{with_changes}: {failure.hidden}."


INITIALIZER_IGNORED = (
    "some convolution ignores the `initializer` argument ({evidence}): give every Conv2D "
    "kernel_initializer=initializer(seed=0)."
)
NO_SHORTCUT_CONVOLUTION = (
    "the shortcut path needs its own Conv2D named conv_name_base + '1' ('{conv}1', F3 filters, "
    "1x1, stride (s, s)) followed by BatchNormalization named bn_name_base + '1'."
)
SHORTCUT_INPUT = "the shortcut convolution '{conv}1' must take the block's input (X_shortcut), not the main path."


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
    graded = graded_function(name)
    if graded.kind == MODEL:
        got, expected = numbers(observation["outputs"], "the predictions"), numbers(case["outputs"], "expected")
        rows, built = observation["rows"], observation.get("built", [])
        diagnosis = diagnose_model(rows, case["summary"], case, graded.stages, built) or _values_differ(
            "the predictions on fixed inputs", got, expected, graded.values_hint
        )
        if diagnosis:
            raise CheckFailed(f"{name}: {diagnosis}", _model_hidden(rows, case))
        return
    graph = observation["graph"]
    difference = first_difference(name, graph, case["summary"], case)
    if difference:
        raise CheckFailed(f"{name}: {difference.text}", hidden_words(name, difference, case["summary"], case))
    for found, failure in ((graph, "error"), (observation, "model_error"), (observation, "outputs_error")):
        if failure in found:  # told after any difference in the layers
            raise CheckFailed(found[failure])
    if diagnosis := _block_values(name, observation, case):
        numbers_shown = "largest difference" in diagnosis or "output shape" in diagnosis
        hidden = VALUES_DIFFER if numbers_shown else diagnosis.rstrip(".")
        raise CheckFailed(f"{name}: {diagnosis}", hidden)


VALUES_DIFFER = (
    "the layers match the reference's but the output values differ: check which tensor each layer "
    "receives and the order of the steps"
)


def _model_hidden(rows: list[dict], case: dict) -> str:
    """What may be said of a hidden case of a model: the last Dense layer's units, or only that it differs."""
    dense = [row for row in rows if row.get("type") == "Dense"]
    if dense and dense[-1].get("units") != case.get("classes"):
        return f"with classes = {case.get('classes')} the last Dense layer needs `classes` units: Dense(classes, ...)"
    return "the model it builds for this input differs from the reference's: check what depends on input_shape"


def _block_values(name: str, observation: dict, case: dict) -> str | None:
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
        return _values_differ(f"the output values ({key})", got, expected, graded_function(name).values_hint)
    return None


def _named(rows):
    return {row["name"]: row for row in rows}


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


def error_message(
    name: str, case: dict, doing: str, error_type: str, text: str, built: list[dict], line=None, held=None, lines=None
) -> str:
    """The message for an error the student's code raised while ``doing`` something: a diagnosis from
    what ResNet50 had ``built`` or from the shapes in Keras' message if either tells one, else where it
    arose (``line``: the student's line number and text, if found), what it means in plain words and,
    shortened, Keras' own; ``held``: ``(variable, layer type)`` when a variable on that line holds a layer;
    ``lines``: the lines that built each named layer."""
    message = _first_line(text)
    diagnosis = diagnose_partial_resnet50(built, message, case) or diagnose_shape_error(name, message, case)
    if diagnosis:
        return f"{name}: {diagnosis}"
    where = f" at line {line[0]} of its cell (`{line[1][:120]}`)" if line else ""
    plain = plain_words(message, held, line[1] if line else "", lines or {})
    said = f"{plain} (the error reads: {message[:200]})" if plain else f"the error reads: {message[:300]}"
    return f"{name} failed{where} while {doing}: {said}."


def plain_words(message: str, held=None, line: str = "", lines=None) -> str | None:
    """What an error of Python or Keras means for this assignment, in a sentence; None if unknown."""
    if held:
        variable, kind = held
        return (
            f"{variable} holds a {kind} layer, not a tensor: the line that made it creates the layer without "
            f"calling it; call it on the tensor, as in `{variable} = {kind}(...)({variable})`"
        )
    if re.search(r"\bkernel_initializer\s*=\s*initializer\s*[,)]", line):
        return "the initializer is passed without being called: write kernel_initializer=initializer(seed=0)"
    if match := re.search(r"name ['\"](\w+)['\"] is not defined", message):
        return f"`{match.group(1)}` is not defined at that point: use the function's arguments or a name set above"
    if match := re.search(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'", message):
        return f"{match.group(1)} is given an argument `{match.group(2)}` that it does not take"
    if match := re.search(r"(\w+)\(\) missing \d+ required positional arguments?: (.+)", message):
        return f"{match.group(1)} is called without {match.group(2)}"
    if match := re.search(r"name ['\"]?(\w+)['\"]? is used (\d+) times", message):
        layer, place = match.group(1), naming.in_words(match.group(1))
        repeated = f" ({place}): two blocks are called with the same stage and block" if place else ""
        built = (lines or {}).get(layer, [])
        if len(built) > 1:
            repeated += ", on lines " + " and ".join(f"{n} (`{text[:70]}`)" for n, text in built[:2])
        return f"two layers are named '{layer}'{repeated}; every layer needs a name of its own"
    if "output size would be negative" in message or "Computed output size" in message:
        return (
            "a window is larger than the tensor it slides over: padding 'valid' shrinks height and width "
            "by the window's size minus 1"
        )
    if "Only input tensors may be passed" in message:
        return "a layer is passed where a tensor belongs: create each layer and call it on X in one line"
    return None


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
    is_model = graded_function(name).kind == MODEL
    if is_model and shapes[0][:2] != shapes[1][:2]:
        return (
            f"a block adds two tensors of different heights and widths, {shapes[0]} and {shapes[1]}: its main "
            "path and its shortcut shrink the input differently; in convolutional_block both take their "
            "stride from the argument s (strides=(s, s)), whatever s is."
        )
    if is_model:
        return (
            f"a block adds two tensors of different shapes {shapes[0]} and {shapes[1]}: within a stage, the "
            "convolutional block and the identity blocks take the same filters list, so that every "
            "identity block receives as many channels (F3) as it outputs."
        )
    _, height, width, channels = case["input_shape"]
    stride = case.get("s", 1)
    size = -(-height // stride)  # what the block's output should have: ceil(height / s)
    conv = naming.conv(case["stage"], case["block"], "")
    is_conv_block = name == "convolutional_block"
    for main, other in (shapes[:2], shapes[1::-1]):
        if main[0] == size and other[0] == size and main[2] != other[2]:
            filters = case["filters"]
            ends = f"F3 = {filters[2]}" if isinstance(filters, list) and len(filters) == 3 else f"filters = {filters}"
            last = "the last convolution ('2c')" if isinstance(filters, list) else "the main path"
            return (
                f"the main path and the shortcut have {main[2]} and {other[2]} channels at the addition: "
                f"{last} and the shortcut must both end with {ends} channels."
            )
        if main[:2] != other[:2] and main[0] == size:
            if other == (height, width, channels) and is_conv_block:
                return NO_SHORTCUT_CONVOLUTION.format(conv=conv)
            if "f" in case and other[0] == size - (case["f"] - 1):
                return SAME_PADDING
            if is_conv_block and other[0] == -(-size // stride):
                return SHORTCUT_INPUT.format(conv=conv)
            return (CONVOLUTIONAL_STRIDES if is_conv_block else IDENTITY_STRIDES).format(conv=conv, found="")
    return None


def diagnose_model(rows: list[dict], expected: list[dict], case: dict, stages: Stages, built=()) -> str | None:
    """One sentence naming the likely mistake in a ResNet's layers, or None if they match; ``stages``: the
    model's stage table; ``built``: every named layer the function built, used or not, with the line of
    the model's function that built it."""
    student = _named(rows)
    for layer in built:  # a block whose result is not used: its layers are built but not in the model
        place = naming.in_words(layer["name"])
        if layer["name"] not in student and naming.block_start(layer["name"]):
            at = f" on line {layer['at'][0]} (`{layer['at'][1][:70]}`)" if layer.get("at") else ""
            stage, block = place.split(", ")
            return (
                f"{block} of {stage} is built{at}, but its result is never used: assign it to X, "
                f"as in `X = {stages.identity}(X, ...)`, so that the next block takes it."
            )
    for row in rows:
        if row.get("training") is True:
            return (
                f"'{row['name']}' is called with training=True, which hard-wires BatchNormalization's "
                "mode into the model: call the blocks with training=None so that Keras uses batch "
                "statistics in fit and the moving averages in evaluate and predict."
            )
    reference = _named(expected)
    projection, identity = stages.words(stages.projection), stages.words(stages.identity)
    for stage, letters in stages.blocks.items():
        found = sorted(naming.blocks((row["name"] for row in rows), stage))
        projected = [b for b in letters if naming.conv(stage, b, naming.SHORTCUT) in reference]
        if found != list(letters):
            found_text = ", ".join(repr(b) for b in found) or "none"
            if projected == [letters[0]] and projection != identity:
                return (
                    f"stage {stage} needs {len(letters) - 1} {identity}s ('{letters[1]}' to '{letters[-1]}') after "
                    f"its {projection} 'a'; found blocks {found_text}."
                )
            needs = f"{len(letters)} {identity}s ('a' to '{letters[-1]}')"
            return f"stage {stage} needs {needs}; found blocks {found_text}."
        if projection == identity and (told := _self_deciding_stage(stage, stages, student, reference)):
            return told
        if projected and naming.conv(stage, projected[0], naming.SHORTCUT) not in student:
            if projection != identity:
                return f"stage {stage} must start with a {projection} named 'a' (it has a shortcut convolution)."
            return (
                f"block 'a' of stage {stage} changes the shape, so its shortcut needs a convolution "
                f"('{naming.conv(stage, 'a', naming.SHORTCUT)}'): pass s={stages.strides[stage]} to its {projection}."
            )
        convolutional = [b for b in letters if b not in projected and naming.conv(stage, b, naming.SHORTCUT) in student]
        if convolutional:
            blocks_text = ", ".join(repr(b) for b in convolutional)
            if projection != identity:
                return (
                    f"stage {stage} has {len(convolutional) + 1} {projection}s: blocks {blocks_text} are "
                    f"{identity}s (their shortcut has no convolution): build them with {stages.identity}."
                )
            keeps = (
                f"blocks {blocks_text} of stage {stage} keep"
                if len(convolutional) > 1
                else (f"block {blocks_text} of stage {stage} keeps")
            )
            return f"{keeps} the shape, so the shortcut is the input itself, with no convolution."
        if wrong := _first_stride(
            stage, stages, student, projection if projection != identity else f"first {identity}"
        ):
            return wrong
    for layer, want in _named(expected).items():
        got = student.get(layer)
        if got is None:
            if layer == "avg_pool":
                size = f"({', '.join(map(str, want['pool_size']))}), " if want.get("pool_size") else ""
                return f"add {want['type']}({size}name='avg_pool') after stage {max(stages.blocks)}."
            if "#" in layer:  # a layer nobody names: say where it goes
                return f"{_spoken(layer, expected)} is missing."
            return f"no layer named '{layer}'."
        if got["type"] != want["type"]:
            return f"'{layer}' must be of type {want['type']}, not {got['type']}."
        place = naming.place(layer)
        if place and place.block and not place.batchnorm and got.get("filters") != want.get("filters"):
            return f"'{layer}' {_has_filters(got, want, f'stage {place.stage}')}."
        for key in ("pool_size", "strides", "padding", "kernel_size", "activation"):
            if got.get(key) != want.get(key):
                return f"'{layer}' {_has(key, got, want)}."
    return _first_difference(rows, expected)


def _first_stride(stage: int, stages: Stages, student: dict, block: str) -> str | None:
    """What is wrong with the stride of ``block``, the first block of ``stage``; None if it is right."""
    stride = student[naming.conv(stage, "a", "2a")]["strides"]
    if stride == [stages.strides[stage]] * 2:
        return None
    return (
        f"stage {stage}'s {block} needs s={stages.strides[stage]}, found s={stride[0]} "
        "(s=1 in stage 2, where max pooling has already shrunk the input; s=2 in stages 3 to 5)."
    )


def _self_deciding_stage(stage: int, stages: Stages, student: dict, reference: dict) -> str | None:
    """For blocks that give themselves a projection when the shape changes (``basic_block``): a stage's
    stride, then its number of filters, which decide where the projections are."""
    first = naming.conv(stage, "a", "2a")
    if wrong := _first_stride(stage, stages, student, f"first {stages.words(stages.identity)}"):
        return wrong
    for letter in stages.blocks[stage][1:]:  # the others keep the size the first one gave
        got = student.get(naming.conv(stage, letter, "2a"), {}).get("strides")
        want = reference[naming.conv(stage, letter, "2a")].get("strides")
        if got is not None and got != want:
            return (
                f"block '{letter}' of stage {stage} needs s={want[0]}, found s={got[0]}: only the first block "
                "of a stage changes the size."
            )
    want, got = reference[first].get("filters"), student[first].get("filters")
    if got != want:
        each = ", ".join(str(reference[naming.conv(n, "a", "2a")].get("filters")) for n in stages.blocks)
        stages_text = f"stages {min(stages.blocks)} to {max(stages.blocks)}"
        return f"the blocks of stage {stage} need {want} filters, found {got} ({each} in {stages_text})."
    return None


def diagnose_partial_resnet50(rows: list[dict], message: str, case: dict) -> str | None:
    """Compare what ResNet50 had built when Keras failed (``rows``) with the reference, stage by stage, and
    name the first layer whose output goes wrong, or the step that failed (None without both, as in a worker)."""
    if not rows or "summary" not in case:
        return None
    built = _named(rows)
    named = [row for row in case["summary"] if "#" not in row["name"] and row["type"] != "InputLayer"]
    reference = [row for row in named if row["name"] in built]  # what was built, in the reference's order
    for want in reference:
        got = built[want["name"]]
        where = naming.in_words(want["name"]) or "the model"
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
        f"everything up to {naming.in_words(last) or repr(last)} matches the reference, then the "
        f"next step fails ({plain_words(message) or 'the error reads: ' + message})."
    )


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
    place = naming.in_words(ancestor) or f"'{ancestor}'"
    if added and "block" in place:
        return f"the {kind} after the addition of {place}"
    return f"the {kind} after {place}"
