"""Interactive views of a Keras model for the notebooks (ipywidgets 8 and matplotlib).

- :class:`ArchitectureExplorer`: stages and blocks, their layers, a diagram of the block
  with its shortcut marked, and what each stage costs.
- :class:`FeatureMapViewer`: what any layer of any functional model computes on a picture.
- :class:`ResultsView`: confusion matrix and the misclassified test pictures.

Each view is a widget (a ``VBox``): a notebook shows it when it is a cell's value. Pictures
are PNG images in ``ipywidgets.Image``, drawn with matplotlib without pyplot, so nothing
here needs a browser or a display until the widget is shown.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import keras
import numpy as np

from resnets_utils.architecture import describe, shape_text
from resnets_utils.plotting import NotebookFigure, figure_png

SHORTCUT_COLOUR = "tab:orange"

# ----------------------------------------------------------------------------- static pictures


class _StaticPicture:
    """Adds a PNG of the view's main picture to its notebook output, next to the live widget.

    JupyterLab shows the widget; viewers without a kernel (GitHub, nbviewer) show the picture,
    which nbconvert keeps in the executed notebook where it keeps no widget.
    """

    def _static_png(self) -> bytes:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        png = bytes(self._static_png() or b"")
        if bundle is not None and png:
            bundle["image/png"] = png
        return bundle


# ----------------------------------------------------------------------------- stages and blocks


def block_of(name: str):
    """``(stage, block)`` a layer name belongs to, or None. Knows the course's names
    (``res3b_branch2a``, ``bn_conv1``) and those of ``keras.applications`` (``conv3_block2_1_conv``)."""
    if match := re.match(r"(?:res|bn)(\d)([a-z]+)_branch", name):
        return int(match.group(1)), match.group(2)
    if match := re.match(r"conv(\d)_block(\d+)_", name):
        return int(match.group(1)), chr(ord("a") + int(match.group(2)) - 1)
    if name in ("conv1", "bn_conv1") or name.startswith("conv1_"):
        return 1, ""
    return None


def is_shortcut(name: str) -> bool:
    return bool(re.search(r"_branch1$|_0_(conv|bn)$", name))


def group_layers(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Rows grouped by ``(stage, block)``; stage ``0`` is the input, ``9`` the classifier.

    Unnamed layers (activations, additions, pooling) join the group of the named layer
    before them in the canonical order, which is the block they close.
    """
    groups: dict[tuple, list[dict]] = {}
    current = (0, "")
    for row in rows:
        place = block_of(row["name"])
        if place is not None:
            current = place
        elif "#" not in row["name"] and row["type"] != "InputLayer" and current[0] >= 2:
            current = (9, "")  # a named layer after the blocks: avg_pool, fc6, predictions...
        groups.setdefault(current, []).append(row)
    return groups


def stage_label(stage: int) -> str:
    return {0: "input", 9: "classifier"}.get(stage, f"stage {stage}")


# ----------------------------------------------------------------------------- tables and diagrams


def _table(header, rows) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>{body}</table>"


