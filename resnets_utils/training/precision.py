"""The number format training computes in: bfloat16 where the CPU computes it natively, float32 elsewhere.

A model built inside ``fastest()`` keeps its weights in float32 and computes in bfloat16
(Keras' ``mixed_bfloat16`` policy) when the CPU has native bfloat16 instructions
(AVX512_BF16 or AMX); elsewhere bfloat16 would be emulated and slower, so it stays float32.
While nbgrader grades a notebook it is always float32: the checks' expected values are
float32 numbers.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from resnets_utils import machine
from resnets_utils.language import N_, say
from resnets_utils.settings import grading

NATIVE_FLAGS = {"avx512_bf16", "amx_bf16"}  # /proc/cpuinfo's names of native bfloat16 arithmetic


def native_bfloat16(cpuinfo: Path | str = machine.CPUINFO) -> bool:
    """Whether the CPU computes bfloat16 natively, from the flags in ``cpuinfo``."""
    return bool(machine.cpu_flags(cpuinfo) & NATIVE_FLAGS)


def chosen() -> str:
    """The Keras dtype policy ``fastest()`` builds models with here: ``mixed_bfloat16`` or ``float32``."""
    return "mixed_bfloat16" if native_bfloat16() and not grading() else "float32"


@contextlib.contextmanager
def building_with(policy: str):
    """Build models inside this block with the Keras dtype ``policy``; the previous policy comes back after it."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def fastest():
    """Build models inside this block with ``chosen()``'s policy (``with precision.fastest(): ...``)."""
    return building_with(chosen())


# The line describe() says, by why the precision is what it is and by whether oneDNN is on: whole sentences.
TRAINING_PATH = {
    ("bfloat16", True): N_(
        "Training path: bfloat16 arithmetic with float32 weights: this CPU computes bfloat16 natively; "
        "{backend} backend, oneDNN on."
    ),
    ("bfloat16", False): N_(
        "Training path: bfloat16 arithmetic with float32 weights: this CPU computes bfloat16 natively; "
        "{backend} backend, oneDNN TensorFlow's default."
    ),
    ("graded", True): N_(
        "Training path: float32: the notebook is being graded, and the checks' values are float32; "
        "{backend} backend, oneDNN on."
    ),
    ("graded", False): N_(
        "Training path: float32: the notebook is being graded, and the checks' values are float32; "
        "{backend} backend, oneDNN TensorFlow's default."
    ),
    ("float32", True): N_(
        "Training path: float32: this CPU has no native bfloat16 arithmetic; {backend} backend, oneDNN on."
    ),
    ("float32", False): N_(
        "Training path: float32: this CPU has no native bfloat16 arithmetic; "
        "{backend} backend, oneDNN TensorFlow's default."
    ),
}


def describe(model) -> str:
    """One line: the precision ``model`` computes in and why, with the backend and oneDNN setting."""
    import os

    import keras

    if model.dtype_policy.name == "mixed_bfloat16":
        why = "bfloat16"
    elif grading():
        why = "graded"
    else:
        why = "float32"
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1"
    return say(TRAINING_PATH[why, onednn], backend=keras.backend.backend())
