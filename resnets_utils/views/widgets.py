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
import itertools

import ipywidgets as widgets
import keras
import numpy as np
from matplotlib.text import Text

from resnets_utils.models.architecture import describe, shape_text
from resnets_utils.models.evaluation import confusion_matrix, predicted_classes
from resnets_utils.models.naming import block_of, is_shortcut
from resnets_utils.views.plotting import MIN_FONTSIZE, NotebookFigure, display_size, figure_png

SHORTCUT_COLOUR = "tab:orange"
TITLE_FONTSIZE = 12

# ----------------------------------------------------------------------------- static pictures


class _StaticPicture:
    """Adds a PNG of everything the view shows to its notebook output, next to the live widget.

    JupyterLab shows the widget; viewers without a kernel (GitHub, nbviewer) show the picture,
    which nbconvert keeps in the executed notebook where it keeps no widget. The picture is a
    retina PNG with its display size in the output's metadata, as the live view's pictures.
    """

    def static_figure(self) -> NotebookFigure:
        """The figure of the static picture: what the live view shows, in one picture."""
        raise NotImplementedError

    def _static_png(self) -> bytes:
        return figure_png(self.static_figure())

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        png = bytes(self._static_png() or b"")
        if bundle is None or not png:
            return bundle
        bundle["image/png"] = png
        return bundle, {"image/png": display_size(png)}


def _show(image: widgets.Image, figure) -> None:
    """Draw ``figure`` into ``image``: retina pixels, shown at the figure's size as the static picture."""
    png = figure_png(figure)
    size = display_size(png)
    with image.hold_sync():
        image.value = png
        image.width, image.height = str(size["width"]), str(size["height"])


# ----------------------------------------------------------------------------- stages and blocks


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


def text_table(header, rows) -> str:
    """The table as monospaced text lines: the first column aligned left, the others right."""
    table = [[str(cell) for cell in row] for row in (header, *rows)]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]

    def line(cells):
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(table[0]), "  ".join("-" * width for width in widths), *map(line, table[1:])])


DIAGRAM_WIDTH = 5.6  # inches: two columns of boxes as wide as "BatchNormalization 15x15x256" in 11 points
STEP = 0.6  # inches from one layer's box to the next: a two-line box and an arrow
SHORTCUT_X = 2.75  # the shortcut's column, in the diagram's units (about inches); the main path is at 0


def _block_parts(rows: list[dict]):
    """``(main path, addition, layers after it, shortcut layers)`` of a block's rows."""
    main = [r for r in rows if not is_shortcut(r["name"]) and r["type"] != "Add"]
    add = next((r for r in rows if r["type"] == "Add"), None)
    after_add = [r for r in main if add and add["name"] in r["inputs"]]
    main = [r for r in main if r not in after_add]
    return main, add, after_add, [r for r in rows if is_shortcut(r["name"])]


def _block_steps(rows: list[dict]) -> int:
    main, add, after_add, _ = _block_parts(rows)
    return len(main) + (2 if add else 0) + len(after_add)


def _block_height(rows: list[dict]) -> float:
    return STEP * (_block_steps(rows) + 1.4) + 0.5  # the layers, the block input and the title


def block_diagram(rows: list[dict], title: str) -> NotebookFigure:
    """The block's main path as a column of layers and its shortcut beside it, in orange."""
    figure = NotebookFigure(figsize=(DIAGRAM_WIDTH, _block_height(rows)), layout="constrained")
    draw_block(figure, rows, title)
    return figure


