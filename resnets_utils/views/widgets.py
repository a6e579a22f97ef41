"""Interactive views of a Keras model for the notebooks (ipywidgets 8 and matplotlib).

- :class:`ArchitectureExplorer`: stages and blocks, their layers, the block's diagram with
  its shortcut marked (Graphviz's, as :func:`diagrams.block_diagram` draws it), and what
  each stage costs.
- :class:`FeatureMapViewer`: what any layer of any functional model computes on a picture.
- :class:`ResultsView`: confusion matrix and the misclassified test pictures.

Each view is a widget (a ``VBox``): a notebook shows it when it is a cell's value. Pictures
are retina PNG images in ``ipywidgets.Image``, drawn with matplotlib without pyplot (or by
Graphviz), so nothing here needs a browser or a display until the widget is shown.
"""

from __future__ import annotations

import html
import io
import re

import ipywidgets as widgets
import keras
import numpy as np
from matplotlib.image import imread

from resnets_utils.language import say
from resnets_utils.models.architecture import describe, shape_text
from resnets_utils.models.evaluation import confusion_matrix, predicted_classes
from resnets_utils.models.naming import block_of
from resnets_utils.views import diagrams
from resnets_utils.views.plotting import (
    DPI,
    MIN_FONTSIZE,
    NotebookFigure,
    display_size,
    drawn_columns,
    figure_png,
    monospace,
    padded_columns,
    padding,
    wrapped,
)

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
    _show_png(image, figure_png(figure))


def _show_png(image: widgets.Image, png: bytes) -> None:
    """Show a retina ``png`` in ``image`` at half its pixels."""
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
    """The stage's name in the student's language: stage ``0`` is the input, ``9`` the classifier."""
    if stage == 0:
        return say("input")
    return say("classifier") if stage == 9 else say("stage {stage}", stage=stage)


# ----------------------------------------------------------------------------- tables and diagrams


def _table(header, rows) -> str:
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>{body}</table>"


def text_table(header, rows) -> str:
    """The table as lines of a figure's monospaced text: the first column aligned left, the others right.

    Chinese and Korean cells are padded to their column's width exactly (:func:`plotting.padding`).
    """
    table = [[str(cell) for cell in row] for row in (header, *rows)]
    widths = [max(padded_columns(row[column]) for row in table) for column in range(len(header))]

    def line(cells):
        padded = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            spaces = padding(cell, width)
            padded.append(cell + spaces if i == 0 else spaces + cell)
        return "  ".join(padded)

    return "\n".join([line(table[0]), "  ".join("-" * width for width in widths), *map(line, table[1:])])


