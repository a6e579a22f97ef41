"""ResNets of different blocks trained with one recipe: what each costs, how fast it trains, what it learns.

``compare(builders, X_train, Y_train, X_test, Y_test)`` builds each model from ``builders``
(a name, then a function of ``input_shape`` and ``classes``, such as the student's ``ResNet18``),
trains it for ``EPOCHS`` epochs with the assignment's recipe (Adam with a warm-up and a cosine
decay, the last BatchNormalization of each residual branch starting at zero where there is one,
bfloat16 where the CPU computes it natively) on the same seed, and records its parameters,
multiply-adds per picture, training pictures per second and test accuracy.

The run is short on purpose (minutes on 2 cores: ``scripts/measure.py block_comparison``): no
network is trained to the end, so the accuracies compare an equal, small budget of epochs, and
their order can change with the seed; the costs do not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from resnets_utils.language import N_, say

EPOCHS = 4
BATCH_SIZE = 64
PEAK_LEARNING_RATE = 0.004
BN_MOMENTUM = 0.9  # statistics that follow a short run's weights (Keras' 0.99 lags behind)
# By split: as many labels as pictures are needed.
UNLABELLED = {
    "training": N_("{pictures} training pictures but {labels} labels: pass one label per picture"),
    "test": N_("{pictures} test pictures but {labels} labels: pass one label per picture"),
}


@dataclass
class Trained:
    """One network's costs and results."""

    name: str
    parameters: int
    multiply_adds: int  # per picture, in convolutions and dense layers
    pictures_per_second: float  # while training, over the epochs after the first (which traces the step)
    test_accuracy: float
    losses: list[float] = field(default_factory=list)  # each epoch's mean training loss


@dataclass
class Comparison:
    """The trained networks, in the order they were given."""

    networks: list[Trained] = field(default_factory=list)

    def table(self) -> str:
        """The networks side by side, one row each: the names left, the numbers right."""
        from resnets_utils.views.plotting import text_width

        headings = [say("network"), say("parameters"), say("multiply-adds"), say("pictures/s"), say("test accuracy")]
        # At least two spaces before each heading: a Chinese or Korean character fills two columns.
        widths = [
            max(width, text_width(heading) + 2) for heading, width in zip(headings, (16, 12, 15, 12, 15), strict=True)
        ]
        rows = [
            (
                net.name,
                f"{net.parameters / 1e6:.1f}M",
                f"{net.multiply_adds / 1e6:.0f}M",
                f"{net.pictures_per_second:.0f}",
                f"{net.test_accuracy:.1%}",
            )
            for net in self.networks
        ]

        def line(cells):
            spaces = [" " * (width - text_width(cell)) for cell, width in zip(cells, widths, strict=True)]
            (name, after), *numbers = zip(cells, spaces, strict=True)
            return name + after + "".join(before + number for number, before in numbers)

        return "\n".join(line(cells) for cells in [headings, *rows])

    def figure(self):
        """Four bar charts: parameters, multiply-adds per picture, training speed and test accuracy."""
        from resnets_utils.views.plotting import NotebookFigure

        panels = (
            (say("parameters (millions)"), [net.parameters / 1e6 for net in self.networks]),
            (say("multiply-adds per picture (millions)"), [net.multiply_adds / 1e6 for net in self.networks]),
            (say("training speed (pictures/s)"), [net.pictures_per_second for net in self.networks]),
            (
                say("test accuracy after {epochs} epochs (%)", epochs=EPOCHS),
                [100 * net.test_accuracy for net in self.networks],
            ),
        )
        names = [net.name for net in self.networks]
        figure = NotebookFigure(figsize=(12, 3.2), layout="constrained")
        for axis, (title, values) in zip(figure.subplots(1, len(panels)), panels, strict=True):
            bars = axis.bar(names, values, color=["#2166ac", "#1b7837", "#b2182b", "#762a83"][: len(names)])
            axis.bar_label(bars, fmt="%.0f" if max(values) >= 10 else "%.1f")
            axis.set_title(title, fontsize=10)
            axis.tick_params(axis="x", labelrotation=20, labelsize=9)
            axis.margins(y=0.15)
        return figure


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds, self.losses = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
            self.losses.append(float(logs["loss"]))

    return EpochTimer()


def train(name: str, build, X_train, Y_train, X_test, Y_test, seed: int = 0, epochs: int = EPOCHS) -> Trained:
    """Build ``build(input_shape=..., classes=...)`` and train it with the recipe; labels are class numbers."""
    import keras

    from resnets_utils.course.lessons import multiply_adds
    from resnets_utils.experiments.no_shortcuts import start_branches_at_zero
    from resnets_utils.settings import grading
    from resnets_utils.training import SMOKE_EXAMPLES, fit, precision, set_batchnorm_momentum, warmup_then_cosine

    Y_train, Y_test = np.asarray(Y_train).reshape(-1), np.asarray(Y_test).reshape(-1)
    for split, pictures, labels in (("training", X_train, Y_train), ("test", X_test, Y_test)):
        if len(pictures) != len(labels):
            raise ValueError(say(UNLABELLED[split], pictures=len(pictures), labels=len(labels)))
    classes = int(max(Y_train.max(), Y_test.max())) + 1
    keras.utils.set_random_seed(seed)
    with precision.fastest():
        model = build(input_shape=tuple(X_train.shape[1:]), classes=classes)
    start_branches_at_zero(model)
    set_batchnorm_momentum(model, BN_MOMENTUM)
    steps = epochs * int(np.ceil(len(X_train) / BATCH_SIZE))
    model.compile(
        optimizer=keras.optimizers.Adam(warmup_then_cosine(PEAK_LEARNING_RATE, steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    timer = _epoch_timer()
    fit(model, X_train, Y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=0, callbacks=[timer])
    timed = timer.seconds[1:] or timer.seconds  # one epoch only: it includes the tracing
    per_epoch = SMOKE_EXAMPLES if grading() else len(X_train)  # nbgrader's run trains one small batch
    _, accuracy = model.evaluate(X_test, Y_test, batch_size=BATCH_SIZE, verbose=0)
    return Trained(
        name=name,
        parameters=model.count_params(),
        multiply_adds=multiply_adds(model),
        pictures_per_second=per_epoch * len(timed) / sum(timed),
        test_accuracy=float(accuracy),
        losses=timer.losses,
    )


def compare(builders: dict, X_train, Y_train, X_test, Y_test, seed: int = 0, epochs: int = EPOCHS) -> Comparison:
    """Train each of ``builders`` (name -> model builder) with the one recipe; pictures in [0, 1]."""
    return Comparison(
        [train(name, build, X_train, Y_train, X_test, Y_test, seed, epochs) for name, build in builders.items()]
    )
