"""Jobs on this machine: a scratch folder per run, one folder per job, warm worker servers.

:class:`LocalEngine` runs a job's phases (:func:`.sandbox.run_phases`) in a numbered folder
holding the submission's files. The grading process uses one for a laptop run; a Dask worker
uses one for the jobs it is sent (:mod:`.cluster`). Every engine returns a :class:`Ran`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from resnets_utils.autograde import intake, sandbox
from resnets_utils.autograde.engines.worker import stat_fields
from resnets_utils.settings import write_atomically

LOCAL = "this machine"  # the kind of worker machine a laptop run has


@dataclass
class Ran:
    """What a job gave: the phases' results, the protections that applied, where it ran, what it used."""

    results: dict
    protections: list
    kind: str = LOCAL  # jobs of one kind share the reference's observations
    where: str | None = None  # the worker that ran it (None: this machine)
    usage: dict = field(default_factory=dict)  # seconds per phase and peak_mb (sandbox.run_phases)


class LocalEngine:
    """Runs jobs in folders of one scratch folder, on servers started from a copy of the library."""

    def __init__(self, threads: int = 1, warm: bool = True, keep: bool = True):
        sweep_abandoned_scratch()
        self.scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        write_atomically(self.scratch / OWNER, _process_identity(os.getpid()) or "")
        # Jobs with users of their own pass through, but cannot list the folders of the others.
        (self.scratch / "work").mkdir(mode=0o711)
        for folder in (self.scratch, self.scratch / "work"):
            folder.chmod(0o711)
        self.library = sandbox.prepare_library(self.scratch)
        self.servers = sandbox.Servers(self.library, self.scratch / "servers", threads, warm)
        self.keep = keep  # a Dask worker deletes each job's folder as soon as it is done
        self._count = 0
        self._lock = threading.Lock()

    def kinds(self) -> dict[str, str | None]:
        return {LOCAL: None}

    def run(self, phases, submitted, limits: sandbox.Limits, stopping=None, where=None) -> Ran:
        """Run ``phases`` on ``submitted`` (an :class:`.intake.Intake`, ``{path: bytes}`` or None)."""
        with self._lock:
            self._count += 1
            workdir = self.scratch / "work" / f"{self._count:05d}"
        if isinstance(submitted, intake.Intake):
            intake.copy(submitted, workdir)
        else:
            _write(workdir, submitted or {})
        usage: dict = {}
        try:
            results, protections = sandbox.run_phases(phases, workdir, self.servers, limits, stopping, usage)
        finally:
            if not self.keep:
                for folder in (workdir, sandbox.home_of(workdir)):
                    shutil.rmtree(folder, ignore_errors=True)
                workdir.with_name(f"{workdir.name}.log").unlink(missing_ok=True)
        return Ran(results, protections, usage=usage)

    def close(self) -> None:
        self.servers.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


SCRATCH_PREFIX = "resnets-grade-"
OWNER = "owner"  # the process that made the scratch folder: its pid and start time


def _process_identity(pid: int) -> str | None:
    """``"pid start-time"``, unique on this machine while it runs; None if there is no such process."""
    fields = stat_fields(pid)
    return f"{pid} {fields[19]}" if fields else None  # field 22 of /proc/PID/stat: its start time


def sweep_abandoned_scratch(parent: Path | None = None) -> list[Path]:
    """Delete the scratch folders whose grading process ended without deleting them (it was killed,
    or it was a Dask worker stopped without its exit handlers); return them. Folders of running
    processes, folders without an owner record and folders of other users are left alone."""
    swept = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            owner = (folder / OWNER).read_text()
            pid = int(owner.split()[0])
        except (OSError, ValueError, IndexError):
            continue  # not a folder of ours, or no owner record
        if owner != _process_identity(pid):
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(folder)
    return swept


def _write(folder: Path, files: dict[str, bytes]) -> None:
    """A job's files, sent as ``{relative path: content}``: nothing lands outside ``folder``."""
    folder.mkdir(mode=0o700, parents=True)  # private until the job's user is given it
    for relative, content in files.items():
        target = (folder / relative).resolve()
        if folder.resolve() not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            out.write(content)
