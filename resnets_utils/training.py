"""Training for the notebooks: ``model.fit`` for students, a smoke run under nbgrader."""

from __future__ import annotations

import os

# nbgrader sets this variable while it executes a notebook (autograde, validate, generate).
GRADING_VARIABLE = "NBGRADER_EXECUTION"
SMOKE_EXAMPLES = 32


def grading() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get(GRADING_VARIABLE))


def fit(model, X, Y, epochs: int, batch_size: int = 32, **options):
    """``model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)``.

    While nbgrader grades a notebook, only one batch of ``SMOKE_EXAMPLES`` pictures is
    trained, eagerly: grading needs to know that training runs, and compiling
    ResNet-50's training step takes about 30 s on 2 cores where one eager step takes 5 s.
    """
    if grading():
        model.run_eagerly = True
        return model.fit(X[:SMOKE_EXAMPLES], Y[:SMOKE_EXAMPLES], epochs=1, batch_size=batch_size, **options)
    return model.fit(X, Y, epochs=epochs, batch_size=batch_size, **options)
