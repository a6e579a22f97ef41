"""How well a network trained on the generated pictures reads real SIGNS photographs.

    python benchmarks/realism.py            # the cached `make pretrain` ResNet-50 (make bench-realism)
    python benchmarks/realism.py --quick    # a small CNN trained for about 2 minutes: compare generators fast
    git show REV:resnets_utils/data/handsigns.py > /tmp/old.py
    python benchmarks/realism.py --quick --generator /tmp/old.py   # the same with another generator

The real photos are read from ``../shared/real_signs/dev_signs.h5`` beside the project
(``--real PATH`` for another file); without them the benchmark says so and skips. They
are only scored, never trained on. Prints the accuracy and the confusion matrix and
appends a dated row to docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

from resnets_utils import data, settings
from resnets_utils.course.measured import PERFORMANCE, log_row
from resnets_utils.data import handsigns
from resnets_utils.machine import cpu_name
from resnets_utils.models.evaluation import confusion_matrix, predicted_classes

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real_signs" / "dev_signs.h5"
HEADING = "## Real photos (`make bench-realism`, benchmarks/realism.py)"
COLUMNS = "| date | CPU | generator | model | seconds | generated test | real photos | real, per class 0-5 |"
os.environ.setdefault(settings.LOG_LEVEL, "2")

QUICK_SEED = 11
QUICK_EPOCHS = 6
QUICK_PICTURES = 3600  # fresh pictures per epoch, from seeds the data set's splits never use


def real_photos(path: Path = REAL):
    """``(images uint8, labels)`` of the real photos, or None when the file is absent."""
    if not path.exists():
        return None
    images, labels, _ = data.load_split(path, "test")
    return images, labels


def load_generator(path: Path):
    """Another version of ``handsigns.py``, loaded from a file (versions before 2 had no number: 1)."""
    spec = importlib.util.spec_from_file_location("other_handsigns", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.GENERATOR_VERSION = getattr(module, "GENERATOR_VERSION", 1)
    return module


def quick_model(
    generator=handsigns, seed: int = QUICK_SEED, epochs: int = QUICK_EPOCHS, pictures: int = QUICK_PICTURES
):
    """A small convolutional network trained on freshly generated pictures only."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64, 64, 3))])
    for index, filters in enumerate((32, 64, 96, 128, 160)):
        # The first layer strides (cheap), the others pool; momentum 0.9: few steps to settle.
        model.add(layers.Conv2D(filters, 3, strides=2 if index == 0 else 1, padding="same", use_bias=False))
        model.add(layers.BatchNormalization(momentum=0.9))
        model.add(layers.ReLU())
        if index:
            model.add(layers.MaxPooling2D())
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(handsigns.NUM_CLASSES, activation="softmax"))
    steps = epochs * int(np.ceil(pictures / 64))
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, steps)
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    for epoch in range(epochs):
        # (DEFAULT_SEED, 3, ...): neither the data set's splits (0, 1) nor make pretrain (2) use it.
        images, labels = generator.generate_split(pictures // 6, seed=(data.DEFAULT_SEED, 3, seed, epoch))
        mirror = np.random.default_rng((seed, epoch)).random(len(images)) < 0.5
        images = np.where(mirror[:, None, None, None], images[:, :, ::-1], images)
        model.fit(images / np.float32(255), labels, batch_size=64, epochs=1, verbose=2)
    return model


def pretrained_model():
    from resnets_utils.training.pretrain import load_pretrained

    model, _ = load_pretrained()
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="train a small CNN for about 2 minutes instead")
    parser.add_argument("--generator", type=Path, help="with --quick: a handsigns.py of another version")
    parser.add_argument("--real", type=Path, default=REAL, help=f"default {REAL}")
    parser.add_argument("--no-log", action="store_true", help="print only, no row in docs/performance.md")
    args = parser.parse_args(argv)
    real = real_photos(args.real)
    if real is None:
        print(f"skipping: no real photos at {args.real} (they are not part of the project)")
        return 0
    if args.generator and not args.quick:
        parser.error("--generator needs --quick (the pre-trained model learnt from the current generator)")
    generator = load_generator(args.generator) if args.generator else handsigns
    start = time.perf_counter()
    model = quick_model(generator) if args.quick else pretrained_model()
    if model is None:
        parser.exit(1, "error: no pre-trained model to score: run `make pretrain` first\n")
    seconds = time.perf_counter() - start
    # The test split as that generator draws it into the data files.
    X_test, Y_test = generator.generate_split(data.TEST_PER_CLASS, seed=(data.DEFAULT_SEED, 1))
    generated = float((predicted_classes(model, X_test / np.float32(255)) == Y_test).mean())
    matrix = confusion_matrix(real[1], predicted_classes(model, real[0] / np.float32(255)), handsigns.NUM_CLASSES)
    accuracy = np.trace(matrix) / matrix.sum()
    recall = matrix.diagonal() / matrix.sum(axis=1)
    name = "small CNN, 2 min" if args.quick else "make pretrain ResNet-50"
    print(f"{name}, generator version {generator.GENERATOR_VERSION}")
    print(f"  generated test split: {generated:.1%}")
    print(f"  real photos ({matrix.sum()}): {accuracy:.1%}   (chance {1 / handsigns.NUM_CLASSES:.1%})")
    print("  confusion matrix (rows: true class, columns: predicted)")
    print("        " + " ".join(f"{c:>3}" for c in range(handsigns.NUM_CLASSES)))
    for label, row in enumerate(matrix):
        print(f"    {label:>2}: " + " ".join(f"{n:>3}" for n in row))
    if not args.no_log:
        per_class = " ".join(f"{r:.0%}" for r in recall)
        row = (
            f"| {datetime.date.today()} | {cpu_name()} | {generator.GENERATOR_VERSION} | {name} | {seconds:.0f} "
            f"| {generated:.1%} | {accuracy:.1%} | {per_class} |"
        )
        log_row(HEADING, COLUMNS, row)
        print(f"recorded in {PERFORMANCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
