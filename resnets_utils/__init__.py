"""Helpers for the Residual Networks course: data, plots and checks.

Importing this package is cheap: TensorFlow is imported only by the modules that
build or check models. Imported before TensorFlow, it turns on TensorFlow's oneDNN
kernels (see ``use_onednn``).
"""

import os
import sys

from resnets_utils.settings import ONEDNN

__version__ = "0.1.0"


def use_onednn() -> None:
    """Ask TensorFlow, if it is not imported yet, for its oneDNN CPU kernels (a value the user set wins).

    TensorFlow leaves them off on some CPUs (AVX2-only AMD EPYCs among them), where ResNet-50
    then trains 2 to 3 times slower (docs/performance.md). The notebooks set it in their first
    cell, because a notebook may import Keras before this package.
    """
    if "tensorflow" not in sys.modules:
        os.environ.setdefault(ONEDNN, "1")


use_onednn()
