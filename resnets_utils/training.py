"""Training for the notebooks: a fast ``fit`` for students, a smoke run under nbgrader.

The fast path trains the very same model (saved, then trained by a child process on
Keras' torch backend) and loads the trained weights back into it, with no graph tracing
before the first step (15-40 s on TensorFlow). How much it gains depends on the CPU: on
the course's first 2-core machine a training step at batch 32 took 1.55 s there against
3.05 s on TensorFlow; on an AVX-512 machine TensorFlow's step is the faster one (0.32 s
against 0.56 s) and the two paths are about even. ``make bench`` measures both side by side.
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

# nbgrader sets this variable while it executes a notebook (autograde, validate, generate).
GRADING_VARIABLE = "NBGRADER_EXECUTION"
SMOKE_EXAMPLES = 4  # one eager step on 4 pictures: about 3 s for ResNet-50, 7 s on 32
# Set to 0 to always use a plain model.fit in this process.
FAST_VARIABLE = "RESNETS_FAST_TRAINING"


def grading() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get(GRADING_VARIABLE))


def fast_path_available() -> bool:
    """True when the torch backend can train here and the fast path is not switched off."""
    return os.environ.get(FAST_VARIABLE, "1") != "0" and importlib.util.find_spec("torch") is not None


def fit(model, X, Y, epochs: int, batch_size: int = 32, fast: bool | None = None, **options):
    """Train ``model`` like ``model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)``.

    Returns a ``keras.callbacks.History``. With ``fast`` (the default when PyTorch is
    installed) the training runs in a child process on the torch backend, with the same
    model, data, epochs, batch size, optimizer and loss; ``validation_data``,
    ``callbacks``, ``shuffle`` and ``verbose`` work as in ``model.fit``. The optimizer
    starts afresh at each call. Interrupting it keeps the epochs that finished.

    While nbgrader grades a notebook, only one batch of ``SMOKE_EXAMPLES`` pictures is
    trained, eagerly: grading needs to know that training runs, and compiling
    ResNet-50's training step takes about 30 s on 2 cores where one eager step takes 5 s.
    """
    if grading():
        model.run_eagerly = True
        return model.fit(X[:SMOKE_EXAMPLES], Y[:SMOKE_EXAMPLES], epochs=1, batch_size=batch_size, **options)
    if fast is None:
        fast = fast_path_available()
    if not fast:
        return model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)
    return _fit_in_child(model, X, Y, epochs, batch_size, **options)


def _fit_in_child(model, X, Y, epochs, batch_size, validation_data=None, callbacks=(), verbose=1, shuffle=True):
    import keras

    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model first: model.compile(optimizer=..., loss=..., metrics=[...])")
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
