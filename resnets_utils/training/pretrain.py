"""Train the reference ResNet-50 on the course data and keep it in the user's cache.

    python -m resnets_utils.training.pretrain [--epochs N] [--restart]      (make pretrain)

Nothing is downloaded: the weights come from this training. The recipe:

- each epoch sees the training split, mirrored at random (a mirrored hand shows as many
  fingers) and, with the course's generated data set, twice as many freshly drawn pictures from
  the same generator (``--fresh-pictures N``; seeds the training and test splits never use);
- every picture, each time it is shown, shifted, turned, zoomed and re-exposed a little
  (``training.camera_changes``), as another photo of the same hand would differ;
- each residual branch's last BatchNormalization scale starts at zero (every block starts
  as the identity);
- bfloat16 arithmetic with float32 weights where the CPU computes bfloat16 natively
  (``precision.fastest``), float32 elsewhere;
- Adam with a short warm-up and a cosine decay; BatchNormalization momentum 0.9 while
  training (Keras' 0.99 lags behind the weights for hundreds of steps) and, at the end,
  the moving statistics recomputed on a large batch of training pictures;
- a checkpoint after every epoch: an interrupted run resumes where it stopped.

The test split is only used to report the accuracy. Results: ``resnet50_signs.keras``
and ``resnet50_signs.json`` in ``$XDG_CACHE_HOME/resnets-course/models``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from resnets_utils import data, settings
from resnets_utils.data import handsigns
from resnets_utils.experiments.no_shortcuts import start_branches_at_zero
from resnets_utils.models import evaluation
from resnets_utils.models.saved import PRETRAINED_FILE as MODEL_FILE
from resnets_utils.models.saved import PRETRAINED_REPORT as REPORT_FILE
from resnets_utils.models.saved import load_pretrained, models_dir, save_atomically
from resnets_utils.training import (
    camera_changes,
    create_training_variables,
    input_pipeline,
    precision,
    set_batchnorm_momentum,
    warmup_then_cosine,
)

os.environ.setdefault(settings.LOG_LEVEL, "2")
__all__ = ["RECIPE", "load_pretrained", "pretrain"]  # load_pretrained: where notebooks before the layout found it

CHECKPOINT_FILE = "pretrain-checkpoint.keras"
RECALIBRATION_PICTURES = 540  # half the training split: stable statistics, one forward pass
STATE_FILE = "pretrain-state.json"

# The trials behind these values are in docs/performance.md.
RECIPE = {
    "epochs": 18,
    "batch_size": 128,
    "peak_learning_rate": 4e-3,
    "warmup_fraction": 0.1,
    "batchnorm_momentum": 0.9,
    "zero_last_gamma": True,
    "fresh_pictures_per_epoch": 2160,  # new pictures from the generator each epoch: less overfitting
    "camera_changes": True,  # each picture shifted, turned, zoomed and re-exposed anew (training.camera_changes)
    "training_pictures": None,  # None: the whole training split (fewer: quick trials and tests)
    "seed": 7,
}


def _epoch_pictures(X, Y, epoch: int, recipe: dict, fresh: int):
    """The pictures (uint8) of one epoch: the training split mirrored at random, plus fresh ones."""
    rng = np.random.default_rng((recipe["seed"], epoch))
    mirror = rng.random(len(X)) < 0.5
    X = np.where(mirror[:, None, None, None], X[:, :, ::-1], X)
    if fresh:
        # (seed, 2, ...) and up: the data set's own splits are drawn from (seed, 0) and (seed, 1).
        per_class = fresh // handsigns.NUM_CLASSES
        images, labels = handsigns.generate_split(per_class, seed=(data.DEFAULT_SEED, 2, recipe["seed"], epoch))
        X, Y = np.concatenate([X, images]), np.concatenate([Y, labels])
    order = rng.permutation(len(X))
    return X[order], Y[order]


def _batchnorm_layers(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def recompute_batchnorm_statistics(model, X) -> None:
    """Set every BatchNormalization layer's moving mean and variance to those of ``X``, one batch."""
    layers = _batchnorm_layers(model)
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    model(X, training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def network(input_shape=(64, 64, 3), classes=6):
    """The network ``make pretrain`` trains: the reference solution's ResNet-50."""
    from resnets_utils.course.reference import load_reference

    return load_reference()["ResNet50"](input_shape=input_shape, classes=classes)


def _build(recipe: dict, steps_per_epoch: int):
    import keras

    keras.utils.set_random_seed(recipe["seed"])
    with precision.fastest():  # bfloat16 arithmetic where the CPU has it natively
        model = network(input_shape=(64, 64, 3), classes=6)
    if recipe.get("zero_last_gamma"):
        # Each residual branch starts as zero, so every block starts as the identity and the
        # 50 layers train like a shallow network at first (Goyal et al., 2017). Only the
        # starting weights change, not the model.
        start_branches_at_zero(model)
    schedule = warmup_then_cosine(
        recipe["peak_learning_rate"], recipe["epochs"] * steps_per_epoch, recipe["warmup_fraction"]
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def pretrain(changes: dict | None = None, restart: bool = False, data_dir=None, out_dir=None) -> dict:
    """Train (or resume training) and save the model; return the report.

    ``changes`` overrides entries of ``RECIPE``. A checkpoint is resumed only when it was
    made with the same recipe, on pictures from the same generator.
    """
    import keras

    recipe = {**RECIPE, **(changes or {})}
    out_dir = Path(out_dir or models_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    directory = data.ensure_dataset(data_dir)
    X_train, Y_train, X_test, Y_test, _ = data.load_dataset(directory)
    X_test = X_test / np.float32(255)
    Y_train, Y_test = Y_train.reshape(-1), Y_test.reshape(-1)
    X_train, Y_train = X_train[: recipe["training_pictures"]], Y_train[: recipe["training_pictures"]]
    # Fresh pictures only make sense beside the generated set, not beside real SIGNS photos.
    generator = data.generated_version(directory / data.TRAIN_FILE)
    fresh = recipe["fresh_pictures_per_epoch"] if generator is not None else 0
    per_epoch = len(X_train) + fresh
    steps_per_epoch = int(np.ceil(per_epoch / recipe["batch_size"]))

    checkpoint, state_path = out_dir / CHECKPOINT_FILE, out_dir / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() and not restart else None
    if state and state["recipe"] == recipe and state.get("generator_version") == generator and checkpoint.exists():
        model = keras.saving.load_model(checkpoint)
        print(f"Resuming after epoch {state['epoch']} of {recipe['epochs']} ({checkpoint}).")
    else:
        state = {"recipe": recipe, "generator_version": generator, "epoch": 0, "seconds": 0.0, "history": []}
        model = _build(recipe, steps_per_epoch)
    set_batchnorm_momentum(model, recipe["batchnorm_momentum"])

    changes = camera_changes() if recipe["camera_changes"] else None
    print(f"Training ResNet-50 on {per_epoch} pictures per epoch, backend {keras.backend.backend()}.")
    print(precision.describe(model))
    create_training_variables(model, X_train[:1] / np.float32(255), np.eye(6, dtype=np.float32)[Y_train[:1]])
    for epoch in range(state["epoch"], recipe["epochs"]):
        start = time.perf_counter()
        X, Y = _epoch_pictures(X_train, Y_train, epoch, recipe, fresh)
        X = X / np.float32(255)
        print(f"Epoch {epoch + 1}/{recipe['epochs']}")
        pictures = input_pipeline(X, np.eye(6, dtype=np.float32)[Y], recipe["batch_size"])
        history = model.fit(pictures, epochs=1, shuffle=False, verbose=1 if sys.stdout.isatty() else 2)
        state["epoch"] = epoch + 1
        state["seconds"] += time.perf_counter() - start
        state["history"].append({k: float(v[-1]) for k, v in history.history.items()})
        state["history"][-1]["test_accuracy"] = evaluation.accuracy(model, X_test, Y_test)
        print(f"  test accuracy {state['history'][-1]['test_accuracy']:.1%}")
        # Both written atomically: an interruption leaves the previous pair intact.
        save_atomically(model, checkpoint)
        settings.write_atomically(state_path, json.dumps(state, indent=1))

    recompute_batchnorm_statistics(model, X_train[:RECALIBRATION_PICTURES] / np.float32(255))
    accuracy = evaluation.accuracy(model, X_test, Y_test)
    report = {
        "test_accuracy": accuracy,
        "epochs": recipe["epochs"],
        "training_seconds": round(state["seconds"], 1),
        "backend": keras.backend.backend(),
        "precision": model.dtype_policy.name,
        "data": str(directory),
        "generator_version": generator,
        "recipe": recipe,
    }
    save_atomically(model, out_dir / MODEL_FILE)
    settings.write_atomically(out_dir / REPORT_FILE, json.dumps(report, indent=1))
    checkpoint.unlink(missing_ok=True)
    state_path.unlink(missing_ok=True)
    minutes = state["seconds"] / 60
    print(f"Test accuracy {accuracy:.1%} after {recipe['epochs']} epochs ({minutes:.1f} min of training).")
    print(f"Saved {out_dir / MODEL_FILE}")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Train the reference ResNet-50 and cache it (make pretrain).")
    parser.add_argument("--epochs", type=int, help=f"default {RECIPE['epochs']}")
    parser.add_argument("--batch-size", type=int, help=f"default {RECIPE['batch_size']}")
    parser.add_argument("--fresh-pictures", type=int, help=f"per epoch, default {RECIPE['fresh_pictures_per_epoch']}")
    parser.add_argument("--training-pictures", type=int, help="use only the first N of the training split")
    parser.add_argument("--seed", type=int, help=f"default {RECIPE['seed']}")
    parser.add_argument("--restart", action="store_true", help="ignore a checkpoint and start again")
    parser.add_argument("--data-dir", help="default: the course's data directory")
    parser.add_argument("--out-dir", help=f"default: {models_dir()}")
    args = parser.parse_args(argv)
    options = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "fresh_pictures_per_epoch": args.fresh_pictures,
        "training_pictures": args.training_pictures,
        "seed": args.seed,
    }
    changes = {key: value for key, value in options.items() if value is not None}
    try:
        pretrain(changes, args.restart, args.data_dir, args.out_dir)
    except data.DatasetError as error:
        parser.exit(1, f"error: {error}\n")
    except KeyboardInterrupt:
        parser.exit(130, "\nInterrupted: run the same command again to resume from the last finished epoch.\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
