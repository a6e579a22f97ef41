"""The library of the Residual Networks course, one folder per job.

- ``data/``: the SIGNS files (format, loading) and the generator that draws them (``handsigns``).
- ``models/``: layer names (``naming``), the layer table, scoring, the saved models.
- ``training/``: ``fit`` and its recipe, progress, precision, ``make pretrain``.
- ``views/``: figures, diagrams and widgets the notebooks show.
- ``experiments/``: the Explore notebook's experiments.
- ``course/``: the notebooks as data, the reference solution, lessons, measured figures.
- ``checks/``: the checks students run and the grader reuses; ``expected/``: their values.
- ``autograde/``: ``resnets-grade`` and nbgrader's gradebook; ``engines/`` and ``sandbox/`` inside.
- ``settings``, ``machine``, ``wording``: environment variables, this CPU, numbers in words.

Importing this package is cheap: TensorFlow is imported only by the modules that
build or check models. Imported before TensorFlow, it turns on TensorFlow's oneDNN
kernels (see ``use_onednn``).
"""

import importlib
import importlib.abc
import importlib.util
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


# Where modules were before the layout by job: notebooks released before it import these paths.
# Kept for one release (remove after the next one); each old name is the new module itself.
MOVED = {
    "handsigns": "data.handsigns",
    "architecture": "models.architecture",
    "saved_models": "models.saved",
    "progress": "training.progress",
    "pretrain": "training.pretrain",
    "precision": "training.precision",
    "plotting": "views.plotting",
    "diagrams": "views.diagrams",
    "widgets": "views.widgets",
    "degradation": "experiments.degradation",
    "gradient_flow": "experiments.gradient_flow",
    "no_shortcuts": "experiments.no_shortcuts",
    "notebooks": "course.notebooks",
    "reference": "course.reference",
    "measured": "course.measured",
    "lessons": "course.lessons",
}


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``resnets_utils.<old name>`` as the module now at its new place (the same object)."""

    def find_spec(self, fullname, path=None, target=None):
        old = fullname.removeprefix(__name__ + ".")
        return importlib.util.spec_from_loader(fullname, self) if old in MOVED else None

    def create_module(self, spec):
        module = importlib.import_module(f"{__name__}.{MOVED[spec.name.removeprefix(__name__ + '.')]}")
        spec.loader_state = module.__spec__  # the import system now gives the module this spec
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # already executed at its new place: its own spec back


if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
    sys.meta_path.insert(0, _OldPaths())  # before an editable install's finder, which may know the old files