def _markdown_line(text: str) -> str:
    """One line of text as HTML, its `code` in ``<code>``."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


class ArchitectureExplorer(_StaticPicture, widgets.VBox):
    """Pick a stage and a block: its layers, its diagram (:func:`diagrams.block_diagram`'s), and a table of all stages.

    Without Graphviz the diagram's place says in one line what to install; the rest works.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.rows = describe(model)
        self.groups = group_layers(self.rows)
        self.graphviz = diagrams.have_dot()
        self._diagrams: dict[tuple, diagrams.DiagramImage] = {}  # rendered once per block: dot takes 0.1 s
        stages = sorted({stage for stage, _ in self.groups})
        self.stage = widgets.Dropdown(options=[(stage_label(s), s) for s in stages], description=say("Stage"))
        self.block = widgets.Dropdown(description=say("Block"))
        self.layers = widgets.HTML()
        self.diagram = widgets.Image(format="png")
        self.graphviz_missing = widgets.HTML("" if self.graphviz else _markdown_line(say(diagrams.GRAPHVIZ_MISSING)))
        if not self.graphviz:
            self.diagram.layout.display = "none"
        self.stages = widgets.HTML(_table(*self.stage_table()))
        super().__init__(
            [
                widgets.HTML(f"<b>{html.escape(self.heading)}</b>"),
                widgets.HBox([self.stage, self.block]),
                self.graphviz_missing,
                widgets.HBox([self.diagram, self.layers]),
                widgets.HTML("<b>" + html.escape(say("Stages")) + "</b>"),
                self.stages,
            ]
        )
        self.stage.observe(self._on_stage, names="value")
        self.block.observe(lambda _: self._draw(), names="value")
        self.stage.value = next((s for s in stages if s == 2), stages[0])
        self._on_stage()

    @property
    def heading(self) -> str:
        return say("{model}: {count:,} parameters", model=self.model.name, count=self.model.count_params())

    @property
    def title(self) -> str:
        """The selected block, as the diagram's title says it."""
        return say("{stage}, block {block}", stage=stage_label(self.stage.value), block=self.block.value or "-")

    @property
    def selected_diagram(self) -> diagrams.DiagramImage | None:
        """The selected block's diagram, a retina PNG; None without Graphviz or a selection."""
        key = (self.stage.value, self.block.value)
        if not self.graphviz or not self.selected_rows:
            return None
        if key not in self._diagrams:
            self._diagrams[key] = diagrams.block_diagram_from_rows(
                self.selected_rows, self.title, model_rows=self.rows, dpi=diagrams.RETINA_DPI
            )
        return self._diagrams[key]

    def static_figure(self) -> NotebookFigure:
        """The selected block's diagram, pixel for pixel, beside the table of stages."""
        table = text_table(*self.stage_table()).splitlines()
        line = 1.2 * MIN_FONTSIZE / 72  # inches: a line of text
        table_width = 0.6 * MIN_FONTSIZE / 72 * max(map(drawn_columns, table)) + 0.4  # a monospaced column: 0.6 em
        table_height = line * (len(table) + 3) + 0.5
        diagram = self.selected_diagram
        if diagram is None:  # no Graphviz: the table, and below it how to get the diagram
            characters = round(table_width * 72 / (0.6 * MIN_FONTSIZE))  # as wide as the table, about 0.6 em a letter
            note = wrapped(say(diagrams.GRAPHVIZ_MISSING).replace("`", ""), width=characters)
            note_top = 0.5 + line * (len(table) + 1)  # inches: a blank line below the table
            height = note_top + line * (note.count("\n") + 1) + 0.2
            figure = NotebookFigure(figsize=(table_width, height))
            self._draw_stage_table(figure, left=0, table=table)
            figure.text(0.02, 1 - note_top / height, note, fontsize=MIN_FONTSIZE, va="top")
            return figure
        # At the figure's DPI, an inch holds DPI of the diagram's pixels: drawn without resampling.
        diagram_width, diagram_height = (pixels / DPI for pixels in diagram.size)
        width, height = diagram_width + table_width, max(diagram_height, table_height)
        figure = NotebookFigure(figsize=(width, height))
        axis = figure.add_axes((0, 1 - diagram_height / height, diagram_width / width, diagram_height / height))
        axis.imshow(imread(io.BytesIO(diagram.png), format="png"), interpolation="none")
        axis.set_axis_off()
        self._draw_stage_table(figure, left=diagram_width / width, table=table)
        return figure

    def _draw_stage_table(self, figure, left: float, table: list[str]) -> None:
        """The heading and the table of stages, from ``left`` (a fraction of the figure's width) at the top."""
        top = 1 - 0.1 / figure.get_figheight()
        figure.text(left + 0.02, top, self.heading, fontsize=TITLE_FONTSIZE, fontweight="bold", va="top")
        text = "\n".join(table)
        figure.text(
            left + 0.02, top - 0.4 / figure.get_figheight(), text, fontsize=MIN_FONTSIZE, family=monospace(), va="top"
        )

    def _on_stage(self, _=None):
        blocks = sorted(block for stage, block in self.groups if stage == self.stage.value)
        self.block.options = [(block or say("(whole stage)"), block) for block in blocks]
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
            [say("layer"), say("type"), say("output shape"), say("parameters")],
            [(r["name"], r["type"], shape_text(r), f"{r['params']:,}") for r in rows],
        )
        if self.selected_diagram is not None:
            _show_png(self.diagram, self.selected_diagram.png)

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
            [say("stage"), say("output shape"), say("parameters"), say("share")],
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
            raise ValueError(say("the model has no convolution, activation or addition layer to show"))
        self._extractors: dict[str, keras.Model] = {}
        self._maps: dict[tuple[str, int], np.ndarray] = {}

        last = len(self.images) - 1
        self.image = widgets.IntSlider(0, 0, last, description=say("Picture"), continuous_update=False)
        self.layer = widgets.Dropdown(options=names, description=say("Layer"))
        self.page = widgets.IntSlider(0, 0, 0, description=say("Channels"), continuous_update=False)
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
        first, layer = self.page.value * self.per_page, "<b>" + html.escape(self.layer.value) + "</b>"
        self.shape.value = say(
            "{layer}: output shape {shape} (height x width x channels), channels {first} to {last}",
            layer=layer,
            shape=html.escape(str(maps.shape)),
            first=first,
            last=first + self.panels - 1,
        )
        _show(self.view, self._figure(maps))

    def _figure(self, maps):
        first = self.page.value * self.per_page
        columns = 4
        rows = -(-self.panels // columns)
        figure = NotebookFigure(figsize=(2.4 + 1.45 * columns, max(2.4, 1.5 * rows) + 0.4), layout="constrained")
        figure.suptitle(
            say(
                "{layer}: output {shape}, channels {first} to {last} of {channels}",
                layer=self.layer.value,
                shape="x".join(map(str, maps.shape)),
                first=first,
                last=first + self.panels - 1,
                channels=maps.shape[-1],
            ),
            fontsize=TITLE_FONTSIZE,
        )
        grid = figure.add_gridspec(rows, columns + 2)
        picture = figure.add_subplot(grid[:, :2])
        shown = self.images[self.image.value]
        picture.imshow(shown if shown.dtype == np.uint8 else np.clip(shown, 0, 1))
        if self.labels is None:
            title = say("picture {number}", number=self.image.value)
        else:
            title = say(
                "picture {number} (label {label})", number=self.image.value, label=self.labels[self.image.value]
            )
        picture.set_title(title, fontsize=MIN_FONTSIZE)
        picture.set_axis_off()
        for index in range(self.panels):
            axis = figure.add_subplot(grid[index // columns, 2 + index % columns])
            axis.imshow(maps[..., first + index], cmap="viridis")
            axis.set_title(say("channel {number}", number=first + index), fontsize=MIN_FONTSIZE)
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
            say(
                "<b>Accuracy {accuracy:.1%}</b>: {wrong} of {total} pictures misclassified",
                accuracy=accuracy,
                wrong=len(self.misclassified),
                total=len(self.true),
            )
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
        axis.set_xlabel(say("predicted"), fontsize=MIN_FONTSIZE)
        axis.set_ylabel(say("true"), fontsize=MIN_FONTSIZE)
        axis.set_xticks(range(self.classes))
        axis.set_yticks(range(self.classes))
        axis.tick_params(labelsize=MIN_FONTSIZE)
        axis.set_title(say("Confusion matrix"), fontsize=TITLE_FONTSIZE)
        return figure

    @property
    def _gallery_size(self) -> tuple[float, float]:
        rows = max(1, -(-self.gallery_size // GALLERY_COLUMNS))
        return 1.2 * GALLERY_COLUMNS, 1.75 * rows + 0.4  # a picture and two lines of 11-point labels

    def _draw_gallery(self, figure):
        """Draw the misclassified pictures into ``figure`` (a Figure or a SubFigure) and return it."""
        if not self.gallery_size:
            figure.text(0.5, 0.5, say("no misclassified pictures"), ha="center", fontsize=MIN_FONTSIZE)
            return figure
        rows = -(-self.gallery_size // GALLERY_COLUMNS)
        for index, axis in enumerate(figure.subplots(rows, GALLERY_COLUMNS, squeeze=False).flat):
            axis.set_axis_off()
            if index < self.gallery_size:
                which = self.misclassified[index]
                axis.imshow(self.images[which])
                labels = say(
                    "predicted {predicted}\ntrue {true}", predicted=self.predicted[which], true=self.true[which]
                )
                axis.set_title(labels, fontsize=MIN_FONTSIZE, color="red")
        if self.gallery_size == len(self.misclassified):
            title = say("Misclassified: {count}", count=len(self.misclassified))
        else:
            title = say(
                "Misclassified: {count} ({shown} shown)", count=len(self.misclassified), shown=self.gallery_size
            )
        figure.suptitle(title, fontsize=TITLE_FONTSIZE)
        return figure
