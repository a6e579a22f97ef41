"""How fast ResNet-50 trains here: a plain ``model.fit``, with and without oneDNN, and the course's ``fit``.

One table, one run: the same reference ResNet-50 (same initial weights), data, optimizer,
batch size and epochs on each row, timed as a student waits for the whole call (graph
tracing included). The first row runs in a child process with TensorFlow's own settings,
because oneDNN, once TensorFlow is loaded, cannot be switched. Below the table: the float32
peak of a large matrix product here, and the share of it a training step reaches, from the
FLOPs per training picture counted over the model's layers. Appends its rows, dated and
labelled with the CPU, to docs/performance.md.

    python benchmarks/training_speed.py [--epochs 2] [--batch-size 128]
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if "--defaults" in sys.argv:  # the child: TensorFlow loads before the package can set oneDNN
    import keras  # noqa: F401

from resnets_utils import measured, settings, training  # noqa: E402
from resnets_utils.data import convert_to_one_hot, load_dataset  # noqa: E402
from resnets_utils.reference import load_reference  # noqa: E402

HEADING = "## Training speed (`make bench`, benchmarks/training_speed.py)"
COLUMNS = (
    "| date | CPU | path | epochs | batch | seconds | images/s | vs defaults | vs oneDNN "
    "| float32 peak GFLOP/s | share of peak |"
)


def fresh_model(build):
    import keras

    keras.utils.set_random_seed(0)  # the same initial weights on every row
    model = build(input_shape=(64, 64, 3), classes=6)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def training_flops_per_picture(model) -> float:
    """Forward FLOPs of the convolutions and dense layers for one picture, times 3 (forward and backward)."""
    import keras

    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel_h, kernel_w, channels_in, channels_out = layer.kernel.shape
            _, height, width, _ = layer.output.shape
            flops += 2 * kernel_h * kernel_w * channels_in * channels_out * height * width
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3.0 * flops  # the backward pass costs about twice the forward one


def float32_peak(size: int = 4096, repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` float32 products of two ``size`` x ``size`` matrices."""
    import tensorflow as tf

    a, b = tf.random.normal((size, size)), tf.random.normal((size, size))
    (a @ b).numpy()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def timed(build, X, Y, epochs, batch_size, course_fit: bool) -> float:
    model = fresh_model(build)
    start = time.perf_counter()
    if course_fit:
        training.fit(model, X, Y, epochs, batch_size, verbose=0)
    else:
        model.fit(X, Y, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def defaults_in_child(epochs: int, batch_size: int) -> float:
    environment = {key: value for key, value in os.environ.items() if key != settings.ONEDNN}
    command = [sys.executable, __file__, "--epochs", str(epochs), "--batch-size", str(batch_size), "--defaults"]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the run with TensorFlow's settings failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--defaults", action="store_true", help=argparse.SUPPRESS)  # the child's part
    arguments = parser.parse_args()
    epochs, batch_size = arguments.epochs, arguments.batch_size

    X_train_orig, Y_train_orig, *_ = load_dataset()
    X, Y = X_train_orig / 255.0, convert_to_one_hot(Y_train_orig, 6).T
    build = load_reference()["ResNet50"]
    if arguments.defaults:
        print(json.dumps({"seconds": timed(build, X, Y, epochs, batch_size, course_fit=False)}))
        return

    rows = [("plain model.fit, TensorFlow's settings", defaults_in_child(epochs, batch_size))]
    rows.append(("plain model.fit, oneDNN on", timed(build, X, Y, epochs, batch_size, course_fit=False)))
    rows.append(("the course's fit (oneDNN on)", timed(build, X, Y, epochs, batch_size, course_fit=True)))
    per_picture = training_flops_per_picture(fresh_model(build))
    peak = float32_peak()

    print(f"ResNet-50, {len(X)} training pictures 64x64, {epochs} epochs, batch {batch_size}, {measured.cpu_name()}")
    print(f"{'path':40} {'seconds':>8} {'images/s':>9} {'vs defaults':>12} {'vs oneDNN':>10} {'of peak':>8}")
    today, cpu = datetime.date.today().isoformat(), measured.cpu_name()
    for name, seconds in rows:
        rate = epochs * len(X) / seconds
        ratios = rows[0][1] / seconds, rows[1][1] / seconds
        share = rate * per_picture / peak
        print(f"{name:40} {seconds:8.1f} {rate:9.1f} {ratios[0]:11.2f}x {ratios[1]:9.2f}x {share:8.1%}")
        measured.log_row(
            HEADING,
            COLUMNS,
            f"| {today} | {cpu} | {name} | {epochs} | {batch_size} | {seconds:.1f} | {rate:.1f} "
            f"| {ratios[0]:.2f}x | {ratios[1]:.2f}x | {peak / 1e9:.0f} | {share:.1%} |",
        )
    print(f"float32 peak (4096 x 4096 matrix product): {peak / 1e9:.0f} GFLOP/s")
    print(f"one training picture: {per_picture / 1e9:.2f} GFLOP (convolutions and dense layers, forward x 3)")
    print(f"so the peak would allow {peak / per_picture:.0f} images/s")


if __name__ == "__main__":
    main()
