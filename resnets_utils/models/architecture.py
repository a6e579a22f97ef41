"""Describe a Keras functional model as a table of layers that can be compared.

Each row holds what the assignment specifies about a layer: type, output shape,
parameter count, the settings that matter (``SETTINGS``), the layers feeding it and a
hard-wired ``training`` argument if any. Rows come in a canonical order (longest
path to the output first, then type and name), so two models built in a
different order but with the same graph give the same table. Layers the student
is not asked to name (activations, additions...) get canonical names such as
``Activation#3``, so Keras' automatic names (``activation_17``) never matter.
"""

from __future__ import annotations

import re


class NotALayerError(ValueError):
    """The model holds an operation on tensors (such as ``X + Y``) that is not a Keras layer."""

    def __init__(self, operation: str):
        self.operation = operation
        super().__init__(f"the model holds an operation that is not a layer: {operation}")


SETTINGS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "activation",
    "axis",
    "epsilon",
    "momentum",
    "pool_size",
    "units",
    "kernel_initializer",
)


def describe(model) -> list[dict]:
    """Rows describing every layer of a functional ``model`` (see module docstring)."""
    config = model.get_config()
    inputs_of = {layer["name"]: _inbound_names(layer) for layer in config["layers"]}
    training_of = {layer["name"]: _training_argument(layer) for layer in config["layers"]}
    depth = _depth_to_output(inputs_of)
    only_layers(model, config)

    layers = [model.get_layer(name) for name in inputs_of]
    layers.sort(key=lambda layer: (-depth[layer.name], kind(layer), given_name(layer) or ""))

    canonical, counters = {}, {}
    for layer in layers:
        layer_kind = kind(layer)
        if given_name(layer):
            canonical[layer.name] = layer.name
        else:
            counters[layer_kind] = counters.get(layer_kind, 0) + 1
            canonical[layer.name] = f"{layer_kind}#{counters[layer_kind]}"

    rows = []
    for layer in layers:
        row = {
            "name": canonical[layer.name],
            "type": kind(layer),
            "output_shape": list(layer.output.shape[1:]),
            "params": int(layer.count_params()),
            "inputs": sorted(canonical[name] for name in inputs_of[layer.name]),
            **layer_settings(layer),
        }
        if training_of[layer.name] is not None:
            row["training"] = training_of[layer.name]
        rows.append(row)
    return rows


def only_layers(model, config=None) -> None:
    """Raise :class:`NotALayerError` if the functional ``model`` holds an operation that is not a layer."""
    known = {layer.name for layer in model.layers}
    for entry in (config or model.get_config())["layers"]:
        if entry["name"] not in known:  # e.g. `X + X_shortcut`: recorded as an operation, not a layer
            raise NotALayerError(entry.get("class_name", "an operation"))


def layer_settings(layer) -> dict:
    """The layer's values of ``SETTINGS``, as plain data (an initializer as text: ``GlorotUniform(seed=0)``)."""
    config = layer.get_config()
    if kind(layer) != type(layer).__name__:
        config = {"activation": "relu"}  # a plain ReLU layer, described as the Activation it equals
    settings = {key: _plain(config[key]) for key in SETTINGS if key in config}
    if "kernel_initializer" in settings:
        settings["kernel_initializer"] = _initializer_text(settings["kernel_initializer"])
    return settings


def _initializer_text(config) -> str:
    if not isinstance(config, dict):
        return str(config)
    inner = config.get("config")
    if config.get("class_name") == "function":  # a function given where an initializer object belongs
        return f"the function {inner} itself"
    seed = f"(seed={inner['seed']})" if isinstance(inner, dict) and "seed" in inner else ""
    return f"{config.get('class_name')}{seed}"


def shape_text(row: dict) -> str:
    """A row's output shape as people write it: ``15x15x256``."""
    return "x".join(str(n) for n in row["output_shape"])


def kind(layer) -> str:
    """The layer's type; a ``ReLU()`` layer with its defaults counts as ``Activation('relu')``."""
    kind = type(layer).__name__
    if kind == "ReLU":
        config = layer.get_config()
        if not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold"):
            return "Activation"
    return kind


def _plain(value):
    """Tuples (at any depth) as lists, so a row equals its JSON round trip."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def given_name(layer) -> str | None:
    """The layer's name if someone chose it, None for Keras' automatic names."""
    automatic = _snake_case(type(layer).__name__)
    return None if re.fullmatch(rf"{automatic}(_\d+)?", layer.name) else layer.name


def _snake_case(name: str) -> str:
    # Keras' rule for automatic names: Conv2D -> conv2d, ZeroPadding2D -> zero_padding2d.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _inbound_names(layer_config: dict) -> list[str]:
    names = []

    def walk(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                names.append(value["config"]["keras_history"][0])
            else:
                for item in value.values():
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for node in layer_config.get("inbound_nodes", []):
        walk(node.get("args", []))
    return names


def _training_argument(layer_config: dict):
    for node in layer_config.get("inbound_nodes", []):
        if node.get("kwargs", {}).get("training") is not None:
            return node["kwargs"]["training"]
    return None


def _depth_to_output(inputs_of: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from each layer to a layer that feeds nothing (the output)."""
    consumers: dict[str, list[str]] = {name: [] for name in inputs_of}
    for name, sources in inputs_of.items():
        for source in sources:
            consumers[source].append(name)
    depth: dict[str, int] = {}

    def visit(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((visit(c) for c in consumers[name]), default=-1)
        return depth[name]

    for name in inputs_of:
        visit(name)
    return depth
