"""Helpers for the Residual Networks course: data, plots and checks.

Importing this package is cheap: TensorFlow is imported only by the modules that
build or check models. Imported before TensorFlow, it turns on TensorFlow's oneDNN
kernels (see ``use_onednn``).
"""

import os
import sys

__version__ = "0.1.0"

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
FAST_VARIABLE = "RESNETS_FAST_TRAINING"  # read by training.default_engine too


def use_onednn() -> bool:
    """Ask TensorFlow, if it is not imported yet, for its oneDNN CPU kernels; True if asked.

    TensorFlow leaves them off on some CPUs (an AVX2-only AMD EPYC here). There, without
    them, the input gradient of a convolution over ResNet-50's last 2x2 feature maps
    takes 20 to 35 times as long as the convolution itself, and a whole training step
    about 2.7 times as long (README, "Speed on a laptop CPU"). A value the user set wins,
    and ``RESNETS_FAST_TRAINING=0`` (everything as in a plain ``model.fit``) leaves it unset.
    """
    if "tensorflow" in sys.modules or os.environ.get(FAST_VARIABLE) == "0":
        return False
    os.environ.setdefault(ONEDNN_VARIABLE, "1")
    return os.environ[ONEDNN_VARIABLE] == "1"


use_onednn()
