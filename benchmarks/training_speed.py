"""A plain ``model.fit`` against the course's two training engines, side by side.

``resnets_utils.training.fit`` uses the engine that ``make calibrate`` measured faster on
this CPU (marked "default" in the table). Same reference ResNet-50 (same initial
weights), same data, same optimizer, batch size and number of epochs. Times are
wall-clock seconds for the whole call, as a student waits for it (graph tracing and the
child process's start included).

    python benchmarks/training_speed.py [--epochs 2] [--batch-size 32]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from resnets_utils import training  # noqa: E402
from resnets_utils.data import convert_to_one_hot, load_dataset  # noqa: E402
from resnets_utils.reference import load_reference  # noqa: E402


def _fresh_model(build):
    keras.utils.set_random_seed(0)  # the same initial weights for both runs
    model = build(input_shape=(64, 64, 3), classes=6)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    arguments = parser.parse_args()

    X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, _ = load_dataset()
    X_train, X_test = X_train_orig / 255.0, X_test_orig / 255.0
    Y_train, Y_test = convert_to_one_hot(Y_train_orig, 6).T, convert_to_one_hot(Y_test_orig, 6).T
    build = load_reference()["ResNet50"]
    epochs, batch_size = arguments.epochs, arguments.batch_size

    def plain(model):
        return model.fit(X_train, Y_train, epochs=epochs, batch_size=batch_size, verbose=0)

    def engine(name):
        return lambda model: training.fit(model, X_train, Y_train, epochs, batch_size, engine=name, verbose=0)

    default = training.default_engine()
    paths = [("plain model.fit (TensorFlow)", plain)]
    for name, label in (("tensorflow", "fit, one tf.data pipeline"), ("torch", "fit, torch child process")):
        paths.append((label + (" (default)" if name == default else ""), engine(name)))
    rows = []
    for name, fit in paths:
        model = _fresh_model(build)
        start = time.perf_counter()
        fit(model)
        seconds = time.perf_counter() - start
        accuracy = model.evaluate(X_test, Y_test, verbose=0)[1]
        rows.append((name, seconds, epochs * len(X_train) / seconds, accuracy))

    print(f"ResNet-50, {len(X_train)} training pictures 64x64, {epochs} epochs, batch {batch_size}, ", end="")
    print(f"{os.cpu_count()} cores")
    print(f"{'path':38} {'seconds':>8} {'images/s':>9} {'test acc':>9} {'speed-up':>9}")
    for name, seconds, throughput, accuracy in rows:
        print(f"{name:38} {seconds:8.1f} {throughput:9.1f} {accuracy:9.3f} {rows[0][1] / seconds:8.2f}x")


if __name__ == "__main__":
    main()
