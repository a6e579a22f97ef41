"""Pictures of the data for the notebooks and the README."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure


def figure_png(figure: Figure, dpi: int = 72) -> bytes:
    """The figure as PNG bytes (for notebooks and ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class NotebookFigure(Figure):
    """A Figure that a notebook shows as a picture when it is a cell's value, pyplot or not."""

    def _repr_png_(self) -> bytes:
        return figure_png(self)


def show_samples(images, labels, per_class: int = 6, seed: int = 0, title: str | None = None) -> Figure:
    """Draw a grid of examples: one row per class, ``per_class`` pictures in each.

    Args:
        images: uint8 ``(m, 64, 64, 3)`` pictures, e.g. ``X_train_orig``.
        labels: their labels, shaped ``(m,)`` or ``(1, m)``, e.g. ``Y_train_orig``.
        per_class: pictures shown for each class.
        seed: which pictures are picked (the same seed picks the same ones).
        title: optional title above the grid.

    Returns:
        A matplotlib ``Figure``; a notebook shows it when it is a cell's last value.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(labels):
        raise ValueError(
            f"expected RGB images (m, height, width, 3) and m labels, got images {images.shape} "
            f"and {labels.size} labels"
        )
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    figure = NotebookFigure(figsize=(1.25 * per_class, 1.3 * len(classes)), layout="constrained")
    axes = figure.subplots(len(classes), per_class, squeeze=False)
    for row, label in zip(axes, classes, strict=True):
        members = np.flatnonzero(labels == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for column, axis in enumerate(row):
            axis.set_xticks([])
            axis.set_yticks([])
            if column < len(chosen):
                axis.imshow(images[chosen[column]])
            else:
                axis.set_axis_off()
        row[0].set_ylabel(f"{label} finger{'' if label == 1 else 's'}", fontsize=9)
    if title:
        figure.suptitle(title)
    return figure
