"""The training precision: bfloat16 only where the CPU computes it natively, float32 while graded."""

import itertools
import random
import types

import keras
import numpy as np
import pytest
from conftest import in_every_language, spoken_problems

from resnets_utils import settings
from resnets_utils.language import LANGUAGES
from resnets_utils.training import precision

FLAGS = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma {extra}\n"


@pytest.mark.parametrize(
    "extra, native", [("", False), ("avx512f avx512_bf16", True), ("amx_tile amx_bf16", True), ("avx512f", False)]
)
def test_native_bfloat16_is_read_from_the_cpu_flags(tmp_path, extra, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(FLAGS.format(extra=extra))
    assert precision.native_bfloat16(cpuinfo) is native
    assert precision.native_bfloat16(tmp_path / "absent") is False


def _dense_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("graded", [True, False])
def test_models_built_inside_fastest_compute_in_bfloat16_only_natively_and_never_while_graded(
    monkeypatch, native, graded
):
    monkeypatch.setattr(precision, "native_bfloat16", lambda: native)
    if graded:
        monkeypatch.setenv(settings.GRADING, "1")
    else:
        monkeypatch.delenv(settings.GRADING, raising=False)
    with precision.fastest():
        model = _dense_model()
    assert keras.config.dtype_policy().name == "float32"  # restored after the block
    expected = "bfloat16" if native and not graded else "float32"
    assert model.layers[-1].compute_dtype == expected
    assert model.layers[-1].kernel.dtype == "float32"  # weights stay float32 either way
    outputs = model(np.ones((2, 4), dtype="float32"))
    assert keras.backend.standardize_dtype(outputs.dtype) == expected
    line = precision.describe(model)
    assert line.startswith("Training path: ") and ("bfloat16" in line.split(":")[1]) == (expected == "bfloat16")
    assert ("graded" in line) == graded


def test_the_policy_comes_back_after_an_error(monkeypatch):
    monkeypatch.setattr(precision, "native_bfloat16", lambda: True)
    monkeypatch.delenv(settings.GRADING, raising=False)
    with pytest.raises(RuntimeError), precision.fastest():
        raise RuntimeError("the student's ResNet50 failed")
    assert keras.config.dtype_policy().name == "float32"


# Why each precision, in the English of the line before it spoke other languages.
WHY = {
    "mixed_bfloat16": "bfloat16 arithmetic with float32 weights: this CPU computes bfloat16 natively",
    "graded": "float32: the notebook is being graded, and the checks' values are float32",
    "float32": "float32: this CPU has no native bfloat16 arithmetic",
}


@pytest.mark.parametrize("seed", range(3))
def test_the_training_path_is_said_in_every_language(monkeypatch, fallbacks, seed):
    rng = random.Random(seed)
    for policy, graded, onednn in itertools.product(("mixed_bfloat16", "float32"), (True, False), ("1", "0", None)):
        if graded and policy == "mixed_bfloat16":
            continue  # fastest() builds no bfloat16 model while graded
        backend = rng.choice(["tensorflow", "jax", "torch", "numpy"])
        monkeypatch.setattr(keras.backend, "backend", lambda: backend)  # noqa: B023 (said at once)
        for variable, value in ((settings.GRADING, "autograde" if graded else None), ("TF_ENABLE_ONEDNN_OPTS", onednn)):
            if value is None:
                monkeypatch.delenv(variable, raising=False)
            else:
                monkeypatch.setenv(variable, value)
        model = types.SimpleNamespace(dtype_policy=types.SimpleNamespace(name=policy))
        told = in_every_language(lambda: precision.describe(model), fallbacks)  # noqa: B023 (said at once)
        why = WHY["graded" if graded else policy]
        onednn_said = "on" if onednn == "1" else "TensorFlow's default"
        assert told["en"] == f"Training path: {why}; {backend} backend, oneDNN {onednn_said}."
        for code in LANGUAGES:
            problems = spoken_problems(code, told["en"], told[code], [backend])
            assert not problems, (told["en"], told[code], problems)
