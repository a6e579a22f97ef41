"""Training for the notebooks: ``model.fit`` fed from one pipeline, pictures changed as a camera would, a smoke run.

``fit`` takes ``model.fit``'s arguments. On TensorFlow it feeds ``model.fit`` from one
``tf.data`` pipeline that lasts all epochs, without autotuning: ``model.fit`` on arrays
builds a new, autotuned iterator every epoch, and deleting the old one can stall the next
epoch for tens of seconds on ResNet-50 (``make bench`` measures both). With
``augment=camera_changes()`` every picture is changed anew each time it is shown.
"""

from __future__ import annotations

import numpy as np

from resnets_utils.language import say
from resnets_utils.settings import grading

SMOKE_EXAMPLES = 4  # one eager step on 4 pictures: about 3 s for ResNet-50


# What a phone photo of a hand varies in besides the hand (docs/performance.md holds the trials).
CAMERA_CHANGES = {
    "shift": 0.06,  # of the picture's height and width, each way
    "turn": 0.03,  # of a full turn, each way: about 11 degrees
    "zoom": 0.1,
    "exposure": 0.15,  # of the range of pixel values
    "contrast": 0.2,
}


def camera_changes(**amounts):
    """A Keras model that changes a batch of pictures (values in [0, 1]) at random, as another photo would.

    Each picture is shifted, turned and zoomed (the edges filled by reflection), and its
    exposure and contrast changed, by up to the amounts in ``CAMERA_CHANGES`` unless given.
    """
    import keras

    if unknown := set(amounts) - set(CAMERA_CHANGES):
        known, unknown = ", ".join(CAMERA_CHANGES), ", ".join(sorted(unknown))
        raise TypeError(say("camera_changes takes {known}, not {unknown}", known=known, unknown=unknown))
    amounts = {**CAMERA_CHANGES, **amounts}
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(amounts["shift"], amounts["shift"], fill_mode="reflect"),
            keras.layers.RandomRotation(amounts["turn"], fill_mode="reflect"),
            keras.layers.RandomZoom(amounts["zoom"], fill_mode="reflect"),
            keras.layers.RandomBrightness(amounts["exposure"], value_range=(0.0, 1.0)),
            keras.layers.RandomContrast(amounts["contrast"], value_range=(0.0, 1.0)),
        ],
        name="camera_changes",
    )


def fit(model, X, Y, epochs: int, batch_size: int = 32, shuffle: bool = True, augment=None, **options):
    """Train ``model`` like ``model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)``.

    ``augment``: a Keras model (``camera_changes()``) that changes each batch of training
    pictures before the step sees it; the validation pictures stay as they are.
    Returns a ``keras.callbacks.History``. While nbgrader grades a notebook, only one batch of
    ``SMOKE_EXAMPLES`` pictures is trained, eagerly: grading needs to know that training runs,
    and tracing ResNet-50's training step takes longer than one eager step.
    """
    if grading():
        eager_while_grading(model)
        options.pop("validation_data", None)  # an evaluation of every test picture: not needed to know it runs
        return model.fit(X[:SMOKE_EXAMPLES], Y[:SMOKE_EXAMPLES], epochs=1, batch_size=batch_size, **options)
    if getattr(model, "optimizer", None) is None:
        raise ValueError(say("compile the model first: model.compile(optimizer=..., loss=..., metrics=[...])"))
    import keras

    unsupported = {"sample_weight", "class_weight", "validation_split", "steps_per_epoch"} & set(options)
    if keras.backend.backend() != "tensorflow" or unsupported:
        if augment is not None:
            raise ValueError(
                say("augment needs the TensorFlow backend and none of {unsupported}", unsupported=sorted(unsupported))
            )
        return model.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, **options)
    create_training_variables(model, X, Y)
    # One batch of each epoch is short, as in model.fit, so epochs stay aligned.
    pictures = input_pipeline(X, Y, batch_size, shuffle=shuffle, repeat=True, augment=augment)
    steps = int(np.ceil(len(X) / batch_size))
    # shuffle=False: the pipeline shuffles; Keras would only warn that it ignores the flag.
    return model.fit(pictures, epochs=epochs, steps_per_epoch=steps, shuffle=False, **options)


