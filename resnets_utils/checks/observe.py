"""Everything that runs student code: the graded functions on the cases' fixed inputs.

What it records is plain data (layer rows, lists of numbers, one-line errors) for ``judge``."""

from __future__ import annotations

import contextlib
import functools
import io
import linecache
import os
import re
import sys
import sysconfig
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np

from resnets_utils.assignments import MODEL, graded_function, graded_names
from resnets_utils.checks.cases import block_arguments, block_input, initializers, resnet50_inputs
from resnets_utils.checks.compare import first_difference
from resnets_utils.checks.judge import REPEATED, CheckFailed, error_message, not_a_layer, numbers
from resnets_utils.language import N_, say
from resnets_utils.models.architecture import NotALayerError, describe, given_name, kind, layer_settings, only_layers


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


def observe(name: str, function, case: dict, stop_at_layers: bool = False) -> dict:
    """What the checks compare for one case: the layer rows and the output values.

    Only plain data (lists, strings, numbers): the autograder computes this in a sandbox
    and judges it in another process. A function that cannot be built gives ``{"error": ...}``.
    ``stop_at_layers``: a block whose layers already differ from the reference's is not run
    further (``judge`` names that difference before anything else); the grader observes in full.
    """
    try:
        with quiet():
            if graded_function(name).kind == MODEL:
                return _observe_model(name, function, case)
            return _observe_block(name, function, case, stop_at_layers)
    except CheckFailed as failure:
        return {"error": str(failure)}
    except NotALayerError as error:
        return {"error": f"{name}: {not_a_layer(error.operation)}"}


def _observe_block(name, function, case, stop_at_layers=False):
    graph, given, output = _recorded_block(function, name, case)
    observation = {"graph": graph}
    if "error" in graph:
        return observation  # the graph up to the failure is compared first; then the error is reported
    import keras

    try:  # a functional model of it finds operations that are not layers, and names used twice
        model = _build(name, lambda: keras.Model(given, output), case)
        only_layers(model)
    except CheckFailed as failure:
        observation["model_error"] = str(failure)
        return observation
    with contextlib.suppress(RecursionError):  # the summary the grader takes as expected from the reference
        observation["rows"] = describe(model)  # (a layer called twice makes a cycle: no summary, none needed)
    calls = []  # those of the run with training=True and another initializer, which every layer must take

    stopped = False

    def record_variants() -> None:
        graph["training_true"] = [call["training"] for call in calls]
        graph["constant"] = [call["settings"].get("kernel_initializer") for call in calls]

    def layers_differ() -> bool:  # judge names a difference in the layers before anything else
        nonlocal stopped
        record_variants()
        stopped = first_difference(name, graph, case["summary"], case) is not None
        return stopped

    try:
        outputs = block_outputs(function, name, case, calls=calls, enough=layers_differ if stop_at_layers else None)
        observation["outputs"] = {k: v.tolist() for k, v in outputs.items()}
        record_variants()
        if stopped:
            return observation
        # A second run tells a missing `initializer` (random weights) from a wrong order of steps.
        observation["again"] = {k: v.tolist() for k, v in block_outputs(function, name, case, REPEATED).items()}
    except CheckFailed as failure:
        observation["outputs_error"] = str(failure)  # reported after any mistake in the layers
    return observation


def _recorded_block(function, name, case):
    """``(graph, input, output)``: the student's block called on a symbolic input of the case's shape,
    with every layer call it made (see :func:`recording`), connected to the output or not."""
    import keras

    given = keras.Input(shape=tuple(case["input_shape"][1:]))
    output = None
    with recording(given) as graph:
        try:
            output = _build(
                name,
                lambda: function(given, training=None, **block_arguments(case)),
                case,
                returns=(keras.KerasTensor, N_("{name} must return the output tensor X, not a {found}.")),
            )
        except CheckFailed as failure:
            graph["error"] = str(failure)
    graph["output"] = graph.pop("source")(output)
    return graph, given, output


