"""Which training recipe teaches the assignment's ResNet-50 the most per minute: one row per variant.

Each variant trains the reference ResNet-50 on the course's 1,080 training pictures as the
training cell does (branches started at zero, BatchNormalization momentum 0.9, Adam with a
warm-up and a cosine decay to 0, batches of 128, 17 steps an epoch: the mirrored set) and
changes one thing: precision, camera changes (and how strong), fresh pictures from the
generator (drawn before the clock starts), epochs. Prints and logs, per variant, the
training's seconds (tracing included), the final training and test accuracy.

    python benchmarks/recipe_trials.py [VARIANT ...] [--seed 1]     # default: every variant
"""

import argparse
import datetime
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from resnets_utils import data, machine, training
from resnets_utils.course import measured
from resnets_utils.course.reference import load_reference  # noqa: E402
from resnets_utils.data import handsigns  # noqa: E402
from resnets_utils.experiments.no_shortcuts import start_branches_at_zero  # noqa: E402
from resnets_utils.training.precision import building_with, native_bfloat16  # noqa: E402

HEADING = "## Training recipes (benchmarks/recipe_trials.py)"
COLUMNS = "| date | CPU | variant | precision | epochs | seed | seconds | train accuracy | test accuracy |"
STRONG = {"shift": 0.1, "turn": 0.04, "zoom": 0.15, "exposure": 0.2, "contrast": 0.3}
VARIANTS = {
    "mirrored (before 2026-12-04)": {"epochs": 10},
    "mirrored, bfloat16": {"epochs": 10, "bfloat16": True},
    "+ 3,240 fresh pictures": {"epochs": 10, "bfloat16": True, "fresh": 3240},
    "+ 9,720 fresh pictures": {"epochs": 10, "bfloat16": True, "fresh": 9720},
    "+ strong camera changes": {"epochs": 10, "bfloat16": True, "changes": STRONG},
    "+ camera_changes() (the course's)": {"epochs": 10, "bfloat16": True, "changes": {}},
    "+ camera_changes(), 16 epochs (kept)": {"epochs": 16, "bfloat16": True, "changes": {}},
}


def trial(epochs: int, seed: int, bfloat16=False, fresh=0, changes=None) -> tuple[float, float, float]:
    import keras

    X_orig, Y_orig, X_test_orig, Y_test_orig, _ = data.load_dataset()
    X, labels = X_orig / np.float32(255), Y_orig.reshape(-1)
    if fresh:
        images, more = handsigns.generate_split(fresh // handsigns.NUM_CLASSES, seed=(data.DEFAULT_SEED, 3, seed))
        X, labels = np.concatenate([X, images / np.float32(255)]), np.concatenate([labels, more])
    X = np.concatenate([X, X[:, :, ::-1]])  # mirrored
    Y = np.eye(6, dtype="float32")[np.concatenate([labels, labels])]
    X_test, Y_test = X_test_orig / np.float32(255), np.eye(6, dtype="float32")[Y_test_orig.reshape(-1)]
    keras.utils.set_random_seed(seed)
    with building_with("mixed_bfloat16" if bfloat16 else "float32"):
        model = load_reference()["ResNet50"](input_shape=(64, 64, 3), classes=6)
    start_branches_at_zero(model)
    training.set_batchnorm_momentum(model, 0.9)
    steps_per_epoch = int(np.ceil(2 * 1080 / 128))  # the training cell's epoch, whatever the pool
    schedule = training.warmup_then_cosine(0.004, epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy", metrics=["accuracy"])
    augment = training.camera_changes(**changes) if changes is not None else None
    pictures = training.input_pipeline(X, Y, 128, shuffle=True, repeat=True, augment=augment)
    start = time.perf_counter()
    history = model.fit(pictures, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=0)
    seconds = time.perf_counter() - start
    _, test_accuracy = model.evaluate(X_test, Y_test, verbose=0)
    return seconds, float(history.history["accuracy"][-1]), float(test_accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"default: all of {', '.join(VARIANTS)}")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    if unknown := set(arguments.variants) - set(VARIANTS):
        parser.error(f"no variant {', '.join(sorted(unknown))}: choose from {', '.join(VARIANTS)}")
    cpu, today = machine.cpu_name(), datetime.date.today().isoformat()
    print(f"{'variant':40} {'seconds':>8} {'train':>7} {'test':>7}   ({cpu}, seed {arguments.seed})")
    for name in arguments.variants or VARIANTS:
        options = dict(VARIANTS[name])
        if options.get("bfloat16") and not native_bfloat16():
            print(f"{name:40} skipped: no native bfloat16 on this CPU")
            continue
        seconds, train_accuracy, test_accuracy = trial(seed=arguments.seed, **options)
        precision = "bfloat16" if options.get("bfloat16") else "float32"
        print(f"{name:40} {seconds:8.0f} {train_accuracy:7.1%} {test_accuracy:7.1%}", flush=True)
        measured.log_row(
            HEADING,
            COLUMNS,
            f"| {today} | {cpu} | {name} | {precision} | {options['epochs']} | {arguments.seed} | {seconds:.0f} "
            f"| {train_accuracy:.1%} | {test_accuracy:.1%} |",
        )


if __name__ == "__main__":
    main()
