"""Run a submission's phases in a contained worker process; survive whatever it does.

Each submission gets a scratch folder of its own (a copy of its submitted files) and a
worker started from a read-only copy of ``resnets_utils``: never from the course folder,
so the master notebook, the hidden tests and the gradebook are not on its path, and with
Landlock (Linux 5.13+) not readable at all. Limits: a time limit per phase (a cell or a
test) and per submission, a memory limit (address space, and the resident size watched
from here), a size limit on the files it writes. A worker that dies or overruns is killed
with everything it started; the phases after the one it died in run in a new worker.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from resnets_utils import settings
from resnets_utils.autograde import landlock
from resnets_utils.autograde.worker import CELL, DONE, PROTECTIONS, START, TEST, Job, memory_mb, received

PACKAGE = Path(__file__).resolve().parent.parent  # resnets_utils/
BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv.pop(1)); from resnets_utils.autograde.worker import main; main()"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    phase_seconds: float = 120.0
    submission_seconds: float = 600.0
    memory_mb: int = 4096  # of address space; importing TensorFlow fits in 3 GB (measured)
    file_mb: int = 32
    threads: int = 1  # per worker: the workers themselves use the cores


def prepare_library(root: Path) -> Path:
    """A copy of ``resnets_utils`` for the workers (code and public data only)."""
    library = root / "lib"
    shutil.copytree(PACKAGE, library / "resnets_utils", ignore=shutil.ignore_patterns("__pycache__"))
    return library


def read_only_paths(library: Path) -> list[str]:
    """What a worker may read: the Python installation, system files and the library copy."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths |= {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev", str(library)}
    return sorted(paths)


class Worker:
    """One worker process and the channel it reports on."""

    def __init__(self, job: Job, workdir: Path, library: Path, token: str):
        read_end, write_end = os.pipe()
        # Home and temporary files beside the working folder: a submission that empties its
        # folder does not take the grader's temporary files with it.
        home = _home(workdir)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "TMPDIR": str(home / "tmp"),
            "KERAS_HOME": str(home / ".keras"),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            settings.CACHE_HOME: str(home / ".cache"),
            "MPLBACKEND": "Agg",
            "KERAS_BACKEND": "tensorflow",
            settings.LOG_LEVEL: "2",
            settings.GRADING: "autograde",  # the course's grading mode: no training, no downloads
            settings.GRADE_TOKEN: token,
            **{name: str(job.threads) for name in THREAD_VARIABLES},
        }
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        log = open(workdir.parent / f"{workdir.name}.log", "ab")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, "-E", "-s", "-c", BOOTSTRAP, str(library), str(write_end)],
            # What a submission prints goes nowhere (a flood costs nothing); stderr is kept, capped.
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=environment,
            cwd=workdir,
            pass_fds=(write_end,),
            start_new_session=True,
        )
        os.close(write_end)
        log.close()
        self.token = token
        self.channel = read_end
        self.buffer = b""
        self.process.stdin.write(job.encode())
        self.process.stdin.close()

    def messages(self, timeout: float):
        """The messages that arrive within ``timeout`` seconds (any other line is ignored), and whether it ended."""
        ready, _, _ = select.select([self.channel], [], [], max(timeout, 0))
        if not ready:
            return [], False
        chunk = os.read(self.channel, 1 << 20)
        if not chunk:
            return [], True
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [message for line in lines if (message := received(line))], False

    def close(self) -> None:
        """Kill the worker and every process it started (found by its token)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        _kill_leftovers(self.token)
        os.close(self.channel)


def _home(workdir: Path) -> Path:
    return workdir.with_name(workdir.name + ".home")


def _kill_leftovers(token: str) -> None:
    marker = f"{settings.GRADE_TOKEN}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def run_phases(
    phases: list[dict], workdir: Path, library: Path, limits: Limits, token: str, stopping=None, usage=None
) -> tuple[dict, list]:
    """Run ``phases`` for one submission; return ``{phase id: result}`` and the protections that applied.

    A phase that overruns its time limit, exceeds the memory limit or kills its worker gets
    ``{"error": reason}``; a new worker runs the cells that had run again, and the rest.
    ``usage``, a dict if given, receives the ``seconds`` of each phase that ended and ``peak_mb``,
    the largest address space reached (as the worker reports it: trust it for the master only).
    """
    kinds = {phase["id"]: phase["kind"] for phase in phases}
    results: dict[str, dict] = {}
    protections: list = []
    deadline = time.monotonic() + limits.submission_seconds
    failed_cells: set[str] = set()
    usage = {} if usage is None else usage
    usage.setdefault("seconds", {})
    usage.setdefault("peak_mb", 0.0)
    for attempt in range(len(phases) + 1):
        # A new worker runs the cells again (except those that failed), and the tests not yet run.
        pending = [p for p in phases if p["id"] not in (failed_cells if p["kind"] == CELL else results)]
        if not any(p["kind"] == TEST for p in pending):
            break
        job = Job(
            pending,
            str(workdir),
            read=read_only_paths(library),
            write=[str(workdir), str(_home(workdir)), "/dev/null"],
            landlock=bool(landlock.abi_version()),
            memory_bytes=limits.memory_mb << 20,
            file_bytes=limits.file_mb << 20,
            threads=limits.threads,
        )
        worker = Worker(job, workdir, library, f"{token}-{attempt}")
        current, reason = None, None
        try:
            phase_started = time.monotonic()
            while True:
                now = time.monotonic()
                if stopping is not None and stopping.is_set():
                    raise KeyboardInterrupt  # the grader is shutting down: kill the worker, record nothing
                if now > deadline:
                    reason = f"the submission's time limit ({limits.submission_seconds:g} s) was reached"
                    break
                if current and now - phase_started > limits.phase_seconds:
                    reason = f"it did not finish within the time limit ({limits.phase_seconds:g} s)"
                    break
                memory = memory_mb(worker.process.pid)
                usage["peak_mb"] = max(usage["peak_mb"], memory.get("VmPeak", 0.0))
                if memory.get("VmRSS", 0.0) > limits.memory_mb:
                    reason = f"it used more than the memory limit ({limits.memory_mb} MB)"
                    break
                found, ended = worker.messages(0.2)
                for kind, message in found:
                    if kind == PROTECTIONS and not results and current is None:
                        protections = message[kind]  # sent before any student code runs
                    elif kind == START:
                        current, phase_started = message[kind], time.monotonic()
                    elif kind == DONE and message[kind] == current:
                        results[current] = message["result"]
                        usage["seconds"][current] = time.monotonic() - phase_started
                        # The worker's own high-water mark: polling alone misses a peak just before it exits.
                        reported = message.get("peak_mb")
                        if isinstance(reported, (int, float)):
                            usage["peak_mb"] = max(usage["peak_mb"], float(reported))
                        if "error" in message["result"] and kinds.get(current) == CELL:
                            failed_cells.add(current)
                        current = None
                if ended:
                    if current or any(p["id"] not in results for p in pending):
                        reason = _death(worker.process.wait())
                    break
        finally:
            worker.close()
        if reason is None:
            break
        if current is not None:
            results[current] = {"error": reason}
            if kinds.get(current) == CELL:
                failed_cells.add(current)
        if current is None or reason.startswith("the submission's time limit"):
            # Out of time, or died between phases (or before the first): the whole run is to blame.
            stopped = reason if current is not None else f"the grader's worker stopped: {reason}"
            for phase in pending:
                results.setdefault(phase["id"], {"error": stopped})
            break
    return results, protections


def _death(returncode: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return f"the process was killed by {name}" + (" (a crash)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else "")
    return f"the process exited (exit status {returncode})"