@contextlib.contextmanager
def recording(given, function=None):
    """Record, as plain data, every layer called on symbolic tensors while the block runs.

    Each call gives ``{"type", "name", "settings", "inputs", "shape", "training", "line", "layer"}``:
    ``name`` is None for a name Keras chose; ``inputs`` are the indexes of the calls whose outputs it
    takes (-1: the block's input ``given``; None: a tensor no layer made, such as ``X + Y``);
    ``shape`` is None when the call failed; ``line`` is the student's ``[number, text]``; ``layer``
    is the index of the first call of the same layer object; ``at`` is the line, in ``function`` if given,
    that led to the call (in ResNet50, the line calling a block). Yields ``{"calls": [...], "source": f}``,
    ``f(tensor)`` being the index of the call that made ``tensor``.
    """
    import keras

    calls, made_by, kept = [], {id(given): -1}, [given]  # kept alive, so that no id is reused
    first_call = {}
    original = keras.Layer.__call__
    depth = 0

    def source(tensor):
        return made_by.get(id(tensor))

    def hooked(layer, *args, **kwargs):
        nonlocal depth
        if depth:  # a layer called inside another layer: part of that one
            return original(layer, *args, **kwargs)
        training = kwargs.get("training", args[1] if len(args) > 1 else None)
        tensors = keras.tree.flatten((args[:1], {k: v for k, v in kwargs.items() if k != "training"}))
        index = len(calls)
        call = {
            "type": kind(layer),
            "name": given_name(layer),
            "settings": layer_settings(layer),
            "inputs": [source(t) for t in tensors if isinstance(t, keras.KerasTensor)],
            "shape": None,
            "training": training if isinstance(training, bool) else None,
            "line": caller_line(),
            "at": builder_line(getattr(function, "__code__", None)),
            "layer": first_call.setdefault(id(layer), index),
        }
        calls.append(call)
        kept.append(layer)
        depth += 1
        try:
            outputs = original(layer, *args, **kwargs)
        finally:
            depth -= 1
        if isinstance(outputs, keras.KerasTensor):
            made_by[id(outputs)] = index
            kept.append(outputs)
            call["shape"] = [None if n is None else int(n) for n in outputs.shape[1:]]
        return outputs

    keras.Layer.__call__ = hooked
    try:
        yield {"calls": calls, "source": source}
    finally:
        keras.Layer.__call__ = original


def caller_line(code=None) -> list | None:
    """``[number, text]`` of the innermost line on the stack that is in no library's code (the student's),
    or that runs ``code`` if given."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if (frame.f_code is code) if code is not None else _students(filename):
            text = linecache.getline(filename, frame.f_lineno).strip()
            return [frame.f_lineno, text] if text else None
        frame = frame.f_back
    return None


def builder_line(code=None) -> list | None:
    """``[number, text]`` of the line, in a model's own code, that led to the layer being called: the
    innermost line of the student's that is in no checked block's function (where ResNet50 or a helper
    it calls builds a block), and at most ``code``'s (the model's function) if given."""
    blocks = {name for name in graded_names() if graded_function(name).kind != MODEL}
    frame = sys._getframe(1)
    while frame is not None:
        code_here = frame.f_code
        if code_here is code or (_students(code_here.co_filename) and code_here.co_name not in blocks):
            text = linecache.getline(code_here.co_filename, frame.f_lineno).strip()
            return [frame.f_lineno, text] if text else None
        frame = frame.f_back
    return None


def _observe_model(name, function, case):
    import keras

    with recording(None, function) as record:
        model = _build(
            name,
            lambda: function(input_shape=tuple(case["input_shape"]), classes=case["classes"]),
            case,
            built=_built_before,
            returns=(keras.Model, N_("{name} must return a keras Model, not a {found}.")),
            calls=record["calls"],
        )
    # The named layers built, used or not, and the line of the model's function that built each.
    built = [{"name": c["name"], "at": c["at"]} for c in record["calls"] if c["name"]]

    def run():
        return {"rows": describe(model), "outputs": resnet50_outputs(model, case).tolist(), "built": built}

    # A model that builds nearly always runs, but not every one does (an empty Sequential, a Lambda).
    return _build(name, run, case, doing=N_("running the model on two pictures"))


# Code that is not the student's: the standard library, installed packages, this package.
_LIBRARIES = tuple(
    str(Path(folder).resolve())
    for folder in {*sysconfig.get_paths().values(), str(Path(__file__).resolve().parents[1])}
    if folder
)


def _students(filename: str) -> bool:
    """Whether code in ``filename`` is the student's: in no library, not Python's own."""
    return not filename.startswith(_LIBRARIES) and not filename.startswith("<frozen")


def _student_frame(error: BaseException):
    """``(frame, line number)`` of the deepest frame of ``error``'s traceback in the student's code, or None."""
    found = None
    for frame, number in traceback.walk_tb(error.__traceback__):
        if _students(frame.f_code.co_filename):
            found = (frame, number)
    return found


def student_line(error: BaseException) -> tuple[int, str] | None:
    """``(line number, text)`` of the student's line where ``error`` arose: the deepest frame of its
    traceback in code that is no library's (a notebook cell, a grader's cell); None if none is."""
    found = _student_frame(error)
    text = linecache.getline(found[0].f_code.co_filename, found[1]).strip() if found else ""
    return (found[1], text) if text else None


def _held_layer(error: BaseException) -> tuple[str, str] | None:
    """``(variable, layer type)`` if a variable on the student's failing line holds a layer, not a tensor."""
    import keras

    found = _student_frame(error)
    if found is None:
        return None
    frame, number = found
    text = linecache.getline(frame.f_code.co_filename, number)
    for variable, value in frame.f_locals.items():
        if isinstance(value, keras.Layer) and re.search(rf"\(\s*{re.escape(variable)}\s*[,)\]]", text):
            return variable, type(value).__name__
    return None


