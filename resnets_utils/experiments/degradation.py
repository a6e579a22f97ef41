"""The degradation problem (He et al., 2015, figure 1): a deeper plain network trains worse.

Four small networks, all with BatchNormalization after every convolution, trained on the
same batches of hand signs with the same optimiser: a plain and a residual network of
``DEPTHS[0]`` and of ``DEPTHS[1]`` weight layers. Each is a 3x3 convolution (stride 2), then basic
blocks of two 3x3 convolutions (``conv-BN-ReLU-conv-BN``, with an identity shortcut added
in the residual networks before the last ReLU), then global average pooling and a dense
softmax layer; a network of depth ``d`` has ``(d - 2) / 2`` blocks. The deeper plain network
ends with a *higher training loss* than the shallower one: not overfitting (that would
lower the training loss), but an optimisation problem. With shortcuts, the deeper network
trains at least as well as the shallower one.

The optional notebook goes deeper (``DEEPER``) with ``kinds=("residual", "pre-activation")``: the
pre-activation block of He et al. (2016) puts BatchNormalization and ReLU before each convolution
and nothing after the addition, so the identity path stays clean however deep the network is.

To fit in under two minutes on 2 cores (``benchmarks/degradation.py`` measures it), the
pictures are scaled down to ``SIZE`` x ``SIZE`` and the networks are narrow (``WIDTH``
channels). He initialisation, SGD with momentum 0.9, ``STEPS`` steps of ``BATCH_SIZE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from resnets_utils.language import N_, listed, say

DEPTHS = (8, 32)
WIDTH = 16
SIZE = 16
STEPS = 300
SMOKE_STEPS = 5  # while nbgrader executes the notebook: it needs to know the code runs, not the result
BATCH_SIZE = 64
LEARNING_RATE = 0.02
FIRST_STRIDE = 2
CLASSES = range(6)  # the hand signs 0 to 5
KINDS = ("plain", "residual", "pre-activation")
DEEPER = (32, 62)  # the optional notebook's experiment: these depths of DEEPER_KINDS
DEEPER_KINDS = ("residual", "pre-activation")
# What the figure calls each kind of network: a panel's title, and a curve of the depth's network.
PANEL_TITLES = {"plain": N_("plain networks"), "residual": N_("residual networks"),
                "pre-activation": N_("pre-activation networks")}  # fmt: skip
CURVE_LABELS = {"plain": N_("plain-{depth}"), "residual": N_("residual-{depth}"),
                "pre-activation": N_("pre-activation-{depth}")}  # fmt: skip
FINAL_LOSSES = N_("{networks}: mean training loss over the last {steps} steps: {losses}")
LOSS_AT_DEPTH = N_("{loss:.2f} with {depth} layers")
CHANCE = N_("chance (ln {classes})")  # the loss of a network that answers 1/classes for every class


def build_network(
    residual: bool, depth: int, width: int = WIDTH, input_shape=(SIZE, SIZE, 3), classes: int = 6,
    preactivation: bool = False,
):  # fmt: skip
    """A plain or residual network of ``depth`` weight layers (``depth - 2`` must be even).

    ``preactivation=True`` (residual networks only) builds each pair as ``BN-ReLU-conv-BN-ReLU-conv``
    with nothing after the addition, and ends with ``bn_final`` and a ReLU before the pooling.
    Layers are named by position, as in ``gradient_flow.build_network``: ``conv_01`` (the stem),
    then ``conv_02`` ... with ``add_01`` ... joining each pair's shortcut.
    """
    import keras
    from keras import layers

    if depth < 4 or depth % 2:
        raise ValueError(say("depth must be an even number of at least 4, not {depth}", depth=depth))
    if preactivation and not residual:
        raise ValueError(say("a pre-activation network is a residual network: pass residual=True"))
    index = 0

    def conv(x, strides=1):
        nonlocal index
        index += 1
        return layers.Conv2D(
            width, 3, strides=strides, padding="same", use_bias=False, kernel_initializer="he_normal",
            name=f"conv_{index:02d}",
        )(x)  # fmt: skip

    def bn_relu(x, number):  # normalised and activated, named after the convolution ``number``
        x = layers.BatchNormalization(name=f"bn_{number:02d}")(x)
        return layers.Activation("relu", name=f"relu_{number:02d}")(x)

    inputs = keras.Input(input_shape)
    x = conv(inputs, strides=FIRST_STRIDE)
    if not preactivation:  # a pre-activation block normalises its own input
        x = bn_relu(x, index)
    for pair in range(1, (depth - 2) // 2 + 1):
        if preactivation:
            y = conv(bn_relu(x, index + 1))
            y = conv(bn_relu(y, index + 1))
            x = layers.Add(name=f"add_{pair:02d}")([x, y])
            continue
        y = conv(x)
        y = conv(bn_relu(y, index))
        y = layers.BatchNormalization(name=f"bn_{index:02d}")(y)
        if residual:
            y = layers.Add(name=f"add_{pair:02d}")([x, y])
        x = layers.Activation("relu", name=f"relu_{index:02d}")(y)
    if preactivation:
        x = layers.Activation("relu", name="relu_final")(layers.BatchNormalization(name="bn_final")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classes")(x)
    kind = "pre-activation" if preactivation else "residual" if residual else "plain"
    return keras.Model(inputs, outputs, name=f"{kind.replace('-', '')}_{depth}")


@dataclass
class Degradation:
    """Training loss at every step, by network: ``losses[("plain", 32)]``."""

    losses: dict = field(default_factory=dict)

    def last_steps(self, kind: str, depth: int) -> int:
        """How many of the last steps :meth:`final` averages: 10% of them."""
        return max(1, len(self.losses[kind, depth]) // 10)

    def final(self, kind: str, depth: int) -> float:
        """The mean training loss over the last 10% of steps."""
        return float(np.mean(self.losses[kind, depth][-self.last_steps(kind, depth) :]))

    def summary(self) -> str:
        """A line per kind of network: its mean training loss over the last 10% of steps at each depth."""
        lines = []
        for kind in dict.fromkeys(kind for kind, _ in self.losses):
            depths = [depth for named, depth in self.losses if named == kind]
            losses = listed([say(LOSS_AT_DEPTH, loss=self.final(kind, depth), depth=depth) for depth in depths])
            steps = self.last_steps(kind, depths[0])
            lines.append(say(FINAL_LOSSES, networks=say(PANEL_TITLES[kind]), steps=steps, losses=losses))
        return "\n".join(lines)

    def figure(self, smoothing: int = 15):
        """Training loss against steps, one panel per kind of network (a moving average of ``smoothing`` steps)."""
        from resnets_utils.views.plotting import NotebookFigure

        kinds = list(dict.fromkeys(kind for kind, _ in self.losses))
        figure = NotebookFigure(figsize=(4.5 * len(kinds), 3.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(1, len(kinds), sharey=True))
        colours = {  # light to dark: shallow to deep
            "plain": ("#f4a582", "#b2182b"),
            "residual": ("#92c5de", "#2166ac"),
            "pre-activation": ("#a6dba0", "#1b7837"),
        }
        for axis, kind in zip(axes, kinds, strict=True):
            depths = sorted(depth for known, depth in self.losses if known == kind)
            for depth, colour, width in zip(depths, colours[kind], (1.5, 2.5), strict=False):
                loss = self.losses[kind, depth]
                window = min(smoothing, len(loss))
                smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
                steps = np.arange(window, len(loss) + 1)
                label = say(CURVE_LABELS[kind], depth=depth)
                axis.plot(steps, smooth, color=colour, linewidth=width, label=label)
            chance = np.log(len(CLASSES))  # the loss of a network that answers 1/6 for every class
            label = say(CHANCE, classes=len(CLASSES))
            axis.axhline(chance, color="0.4", linestyle="--", linewidth=1, label=label)
            axis.set_title(say(PANEL_TITLES[kind]))
            axis.set_xlabel(say("training step"))
            axis.legend()
        axes[0].set_ylabel(say("training loss"))
        return figure


def _pictures(images):
    """uint8 pictures scaled down to SIZE x SIZE, as floats in [0, 1]."""
    import keras

    return np.asarray(keras.ops.image.resize(np.asarray(images, "float32") / 255.0, (SIZE, SIZE), antialias=True))


def run(
    images, labels, steps: int | None = None, seed: int = 0, depths=DEPTHS, kinds=("plain", "residual")
) -> Degradation:
    """Train a network of each kind (of ``KINDS``) and depth for ``steps`` steps on the same batches;
    record every step's loss.

    ``steps`` defaults to ``STEPS``, and to ``SMOKE_STEPS`` while nbgrader executes the notebook.

    Args:
        images: uint8 pictures ``(m, 64, 64, 3)``, e.g. ``X_train_orig``.
        labels: their labels, ``(m,)`` or ``(1, m)``.
    """
    import keras

    from resnets_utils.settings import grading
    from resnets_utils.training import losses_per_step

    if steps is None:
        steps = SMOKE_STEPS if grading() else STEPS

    labels = np.asarray(labels).reshape(-1)
    X = _pictures(images)
    rng = np.random.default_rng(seed)
    epochs = -(-steps * BATCH_SIZE // len(X))
    order = np.concatenate([rng.permutation(len(X)) for _ in range(epochs)])[: steps * BATCH_SIZE]
    X, Y = X[order], labels[order]
    if unknown := set(kinds) - set(KINDS):
        raise ValueError(
            say("kinds are {known}, not {unknown}", known=", ".join(KINDS), unknown=", ".join(sorted(unknown)))
        )
    result = Degradation()
    for kind in kinds:
        for depth in depths:
            keras.utils.set_random_seed(seed)
            model = build_network(
                kind != "plain", depth, input_shape=X.shape[1:], classes=int(labels.max()) + 1,
                preactivation=kind == "pre-activation",
            )  # fmt: skip
            model.compile(
                optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=0.9), loss="sparse_categorical_crossentropy"
            )
            result.losses[kind, depth] = losses_per_step(model, X, Y, BATCH_SIZE)
    return result
