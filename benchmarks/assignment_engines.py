"""The assignment's own 10-epoch training: a plain ``model.fit`` against the course's ``fit``, in one run.

Same reference ResNet-50 (seed 1, as the notebook), same recipe as the training cell
(zero-started residual branches, BatchNormalization momentum 0.9, mirrored pictures, Adam
with warm-up and cosine decay, batch 128, the test set as validation data), oneDNN on.
Wall-clock seconds of the whole call, as a student waits for it. Appends its rows to
docs/performance.md. The course's ``fit`` keeps its input pipeline while this shows it
gaining at least 5% here; the 2026-12-01 rows also timed the torch engine, since removed.

    python benchmarks/assignment_engines.py [--epochs 10] [--engines fit,plain]
"""

import argparse
import datetime
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import resnets_utils  # noqa: E402, F401  (first: oneDNN on before TensorFlow loads)

# isort: split
import keras  # noqa: E402
import numpy as np  # noqa: E402

from resnets_utils import measured, training  # noqa: E402
from resnets_utils.data import convert_to_one_hot, load_dataset  # noqa: E402
from resnets_utils.measured import cpu_name  # noqa: E402
from resnets_utils.reference import load_reference  # noqa: E402

HEADING = "## The assignment's 10-epoch training on each engine (benchmarks/assignment_engines.py)"
COLUMNS = "| date | CPU | engine | epochs | seconds | images/s | first epoch s | test accuracy |"


def recipe_model(build, steps: int):
    keras.utils.set_random_seed(1)
    model = build(input_shape=(64, 64, 3), classes=6)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
            if layer.name.endswith("branch2c"):
                layer.gamma.assign(np.zeros(layer.gamma.shape))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps - steps // 10, warmup_target=0.004, warmup_steps=steps // 10
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.start, self.ends = time.perf_counter(), []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--engines", default="fit,plain")
    arguments = parser.parse_args()

    X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, _ = load_dataset()
    X_train, X_test = X_train_orig / 255.0, X_test_orig / 255.0
    Y_train, Y_test = convert_to_one_hot(Y_train_orig, 6).T, convert_to_one_hot(Y_test_orig, 6).T
    X = np.concatenate([X_train, X_train[:, :, ::-1]])
    Y = np.concatenate([Y_train, Y_train])
    build = load_reference()["ResNet50"]
    epochs, batch_size = arguments.epochs, 128
    steps = epochs * int(np.ceil(len(X) / batch_size))
    cpu, today = cpu_name(), datetime.date.today().isoformat()
    print(f"{'engine':12} {'seconds':>8} {'images/s':>9} {'1st epoch':>10} {'test acc':>9}", flush=True)
    for engine in arguments.engines.split(","):
        model = recipe_model(build, steps)
        times = EpochTimes()
        start = time.perf_counter()
        options = {"validation_data": (X_test, Y_test), "callbacks": [times], "verbose": 0}
        if engine == "plain":
            model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)
        else:
            training.fit(model, X, Y, epochs, batch_size, **options)
        seconds = time.perf_counter() - start
        accuracy = model.evaluate(X_test, Y_test, verbose=0)[1]
        first = times.ends[0] if times.ends else float("nan")
        rate = epochs * len(X) / seconds
        print(f"{engine:12} {seconds:8.1f} {rate:9.1f} {first:10.1f} {accuracy:9.3f}", flush=True)
        row = f"| {today} | {cpu} | {engine} | {epochs} | {seconds:.0f} | {rate:.1f} | {first:.0f} | {accuracy:.1%} |"
        measured.log_row(HEADING, COLUMNS, row)


if __name__ == "__main__":
    main()