def block_diagram(rows: list[dict], title: str) -> NotebookFigure:
    """The block's main path as a column of layers and its shortcut beside it, in orange."""
    main = [r for r in rows if not is_shortcut(r["name"]) and r["type"] not in ("Add",)]
    add = next((r for r in rows if r["type"] == "Add"), None)
    after_add = [r for r in main if add and add["name"] in r["inputs"]]
    main = [r for r in main if r not in after_add]
    shortcut = [r for r in rows if is_shortcut(r["name"])]

    steps = len(main) + (2 if add else 0) + len(after_add)
    figure = NotebookFigure(figsize=(4.6, 0.42 * steps + 1.2), layout="constrained")
    axis = figure.subplots()
    axis.set_axis_off()
    axis.set_xlim(-1.2, 2.4)
    axis.set_ylim(-steps - 0.6, 1.0)
    axis.set_title(title, fontsize=10)

    def box(x, y, row, colour):
        named = "" if "#" in row["name"] else row["name"] + "\n"  # unnamed layers: the type says it all
        label = f"{named}{row['type']} {shape_text(row)}"
        axis.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=6.5,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "grey"},
        )

    def arrow(start, end, colour="black"):
        axis.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.2})

    axis.text(0, 0.6, "block input", ha="center", fontsize=8)
    y = 0.0
    for row in main:
        y -= 1
        box(0, y, row, "#dbe9f6")
        arrow((0, y + 0.75), (0, y + 0.3))
    if add:
        y -= 1.2
        axis.text(
            0,
            y,
            "+",
            ha="center",
            va="center",
            fontsize=14,
            bbox={"boxstyle": "circle,pad=0.1", "facecolor": "white", "edgecolor": "black"},
        )
        arrow((0, y + 0.95), (0, y + 0.3))
        if shortcut:  # a convolutional block: the shortcut has its own layers
            for index, row in enumerate(shortcut):
                box(1.5, -1.5 - 1.3 * index, row, "#fde3c8")
                if index:
                    arrow((1.5, -1.5 - 1.3 * index + 0.95), (1.5, -1.5 - 1.3 * index + 0.3), SHORTCUT_COLOUR)
            axis.annotate(
                "",
                xy=(1.5, -1.2),
                xytext=(0.3, 0.5),
                arrowprops={"arrowstyle": "->", "color": SHORTCUT_COLOUR, "lw": 1.5},
            )
            axis.annotate(
                "",
                xy=(0.25, y),
                xytext=(1.5, -1.8 - 1.3 * (len(shortcut) - 1)),
                arrowprops={"arrowstyle": "->", "color": SHORTCUT_COLOUR, "lw": 1.5},
            )
            axis.text(1.5, 0.0, "shortcut (convolution)", color=SHORTCUT_COLOUR, ha="center", fontsize=8)
        else:  # an identity block: the input itself
            axis.annotate(
                "",
                xy=(0.25, y),
                xytext=(0.3, 0.5),
                arrowprops={
                    "arrowstyle": "->",
                    "color": SHORTCUT_COLOUR,
                    "lw": 1.5,
                    "connectionstyle": "arc3,rad=-0.35",
                },
            )
            axis.text(1.35, y / 2, "shortcut\n(identity)", color=SHORTCUT_COLOUR, ha="center", fontsize=8)
        for row in after_add:
            y -= 1
            box(0, y, row, "#dbe9f6")
            arrow((0, y + 0.75), (0, y + 0.3))
    return figure


class ArchitectureExplorer(_StaticPicture, widgets.VBox):
    """Pick a stage and a block: its layers, its diagram, and a table of all stages."""

    def __init__(self, model: keras.Model):
        self.model = model
        self.rows = describe(model)
        self.groups = group_layers(self.rows)
        stages = sorted({stage for stage, _ in self.groups})
        self.stage = widgets.Dropdown(options=[(stage_label(s), s) for s in stages], description="Stage")
        self.block = widgets.Dropdown(description="Block")
        self.layers = widgets.HTML()
        self.diagram = widgets.Image(format="png")
        self.stages = widgets.HTML(self._stage_table())
        super().__init__(
            [
                widgets.HTML(f"<b>{html.escape(model.name)}</b>: {model.count_params():,} parameters"),
                widgets.HBox([self.stage, self.block]),
                widgets.HBox([self.diagram, self.layers]),
                widgets.HTML("<b>Stages</b>"),
                self.stages,
            ]
        )
        self.stage.observe(self._on_stage, names="value")
        self.block.observe(lambda _: self._draw(), names="value")
        self.stage.value = next((s for s in stages if s == 2), stages[0])
        self._on_stage()

    def _static_png(self) -> bytes:
        return self.diagram.value

    def _on_stage(self, _=None):
        blocks = sorted(block for stage, block in self.groups if stage == self.stage.value)
        self.block.options = [(block or "(whole stage)", block) for block in blocks]
        self.block.value = blocks[0]
        self._draw()

    @property
    def selected_rows(self) -> list[dict]:
        return self.groups.get((self.stage.value, self.block.value), [])

    def _draw(self):
        rows = self.selected_rows
        if not rows:
            return
        self.layers.value = _table(
            ["layer", "type", "output shape", "parameters"],
            [(r["name"], r["type"], shape_text(r), f"{r['params']:,}") for r in rows],
        )
        title = f"{stage_label(self.stage.value)}, block {self.block.value or '-'}"
        self.diagram.value = figure_png(block_diagram(rows, title))

    def stage_summary(self) -> list[tuple[str, str, int, float]]:
        """``(stage, output shape, parameters, share of the total)`` for each stage."""
        total = sum(r["params"] for r in self.rows) or 1
        summary = []
        for stage in sorted({s for s, _ in self.groups}):
            rows = [r for (s, _), group in self.groups.items() if s == stage for r in group]
            params = sum(r["params"] for r in rows)
            summary.append((stage_label(stage), shape_text(rows[-1]), params, params / total))
        return summary

    def _stage_table(self) -> str:
        return _table(
            ["stage", "output shape", "parameters", "share"],
            [(name, shape, f"{params:,}", f"{share:.1%}") for name, shape, params, share in self.stage_summary()],
        )


