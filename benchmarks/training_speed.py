"""A plain ``model.fit`` against the course's two training engines, side by side.

The baseline is a plain ``model.fit`` with TensorFlow's own settings, as a student would
write it without this package; it runs in a child process because the package turns on
TensorFlow's oneDNN kernels before TensorFlow is imported (``resnets_utils.use_onednn``),
which cannot be undone in a running process. The other rows run here, with them on:
``model.fit`` itself, then ``resnets_utils.training.fit``'s two engines (the one
``make calibrate`` measured faster on this CPU, and so used by default, is marked). Same
reference ResNet-50 (same initial weights), same data, same optimizer, batch size and
number of epochs. Times are wall-clock seconds for the whole call, as a student waits for
it (graph tracing and the torch child's start included).

    python benchmarks/training_speed.py [--epochs 2] [--batch-size 32]
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# First, so that it asks for oneDNN's kernels before Keras imports TensorFlow.
import resnets_utils  # noqa: E402

# isort: split
import keras  # noqa: E402

from resnets_utils import training  # noqa: E402
from resnets_utils.data import convert_to_one_hot, load_dataset  # noqa: E402
from resnets_utils.reference import load_reference  # noqa: E402


def _fresh_model(build):
    keras.utils.set_random_seed(0)  # the same initial weights for both runs
    model = build(input_shape=(64, 64, 3), classes=6)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _baseline_in_child(epochs: int, batch_size: int) -> tuple[float, float]:
    """Seconds and test accuracy of a plain ``model.fit`` with TensorFlow's own settings."""
    environment = {key: value for key, value in os.environ.items() if key != resnets_utils.ONEDNN_VARIABLE}
    environment[training.FAST_VARIABLE] = "0"  # the package then leaves oneDNN as TensorFlow decides
    command = [sys.executable, __file__, "--epochs", str(epochs), "--batch-size", str(batch_size), "--baseline"]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the baseline run failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)  # the child's part
    arguments = parser.parse_args()

    X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, _ = load_dataset()
    X_train, X_test = X_train_orig / 255.0, X_test_orig / 255.0
    Y_train, Y_test = convert_to_one_hot(Y_train_orig, 6).T, convert_to_one_hot(Y_test_orig, 6).T
    build = load_reference()["ResNet50"]
    epochs, batch_size = arguments.epochs, arguments.batch_size

    def run(fit):
        model = _fresh_model(build)
        start = time.perf_counter()
        fit(model)
        seconds = time.perf_counter() - start
        return seconds, model.evaluate(X_test, Y_test, verbose=0)[1]

    def plain(model):
        return model.fit(X_train, Y_train, epochs=epochs, batch_size=batch_size, verbose=0)

    if arguments.baseline:
        seconds, accuracy = run(plain)
        print(json.dumps({"seconds": seconds, "accuracy": accuracy}))
        return

    def engine(name):
        return lambda model: training.fit(model, X_train, Y_train, epochs, batch_size, engine=name, verbose=0)

    onednn = os.environ.get(resnets_utils.ONEDNN_VARIABLE, "as TensorFlow decides")
    rows = [("plain model.fit, TensorFlow's settings", *_baseline_in_child(epochs, batch_size))]
    default = training.default_engine()
    paths = [("plain model.fit, oneDNN on", plain)]
    for name, label in (("tensorflow", "fit, one tf.data pipeline"), ("torch", "fit, torch child process")):
        paths.append((label + (" (default)" if name == default else ""), engine(name)))
    rows += [(name, *run(fit)) for name, fit in paths]

    print(f"ResNet-50, {len(X_train)} training pictures 64x64, {epochs} epochs, batch {batch_size}, ", end="")
    print(f"{os.cpu_count()} cores; {resnets_utils.ONEDNN_VARIABLE}={onednn} except in the first row")
    print(f"{'path':40} {'seconds':>8} {'images/s':>9} {'test acc':>9} {'speed-up':>9}")
    for name, seconds, accuracy in rows:
        throughput = epochs * len(X_train) / seconds
        print(f"{name:40} {seconds:8.1f} {throughput:9.1f} {accuracy:9.3f} {rows[0][1] / seconds:8.2f}x")


if __name__ == "__main__":
    main()
