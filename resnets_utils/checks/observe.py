"""Everything that runs student code: the graded functions on the cases' fixed inputs.

What it records is plain data (layer rows, lists of numbers, one-line errors) for ``judge``."""

from __future__ import annotations

import contextlib
import functools
import io
import linecache
import os
import sys
import sysconfig
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np

from resnets_utils.architecture import NotALayerError, describe
from resnets_utils.checks.cases import block_arguments, block_input, initializers, resnet50_inputs
from resnets_utils.checks.judge import REPEATED, CheckFailed, error_message, not_a_layer, numbers

# The functions whose local variables hold what ResNet50 had built when Keras failed.
STUDENT_FUNCTIONS = ("ResNet50", "identity_block", "convolutional_block")


@contextlib.contextmanager
def quiet():
    """Keep warnings and anything written to stderr (Python or C level) out of the cell."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink, warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        os.dup2(saved_fd, 2)
        os.close(saved_fd)


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
        return {"error": f"{name}: {not_a_layer(error.operation)}"}


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


def _observe_resnet50(ResNet50, case):
    import keras

    model = _build(
        "ResNet50",
        lambda: ResNet50(input_shape=tuple(case["input_shape"]), classes=case["classes"]),
        case,
        built=_built_before,
        returns=(keras.Model, "a keras Model"),
    )

    def run():
        return {"rows": describe(model), "outputs": resnet50_outputs(model, case).tolist()}

    # A model that builds nearly always runs, but not every one does (an empty Sequential, a Lambda).
    return _build("ResNet50", run, case, doing="running the model on two pictures")


# Code that is not the student's: the standard library, installed packages, this package.
_LIBRARIES = tuple(
    str(Path(folder).resolve())
    for folder in {*sysconfig.get_paths().values(), str(Path(__file__).resolve().parents[1])}
    if folder
)


def student_line(error: BaseException) -> tuple[int, str] | None:
    """``(line number, text)`` of the student's line where ``error`` arose: the deepest frame of its
    traceback in code that is no library's (a notebook cell, a grader's cell); None if none is."""
    found = None
    for frame, number in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARIES) and not filename.startswith("<frozen"):
            found = (filename, number)
    if found is None:
        return None
    text = linecache.getline(*found).strip()
    return (found[1], text) if text else None


def _build(name: str, call, case: dict, doing: str = "building the layers", built=None, returns=None):
    """Run ``call()`` (which builds or runs the student's layers), turning errors into diagnoses.

    ``built(error)``, if given, reads the layers built when the error was raised; ``returns``,
    if given, is ``(type, in words)``: what the result must be.
    """
    try:
        result = call()
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not implemented yet: replace each `raise NotImplementedError()` "
            "between ### START CODE HERE ### and ### END CODE HERE ### with your code."
        ) from None
    except Exception as error:  # the student's code may fail in any way; explain, don't crash
        rows = built(error) if built else []
        line = student_line(error)
        raise CheckFailed(error_message(name, case, doing, type(error).__name__, str(error), rows, line)) from None
    if result is None:
        raise CheckFailed(f"{name} returns None: end it with `return X`.")
    if returns and not isinstance(result, returns[0]):
        raise CheckFailed(f"{name} must return {returns[1]}, not a {type(result).__name__}.")
    return result


def _symbolic_block(function, name, case, training=None):
    """The student's block as a Keras model on a symbolic input of the case's shape."""
    import keras

    inputs = keras.Input(shape=tuple(case["input_shape"][1:]))
    outputs = _build(
        name,
        lambda: function(inputs, training=training, **block_arguments(case)),
        case,
        returns=(keras.KerasTensor, "the output tensor X"),
    )
    return _build(name, lambda: keras.Model(inputs, outputs), case)


def block_outputs(function, name, case, only: str | None = None) -> dict[str, np.ndarray]:
    """The block's outputs on the case's input, for every initializer and training mode
    (or only the configuration named ``only``, e.g. ``"constant/training=True"``)."""
    X = block_input(case["input_shape"], case["input_seed"])
    outputs = {}
    for initializer_name, initializer in initializers().items():
        for training in (True, False):
            key = f"{initializer_name}/training={training}"
            if only in (None, key):  # a partial, not a lambda: it binds this iteration's training and initializer
                call = functools.partial(
                    function, X, training=training, initializer=initializer, **block_arguments(case)
                )
                outputs[key] = numbers(_build(name, call, case), f"{name}'s output values")
    return outputs


def resnet50_outputs(model, case) -> np.ndarray:
    """The model's predictions on the case's fixed inputs, in inference mode.

    A plain call, not ``model.predict``: predict first traces the whole network into a
    graph, which costs more than the two pictures themselves (1.7 s against 0.4 s).
    """
    return np.asarray(model(resnet50_inputs(case), training=False))


def _built_before(error: Exception) -> list[dict]:
    """The layer rows of what the student's functions had built when ``error`` was raised, read
    from the tensors their frames held (their local variables); empty if none can be found."""
    import keras

    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__) if frame.f_code.co_name in STUDENT_FUNCTIONS]
    given = frames[0].f_locals.get("X_input") if frames else None  # the stub's input tensor, in its locked lines
    if not frames or frames[0].f_code.co_name != "ResNet50" or not isinstance(given, keras.KerasTensor):
        return []
    outputs = [
        value
        for frame in frames
        for value in frame.f_locals.values()
        if isinstance(value, keras.KerasTensor) and value is not given
    ]
    try:
        return describe(keras.Model(given, outputs))
    except Exception:  # none, or not one connected graph (a second Input, a tensor from elsewhere): say nothing
        return []