# ----------------------------------------------------------------------------- feature maps


class FeatureMapViewer(_StaticPicture, widgets.VBox):
    """Pick a picture, a layer and a page of channels; see the layer's feature maps."""

    VIEWABLE = ("Conv2D", "Activation", "Add", "ReLU")

    def __init__(self, model: keras.Model, images, labels=None, per_page: int = 16, scale: float | None = None):
        """
        Args:
            model: any Keras functional model, e.g. your ResNet50.
            images: pictures ``(m, height, width, channels)`` as the model's input expects
                them, or uint8 (then divided by 255, as in the course).
            labels: optional labels, shown above the input picture.
            per_page: channels shown at once.
            scale: multiply images by this before the model; default 1/255 for uint8.
        """
        self.model, self.per_page = model, per_page
        self.images = np.asarray(images)
        self.labels = None if labels is None else np.asarray(labels).reshape(-1)
        self.scale = scale if scale is not None else (1 / 255 if self.images.dtype == np.uint8 else 1.0)
        names = [layer.name for layer in model.layers if type(layer).__name__ in self.VIEWABLE]
        if not names:
            raise ValueError("the model has no convolution, activation or addition layer to show")
        self._extractors: dict[str, keras.Model] = {}
        self._maps: dict[tuple[str, int], np.ndarray] = {}

        self.image = widgets.IntSlider(0, 0, len(self.images) - 1, description="Picture", continuous_update=False)
        self.layer = widgets.Dropdown(options=names, description="Layer")
        self.page = widgets.IntSlider(0, 0, 0, description="Channels", continuous_update=False)
        self.shape = widgets.HTML()
        self.view = widgets.Image(format="png")
        super().__init__([widgets.HBox([self.image, self.layer, self.page]), self.shape, self.view])
        for control in (self.image, self.layer, self.page):
            control.observe(self._on_change, names="value")
        self._on_change()

    def _static_png(self) -> bytes:
        return self.view.value

    def feature_maps(self, layer: str, image: int) -> np.ndarray:
        """The layer's output for one picture: ``(height, width, channels)``."""
        if (layer, image) not in self._maps:
            if layer not in self._extractors:
                self._extractors[layer] = keras.Model(self.model.inputs, self.model.get_layer(layer).output)
            batch = self.images[image : image + 1].astype(np.float32) * self.scale
            self._maps[(layer, image)] = np.asarray(self._extractors[layer].predict(batch, verbose=0))[0]
        return self._maps[(layer, image)]

    @property
    def panels(self) -> int:
        """How many channels the current page shows."""
        channels = self.feature_maps(self.layer.value, self.image.value).shape[-1]
        return min(self.per_page, channels - self.page.value * self.per_page)

    def _on_change(self, change=None):
        maps = self.feature_maps(self.layer.value, self.image.value)
        pages = -(-maps.shape[-1] // self.per_page)
        if self.page.max != pages - 1:
            self.page.max = pages - 1  # may move page.value, which calls us again
        self.shape.value = (
            f"<b>{html.escape(self.layer.value)}</b>: output shape {maps.shape} "
            f"(height x width x channels), channels {self.page.value * self.per_page} to "
            f"{self.page.value * self.per_page + self.panels - 1}"
        )
        self.view.value = figure_png(self._figure(maps))

    def _figure(self, maps):
        first = self.page.value * self.per_page
        columns = 4
        rows = -(-self.panels // columns)
        figure = NotebookFigure(figsize=(2.2 + 1.4 * columns, max(2.2, 1.4 * rows)), layout="constrained")
        grid = figure.add_gridspec(rows, columns + 2)
        picture = figure.add_subplot(grid[:, :2])
        shown = self.images[self.image.value]
        picture.imshow(shown if shown.dtype == np.uint8 else np.clip(shown, 0, 1))
        label = "" if self.labels is None else f" (label {self.labels[self.image.value]})"
        picture.set_title(f"picture {self.image.value}{label}", fontsize=9)
        picture.set_axis_off()
        for index in range(self.panels):
            axis = figure.add_subplot(grid[index // columns, 2 + index % columns])
            axis.imshow(maps[..., first + index], cmap="viridis")
            axis.set_title(f"channel {first + index}", fontsize=7)
            axis.set_axis_off()
        return figure


def confusion_matrix(true_labels, predicted_labels, classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` counts."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(true_labels).reshape(-1), np.asarray(predicted_labels).reshape(-1)), 1)
    return matrix


class ResultsView(_StaticPicture, widgets.VBox):
    """Confusion matrix and a gallery of misclassified pictures with both labels."""

    def __init__(self, true_labels, predicted_labels, images, classes: int | None = None, gallery: int = 24):
        self.true = np.asarray(true_labels).reshape(-1)
        self.predicted = np.asarray(predicted_labels).reshape(-1)
        self.classes = classes or int(max(self.true.max(), self.predicted.max())) + 1
        self.matrix = confusion_matrix(self.true, self.predicted, self.classes)
        self.misclassified = np.flatnonzero(self.true != self.predicted)
        self.gallery_size = min(gallery, len(self.misclassified))
        accuracy = float(np.mean(self.true == self.predicted)) if len(self.true) else 0.0
        summary = widgets.HTML(
            f"<b>Accuracy {accuracy:.1%}</b>: {len(self.misclassified)} of {len(self.true)} pictures misclassified"
        )
        self.matrix_view = widgets.Image(value=figure_png(self._matrix_figure()), format="png")
        self.gallery_view = widgets.Image(value=figure_png(self._gallery_figure(np.asarray(images))), format="png")
        super().__init__([summary, widgets.HBox([self.matrix_view, self.gallery_view])])

    def _static_png(self) -> bytes:
        return self.matrix_view.value

    @classmethod
    def from_model(cls, model, X, Y, images, **options):
        """Predict ``X`` with ``model``; ``Y`` as labels ``(1, m)`` or one-hot ``(m, C)``."""
        Y = np.asarray(Y)
        true = Y.argmax(axis=1) if Y.ndim == 2 and Y.shape[0] == len(X) else Y.reshape(-1)
        predicted = model.predict(X, verbose=0).argmax(axis=1)
        return cls(true, predicted, images, **options)

    def _matrix_figure(self):
        figure = NotebookFigure(figsize=(3.6, 3.3), layout="constrained")
        axis = figure.subplots()
        axis.imshow(self.matrix, cmap="Blues")
        for (true, predicted), count in np.ndenumerate(self.matrix):
            colour = "white" if count > self.matrix.max() / 2 else "black"
            axis.text(predicted, true, str(count), ha="center", va="center", color=colour, fontsize=8)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_xticks(range(self.classes))
        axis.set_yticks(range(self.classes))
        axis.set_title("Confusion matrix", fontsize=10)
        return figure

    def _gallery_figure(self, images):
        columns = 6
        rows = max(1, -(-self.gallery_size // columns))
        figure = NotebookFigure(figsize=(1.3 * columns, 1.45 * rows + 0.4), layout="constrained")
        if not self.gallery_size:
            figure.text(0.5, 0.5, "no misclassified pictures", ha="center")
            return figure
        for index, axis in enumerate(figure.subplots(rows, columns, squeeze=False).flat):
            axis.set_axis_off()
            if index < self.gallery_size:
                which = self.misclassified[index]
                axis.imshow(images[which])
                axis.set_title(f"pred {self.predicted[which]} / true {self.true[which]}", fontsize=7, color="red")
        figure.suptitle("Misclassified", fontsize=10)
        return figure
