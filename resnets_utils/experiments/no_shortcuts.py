"""The student's ResNet-50 without its shortcuts: the same layers, trained beside the original.

``without_shortcuts(model)`` rewires any functional model through its public config: every
``Add`` layer is replaced by an ``Identity`` fed only by its deepest input (the main path,
which has more layers behind it than the shortcut), and the layers that then no longer
reach the output (projection shortcuts) are dropped. No second copy of the architecture:
whatever the student built, minus the additions.

``compare(build, ...)`` trains a fresh model from ``build()`` and its rewired twin for the
same short run on the same batches, from the same seed, and records every step's loss. The
model with shortcuts starts each residual branch at zero, as the assignment's recipe does;
the one without keeps Keras' initial scales, since a branch of zeros would pass nothing on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from resnets_utils.language import N_, say

STEPS = 60
SMOKE_STEPS = 2  # while nbgrader executes the notebook: it needs to know the code runs
BATCH_SIZE = 32
LEARNING_RATE = 1e-3  # Adam's
# The two runs, by the English names the notebooks look them up by (``losses[WITHOUT]``).
WITH, WITHOUT = N_("with shortcuts"), N_("without shortcuts")
RUNS = (WITH, WITHOUT)
FINAL_LOSS = N_("{run}: mean training loss over the last {steps} steps: {loss:.2f}")


def _history_names(argument) -> list[str]:
    """The names of the layers whose outputs a config's call argument uses (nested lists, dicts)."""
    if isinstance(argument, dict):
        if argument.get("class_name") == "__keras_tensor__":
            return [argument["config"]["keras_history"][0]]
        return [name for value in argument.values() for name in _history_names(value)]
    if isinstance(argument, list | tuple):
        return [name for value in argument for name in _history_names(value)]
    return []


def _depths(layers: list[dict]) -> dict[str, int]:
    """Each layer's longest path, in layers, from an input (the config lists them in call order)."""
    depth: dict[str, int] = {}
    for layer in layers:
        parents = _history_names(layer.get("inbound_nodes", []))
        depth[layer["name"]] = 1 + max((depth[name] for name in parents), default=-1)
    return depth


def _main_inputs(config: dict) -> dict[str, dict]:
    """For each ``Add`` layer of a functional config, the call argument of its main path (its deepest input)."""
    depth = _depths(config["layers"])
    mains = {}
    for layer in config["layers"]:
        if layer["class_name"] == "Add":
            if len(layer["inbound_nodes"]) != 1:
                raise ValueError(
                    say("the Add layer {name!r} is used more than once: rewire it by hand", name=layer["name"])
                )
            (tensors,) = layer["inbound_nodes"][0]["args"]
            mains[layer["name"]] = max(tensors, key=lambda tensor: depth[tensor["config"]["keras_history"][0]])
    return mains


def start_branches_at_zero(model) -> int:
    """Set to zero the scale (gamma) of the BatchNormalization ending each residual branch; return how many."""
    import keras

    zeroed = 0
    for argument in _main_inputs(model.get_config()).values():
        layer = model.get_layer(_history_names(argument)[0])
        if isinstance(layer, keras.layers.BatchNormalization) and layer.scale:
            layer.gamma.assign(np.zeros(layer.gamma.shape))
            zeroed += 1
    return zeroed


def without_shortcuts(model):
    """A new, untrained model: ``model``'s layers with every ``Add`` keeping only its main path."""
    import keras

    config = copy.deepcopy(model.get_config())
    layers = config["layers"]
    mains = _main_inputs(config)
    if not mains:
        raise ValueError(say("{name} has no Add layer: there is no shortcut to remove", name=model.name))
    for index, layer in enumerate(layers):
        if layer["name"] not in mains:
            continue
        main = mains[layer["name"]]
        layers[index] = {
            "module": "keras.layers",
            "class_name": "Identity",
            "config": {"name": layer["name"], "trainable": True, "dtype": layer["config"].get("dtype")},
            "registered_name": None,
            "name": layer["name"],
            "inbound_nodes": [{"args": [main], "kwargs": {}}],
        }
    # Keep only the layers that still lead to an output (the projection shortcuts do not).
    by_name = {layer["name"]: layer for layer in layers}
    outputs = config["output_layers"]
    outputs = [outputs] if isinstance(outputs[0], str) else outputs  # one output is stored unnested
    needed, waiting = set(), [output[0] for output in outputs]
    while waiting:
        name = waiting.pop()
        if name not in needed:
            needed.add(name)
            waiting += _history_names(by_name[name].get("inbound_nodes", []))
    config["layers"] = [layer for layer in layers if layer["name"] in needed]
    config["name"] = f"{model.name}_without_shortcuts"
    return keras.Model.from_config(config)


