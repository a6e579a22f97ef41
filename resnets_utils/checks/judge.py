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
from resnets_utils.language import N_, say, unstopped
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
        self.hidden = hidden or say("its code fails under this case: call it with these arguments to see where")


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
            changes.append(say("another input shape"))
        if case.get("filters") != public.get("filters"):
            changes.append(say("other filters"))
        if (case.get("stage"), case.get("block")) != (public.get("stage"), public.get("block")):
            changes.append(say("another stage and block"))
    if changes:
        return say(
            "{name} passes the visible case but not a hidden one (with {changes}): {failure}.",
            name=name,
            changes=", ".join(changes),
            failure=failure.hidden,
        )
    return say("{name} passes the visible case but not a hidden one: {failure}.", name=name, failure=failure.hidden)


INITIALIZER_IGNORED = N_(
    "some convolution ignores the `initializer` argument ({evidence}): give every Conv2D "
    "kernel_initializer=initializer(seed=0)."
)
NO_SHORTCUT_CONVOLUTION = N_(
    "the shortcut path needs its own Conv2D named conv_name_base + '1' ('{conv}1', F3 filters, "
    "1x1, stride (s, s)) followed by BatchNormalization named bn_name_base + '1'."
)
SHORTCUT_INPUT = N_("the shortcut convolution '{conv}1' must take the block's input (X_shortcut), not the main path.")


