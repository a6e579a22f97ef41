"""How fast ResNet-50 trains here, path by path: oneDNN, the course's ``fit``, camera changes, bfloat16.

One table, one run: the same reference ResNet-50 (same initial weights), data, optimizer
and epochs on each row. Each row gives the whole call as a student waits for it (graph
tracing included), the first epoch alone, and the steady rate of the later epochs, as
images/s and as a share of the peak of its precision: the best large matrix product here in
float32, and in bfloat16 where the CPU has native bfloat16 (AVX512_BF16 or AMX; the
bfloat16 row is skipped elsewhere). The first row runs in a child process with TensorFlow's
own settings, because oneDNN, once TensorFlow is loaded, cannot be switched. Appends its
rows, dated and labelled with the CPU, to docs/performance.md.

    python benchmarks/training_speed.py [--epochs 3] [--batch-size 128]
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

from resnets_utils import machine, settings, training
from resnets_utils.course import measured  # noqa: E402
from resnets_utils.course.reference import load_reference  # noqa: E402
from resnets_utils.data import convert_to_one_hot, load_dataset  # noqa: E402
from resnets_utils.training.precision import building_with, native_bfloat16  # noqa: E402

HEADING = "## Training speed (`make bench`, benchmarks/training_speed.py)"
COLUMNS = (
    "| date | CPU | path | precision | epochs | batch | seconds | first epoch s | steady images/s "
    "| vs defaults | peak GFLOP/s | share of peak |"
)


def fresh_model(build, precision: str = "float32"):
    import keras

    keras.utils.set_random_seed(0)  # the same initial weights on every row
    with building_with("mixed_bfloat16" if precision == "bfloat16" else "float32"):
        model = build(input_shape=(64, 64, 3), classes=6)
    model.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
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


def peak(precision: str = "float32", size: int = 4096, repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` products of two ``size`` x ``size`` matrices in ``precision``."""
    import tensorflow as tf

    a, b = (tf.cast(tf.random.normal((size, size)), precision) for _ in range(2))
    (a @ b).numpy()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def timed(build, X, Y, epochs, batch_size, course_fit: bool, precision="float32", augment=None) -> list[float]:
    """The seconds each epoch ended at, from the start of the call (tracing included)."""
    import keras

    class EpochEnds(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.perf_counter() - start)

    ends: list[float] = []
    model = fresh_model(build, precision)
    start = time.perf_counter()
    if course_fit:
        training.fit(model, X, Y, epochs, batch_size, augment=augment, verbose=0, callbacks=[EpochEnds()])
    else:
        model.fit(X, Y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[EpochEnds()])
    ends.append(time.perf_counter() - start)  # the whole call, as the student waits for it
    return ends


def defaults_in_child(epochs: int, batch_size: int) -> list[float]:
    environment = {key: value for key, value in os.environ.items() if key != settings.ONEDNN}
    command = [sys.executable, __file__, "--epochs", str(epochs), "--batch-size", str(batch_size), "--defaults"]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the run with TensorFlow's settings failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["ends"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="at least 2: the first one traces the graph")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--defaults", action="store_true", help=argparse.SUPPRESS)  # the child's part
    arguments = parser.parse_args()
    epochs, batch_size = max(2, arguments.epochs), arguments.batch_size

    X_train_orig, Y_train_orig, *_ = load_dataset()
    X, Y = X_train_orig / 255.0, convert_to_one_hot(Y_train_orig, 6).T
    build = load_reference()["ResNet50"]
    if arguments.defaults:
        print(json.dumps({"ends": timed(build, X, Y, epochs, batch_size, course_fit=False)}))
        return

    # (path, precision, batch, epoch ends)
    rows = [("plain model.fit, TensorFlow's settings", "float32", batch_size, defaults_in_child(epochs, batch_size))]
    rows.append(("plain model.fit, oneDNN on", "float32", batch_size, timed(build, X, Y, epochs, batch_size, False)))
    rows.append(("the course's fit (oneDNN on)", "float32", batch_size, timed(build, X, Y, epochs, batch_size, True)))
    rows.append(
        (
            "the course's fit with camera_changes",
            "float32",
            batch_size,
            timed(build, X, Y, epochs, batch_size, True, augment=training.camera_changes()),
        )
    )
    precisions = ["float32"]
    if native_bfloat16():
        precisions.append("bfloat16")
        changes = training.camera_changes()
        ends = timed(build, X, Y, epochs, batch_size, True, precision="bfloat16", augment=changes)
        rows.append(("the course's fit with camera_changes, mixed_bfloat16", "bfloat16", batch_size, ends))
    per_picture = training_flops_per_picture(fresh_model(build))
    peaks = {precision: peak(precision) for precision in precisions}

    cpu = machine.cpu_name()
    print(f"ResNet-50, {len(X)} training pictures 64x64, {epochs} epochs, {cpu}")
    print(
        f"{'path':52} {'precision':>9} {'batch':>5} {'seconds':>8} {'1st epoch':>9} {'images/s':>9} "
        f"{'vs dflt':>8} {'of peak':>8}"
    )
    today = datetime.date.today().isoformat()
    for name, precision, batch, ends in rows:
        total, first = ends[-1], ends[0]
        steady = (epochs - 1) * len(X) / (ends[epochs - 1] - first)  # the epochs after the first
        versus = rows[0][3][-1] / total
        share = steady * per_picture / peaks[precision]
        print(
            f"{name:52} {precision:>9} {batch:5d} {total:8.1f} {first:9.1f} {steady:9.1f} {versus:7.2f}x {share:8.1%}"
        )
        measured.log_row(
            HEADING,
            COLUMNS,
            f"| {today} | {cpu} | {name} | {precision} | {epochs} | {batch} | {total:.1f} | {first:.1f} | {steady:.1f} "
            f"| {versus:.2f}x | {peaks[precision] / 1e9:.0f} | {share:.1%} |",
        )
    for precision, value in peaks.items():
        print(f"{precision} peak (4096 x 4096 matrix product): {value / 1e9:.0f} GFLOP/s")
    print(f"one training picture: {per_picture / 1e9:.2f} GFLOP (convolutions and dense layers, forward x 3)")


if __name__ == "__main__":
    main()