@dataclass
class ShortcutRun:
    """Training loss at every step: ``losses["with shortcuts"]`` and ``losses["without shortcuts"]``."""

    losses: dict = field(default_factory=dict)

    def last_steps(self, name: str) -> int:
        """How many of the last steps :meth:`final` averages: a quarter of them."""
        return max(1, len(self.losses[name]) // 4)

    def final(self, name: str) -> float:
        """The mean training loss over the last quarter of the steps."""
        return float(np.mean(self.losses[name][-self.last_steps(name) :]))

    def summary(self) -> str:
        """A line per run: its mean training loss over the last quarter of the steps."""
        lines = [
            say(FINAL_LOSS, run=say(name), steps=self.last_steps(name), loss=self.final(name)) for name in self.losses
        ]
        return "\n".join(lines)

    def figure(self, smoothing: int = 9):
        """Both loss curves, side by side on one axis (a moving average of ``smoothing`` steps)."""
        from resnets_utils.views.plotting import NotebookFigure

        figure = NotebookFigure(figsize=(7, 3.6), layout="constrained")
        axis = figure.subplots()
        for (name, loss), colour in zip(self.losses.items(), ("tab:blue", "tab:red"), strict=True):
            window = min(smoothing, len(loss))
            smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
            # The runs are named in English (the notebooks look them up by name): say the name.
            label = say(name)
            axis.plot(np.arange(window, len(loss) + 1), smooth, color=colour, linewidth=2, label=label)
        axis.axhline(np.log(6), color="0.4", linestyle="--", linewidth=1, label=say("chance (ln {classes})", classes=6))
        axis.set_xlabel(say("training step"))
        axis.set_ylabel(say("training loss"))
        axis.set_title(say("Your ResNet-50, with and without its shortcuts"))
        axis.legend()
        return figure


def compare(build, images, labels, steps: int | None = None, seed: int = 0) -> ShortcutRun:
    """Train ``build()`` and the same model without shortcuts for ``steps`` steps on the same batches.

    Args:
        build: a function returning a fresh, uncompiled model with a softmax output, e.g.
            ``lambda: ResNet50(input_shape=(64, 64, 3), classes=6)``.
        images: pictures as floats in [0, 1], ``(m, 64, 64, 3)``.
        labels: their labels, ``(m,)`` or ``(1, m)`` (integers).
    """
    import keras

    from resnets_utils.settings import grading
    from resnets_utils.training import losses_per_step

    if steps is None:
        steps = SMOKE_STEPS if grading() else STEPS
    labels = np.asarray(labels).reshape(-1)
    rng = np.random.default_rng(seed)
    epochs = -(-steps * BATCH_SIZE // len(images))
    order = np.concatenate([rng.permutation(len(images)) for _ in range(epochs)])[: steps * BATCH_SIZE]
    X, Y = np.asarray(images, "float32")[order], labels[order]
    result = ShortcutRun()
    for name in RUNS:
        keras.utils.set_random_seed(seed)  # the same initial weights for the layers both have
        model = build()
        if name == WITHOUT:
            keras.utils.set_random_seed(seed)
            model = without_shortcuts(model)
        else:
            start_branches_at_zero(model)
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="sparse_categorical_crossentropy")
        result.losses[name] = losses_per_step(model, X, Y, BATCH_SIZE)
    return result
