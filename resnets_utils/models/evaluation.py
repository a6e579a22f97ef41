"""How a classifier did on labelled pictures: its predicted classes, accuracy, confusion matrix."""

from __future__ import annotations

import numpy as np


def predicted_classes(model, images) -> np.ndarray:
    """The class ``model`` gives each picture (the largest of its outputs)."""
    return np.asarray(model.predict(images, verbose=0)).argmax(axis=1)


def accuracy(model, images, labels) -> float:
    """The share of ``images`` whose predicted class is their label."""
    return float((predicted_classes(model, images) == np.asarray(labels).reshape(-1)).mean())


def confusion_matrix(true_labels, predicted_labels, classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` counts: one row per true class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true_labels).reshape(-1), np.asarray(predicted_labels).reshape(-1)), 1)
    return matrix
