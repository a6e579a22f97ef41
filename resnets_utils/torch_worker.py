"""The child process of the fast training path: trains a saved Keras model on the torch backend.

Run as ``python -m resnets_utils.torch_worker FOLDER``. ``FOLDER`` holds ``model.keras``
(compiled), ``x.npy``, ``y.npy``, optional ``x_val.npy``/``y_val.npy`` and ``job.json``
(``epochs``, ``batch_size``, ``shuffle``). The worker reports on stdout, one JSON object
per line: ``{"batch": i, "logs": ...}`` after each batch, ``{"epoch": e, "logs": ...}``
after each epoch (once ``epoch-E.npz`` holds ``model.get_weights()``, so an interrupted
run keeps its finished epochs). Keras keeps weights in the same layout on every
backend, so the parent (TensorFlow) sets them unchanged.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before Keras is imported: this process's whole point

import keras  # noqa: E402
import numpy as np  # noqa: E402


def _report_channel():
    """Stdout for the reports alone: anything else printed from now on goes to stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


class _Reporter(keras.callbacks.Callback):
    def __init__(self, folder: Path, channel):
        super().__init__()
        self.folder = folder
        self.channel = channel

    def _report(self, message: dict) -> None:
        self.channel.write(json.dumps(message) + "\n")

    def on_train_batch_end(self, batch, logs=None):
        self._report({"batch": batch, "logs": {k: float(v) for k, v in (logs or {}).items()}})

    def on_epoch_end(self, epoch, logs=None):
        path = self.folder / f"epoch-{epoch + 1}.npz"
        np.savez(path, *self.model.get_weights())
        self._report({"epoch": epoch, "logs": {k: float(v) for k, v in (logs or {}).items()}, "weights": str(path)})


def main(folder: Path) -> None:
    channel = _report_channel()
    job = json.loads((folder / "job.json").read_text())
    model = keras.saving.load_model(folder / "model.keras", compile=True)
    validation = None
    if (folder / "x_val.npy").exists():
        validation = (np.load(folder / "x_val.npy"), np.load(folder / "y_val.npy"))
    model.fit(
        np.load(folder / "x.npy"),
        np.load(folder / "y.npy"),
        epochs=job["epochs"],
        batch_size=job["batch_size"],
        shuffle=job.get("shuffle", True),
        validation_data=validation,
        verbose=0,
        callbacks=[_Reporter(folder, channel)],
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
