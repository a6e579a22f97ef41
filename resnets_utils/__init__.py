"""Helpers for the Residual Networks course: data, plots and checks.

Importing this package is cheap: TensorFlow is imported only by the modules that
build or check models.
"""

__version__ = "0.1.0"