def create_training_variables(model, X, Y) -> None:
    """Create the variables that training a compiled ``model`` adds (the optimizer's, the loss's
    and the metrics') before ``model.fit``, from one example of ``X`` and ``Y``.

    Keras would create them inside the first traced training step, and TensorFlow traces a
    function that creates variables a second time: about 10 s more for ResNet-50 on a CPU.
    Nothing that training computes changes (the metrics are reset).
    """
    if model.run_eagerly or getattr(model, "optimizer", None) is None:
        return  # an eager step (as while grading) is not traced
    x, y = np.asarray(X[:1], dtype="float32"), np.asarray(Y[:1])
    prediction = model(x, training=False)
    model.compute_loss(x, y, prediction)
    model.compute_metrics(x, y, prediction, sample_weight=None)
    model.reset_metrics()
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)


def eager_while_grading(model) -> None:
    """While nbgrader grades a notebook, let ``model`` train eagerly (set after ``compile``).

    A graded run trains a step or two to show the code runs: tracing ResNet-50's training
    step takes longer (about 15 s) than several eager steps.
    """
    if grading():
        model.run_eagerly = True


def input_pipeline(X, Y, batch_size: int, shuffle: bool = False, repeat: bool = False, augment=None):
    """A ``tf.data`` pipeline of ``(X, Y)`` batches, without tf.data's autotuning; ``augment`` changes each X batch.

    Deleting an autotuned iterator at the end of a ResNet-50 epoch waits for tf.data's idle
    autotuning thread (TensorFlow 2.21). A batch takes milliseconds to slice and seconds to
    train on: one batch ahead is enough.
    """
    import tensorflow as tf

    X, Y = np.asarray(X, dtype="float32"), np.asarray(Y, dtype="float32")
    pictures = tf.data.Dataset.from_tensor_slices((X, Y))
    if shuffle:
        pictures = pictures.shuffle(len(X))  # a new order every epoch, as model.fit
    pictures = pictures.batch(batch_size)
    if augment is not None:
        # Clipped: a changed picture stays a picture (values in [0, 1]), whatever the layers do.
        pictures = pictures.map(lambda x, y: (tf.clip_by_value(augment(x, training=True), 0.0, 1.0), y))
    if repeat:
        pictures = pictures.repeat()
    options = tf.data.Options()
    options.autotune.enabled = False
    return pictures.prefetch(1).with_options(options)


def losses_per_step(model, X, Y, batch_size: int) -> np.ndarray:
    """Train a compiled ``model`` once through ``X`` in order (no shuffling); return each step's own loss.

    ``model.fit`` reports the running mean over the epoch, which is undone here. One ``fit`` call
    traces the training step once, where a loop of ``train_on_batch`` calls on several models
    makes TensorFlow warn about retracing.
    """
    import keras

    class LossPerStep(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.losses, self._total = [], 0.0

        def on_train_batch_end(self, batch, logs=None):
            total = float(logs["loss"]) * (batch + 1)
            self.losses.append(total - self._total)
            self._total = total

    recorder = LossPerStep()
    eager_while_grading(model)
    create_training_variables(model, X, Y)
    model.fit(X, Y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    return np.array(recorder.losses)


def set_batchnorm_momentum(model, momentum: float) -> None:
    """Give every BatchNormalization layer of ``model`` this momentum for its moving averages."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def warmup_then_cosine(peak: float, steps: int, warmup_fraction: float = 0.1):
    """A learning rate that rises from 0 to ``peak`` over the first ``warmup_fraction`` of ``steps``, then
    falls to 0 along a cosine by the last step (a Keras schedule)."""
    import keras

    warmup = int(steps * warmup_fraction)
    return keras.optimizers.schedules.CosineDecay(0.0, steps - warmup, warmup_target=peak, warmup_steps=warmup)
