"""Why skip connections help: gradient norms layer by layer, plain versus residual.

Two networks of the same depth and width are built with Keras' default initialiser and
no normalisation: a plain stack of 3x3 convolutions with ReLU, and the same stack where
every convolution's input is added back to its output. Both are trained for a few steps
on the course's pictures while the gradient norm of every convolution's kernel is
recorded. In the plain network the signal shrinks at every layer, forwards and then
backwards, so its gradients end up orders of magnitude smaller than the residual
network's, and smallest in the first layers; the shortcuts carry the signal through.

Each sum ``x + F(x)`` is scaled by 1/sqrt(2): without normalisation layers the sums
would double the signal's variance at every block and saturate the softmax after 30
blocks. (With BatchNormalization after every convolution, the plain network's gradients
*explode* towards the input instead, while the residual network's stay level: the other
face of the same problem.)

Gradients are read through the public Keras API only, whatever the backend: one step
of plain SGD changes each weight by ``-learning_rate * gradient``, so the gradient's norm
is the weight change's norm divided by the learning rate. The networks run in float64 so
that even a gradient a million times smaller than the weights stays measurable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEPTH = 30
WIDTH = 16
LEARNING_RATE = 1e-3


def build_network(residual: bool, depth: int = DEPTH, width: int = WIDTH, input_shape=(64, 64, 3), classes=6):
    """A stack of ``depth`` 3x3 convolutions, with or without skip connections.

    The first convolution (stride 4) brings the picture to 16x16 x ``width``; every
    later one keeps that shape, so the two networks differ only by the additions.
    Convolutions are named ``conv_01`` (nearest the input) to ``conv_<depth>``.
    """
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, dtype="float64")
    x = layers.Conv2D(width, 3, strides=4, padding="same", activation="relu", name="conv_01", dtype="float64")(inputs)
    for index in range(2, depth + 1):
        y = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv_{index:02d}", dtype="float64")(x)
        if residual:
            y = layers.Add(dtype="float64")([x, y])
            y = layers.Rescaling(2**-0.5, dtype="float64")(y)
        x = y
    x = layers.GlobalAveragePooling2D(dtype="float64")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classifier", dtype="float64")(x)
    return keras.Model(inputs, outputs, name="residual" if residual else "plain")


@dataclass
class GradientFlow:
    """Gradient norms of every convolution's kernel: ``norms[step, layer]``, layer 0 nearest the input."""

    plain: np.ndarray
    residual: np.ndarray

    @property
    def layers(self) -> int:
        return self.plain.shape[1]

    def ratio_at_first_layer(self, step: int = 0) -> float:
        """How many times larger the residual network's first-layer gradient is than the plain one's."""
        return float(self.residual[step, 0] / self.plain[step, 0])

    def figure(self):
        """Both networks' gradient norms by layer, at initialisation and after the last step."""
        from resnets_utils.plotting import NotebookFigure

        figure = NotebookFigure(figsize=(7, 4), layout="constrained")
        axis = figure.subplots()
        layer = np.arange(1, self.layers + 1)
        for norms, label, colour in ((self.plain, "plain", "tab:red"), (self.residual, "residual", "tab:blue")):
            axis.plot(layer, norms[0], "o-", color=colour, markersize=3, label=f"{label}, at initialisation")
            axis.plot(layer, norms[-1], "--", color=colour, label=f"{label}, after {len(norms) - 1} steps")
        axis.set_yscale("log")
        axis.set_xlabel("layer (1 = nearest the input)")
        axis.set_ylabel("gradient norm of the kernel")
        axis.set_title(f"Gradient flow in {self.layers}-layer networks")
        axis.legend(fontsize=8)
        return figure


def measure(images, labels, steps: int = 5, batch_size: int = 32, depth: int = DEPTH, seed: int = 0) -> GradientFlow:
    """Train a plain and a residual network for ``steps`` steps, recording gradient norms.

    Args:
        images: uint8 pictures ``(m, 64, 64, 3)``, e.g. ``X_train_orig``.
        labels: their labels, ``(m,)`` or ``(1, m)``.
        steps: training steps after the measurement at initialisation.

    Returns:
        A :class:`GradientFlow` with ``steps + 1`` rows per network (row 0: initialisation).
    """
    import keras

    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    batches = [rng.choice(len(images), size=batch_size, replace=False) for _ in range(steps + 1)]
    results = {}
    for residual in (False, True):
        keras.utils.set_random_seed(seed)  # same initial weights for both, layer by layer
        model = build_network(residual, depth=depth, input_shape=images.shape[1:], classes=int(labels.max()) + 1)
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE), loss="sparse_categorical_crossentropy"
        )
        convolutions = [layer for layer in model.layers if layer.name.startswith("conv_")]
        norms = []
        for batch in batches:
            before = [layer.kernel.numpy() for layer in convolutions]
            model.train_on_batch(images[batch].astype(np.float64) / 255.0, labels[batch])
            after = [layer.kernel.numpy() for layer in convolutions]
            norms.append([np.linalg.norm(b - a) / LEARNING_RATE for b, a in zip(before, after, strict=True)])
        results["residual" if residual else "plain"] = np.array(norms)
    return GradientFlow(**results)