def _build(name: str, call, case: dict, doing: str = N_("building the layers"), built=None, returns=None, calls=()):
    """Run ``call()`` (which builds or runs the student's layers), turning errors into diagnoses.

    ``doing``: what ``call`` does, in words marked with N_ (said here); ``built(error)``, if given,
    reads the layers built when the error was raised; ``returns``, if given, is ``(type, message)``:
    what the result must be, and the message (marked with N_, its fields ``{name}`` and ``{found}``,
    the type found) if it is not; ``calls``, the layer calls recorded meanwhile (a name used twice
    is told with the lines that built it).
    """
    try:
        result = call()
    except NotImplementedError:
        raise CheckFailed(
            say(
                "{name} is not implemented yet: replace each `raise NotImplementedError()` "
                "between ### START CODE HERE ### and ### END CODE HERE ### with your code.",
                name=name,
            )
        ) from None
    except Exception as error:  # the student's code may fail in any way; explain, don't crash
        rows = built(error) if built else []
        line = student_line(error)
        lines = {}
        for recorded in calls:
            if recorded["name"] and recorded["at"]:
                lines.setdefault(recorded["name"], []).append(recorded["at"])
        message = error_message(
            name, case, say(doing), type(error).__name__, str(error), rows, line, _held_layer(error), lines
        )
        raise CheckFailed(message) from None
    if result is None:
        raise CheckFailed(say("{name} returns None: end it with `return X`.", name=name))
    if returns and not isinstance(result, returns[0]):
        raise CheckFailed(say(returns[1], name=name, found=type(result).__name__))
    return result


# The run whose layer calls ``block_outputs`` records: each BatchNormalization must take its
# `training` and each Conv2D its `initializer`.
RECORDED = "constant/training=True"


def block_outputs(function, name, case, only: str | None = None, calls=None, enough=None) -> dict[str, np.ndarray]:
    """The block's outputs on the case's input, for every initializer and training mode
    (or only the configuration named ``only``, e.g. ``"constant/training=True"``); ``calls``, a list,
    receives the layer calls of the ``RECORDED`` run (the first), after which ``enough()``, if given,
    may end the runs."""
    X = block_input(case["input_shape"], case["input_seed"])
    outputs = {}
    for initializer_name, initializer in initializers().items():
        for training in (True, False):
            key = f"{initializer_name}/training={training}"
            if only in (None, key):  # a partial, not a lambda: it binds this iteration's training and initializer
                call = functools.partial(
                    function, X, training=training, initializer=initializer, **block_arguments(case)
                )
                recorded = calls is not None and key == RECORDED
                with recording(None) if recorded else contextlib.nullcontext() as record:
                    outputs[key] = numbers(_build(name, call, case), say("{name}'s output values", name=name))
                if recorded:
                    calls.extend(record["calls"])
                    if enough is not None and enough():
                        return outputs
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

    # The graded functions' local variables hold what the model's function had built.
    graded = graded_names()
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__) if frame.f_code.co_name in graded]
    given = frames[0].f_locals.get("X_input") if frames else None  # the stub's input tensor, in its locked lines
    is_model = bool(frames) and graded_function(frames[0].f_code.co_name).kind == MODEL
    if not is_model or not isinstance(given, keras.KerasTensor):
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
