"""The seeded runs whose claims the notebooks make, recorded once with a fingerprint of what made them.

``scripts/measure.py NAME`` runs an experiment of ``EXPERIMENTS`` on the course's seed; for one that
names its ``result`` class, its per-step losses go to ``runs.json`` beside a fingerprint of every
input that can change them: the source of each package module the experiment can import (its import
closure, read from the code), the master notebooks' code cells (the reference solution), the seed and
the numerical libraries' versions as the project pins them (major.minor, whatever the platform's
build). The tests assert the notebooks' claims on that run, and ``load`` refuses a run whose
fingerprint no longer matches, naming the command that records it again: a changed experiment cannot
keep a stale figure, and the suite does not train the same networks again on every run.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np

RUNS = Path(__file__).resolve().parent / "runs.json"
PACKAGE = Path(__file__).resolve().parents[1]
LIBRARIES = ("tensorflow", "keras", "numpy")  # their kernels and initialisers decide the numbers
DIGITS = 6  # a loss to a millionth: far finer than any claim


def imported_modules(path: Path) -> list[tuple[str, bool]]:
    """``(module, at import time)`` for each ``resnets_utils`` import in the file ``path``; False: inside a
    function. ``from a import b`` names both ``a`` and ``a.b`` (which may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("resnets_utils"):
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names if alias.name.startswith("resnets_utils")]
        else:
            continue
        found += [(module, id(node) in top_level) for module in modules]
    return found


def package_modules() -> dict[str, Path]:
    """Every module of the package, by its dotted name."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_closure(names, modules: dict[str, Path] | None = None) -> list[str]:
    """``names`` and every package module they can import, at import time or inside a function, with
    each one's parent packages (which run first); ``modules``: :func:`package_modules`, if already read."""
    modules, closure, waiting = modules or package_modules(), set(), list(names)
    while waiting:
        name = waiting.pop()
        if name in closure or name not in modules:
            continue
        closure.add(name)
        parts = name.split(".")
        waiting += [".".join(parts[:end]) for end in range(1, len(parts))]
        waiting += [module for module, _ in imported_modules(modules[name])]
    return sorted(closure)


def _experiment_modules(name: str) -> list[str]:
    """The modules an experiment's seeded run starts from: the registry (its data and models) and its own."""
    from resnets_utils.experiments import EXPERIMENTS

    return ["resnets_utils.experiments", EXPERIMENTS[name].result.split(":")[0]]


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def fingerprint(name: str, seed: int) -> str:
    """A hash of everything that can change ``name``'s losses on ``seed`` (see the module's docstring)."""
    from resnets_utils.course.reference import MASTER

    digest = hashlib.sha256(f"{name} {seed}".encode())
    modules = package_modules()
    for module in import_closure(_experiment_modules(name), modules):
        digest.update(module.encode() + b"\0" + modules[module].read_bytes())
    for notebook in sorted(MASTER.parent.glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]  # read as JSON: nbformat validates, slowly
        code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
        digest.update("\0".join(code).encode())
    installed = _distributions()  # "tensorflow" comes from tensorflow-cpu on Linux
    for library in LIBRARIES:
        version = metadata.version(sorted(installed.get(library, [library]))[0])
        digest.update(f"{library}=={'.'.join(version.split('.')[:2])}".encode())  # as pinned: major.minor
    return digest.hexdigest()[:16]


class StaleRunError(RuntimeError):
    """The recorded run is missing, or was made by other code or libraries than these."""


def _result_class(name: str):
    from resnets_utils.experiments import EXPERIMENTS

    module, cls = EXPERIMENTS[name].result.split(":")
    return getattr(importlib.import_module(module), cls)


def save(name: str, result, seed: int, cpu: str, date: str, path: Path = RUNS) -> None:
    """Store ``result`` (a dataclass of losses by run) as ``name``'s recorded run (``scripts/measure.py``)."""
    from resnets_utils.settings import write_atomically

    runs = json.loads(path.read_text()) if path.exists() else {}
    losses = [[list(key) if isinstance(key, tuple) else key, np.round(value, DIGITS).tolist()]
              for key, value in result.losses.items()]  # fmt: skip
    runs[name] = {"seed": seed, "cpu": cpu, "date": date, "fingerprint": fingerprint(name, seed), "losses": losses}
    write_atomically(path, json.dumps(runs, indent=1, sort_keys=True) + "\n")


def load(name: str, path: Path = RUNS):
    """``name``'s recorded run, as the experiment returns it; :class:`StaleRunError` when it must be recorded again."""
    runs = json.loads(path.read_text()) if path.exists() else {}
    again = f"python scripts/measure.py {name}"
    if name not in runs:
        raise StaleRunError(f"{name} has no recorded run in {path.name}: record it with `{again}`")
    run = runs[name]
    if run["fingerprint"] != fingerprint(name, run["seed"]):
        raise StaleRunError(f"{name}'s recorded run was made by other code or libraries: record it again: `{again}`")
    losses = {tuple(key) if isinstance(key, list) else key: np.array(value) for key, value in run["losses"]}
    return _result_class(name)(losses=losses)