def numbers(values, what: str) -> np.ndarray:
    """``values`` as a float32 array; :class:`CheckFailed` when they are not finite numbers."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            found = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError, OverflowError, RecursionError):
        raise CheckFailed(say("{values} are not numbers: return the output tensor X.", values=what)) from None
    if not np.isfinite(found).all():
        raise CheckFailed(
            say("{values} contain NaN or infinite values, which a block of these layers never gives.", values=what)
        )
    return found


def _values_differ(values: str, got: np.ndarray, expected: np.ndarray, advice: str) -> str | None:
    """None if the values match within TOLERANCE; else what differs, and ``advice`` (marked with N_)."""
    if got.shape == expected.shape and np.allclose(got, expected, **TOLERANCE):
        return None
    difference = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan")
    return say(
        "the layers match the reference but {values} do not (largest difference {difference:.3g}; "
        "tolerance rtol={rtol}, atol={atol}): check which tensor each {advice}.",
        values=values,
        difference=difference,
        rtol=TOLERANCE["rtol"],
        atol=TOLERANCE["atol"],
        advice=say(advice),
    )


def judge(name: str, observation: dict, case: dict) -> None:
    """Raise :class:`CheckFailed` naming the likely mistake if ``observation`` differs from ``case``'s."""
    if "error" in observation:
        raise CheckFailed(observation["error"])
    graded = graded_function(name)
    if graded.kind == MODEL:
        got = numbers(observation["outputs"], say("the predictions"))
        expected = numbers(case["outputs"], say("expected"))
        rows, built = observation["rows"], observation.get("built", [])
        diagnosis = diagnose_model(rows, case["summary"], case, graded.stages, built) or _values_differ(
            say("the predictions on fixed inputs"), got, expected, graded.values_hint
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
    if told := _block_values(name, observation, case):
        diagnosis, numbers_shown = told
        hidden = say(VALUES_DIFFER) if numbers_shown else unstopped(diagnosis)
        raise CheckFailed(f"{name}: {diagnosis}", hidden)


VALUES_DIFFER = N_(
    "the layers match the reference's but the output values differ: check which tensor each layer "
    "receives and the order of the steps"
)


def _model_hidden(rows: list[dict], case: dict) -> str:
    """What may be said of a hidden case of a model: the last Dense layer's units, or only that it differs."""
    dense = [row for row in rows if row.get("type") == "Dense"]
    if dense and dense[-1].get("units") != case.get("classes"):
        return say(
            "with classes = {classes} the last Dense layer needs `classes` units: Dense(classes, ...)",
            classes=case.get("classes"),
        )
    return say("the model it builds for this input differs from the reference's: check what depends on input_shape")


def _block_values(name: str, observation: dict, case: dict) -> tuple[str, bool] | None:
    """What differs in a block's output values, and whether the message shows numbers of the case
    (its output shape or largest difference); None if they match."""
    outputs = {k: numbers(v, say("the output values ({key})", key=k)) for k, v in observation["outputs"].items()}
    for key, expected in case["outputs"].items():
        expected = numbers(expected, say("expected"))
        got = outputs.get(key)
        if got is None or got.shape != expected.shape:
            return say(
                "output shape {got} differs from the expected {expected}.",
                got=None if got is None else got.shape,
                expected=expected.shape,
            ), True
        if np.allclose(got, expected, **TOLERANCE):
            continue
        initializer_name = key.split("/")[0]
        other_mode = f"{initializer_name}/training={'False' if key.endswith('True') else 'True'}"
        if np.allclose(got, np.asarray(case["outputs"][other_mode]), **TOLERANCE):
            return say(TRAINING_NOT_PASSED, where=""), False
        if initializer_name == "constant" and all(
            np.allclose(outputs[k], np.asarray(v), **TOLERANCE)
            for k, v in case["outputs"].items()
            if k.startswith("glorot_uniform/")
        ):
            return say(INITIALIZER_IGNORED, evidence=say("it always uses the same initializer")), False
        again = numbers(observation["again"][REPEATED], say("the output values"))
        if not np.allclose(outputs[REPEATED], again, **TOLERANCE):
            return say(INITIALIZER_IGNORED, evidence=say("the output changes from one call to the next")), False
        differ = _values_differ(
            say("the output values ({key})", key=key), got, expected, graded_function(name).values_hint
        )
        return (differ, True) if differ else None
    return None


def _named(rows):
    return {row["name"]: row for row in rows}


def _first_difference(rows, expected) -> str | None:
    if len(rows) != len(expected):
        got_types, expected_types = Counter(row["type"] for row in rows), Counter(row["type"] for row in expected)
        for kind in sorted(got_types | expected_types):
            got, want = got_types[kind], expected_types[kind]
            if got != want:
                if got == 1:
                    return say(
                        "the model has {got} {kind} layer where the reference has {expected}.",
                        got=got,
                        kind=kind,
                        expected=want,
                    )
                return say(
                    "the model has {got} {kind} layers where the reference has {expected}.",
                    got=got,
                    kind=kind,
                    expected=want,
                )
        return say(
            "the model has {got} layers where the reference has {expected}.", got=len(rows), expected=len(expected)
        )
    for got, want in zip(rows, expected, strict=True):
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                return say(
                    "{layer} ({kind}) has {key} {got} where {expected} is expected.",
                    layer=_spoken(want["name"], expected),
                    kind=want["type"],
                    key=key,
                    got=got.get(key),
                    expected=want.get(key),
                )
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
    plain = plain_words(message, held, line[1] if line else "", lines or {})
    number, code = (line[0], line[1][:120]) if line else (None, None)
    error = message[:200] if plain else message[:300]  # Keras' own words, shortened
    template = FAILED[bool(line), bool(plain)]
    return say(template, name=name, line=number, code=code, doing=doing, plain=plain, error=error)


# An error the student's code raised, by (whether its line is known, whether plain words tell what it means).
FAILED = {
    (True, True): N_(
        "{name} failed at line {line} of its cell (`{code}`) while {doing}: {plain} (the error reads: {error})."
    ),
    (True, False): N_("{name} failed at line {line} of its cell (`{code}`) while {doing}: the error reads: {error}."),
    (False, True): N_("{name} failed while {doing}: {plain} (the error reads: {error})."),
    (False, False): N_("{name} failed while {doing}: the error reads: {error}."),
}


def plain_words(message: str, held=None, line: str = "", lines=None) -> str | None:
    """What an error of Python or Keras means for this assignment, in a sentence; None if unknown."""
    if held:
        variable, kind = held
        return say(
            "{variable} holds a {kind} layer, not a tensor: the line that made it creates the layer without "
            "calling it; call it on the tensor, as in `{variable} = {kind}(...)({variable})`",
            variable=variable,
            kind=kind,
        )
    if re.search(r"\bkernel_initializer\s*=\s*initializer\s*[,)]", line):
        return say("the initializer is passed without being called: write kernel_initializer=initializer(seed=0)")
    if match := re.search(r"name ['\"](\w+)['\"] is not defined", message):
        return say(
            "`{name}` is not defined at that point: use the function's arguments or a name set above",
            name=match.group(1),
        )
    if match := re.search(r"(\w+)\(\) got an unexpected keyword argument '(\w+)'", message):
        return say(
            "{function} is given an argument `{argument}` that it does not take",
            function=match.group(1),
            argument=match.group(2),
        )
    if match := re.search(r"(\w+)\(\) missing \d+ required positional arguments?: (.+)", message):
        return say("{function} is called without {arguments}", function=match.group(1), arguments=match.group(2))
    if match := re.search(r"name ['\"]?(\w+)['\"]? is used (\d+) times", message):
        layer, place = match.group(1), naming.in_words(match.group(1))
        built = (lines or {}).get(layer, [])
        if len(built) > 1:  # the first two lines that built it
            (first, first_code), (second, second_code) = built[0], built[1]
            on_lines = {
                "first": first,
                "first_code": first_code[:70],
                "second": second,
                "second_code": second_code[:70],
            }
            if place:
                return say(
                    "two layers are named '{layer}' ({place}): two blocks are called with the same stage and "
                    "block, on lines {first} (`{first_code}`) and {second} (`{second_code}`); every layer "
                    "needs a name of its own",
                    layer=layer,
                    place=place,
                    **on_lines,
                )
            return say(
                "two layers are named '{layer}', on lines {first} (`{first_code}`) and {second} "
                "(`{second_code}`); every layer needs a name of its own",
                layer=layer,
                **on_lines,
            )
        if place:
            return say(
                "two layers are named '{layer}' ({place}): two blocks are called with the same stage and "
                "block; every layer needs a name of its own",
                layer=layer,
                place=place,
            )
        return say("two layers are named '{layer}'; every layer needs a name of its own", layer=layer)
    if "output size would be negative" in message or "Computed output size" in message:
        return say(
            "a window is larger than the tensor it slides over: padding 'valid' shrinks height and width "
            "by the window's size minus 1"
        )
    if "Only input tensors may be passed" in message:
        return say("a layer is passed where a tensor belongs: create each layer and call it on X in one line")
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
        return say(
            "the addition is written as `X + X_shortcut`, which Keras records as an operation, not a layer: "
            "write `X = Add()([X, X_shortcut])`, as the specification says (the checks compare the layers)."
        )
    return say(
        "an operation on tensors ({operation}) is not a Keras layer: use the layers the specification names.",
        operation=operation,
    )


def diagnose_shape_error(name: str, message: str, case: dict) -> str | None:
    """Explain an addition of two tensors of different shapes, from the shapes themselves."""
    shapes = [tuple(int(n) for n in re.findall(r"\d+", found)) for found in re.findall(r"\(([\d, None]+)\)", message)]
    shapes = [shape[-3:] for shape in shapes if len(shape) >= 3]
    if "incompatible" not in message.lower() or len(shapes) < 2:
        return None
    is_model = graded_function(name).kind == MODEL
    if is_model and shapes[0][:2] != shapes[1][:2]:
        return say(
            "a block adds two tensors of different heights and widths, {first} and {second}: its main "
            "path and its shortcut shrink the input differently; in convolutional_block both take their "
            "stride from the argument s (strides=(s, s)), whatever s is.",
            first=shapes[0],
            second=shapes[1],
        )
    if is_model:
        return say(
            "a block adds two tensors of different shapes {first} and {second}: within a stage, the "
            "convolutional block and the identity blocks take the same filters list, so that every "
            "identity block receives as many channels (F3) as it outputs.",
            first=shapes[0],
            second=shapes[1],
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
            if isinstance(filters, list):
                return say(
                    "the main path and the shortcut have {first} and {second} channels at the addition: "
                    "the last convolution ('2c') and the shortcut must both end with {ends} channels.",
                    first=main[2],
                    second=other[2],
                    ends=ends,
                )
            return say(
                "the main path and the shortcut have {first} and {second} channels at the addition: "
                "the main path and the shortcut must both end with {ends} channels.",
                first=main[2],
                second=other[2],
                ends=ends,
            )
        if main[:2] != other[:2] and main[0] == size:
            if other == (height, width, channels) and is_conv_block:
                return say(NO_SHORTCUT_CONVOLUTION, conv=conv)
            if "f" in case and other[0] == size - (case["f"] - 1):
                return say(SAME_PADDING)
            if is_conv_block and other[0] == -(-size // stride):
                return say(SHORTCUT_INPUT, conv=conv)
            return say(CONVOLUTIONAL_STRIDES if is_conv_block else IDENTITY_STRIDES, conv=conv, found="")
    return None


def diagnose_model(rows: list[dict], expected: list[dict], case: dict, stages: Stages, built=()) -> str | None:
    """One sentence naming the likely mistake in a ResNet's layers, or None if they match; ``stages``: the
    model's stage table; ``built``: every named layer the function built, used or not, with the line of
    the model's function that built it."""
    student = _named(rows)
    for layer in built:  # a block whose result is not used: its layers are built but not in the model
        start = naming.block_start(layer["name"])
        if layer["name"] not in student and start:
            stage, block = start
            if layer.get("at"):
                return say(
                    "block '{block}' of stage {stage} is built on line {line} (`{code}`), but its result is "
                    "never used: assign it to X, as in `X = {function}(X, ...)`, so that the next block takes it.",
                    block=block,
                    stage=stage,
                    line=layer["at"][0],
                    code=layer["at"][1][:70],
                    function=stages.identity,
                )
            return say(
                "block '{block}' of stage {stage} is built, but its result is never used: assign it to X, "
                "as in `X = {function}(X, ...)`, so that the next block takes it.",
                block=block,
                stage=stage,
                function=stages.identity,
            )
    for row in rows:
        if row.get("training") is True:
            return say(
                "'{layer}' is called with training=True, which hard-wires BatchNormalization's "
                "mode into the model: call the blocks with training=None so that Keras uses batch "
                "statistics in fit and the moving averages in evaluate and predict.",
                layer=row["name"],
            )
    reference = _named(expected)
    projection, identity = stages.words(stages.projection), stages.words(stages.identity)
    one_kind = stages.projection == stages.identity  # blocks that decide their shortcut by themselves
    for stage, letters in stages.blocks.items():
        found = sorted(naming.blocks((row["name"] for row in rows), stage))
        projected = [b for b in letters if naming.conv(stage, b, naming.SHORTCUT) in reference]
        if found != list(letters):
            found_text = ", ".join(repr(b) for b in found) or say("none")
            if projected == [letters[0]] and not one_kind:
                return say(
                    "stage {stage} needs {count} {identity}s ('{first}' to '{last}') after its {projection} "
                    "'a'; found blocks {found}.",
                    stage=stage,
                    count=len(letters) - 1,
                    identity=identity,
                    first=letters[1],
                    last=letters[-1],
                    projection=projection,
                    found=found_text,
                )
            return say(
                "stage {stage} needs {count} {identity}s ('a' to '{last}'); found blocks {found}.",
                stage=stage,
                count=len(letters),
                identity=identity,
                last=letters[-1],
                found=found_text,
            )
        if one_kind and (told := _self_deciding_stage(stage, stages, student, reference)):
            return told
        if projected and naming.conv(stage, projected[0], naming.SHORTCUT) not in student:
            if not one_kind:
                return say(
                    "stage {stage} must start with a {projection} named 'a' (it has a shortcut convolution).",
                    stage=stage,
                    projection=projection,
                )
            return say(
                "block 'a' of stage {stage} changes the shape, so its shortcut needs a convolution "
                "('{shortcut}'): pass s={stride} to its {projection}.",
                stage=stage,
                shortcut=naming.conv(stage, "a", naming.SHORTCUT),
                stride=stages.strides[stage],
                projection=projection,
            )
        convolutional = [b for b in letters if b not in projected and naming.conv(stage, b, naming.SHORTCUT) in student]
        if convolutional:
            blocks_text = ", ".join(repr(b) for b in convolutional)
            if not one_kind:
                return say(
                    "stage {stage} has {count} {projection}s: blocks {blocks} are {identity}s (their shortcut "
                    "has no convolution): build them with {function}.",
                    stage=stage,
                    count=len(convolutional) + 1,
                    projection=projection,
                    blocks=blocks_text,
                    identity=identity,
                    function=stages.identity,
                )
            if len(convolutional) > 1:
                return say(
                    "blocks {blocks} of stage {stage} keep the shape, so the shortcut is the input itself, "
                    "with no convolution.",
                    blocks=blocks_text,
                    stage=stage,
                )
            return say(
                "block {blocks} of stage {stage} keeps the shape, so the shortcut is the input itself, "
                "with no convolution.",
                blocks=blocks_text,
                stage=stage,
            )
        if wrong := _first_stride(stage, stages, student, projection if not one_kind else identity, first=one_kind):
            return wrong
    for layer, want in _named(expected).items():
        got = student.get(layer)
        if got is None:
            if layer == "avg_pool":
                size = f"({', '.join(map(str, want['pool_size']))}), " if want.get("pool_size") else ""
                return say(
                    "add {layer}({size}name='avg_pool') after stage {stage}.",
                    layer=want["type"],
                    size=size,
                    stage=max(stages.blocks),
                )
            if "#" in layer:  # a layer nobody names: say where it goes
                return say("{layer} is missing.", layer=_spoken(layer, expected))
            return say("no layer named '{layer}'.", layer=layer)
        if got["type"] != want["type"]:
            return say(
                "'{layer}' must be of type {expected}, not {got}.", layer=layer, expected=want["type"], got=got["type"]
            )
        place = naming.place(layer)
        if place and place.block and not place.batchnorm and got.get("filters") != want.get("filters"):
            return say(
                "'{layer}' has {got} filters where stage {stage} needs {expected}: "
                "check the filters list of that stage.",
                layer=layer,
                got=got.get("filters"),
                stage=place.stage,
                expected=want.get("filters"),
            )
        for key in ("pool_size", "strides", "padding", "kernel_size", "activation"):
            if got.get(key) != want.get(key):
                return say(
                    "'{layer}' has {key} {got} where {expected} is expected.",
                    layer=layer,
                    key=key,
                    got=got.get(key),
                    expected=want.get(key),
                )
    return _first_difference(rows, expected)


def _first_stride(stage: int, stages: Stages, student: dict, block: str, first: bool = False) -> str | None:
    """What is wrong with the stride of ``block`` (the words of its kind; ``first``: say "first"), the
    first block of ``stage``; None if it is right."""
    stride = student[naming.conv(stage, "a", "2a")]["strides"]
    if stride == [stages.strides[stage]] * 2:
        return None
    if first:
        return say(
            "stage {stage}'s first {block} needs s={expected}, found s={got} "
            "(s=1 in stage 2, where max pooling has already shrunk the input; s=2 in stages 3 to 5).",
            stage=stage,
            block=block,
            expected=stages.strides[stage],
            got=stride[0],
        )
    return say(
        "stage {stage}'s {block} needs s={expected}, found s={got} "
        "(s=1 in stage 2, where max pooling has already shrunk the input; s=2 in stages 3 to 5).",
        stage=stage,
        block=block,
        expected=stages.strides[stage],
        got=stride[0],
    )


def _self_deciding_stage(stage: int, stages: Stages, student: dict, reference: dict) -> str | None:
    """For blocks that give themselves a projection when the shape changes (``basic_block``): a stage's
    stride, then its number of filters, which decide where the projections are."""
    first = naming.conv(stage, "a", "2a")
    if wrong := _first_stride(stage, stages, student, stages.words(stages.identity), first=True):
        return wrong
    for letter in stages.blocks[stage][1:]:  # the others keep the size the first one gave
        got = student.get(naming.conv(stage, letter, "2a"), {}).get("strides")
        want = reference[naming.conv(stage, letter, "2a")].get("strides")
        if got is not None and got != want:
            return say(
                "block '{block}' of stage {stage} needs s={expected}, found s={got}: only the first block "
                "of a stage changes the size.",
                block=letter,
                stage=stage,
                expected=want[0],
                got=got[0],
            )
    want, got = reference[first].get("filters"), student[first].get("filters")
    if got != want:
        each = ", ".join(str(reference[naming.conv(n, "a", "2a")].get("filters")) for n in stages.blocks)
        return say(
            "the blocks of stage {stage} need {expected} filters, found {got} ({each} in stages {first} to {last}).",
            stage=stage,
            expected=want,
            got=got,
            each=each,
            first=min(stages.blocks),
            last=max(stages.blocks),
        )
    return None


def _in_stage(name: str) -> int | None:
    """The stage of a layer that :func:`naming.in_words` places (the stem or a course block's layer), else None."""
    return naming.place(name).stage if name in naming.STEM or naming.is_block_layer(name) else None


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
        where = naming.in_words(want["name"]) or say("the model")
        if got["output_shape"] != want["output_shape"]:
            fields = {
                "where": where,
                "layer": want["name"],
                "got": shape_text(got),
                "expected": shape_text(want),
                "error": unstopped(message),
            }
            if got.get("filters") != want.get("filters"):
                stage = _in_stage(want["name"])
                return say(
                    "in {where}, '{layer}' outputs {got} where the reference outputs {expected} (it has "
                    "{got_filters} filters where {stage} needs {expected_filters}: check the filters list of "
                    "that stage); Keras then failed: {error}.",
                    stage=say("the model") if stage is None else say("stage {stage}", stage=stage),
                    got_filters=got.get("filters"),
                    expected_filters=want.get("filters"),
                    **fields,
                )
            if got.get("strides") != want.get("strides"):
                return say(
                    "in {where}, '{layer}' outputs {got} where the reference outputs {expected} (it has strides "
                    "{got_strides} where {expected_strides} is expected); Keras then failed: {error}.",
                    got_strides=got.get("strides"),
                    expected_strides=want.get("strides"),
                    **fields,
                )
            return say(
                "in {where}, '{layer}' outputs {got} where the reference outputs {expected}; Keras then "
                "failed: {error}.",
                **fields,
            )
    if not reference:
        return None
    last = reference[-1]["name"]
    place = naming.in_words(last) or repr(last)
    if plain := plain_words(message):
        return say(
            "everything up to {place} matches the reference, then the next step fails ({plain}).",
            place=place,
            plain=plain,
        )
    return say(
        "everything up to {place} matches the reference, then the next step fails (the error reads: {error}).",
        place=place,
        error=message,
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
        return say("the {kind} after the input", kind=kind)
    source = inputs[0]
    if "#" not in source:
        return say("the {kind} after '{layer}'", kind=kind, layer=source)
    ancestor, added = source, by_name[source]["type"] == "Add"
    while "#" in ancestor and by_name[ancestor]["inputs"]:
        ancestor = by_name[ancestor]["inputs"][0]
        added = added or by_name[ancestor]["type"] == "Add"
    words = naming.in_words(ancestor)
    place = words or f"'{ancestor}'"
    # After a block's addition: the ancestor is a block's layer, or an unplaced name that says "block".
    in_block = naming.is_block_layer(ancestor) if words else "block" in ancestor
    if added and in_block:
        return say("the {kind} after the addition of {place}", kind=kind, place=place)
    return say("the {kind} after {place}", kind=kind, place=place)
