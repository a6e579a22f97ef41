"""Training for the notebooks: a fast ``fit`` for students, a smoke run under nbgrader.

``fit`` trains the very same model with one of two engines, whichever ``make calibrate``
measured faster on this CPU. The torch engine saves the model, trains it in a child
process on Keras' torch backend and loads the trained weights back, with no graph tracing
(15-40 s on TensorFlow): on the course's first 2-core machine its step at batch 32 took
1.55 s against TensorFlow's 3.05 s. The tensorflow engine trains in this process from one
``tf.data`` pipeline that lasts all epochs, without autotuning: a plain ``model.fit`` on
arrays builds a new, autotuned iterator every epoch and, on ResNet-50, deleting the old one
delays the next epoch's first step by up to 39 s (see ``input_pipeline``). ``make bench``
measures both engines against a plain ``model.fit``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from resnets_utils import FAST_VARIABLE, backend_choice

# nbgrader sets this variable while it executes a notebook (autograde, validate, generate).
GRADING_VARIABLE = "NBGRADER_EXECUTION"
SMOKE_EXAMPLES = 4  # one eager step on 4 pictures: about 3 s for ResNet-50, 7 s on 32
# 0: always a plain model.fit; 1: always the torch engine; unset: the engine that
# `make calibrate` measured faster here (torch when not measured). FAST_VARIABLE is defined
# in the package, which reads it before TensorFlow is imported.


def grading() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get(GRADING_VARIABLE))


def default_engine() -> str:
    """How ``fit`` trains here: ``"torch"`` (a child process), ``"tensorflow"`` (this process,
    one input pipeline) or ``"plain"`` (``model.fit`` itself, when switched off)."""
    setting = os.environ.get(FAST_VARIABLE, "")
    if setting == "0":
        return "plain"
    if importlib.util.find_spec("torch") is None:
        return "tensorflow"
    if setting == "1":
        return "torch"
    return "tensorflow" if backend_choice.recorded_choice() == "tensorflow" else "torch"


def fit(model, X, Y, epochs: int, batch_size: int = 32, engine: str | None = None, **options):
    """Train ``model`` like ``model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)``.

    Returns a ``keras.callbacks.History``. ``engine`` is ``"torch"``, ``"tensorflow"`` or
    ``"plain"``; by default the one ``default_engine()`` picks. The torch engine trains the same
    model, data, epochs, batch size, optimizer and loss in a child process; there
    ``validation_data``, ``callbacks``, ``shuffle`` and ``verbose`` work as in ``model.fit``,
    the optimizer starts afresh at each call, and interrupting keeps the finished epochs.

    While nbgrader grades a notebook, only one batch of ``SMOKE_EXAMPLES`` pictures is
    trained, eagerly: grading needs to know that training runs, and compiling
    ResNet-50's training step takes about 30 s on 2 cores where one eager step takes 5 s.
    """
    if grading():
        model.run_eagerly = True
        options.pop("validation_data", None)  # an evaluation of every test picture: not needed to know it runs
        return model.fit(X[:SMOKE_EXAMPLES], Y[:SMOKE_EXAMPLES], epochs=1, batch_size=batch_size, **options)
    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first: model.compile(optimizer=..., loss=..., metrics=[...])")
    engine = engine or default_engine()
    if engine == "torch":
        return _fit_in_child(model, X, Y, epochs, batch_size, **options)
    if engine == "tensorflow":
        return _fit_from_one_pipeline(model, X, Y, epochs, batch_size, **options)
    if engine == "plain":
        return model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)
    raise ValueError(f'engine must be "torch", "tensorflow" or "plain", not {engine!r}')


def _fit_from_one_pipeline(model, X, Y, epochs, batch_size, shuffle=True, **options):
    """``model.fit`` on TensorFlow from a single repeated ``tf.data`` pipeline."""
    import keras

    unsupported = {"sample_weight", "class_weight", "validation_split", "steps_per_epoch"} & set(options)
    if keras.backend.backend() != "tensorflow" or unsupported:
        return model.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, **options)
    # One batch of each epoch is short, as in model.fit, so epochs stay aligned.
    pictures = input_pipeline(X, Y, batch_size, shuffle=shuffle, repeat=True)
    steps = int(np.ceil(len(X) / batch_size))
    # shuffle=False: the pipeline shuffles; Keras would only warn that it ignores the flag.
    return model.fit(pictures, epochs=epochs, steps_per_epoch=steps, shuffle=False, **options)


def input_pipeline(X, Y, batch_size: int, shuffle: bool = False, repeat: bool = False):
    """A ``tf.data`` pipeline of ``(X, Y)`` batches, without tf.data's autotuning.

    At the end of a ResNet-50 ``fit``, deleting an autotuned iterator (``model.fit`` on
    arrays autotunes too) waited 18 to 39 s for tf.data's idle autotuning thread in 13 fits
    out of 17 on the course's AVX2 machine (TensorFlow 2.21); without autotuning, 0 s in 5
    out of 5. A batch takes milliseconds to slice and seconds to train on: one batch ahead
    is enough.
    """
    import tensorflow as tf

    X, Y = np.asarray(X, dtype="float32"), np.asarray(Y, dtype="float32")
    pictures = tf.data.Dataset.from_tensor_slices((X, Y))
    if shuffle:
        pictures = pictures.shuffle(len(X))  # a new order every epoch, as model.fit
    pictures = pictures.batch(batch_size)
    if repeat:
        pictures = pictures.repeat()
    options = tf.data.Options()
    options.autotune.enabled = False
    return pictures.prefetch(1).with_options(options)


def _fit_in_child(model, X, Y, epochs, batch_size, validation_data=None, callbacks=(), verbose=1, shuffle=True):
    import keras

    steps = int(np.ceil(len(X) / batch_size))
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*(callbacks or ()), history], model=model, epochs=epochs, steps=steps, verbose=0
    )
    with tempfile.TemporaryDirectory(prefix="resnets-fit-") as scratch:
        folder = Path(scratch)
        model.save(folder / "model.keras")
        np.save(folder / "x.npy", np.asarray(X, dtype="float32"))
        np.save(folder / "y.npy", np.asarray(Y, dtype="float32"))
        if validation_data is not None:
            np.save(folder / "x_val.npy", np.asarray(validation_data[0], dtype="float32"))
            np.save(folder / "y_val.npy", np.asarray(validation_data[1], dtype="float32"))
        job = {"epochs": epochs, "batch_size": batch_size, "shuffle": bool(shuffle)}
        (folder / "job.json").write_text(json.dumps(job))

        environment = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, "-m", "resnets_utils.torch_worker", str(folder)]
        errors = (folder / "stderr.txt").open("w+")  # a file: a full stderr pipe would stall the child
        child = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1)
        last_weights, logs = None, {}
        epoch_start = time.perf_counter()
        progress = None
        callback_list.on_train_begin()
        try:
            epoch = 0
            callback_list.on_epoch_begin(epoch)
            for line in child.stdout:
                message = json.loads(line)
                if "batch" in message:
                    if verbose == 1:
                        if progress is None:
                            print(f"Epoch {epoch + 1}/{epochs}")
                            # The logs are running means already: show them as they are.
                            progress = keras.utils.Progbar(steps, stateful_metrics=list(message["logs"]))
                        progress.update(message["batch"] + 1, values=list(message["logs"].items()), finalize=False)
                    callback_list.on_train_batch_end(message["batch"], message["logs"])
                    continue
                last_weights = message["weights"]
                logs = message["logs"]
                if verbose == 1 and progress is not None:
                    progress.update(steps, values=list(logs.items()), finalize=True)
                elif verbose:
                    seconds = time.perf_counter() - epoch_start
                    metrics = "".join(f" - {key}: {value:.4f}" for key, value in logs.items())
                    print(f"Epoch {epoch + 1}/{epochs} - {seconds:.0f}s{metrics}")
                progress = None
                callback_list.on_epoch_end(epoch, logs)
                epoch += 1
                epoch_start = time.perf_counter()
                if epoch < epochs:
                    callback_list.on_epoch_begin(epoch)
            if child.wait() != 0:
                errors.seek(0)
                raise RuntimeError(
                    f"training in the torch child process failed (exit code {child.returncode}); "
                    f"set {FAST_VARIABLE}=0 to train with a plain model.fit instead.\n{errors.read()[-3000:]}"
                )
        except KeyboardInterrupt:
            child.kill()
            child.wait()
            if last_weights:
                _load_weights(model, last_weights)
                print(f"Interrupted: the model keeps the weights of its last finished epoch ({epoch}).")
            raise
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            errors.close()
        if last_weights:
            _load_weights(model, last_weights)
        callback_list.on_train_end(logs)
    return history


def _load_weights(model, path) -> None:
    with np.load(path) as arrays:
        model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])
