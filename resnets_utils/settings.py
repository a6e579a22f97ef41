"""What the package reads from its surroundings, and the one way it writes a file.

Every environment variable the package reads or sets is named here, with the user's cache
folder, how the course folder is found, and atomic writes (a reader never sees half a
file, and an interrupted write leaves the previous one).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"  # TensorFlow's oneDNN CPU kernels, read when TensorFlow loads
LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
GRADING = "NBGRADER_EXECUTION"  # nbgrader sets it while it executes a notebook
DATA_DIR = "RESNETS_DATA_DIR"  # where the SIGNS files are (default: the cache)
HIDDEN_EXPECTED = "RESNETS_HIDDEN_EXPECTED"  # the hidden cases' file, given by the grader
CACHE_HOME = "XDG_CACHE_HOME"

COURSE_CONFIG = "nbgrader_config.py"


def grading() -> bool:
    """True while nbgrader executes the notebook."""
    return bool(os.environ.get(GRADING))


def cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/resnets-course/<parts>`` (``~/.cache`` by default); not created."""
    cache = os.environ.get(CACHE_HOME) or Path.home() / ".cache"
    return Path(cache, "resnets-course", *parts)


def find_course(start: Path | str | None = None) -> Path | None:
    """The nbgrader course holding ``start`` (default: the current directory), like nbgrader finds it.

    That is the nearest of ``start`` and its parents with an ``nbgrader_config.py``; ``None`` when none has.
    """
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / COURSE_CONFIG).is_file():
            return candidate
    return None


@contextlib.contextmanager
def native_stderr_silenced():
    """Send what native code writes to the process's stderr (file descriptor 2) to /dev/null meanwhile.

    TensorFlow's C++ start-up lines (absl's "log messages before absl::InitializeLog()" and
    oneDNN's notice) are written there while it loads, before any log level is read. Python's
    own errors and warnings go through ``sys.stderr`` and still show.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def replacing(path: Path | str):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(descriptor)
    partial = Path(name)
    try:
        yield partial
        os.chmod(partial, 0o644)  # mkstemp makes it private; the file it replaces was not
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomically(path: Path | str, content: str | bytes) -> None:
    """Write ``content`` (text or bytes) to ``path`` in one step."""
    with replacing(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content)
