"""Which Keras backend trains ResNet-50 faster on this CPU: measured once, then remembered.

    python -m resnets_utils.backend_choice [--force]   (make calibrate [FORCE=1]; make lab runs it)

``training.fit`` has two engines: Keras' torch backend in a child process, or TensorFlow
in the notebook's process. On some CPUs torch's step is the faster (on an AVX2 CPU three
times TensorFlow's without oneDNN, 0.8 times with it); on others (the course's AVX-512
machines) TensorFlow's is. So both are measured: a few training steps of Keras' ResNet-50
at batch 32 on 64x64 pictures, each backend in a fresh process, after a warm-up step
(graph tracing is not counted). The result is kept per CPU model (and TensorFlow's oneDNN
setting, see ``resnets_utils``) in ``$XDG_CACHE_HOME/resnets-course/backend-choice.json``,
and ``training.fit`` reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from resnets_utils import ONEDNN_VARIABLE

RECORD_FILE = "backend-choice.json"
# The torch child also skips TensorFlow's 15-40 s of tracing per fit, so TensorFlow is
# chosen only when its step is clearly faster.
TENSORFLOW_MARGIN = 1.25


def record_path() -> Path:
    from resnets_utils import data

    return data.default_data_dir().parent / RECORD_FILE


def cpu_name() -> str:
    """The CPU's model name, family and model (a record made on another CPU does not apply here).

    The name alone is not enough: "AMD EPYC" has named AVX-512 and AVX2-only CPUs alike here.
    """
    try:
        fields = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        if "model name" in fields:
            family = f"family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
            return f"{fields['model name']} ({family}) x{os.cpu_count()}"
    except OSError:
        pass
    import platform

    return f"{platform.processor() or platform.machine()} x{os.cpu_count()}"


def measurement_settings() -> str:
    """What the measurement depended on besides the CPU: a record made otherwise is stale."""
    return f"oneDNN {os.environ.get(ONEDNN_VARIABLE, 'default')}"


def recorded_choice() -> str | None:
    """``"torch"`` or ``"tensorflow"`` as measured on this CPU, or None when not measured."""
    try:
        record = json.loads(record_path().read_text())
    except (OSError, ValueError):
        return None
    if record.get("cpu") != cpu_name() or record.get("settings") != measurement_settings():
        return None
    return record.get("choice")


def _measure_here(steps: int, batch_size: int, size: int) -> float:
    """Images per second of ResNet-50's training step on this process's backend."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None, input_shape=(size, size, 3), classes=6)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    X = rng.random(((steps + 1) * batch_size, size, size, 3), dtype=np.float32)
    Y = np.eye(6, dtype=np.float32)[rng.integers(0, 6, len(X))]
    model.fit(X[:batch_size], Y[:batch_size], batch_size=batch_size, verbose=0)  # traced, warmed up
    start = time.perf_counter()
    model.fit(X[batch_size:], Y[batch_size:], batch_size=batch_size, shuffle=False, verbose=0)
    return steps * batch_size / (time.perf_counter() - start)


def measure(backend: str, steps: int, batch_size: int, size: int) -> float:
    """Images per second on ``backend``, measured in a fresh process."""
    environment = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "resnets_utils.backend_choice", "--measure", *map(str, (steps, batch_size, size))]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"measuring the {backend} backend failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def calibrate(steps: int = 8, batch_size: int = 32, size: int = 64) -> dict:
    """Measure both backends, keep the record, return it."""
    # Rounded before the choice, so that the record's own figures explain its choice.
    speeds = {backend: round(measure(backend, steps, batch_size, size), 1) for backend in ("tensorflow", "torch")}
    faster = speeds["tensorflow"] >= TENSORFLOW_MARGIN * speeds["torch"]
    record = {
        "cpu": cpu_name(),
        "images_per_second": speeds,
        "choice": "tensorflow" if faster else "torch",
        "settings": measurement_settings(),
        "measured": f"ResNet-50, batch {batch_size}, {size}x{size}, {steps} steps",
    }
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_text(json.dumps(record, indent=1))
    os.replace(path.with_suffix(".tmp"), path)
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure which backend trains faster here (make calibrate).")
    parser.add_argument("--force", action="store_true", help="measure again even if this CPU has a record")
    parser.add_argument("--measure", nargs=3, type=int, metavar=("STEPS", "BATCH", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(_measure_here(*args.measure))
        return 0
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: fit trains on tensorflow.")
        return 0
    choice = recorded_choice()
    if choice and not args.force:
        print(f"fit trains on {choice} on this CPU (make calibrate FORCE=1 measures again).")
        return 0
    print("Measuring which backend trains ResNet-50 faster on this CPU (once; 1 to 3 minutes)...")
    record = calibrate()
    speeds = ", ".join(f"{name} {value} images/s" for name, value in record["images_per_second"].items())
    print(f"{speeds}: fit trains on {record['choice']} (kept in {record_path()}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
