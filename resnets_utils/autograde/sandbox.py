"""Run a submission's phases in a contained worker process; survive whatever it does.

Each submission gets a scratch folder of its own (a copy of its submitted files) and runs in a
child forked by a *server* started from a read-only copy of ``resnets_utils``: never from the
course folder, so the master notebook, the hidden tests and the gradebook are not on its path,
and with Landlock (Linux 5.13+) not readable at all. A warm server has imported TensorFlow once
and serves one job after another (:class:`Servers` keeps them); a cold one imports nothing and
serves one job. Limits: a time limit per phase (a cell or a test) and per submission, a memory
limit (address space, and the resident size watched from here), a size limit on the files it
writes, and no new processes (seccomp). A child that dies or overruns is killed with its session
and whatever it left; the phases after the one it died in run in a new child.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from resnets_utils import settings
from resnets_utils.autograde import landlock
from resnets_utils.autograde.worker import (
    CELL,
    DONE,
    ENDED,
    FORKED,
    KILL,
    PROTECTIONS,
    READY,
    START,
    TEST,
    Job,
    memory_mb,
    received,
)

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


def _environment(home: Path, threads: int) -> dict:
    """A worker's environment: its own home and temporary folder, the course's grading mode."""
    return {
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
        **{name: str(threads) for name in THREAD_VARIABLES},
    }


class ServerFailedError(RuntimeError):
    """A server did not start, or stopped answering: it is replaced."""


class Server:
    """A worker server (:func:`.worker.main`) and the socket it answers on."""

    def __init__(self, library: Path, home: Path, threads: int, warm: bool):
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(home / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-E", "-s", "-c", BOOTSTRAP, str(library), str(theirs.fileno())]
                + ["warm" if warm else "cold"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=_environment(home, threads),
                cwd=home,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,  # a Ctrl-C reaches the grader only, which stops the servers
            )
        theirs.close()
        self.socket, self.warm, self.busy = ours, warm, False
        self.threads = self._receive(READY, 600)

    def _receive(self, kind: str, timeout: float):
        ready, _, _ = select.select([self.socket], [], [], timeout)
        reply = self.socket.recv(4096) if ready else b""
        try:
            return json.loads(reply)[kind]
        except (ValueError, KeyError, TypeError):
            raise ServerFailedError(f"the worker server did not answer {kind!r}") from None

    def start(self, job: Job, workdir: Path) -> tuple[int, int]:
        """Fork a child for ``job``; return its pid and the read end of its channel."""
        read_end, write_end = os.pipe()
        job_file = tempfile.TemporaryFile(dir=home_of(workdir))
        job_file.write(job.encode())
        job_file.seek(0)
        try:
            with open(workdir.parent / f"{workdir.name}.log", "ab") as log:
                socket.send_fds(self.socket, [b"job"], [job_file.fileno(), write_end, log.fileno()])
        except OSError:
            os.close(read_end)
            raise ServerFailedError("the worker server is gone") from None
        finally:
            os.close(write_end)
            job_file.close()
        self.busy = True
        return self._receive(FORKED, 60), read_end

    def stop_child(self, grace: float = 0.0) -> int:
        """Its child's exit status, once it ended (killed, with its session, after ``grace`` seconds)."""
        ready, _, _ = select.select([self.socket], [], [], grace)
        if not ready:
            with contextlib.suppress(OSError):
                self.socket.send(KILL)
        status = self._receive(ENDED, 30)
        self.busy = False
        return status

    def close(self) -> None:
        """Stop the server; its child (if any) dies with it (parent-death signal)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.socket.close()


class Servers:
    """Idle servers for the jobs of one run: warm ones are reused, cold ones serve one job."""

    def __init__(self, library: Path, root: Path, threads: int = 1, warm: bool = True):
        self.library, self.root, self.threads, self.warm = library, root, threads, warm
        self._idle: list[Server] = []
        self._count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def server(self):
        """A server for one job; one that failed is closed, not given back."""
        with self._lock:
            found = self._idle.pop() if self._idle else None
            if found is None:
                self._count += 1
                home = self.root / f"server-{self._count:03d}"
        if found is None:
            found = Server(self.library, home, self.threads, self.warm)
            if self.warm and found.threads != 1:
                found.close()  # forking a process with threads risks a deadlock: start each job cold
                self.warm = False
                found = Server(self.library, home, self.threads, False)
        healthy = False
        try:
            yield found
            healthy = not found.busy
        finally:
            if healthy and found.warm:
                with self._lock:
                    self._idle.append(found)
            else:
                found.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for server in idle:
            server.close()


class Worker:
    """One job's child (forked by a server) and the channel it reports on."""

    def __init__(self, server: Server, job: Job, workdir: Path):
        self.server = server
        self.pid, self.channel = server.start(job, workdir)
        self.buffer = b""
        self.status: int | None = None

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

    def wait(self) -> int:
        """Its exit status; a child that closed its channel but goes on is killed after a second."""
        if self.status is None:
            self.status = self.server.stop_child(grace=1.0)
        return self.status

    def close(self) -> None:
        """Kill the child with its session and whatever it left running."""
        try:
            if self.status is None:
                self.status = self.server.stop_child()
        finally:
            os.close(self.channel)


def home_of(workdir: Path) -> Path:
    return workdir.with_name(workdir.name + ".home")


def run_phases(
    phases: list[dict], workdir: Path, servers: Servers, limits: Limits, stopping=None, usage=None
) -> tuple[dict, list]:
    """Run ``phases`` for one submission; return ``{phase id: result}`` and the protections that applied.

    A phase that overruns its time limit, exceeds the memory limit or kills its worker gets
    ``{"error": reason}``; a new child runs the cells that had run again, and the rest.
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
    home = home_of(workdir)
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    for _ in range(len(phases) + 1):
        # A new worker runs the cells again (except those that failed), and the tests not yet run.
        pending = [p for p in phases if p["id"] not in (failed_cells if p["kind"] == CELL else results)]
        if not any(p["kind"] == TEST for p in pending):
            break
        job = Job(
            pending,
            str(workdir),
            read=read_only_paths(servers.library),
            write=[str(workdir), str(home), "/dev/null"],
            landlock=bool(landlock.abi_version()),
            memory_bytes=limits.memory_mb << 20,
            file_bytes=limits.file_mb << 20,
            environment=_environment(home, limits.threads),
        )
        current, reason = None, None
        with servers.server() as server:
            worker = Worker(server, job, workdir)
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
                    memory = memory_mb(worker.pid)
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
                            reason = _death(worker.wait())
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