def draw_block(figure, rows: list[dict], title: str) -> None:
    """Draw :func:`block_diagram` into ``figure`` (a Figure or a SubFigure).

    Arrows run from box to box and are clipped at the boxes' edges, so each one ends on the box,
    or the addition's circle (gid ``"add"``), that it points to; the shortcut's last arrow has
    gid ``"shortcut"``.
    """
    main, add, after_add, shortcut = _block_parts(rows)
    steps = _block_steps(rows)
    axis = figure.subplots()
    axis.set_axis_off()
    axis.set_xlim(-1.35, 4.1)
    axis.set_ylim(-steps - 0.4, 1.0)
    axis.set_title(title, fontsize=TITLE_FONTSIZE)

    def box(x, y, row, colour) -> Text:
        named = "" if "#" in row["name"] else row["name"] + "\n"  # unnamed layers: the type says it all
        return label(x, y, f"{named}{row['type']} {shape_text(row)}", facecolor=colour, edgecolor="grey")

    def label(x, y, text, colour="black", **frame) -> Text:
        frame = {"boxstyle": "round,pad=0.3", "facecolor": "none", "edgecolor": "none", **frame}
        return axis.text(x, y, text, ha="center", va="center", color=colour, fontsize=MIN_FONTSIZE, bbox=frame)

    def arrow(start: Text, end: Text, colour="black", corner=None, gid=None):
        """An arrow from one box's edge to another's; ``corner``: leave vertically or horizontally."""
        style = {"h": "angle,angleA=0,angleB=90,rad=0", "v": "angle,angleA=-90,angleB=0,rad=0"}.get(corner, "arc3")
        axis.annotate(
            "",
            xy=end.get_position(),
            xytext=start.get_position(),
            gid=gid,
            arrowprops={
                "arrowstyle": "->",
                "color": colour,
                "lw": 1.5 if colour == SHORTCUT_COLOUR else 1.2,
                "connectionstyle": style,
                "patchA": start.get_bbox_patch(),
                "patchB": end.get_bbox_patch(),
                "shrinkA": 1,
                "shrinkB": 0,
            },
        )

    previous = block_input = label(0, 0.6, "block input")
    y = 0.0
    for row in main:
        y -= 1
        current = box(0, y, row, "#dbe9f6")
        arrow(previous, current)
        previous = current
    if not add:
        return
    y -= 1.2
    plus = axis.text(
        0,
        y,
        "+",
        ha="center",
        va="center",
        fontsize=14,
        gid="add",
        bbox={"boxstyle": "circle,pad=0.1", "facecolor": "white", "edgecolor": "black"},
    )
    arrow(previous, plus)
    if shortcut:  # a convolutional block: the shortcut has its own layers
        stations = [label(SHORTCUT_X, -0.35, "shortcut\n(convolution)", SHORTCUT_COLOUR)]
        stations += [box(SHORTCUT_X, -1.5 - 1.3 * index, row, "#fde3c8") for index, row in enumerate(shortcut)]
    else:  # an identity block: the input itself
        stations = [label(SHORTCUT_X, y / 2, "shortcut\n(identity)", SHORTCUT_COLOUR)]
    arrow(block_input, stations[0], SHORTCUT_COLOUR, corner="h")
    for start, end in itertools.pairwise(stations):
        arrow(start, end, SHORTCUT_COLOUR)
    arrow(stations[-1], plus, SHORTCUT_COLOUR, corner="v", gid="shortcut")
    previous = plus
    for row in after_add:
        y -= 1
        current = box(0, y, row, "#dbe9f6")
        arrow(previous, current)
        previous = current


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
        self.stages = widgets.HTML(_table(*self.stage_table()))
        super().__init__(
            [
                widgets.HTML(f"<b>{html.escape(self.heading)}</b>"),
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

    @property
    def heading(self) -> str:
        return f"{self.model.name}: {self.model.count_params():,} parameters"

    @property
    def title(self) -> str:
        """The selected block, as the diagram's title says it."""
        return f"{stage_label(self.stage.value)}, block {self.block.value or '-'}"

    def static_figure(self) -> NotebookFigure:
        """The selected block's diagram beside the table of stages."""
        rows = self.selected_rows
        table = text_table(*self.stage_table()).splitlines()
        line = 1.2 * MIN_FONTSIZE / 72  # inches: a line of text
        table_width = 0.6 * MIN_FONTSIZE / 72 * max(map(len, table)) + 0.4  # a monospaced character is 0.6 em wide
        height = max(_block_height(rows), line * (len(table) + 3) + 0.5)
        figure = NotebookFigure(figsize=(DIAGRAM_WIDTH + table_width, height), layout="constrained")
        diagram, stages = figure.subfigures(1, 2, width_ratios=[DIAGRAM_WIDTH, table_width])
        draw_block(diagram, rows, self.title)
        top = 1 - 0.1 / height  # the same height as the diagram's title
        stages.text(0.02, top, self.heading, fontsize=TITLE_FONTSIZE, fontweight="bold", va="top")
        stages.text(0.02, top - 0.4 / height, "\n".join(table), fontsize=MIN_FONTSIZE, family="monospace", va="top")
        return figure

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
        _show(self.diagram, block_diagram(rows, self.title))

    def stage_summary(self) -> list[tuple[str, str, int, float]]:
        """``(stage, output shape, parameters, share of the total)`` for each stage."""
        total = sum(r["params"] for r in self.rows) or 1
        summary = []
        for stage in sorted({s for s, _ in self.groups}):
            rows = [r for (s, _), group in self.groups.items() if s == stage for r in group]
            params = sum(r["params"] for r in rows)
            summary.append((stage_label(stage), shape_text(rows[-1]), params, params / total))
        return summary

    def stage_table(self) -> tuple[list[str], list[tuple[str, ...]]]:
        """``(header, rows)`` of the table of stages, as the widget and its static picture show it."""
        return (
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

    def static_figure(self) -> NotebookFigure:
        """The picture, the layer's name and shape, and the current page of its channels."""
        return self._figure(self.feature_maps(self.layer.value, self.image.value))

    def _static_png(self) -> bytes:
        return self.view.value  # the live view's picture is already the static figure, drawn

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
        _show(self.view, self._figure(maps))

    def _figure(self, maps):
        first = self.page.value * self.per_page
        columns = 4
        rows = -(-self.panels // columns)
        figure = NotebookFigure(figsize=(2.4 + 1.45 * columns, max(2.4, 1.5 * rows) + 0.4), layout="constrained")
        figure.suptitle(
            f"{self.layer.value}: output {'x'.join(map(str, maps.shape))}, "
            f"channels {first} to {first + self.panels - 1} of {maps.shape[-1]}",
            fontsize=TITLE_FONTSIZE,
        )
        grid = figure.add_gridspec(rows, columns + 2)
        picture = figure.add_subplot(grid[:, :2])
        shown = self.images[self.image.value]
        picture.imshow(shown if shown.dtype == np.uint8 else np.clip(shown, 0, 1))
        label = "" if self.labels is None else f" (label {self.labels[self.image.value]})"
        picture.set_title(f"picture {self.image.value}{label}", fontsize=MIN_FONTSIZE)
        picture.set_axis_off()
        for index in range(self.panels):
            axis = figure.add_subplot(grid[index // columns, 2 + index % columns])
            axis.imshow(maps[..., first + index], cmap="viridis")
            axis.set_title(f"channel {first + index}", fontsize=MIN_FONTSIZE)
            axis.set_axis_off()
        return figure


MATRIX_SIZE = (3.8, 3.6)  # inches
GALLERY_COLUMNS = 6


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
        self.images = np.asarray(images)
        self.matrix_view, self.gallery_view = widgets.Image(format="png"), widgets.Image(format="png")
        _show(self.matrix_view, self._draw_matrix(NotebookFigure(figsize=MATRIX_SIZE, layout="constrained")))
        _show(self.gallery_view, self._draw_gallery(NotebookFigure(figsize=self._gallery_size, layout="constrained")))
        super().__init__([summary, widgets.HBox([self.matrix_view, self.gallery_view])])

    def static_figure(self) -> NotebookFigure:
        """The confusion matrix beside the misclassified pictures."""
        gallery_width, gallery_height = self._gallery_size
        figure = NotebookFigure(
            figsize=(MATRIX_SIZE[0] + gallery_width, max(MATRIX_SIZE[1], gallery_height)), layout="constrained"
        )
        matrix, gallery = figure.subfigures(1, 2, width_ratios=[MATRIX_SIZE[0], gallery_width])
        self._draw_matrix(matrix)
        self._draw_gallery(gallery)
        return figure

    @classmethod
    def from_model(cls, model, X, Y, images, **options):
        """Predict ``X`` with ``model``; ``Y`` as labels ``(1, m)`` or one-hot ``(m, C)``."""
        Y = np.asarray(Y)
        true = Y.argmax(axis=1) if Y.ndim == 2 and Y.shape[0] == len(X) else Y.reshape(-1)
        predicted = predicted_classes(model, X)
        return cls(true, predicted, images, **options)

    def _draw_matrix(self, figure):
        """Draw the confusion matrix into ``figure`` (a Figure or a SubFigure) and return it."""
        axis = figure.subplots()
        axis.imshow(self.matrix, cmap="Blues")
        for (true, predicted), count in np.ndenumerate(self.matrix):
            colour = "white" if count > self.matrix.max() / 2 else "black"
            axis.text(predicted, true, str(count), ha="center", va="center", color=colour, fontsize=MIN_FONTSIZE)
        axis.set_xlabel("predicted", fontsize=MIN_FONTSIZE)
        axis.set_ylabel("true", fontsize=MIN_FONTSIZE)
        axis.set_xticks(range(self.classes))
        axis.set_yticks(range(self.classes))
        axis.tick_params(labelsize=MIN_FONTSIZE)
        axis.set_title("Confusion matrix", fontsize=TITLE_FONTSIZE)
        return figure

    @property
    def _gallery_size(self) -> tuple[float, float]:
        rows = max(1, -(-self.gallery_size // GALLERY_COLUMNS))
        return 1.2 * GALLERY_COLUMNS, 1.75 * rows + 0.4  # a picture and two lines of 11-point labels

    def _draw_gallery(self, figure):
        """Draw the misclassified pictures into ``figure`` (a Figure or a SubFigure) and return it."""
        if not self.gallery_size:
            figure.text(0.5, 0.5, "no misclassified pictures", ha="center", fontsize=MIN_FONTSIZE)
            return figure
        rows = -(-self.gallery_size // GALLERY_COLUMNS)
        for index, axis in enumerate(figure.subplots(rows, GALLERY_COLUMNS, squeeze=False).flat):
            axis.set_axis_off()
            if index < self.gallery_size:
                which = self.misclassified[index]
                axis.imshow(self.images[which])
                axis.set_title(
                    f"predicted {self.predicted[which]}\ntrue {self.true[which]}", fontsize=MIN_FONTSIZE, color="red"
                )
        shown = "" if self.gallery_size == len(self.misclassified) else f" ({self.gallery_size} shown)"
        figure.suptitle(f"Misclassified: {len(self.misclassified)}{shown}", fontsize=TITLE_FONTSIZE)
        return figure
