"""Training progress in a notebook: a status line with the time left, and the learning curves.

``fit(..., verbose=0, callbacks=[LiveProgress()])`` shows one line, updated after every
step (epoch, step, running loss and accuracy, time taken and time left), and the learning
curves, redrawn after every epoch. Both are notebook outputs updated in place, so the
executed notebook keeps the last line and the final curves; outside a notebook one line
per epoch is printed instead.
"""

from __future__ import annotations

import time

import keras

from resnets_utils.language import N_, say
from resnets_utils.views.plotting import NotebookFigure
from resnets_utils.wording import said_duration

REFRESH_SECONDS = 1.0  # the status line is redrawn at most this often
TEST = N_("test")  # the validation pictures' name in the legend, unless the caller names them
METRICS = {"loss": N_("loss"), "accuracy": N_("accuracy")}  # Keras' names, as the axes say them
# The status line, whole: Keras' metric names and their values stay as Keras logs them.
STEP_SO_FAR = N_("epoch {epoch}/{epochs}, step {step}/{steps}  {values}  |  {elapsed} so far")
STEP_LEFT = N_("epoch {epoch}/{epochs}, step {step}/{steps}  {values}  |  {elapsed} so far, about {left} left")
EPOCH_LINE = N_("epoch {epoch}/{epochs}  {values}  ({elapsed})")  # outside a notebook
TRAINED = {True: N_("trained {epochs} epoch in {elapsed}"), False: N_("trained {epochs} epochs in {elapsed}")}


def learning_curves(history: dict, validation: str = TEST) -> NotebookFigure:
    """Loss and accuracy against epochs, for the training pictures and the validation ones.

    Args:
        history: ``History.history`` (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``).
        validation: what the validation pictures are, for the legend (said in the student's language
            when the catalogue knows it).
    """
    figure = NotebookFigure(figsize=(9, 3.2), layout="constrained")
    for axis, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for key, label, style in ((metric, say("training"), "-o"), (f"val_{metric}", say(validation), "-s")):
            values = history.get(key, [])
            if values:
                axis.plot(range(1, len(values) + 1), values, style, markersize=4, label=label)
        axis.set_xlabel(say("epoch"))
        axis.set_ylabel(say(METRICS[metric]))
        axis.grid(alpha=0.3)
        if metric == "accuracy":
            axis.set_ylim(0, 1.02)
        if axis.lines:
            axis.legend()
    return figure


class LiveProgress(keras.callbacks.Callback):
    """A Keras callback showing a training's progress, its time left and its learning curves."""

    def __init__(self, validation: str = TEST):
        super().__init__()
        self.validation = validation
        self.history: dict[str, list[float]] = {}
        self.seconds = 0.0  # the training's duration, once it has ended
        self._line = self._curves = None

    def on_train_begin(self, logs=None):
        from IPython import get_ipython
        from IPython.display import Markdown, display

        self.epochs = int(self.params.get("epochs") or 1)
        self.steps = int(self.params.get("steps") or 1)
        self.history = {}
        self._start = time.perf_counter()
        self._first_step_end = None
        self._shown = 0.0
        self._epoch = 0
        if get_ipython() is not None:
            self._line = display(Markdown(say("starting: the first step also prepares the model")), display_id=True)
            curves_later = say("the learning curves appear after the first epoch")
            self._curves = display(Markdown(f"*{curves_later}*"), display_id=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        done = self._epoch * self.steps + batch + 1
        if self._first_step_end is None:
            self._first_step_end = (now, done)  # the first step also traces the model: not a typical step
        if now - self._shown >= REFRESH_SECONDS or done == self.epochs * self.steps:
            self._shown = now
            self._status(self._running(batch + 1, logs, now, done))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        summary = "  ".join(f"{key} {values[-1]:.3f}" for key, values in self.history.items())
        if self._curves is not None:
            self._curves.update(learning_curves(self.history, self.validation))
        else:
            elapsed = said_duration(time.perf_counter() - self._start)
            print(say(EPOCH_LINE, epoch=epoch + 1, epochs=self.epochs, values=summary, elapsed=elapsed))

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._start
        epochs = len(next(iter(self.history.values()), []))
        self._status(say(TRAINED[epochs == 1], epochs=epochs, elapsed=said_duration(self.seconds)))

    def _running(self, step: int, logs, now: float, done: int) -> str:
        """The status line after ``done`` steps in all: where training is, its metrics, its time taken and left."""
        values = "  ".join(f"{key} {value:.3f}" for key, value in (logs or {}).items())
        where = {"epoch": self._epoch + 1, "epochs": self.epochs, "step": step, "steps": self.steps, "values": values}
        elapsed = said_duration(now - self._start)
        first_end, first_done = self._first_step_end
        if done <= first_done:  # only the first step, which traces the model: nothing to extrapolate from
            return say(STEP_SO_FAR, **where, elapsed=elapsed)
        per_step = (now - first_end) / (done - first_done)
        left = said_duration(per_step * (self.epochs * self.steps - done))
        return say(STEP_LEFT, **where, elapsed=elapsed, left=left)

    def _status(self, text: str) -> None:
        if self._line is not None:
            from IPython.display import Markdown

            self._line.update(Markdown(f"`{text}`"))
