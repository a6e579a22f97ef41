"""Measure the times and accuracies the notebooks state, and write resnets_utils/course/measured.json.

    python scripts/measure.py assignment [--runs N]     # the assignment notebook, executed (minutes a run)
    python scripts/measure.py pretrain [--runs N]       # make pretrain's recipe (about 10 minutes a run)
    python scripts/measure.py realism                   # that model on real SIGNS photos (../shared/real_signs)
    python scripts/measure.py degradation [--runs N]    # an experiment of resnets_utils.experiments.EXPERIMENTS
                                                        # (its run on the course's seed is recorded for the tests)

Run it alone on the machine: the times are wall-clock. The first run uses the seed the
course ships (the notebook's, the recipe's), the next ones the seeds after it.
Each measurement replaces the previous one of the same name on this CPU kind (other kinds'
figures made with the same recipe are kept); ``measured.say(name)`` turns it into the
sentence the notebooks print. Never run under nbgrader (it would train one batch).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from resnets_utils import data, settings
from resnets_utils.course import measured, recorded
from resnets_utils.course.reference import MASTER
from resnets_utils.data import handsigns
from resnets_utils.experiments import EXPERIMENTS
from resnets_utils.machine import cpu_name
from resnets_utils.models import evaluation  # turns oneDNN on, as the notebooks do

os.environ.setdefault(settings.LOG_LEVEL, "2")

HEADING = "## Figures the notebooks state (scripts/measure.py)"
COLUMNS = "| date | CPU | measurement | runs | seconds | test accuracy |"
SEED_LINE = "keras.utils.set_random_seed(1)"


def assignment(seed: int) -> tuple[float, float, dict]:
    """Execute the assignment's master top to bottom; its training cell saves a report."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(MASTER, as_version=4)
    imports = next(cell for cell in notebook.cells if SEED_LINE in cell.source)
    imports.source = imports.source.replace(SEED_LINE, f"keras.utils.set_random_seed({seed})")
    data_dir = data.ensure_dataset()
    with tempfile.TemporaryDirectory(prefix="resnets-measure-") as scratch:
        with mock.patch.dict(os.environ, {settings.CACHE_HOME: scratch, settings.DATA_DIR: str(data_dir)}):
            NotebookClient(
                notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": scratch}}
            ).execute()
        report = json.loads((Path(scratch) / "resnets-course" / "models" / "resnet50_yours.json").read_text())
    return report["training_seconds"], report["test_accuracy"], {"epochs": report["epochs"]}


def pretrain(seed: int) -> tuple[float, float, dict]:
    """``make pretrain``'s command, into a scratch folder; the shipped seed's model then replaces the cached one."""
    from resnets_utils.training import pretrain as recipe

    with tempfile.TemporaryDirectory(prefix="resnets-measure-") as scratch:
        command = [sys.executable, "-m", "resnets_utils.training.pretrain", "--restart", "--seed", str(seed)]
        subprocess.run([*command, "--out-dir", scratch], check=True)
        report = json.loads((Path(scratch) / recipe.REPORT_FILE).read_text())
        if seed == recipe.RECIPE["seed"]:  # exactly what `make pretrain` makes: keep it for `realism`
            recipe.models_dir().mkdir(parents=True, exist_ok=True)
            for name in (recipe.MODEL_FILE, recipe.REPORT_FILE):
                os.replace(Path(scratch) / name, recipe.models_dir() / name)
            print(f"installed the model in {recipe.models_dir()}")
    return report["training_seconds"], report["test_accuracy"], {"epochs": report["epochs"]}


def realism(seed: int) -> tuple[float, float, dict]:
    """The cached `make pretrain` model on the real SIGNS photos beside the project (benchmarks/realism.py)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "realism.py"
    spec = importlib.util.spec_from_file_location("realism", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    photos = bench.real_photos()
    if photos is None:
        raise SystemExit(f"error: no real photos at {bench.REAL}: nothing to measure")
    start = time.perf_counter()
    model = bench.pretrained_model()
    if model is None:
        raise SystemExit("error: no pre-trained model: run `python scripts/measure.py pretrain` first")
    accuracy = evaluation.accuracy(model, photos[0] / np.float32(255), photos[1])
    return time.perf_counter() - start, accuracy, {"photos": len(photos[1])}


def _course_pictures() -> bool:
    """Whether the data folder holds the pictures the course draws on its own seed (the notebooks' data)."""
    import h5py

    train = data.ensure_dataset() / data.TRAIN_FILE
    with h5py.File(train, "r") as file:
        source = str(file.attrs.get("source", ""))
    drawn_here = data.generated_version(train) == handsigns.GENERATOR_VERSION
    return drawn_here and source.endswith(f"seed {data.DEFAULT_SEED})")


def experiment(name: str):
    """A seeded run of an experiment of ``EXPERIMENTS``, timed without loading its data and models; on the
    course's seed, a run the tests check claims on is recorded too (``course.recorded``)."""

    def timed(seed: int) -> tuple[float, None]:
        run = EXPERIMENTS[name].prepare(seed)
        start = time.perf_counter()
        result = run()
        took = time.perf_counter() - start
        if EXPERIMENTS[name].result and seed == FIRST_SEED[name]:
            if _course_pictures():
                recorded.save(name, result, seed, cpu_name(), str(datetime.date.today()))
                where = recorded.RUNS.relative_to(recorded.PACKAGE.parent)
                print(f"{name}: the run on seed {seed} recorded in {where}")
            else:
                print(f"{name}: not recorded: the data folder holds other pictures than the course's own", flush=True)
        return took, None

    return timed


# Run k uses seed FIRST_SEED[name] + k - 1: the first run is the one the course ships.
FIRST_SEED = {"assignment_training": 1, "pretrain": 7, "realism": 7, **dict.fromkeys(EXPERIMENTS, 0)}
MEASUREMENTS = {
    "assignment_training": assignment,
    "pretrain": pretrain,
    "realism": realism,
    **{name: experiment(name) for name in EXPERIMENTS},
}
ALIASES = {"assignment": "assignment_training"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted([*MEASUREMENTS, *ALIASES]))
    parser.add_argument("--runs", type=int, default=1, help="seeded runs (an accuracy range needs 3 or more)")
    args = parser.parse_args(argv)
    if settings.grading():
        parser.exit(1, "error: not under nbgrader, which trains one batch only\n")
    name = ALIASES.get(args.name, args.name)
    seconds, accuracies, details = [], [], {"generator_version": handsigns.GENERATOR_VERSION}
    for seed in range(FIRST_SEED[name], FIRST_SEED[name] + args.runs):
        took, accuracy, *more = MEASUREMENTS[name](seed)
        details.update(*more)
        seconds.append(took)
        if accuracy is not None:
            accuracies.append(accuracy)
        shown = f", test accuracy {accuracy:.1%}" if accuracy is not None else ""
        print(f"{name}, seed {seed}: {took:.0f} s{shown}", flush=True)
    today = str(datetime.date.today())
    measured.record(name, seconds, cpu_name(), today, accuracies or None, **details)
    shown = ", ".join(f"{a:.1%}" for a in accuracies) or "-"
    seconds_shown = ", ".join(f"{s:.0f}" for s in seconds)
    measured.log_row(
        HEADING, COLUMNS, f"| {today} | {cpu_name()} | {name} | {len(seconds)} | {seconds_shown} | {shown} |"
    )
    print(measured.say(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
