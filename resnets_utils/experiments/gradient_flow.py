"""Why skip connections help: how the gradient reaches each layer, plain versus residual.

Two networks of the same depth and width, with the same convolutions and the same initial
weights (Keras' default, ``glorot_uniform``; biases at zero), and no normalisation:

- **plain**: ``x = relu(conv(x))``, one 3x3 convolution after another;
- **residual**: ``x = x + BRANCH_SCALE * relu(conv(x))``, the same convolutions, each with
  an unscaled identity shortcut around it. The branch is scaled down (a fixed 0.1) so that
  every block starts close to the identity, as ResNet-50 starts each residual branch at zero
  (its last BatchNormalization's scale).

What is measured is the gradient of the loss with respect to each layer's *output*, the
signal that backpropagation carries towards the input. With ``glorot_uniform`` weights and
ReLU, every plain layer halves that signal's variance on its way back, so it fades
geometrically towards the input; a shortcut passes it on unchanged, whatever the branch.
(The gradients of the kernels themselves would not show this: in a same-width stack the
shrinking forward signal and the shrinking backward signal cancel in their product.)

``batchnorm=True`` puts a BatchNormalization after every convolution, the first included,
as in ResNet-50: normalisation rescales every layer's signal, so the plain network's
gradient no longer fades, it grows towards the input instead (Yang et al., 2019, explain
this explosion at initialisation); the residual network's grows far less.

Gradients are read through the public Keras API only: a zero "probe" is added to each
layer's output, one step of plain SGD moves it by ``-learning_rate * gradient``, and every
weight is put back after the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resnets_utils.language import say

DEPTH = 30
WIDTH = 16
BRANCH_SCALE = 0.1
BATCH_SIZE = 32
LEARNING_RATE = 1e-3


def _probe_class():
    import keras

    class Probe(keras.layers.Layer):
        """Adds a trainable tensor of zeros to its input: its gradient is the gradient w.r.t. the input."""

        def build(self, input_shape):
            self.offset = self.add_weight(shape=tuple(input_shape), initializer="zeros", name="offset")

        def call(self, inputs):
            return inputs + self.offset

    return Probe


def build_network(
    residual: bool,
    depth: int = DEPTH,
    width: int = WIDTH,
    input_shape=(64, 64, 3),
    classes: int = 6,
    batchnorm: bool = False,
    batch_size: int = BATCH_SIZE,
):
    """A stack of ``depth`` 3x3 convolutions, with or without identity shortcuts.

    The first convolution (stride 4) brings the picture to 16x16 x ``width``; every later
    one keeps that shape, so the two networks differ only by the shortcuts. Layer outputs
    are probed by layers named ``probe_01`` (nearest the input) to ``probe_<depth>``.
    """
    import keras
    from keras import layers

    Probe = _probe_class()
    inputs = keras.Input(input_shape, batch_size=batch_size)
    x = layers.Conv2D(width, 3, strides=4, padding="same", name="conv_01")(inputs)
    if batchnorm:
        x = layers.BatchNormalization(name="bn_01")(x)
    x = Probe(name="probe_01")(layers.Activation("relu")(x))
    for index in range(2, depth + 1):
        y = layers.Conv2D(width, 3, padding="same", name=f"conv_{index:02d}")(x)
        if batchnorm:
            y = layers.BatchNormalization(name=f"bn_{index:02d}")(y)
        y = layers.Activation("relu")(y)
        if residual:
            y = layers.Add()([x, layers.Rescaling(BRANCH_SCALE)(y)])
        x = Probe(name=f"probe_{index:02d}")(y)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name="residual" if residual else "plain")


@dataclass
class GradientFlow:
    """Gradient norms w.r.t. every layer's output, ``norms[layer]``, layer 0 nearest the input."""

    plain: np.ndarray
    residual: np.ndarray
    batchnorm: bool = False

    @property
    def layers(self) -> int:
        return len(self.plain)

    @staticmethod
    def fall(norms: np.ndarray) -> float:
        """How many times smaller the gradient is at the first layer than at the last."""
        return float(norms[-1] / norms[0])

    def figure(self):
        """Both networks' gradient norms by layer, on a log scale."""
        from resnets_utils.views.plotting import NotebookFigure

        figure = NotebookFigure(figsize=(7, 4), layout="constrained")
        axis = figure.subplots()
        layer = np.arange(1, self.layers + 1)
        axis.plot(layer, self.plain, "o-", color="tab:red", markersize=3, label=say("plain"))
        axis.plot(layer, self.residual, "o-", color="tab:blue", markersize=3, label=say("residual"))
        axis.set_yscale("log")
        axis.set_xlabel(say("layer (1 = nearest the input)"))
        axis.set_ylabel(say("gradient norm w.r.t. the layer's output"))
        if self.batchnorm:
            title = say("The gradient reaching each of {count} layers (with BatchNormalization)", count=self.layers)
        else:
            title = say("The gradient reaching each of {count} layers (no normalisation)", count=self.layers)
        axis.set_title(title)
        axis.legend()
        return figure


def measure(images, labels, batches: int | None = None, depth: int = DEPTH, batchnorm: bool = False, seed: int = 0):
    """Gradient norms w.r.t. each layer's output at initialisation, averaged over ``batches`` batches
    (3, or 1 while nbgrader executes the notebook).

    Args:
        images: uint8 pictures ``(m, 64, 64, 3)``, e.g. ``X_train_orig``.
        labels: their labels, ``(m,)`` or ``(1, m)``.

    Returns:
        A :class:`GradientFlow`: one norm per layer for each network.
    """
    import keras

    from resnets_utils.settings import grading
    from resnets_utils.training import eager_while_grading

    batches = batches or (1 if grading() else 3)
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(len(images), size=BATCH_SIZE, replace=False) for _ in range(batches)]
    results = {}
    for residual in (False, True):
        keras.utils.set_random_seed(seed)  # the same initial weights for both, layer by layer
        model = build_network(
            residual, depth, input_shape=images.shape[1:], classes=int(labels.max()) + 1, batchnorm=batchnorm
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE), loss="sparse_categorical_crossentropy"
        )
        eager_while_grading(model)
        probes = [layer for layer in model.layers if layer.name.startswith("probe_")]
        initial = model.get_weights()
        norms = []
        for batch in chosen:
            model.train_on_batch(images[batch].astype("float32") / 255.0, labels[batch])
            norms.append([np.linalg.norm(probe.offset.numpy()) / LEARNING_RATE for probe in probes])
            model.set_weights(initial)  # every weight and statistic as at initialisation
        results["residual" if residual else "plain"] = np.mean(norms, axis=0)
    return GradientFlow(**results, batchnorm=batchnorm)
