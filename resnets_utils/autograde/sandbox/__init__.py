"""Run a submission's phases in a contained worker process; survive whatever it does.

Each submission gets a scratch folder of its own (a copy of its submitted files) and runs in a
child forked by a *server* started from a read-only copy of ``resnets_utils``: never from the
course folder, so the master notebook, the hidden tests and the gradebook are not on its path,
and with Landlock (Linux 5.13+) not readable at all. A warm server has imported TensorFlow once
and serves one job after another (:class:`Servers` keeps them); a cold one imports nothing and
serves one job. Limits: a time limit per phase (a cell or a test) and per submission, a memory
limit (address space, and the resident size watched from here), a size limit on each file it
writes and on all it writes in its folders (watched from here), its own user when the grader is
root, and the seccomp filter. Time is charged fairly (:meth:`Sample.charged_since`): a neighbour that hogs
the cores cannot make a job time out. A child that dies or overruns is killed with its session
and whatever it left; the phases after the one it died in run in a new child.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from resnets_utils import settings
from resnets_utils.autograde.engines.worker import (
    CELL,
    DONE,
    ENDED,
    FORKED,
    KILL,
    MAX_LINE,
    MAX_LINES,
    PROTECTIONS,
    READY,
    SPAWN,
    TEST,
    Job,
    memory_mb,
    received,
    stat_fields,
)
from resnets_utils.autograde.sandbox import landlock, privileges, seccomp

PACKAGE = Path(__file__).resolve().parents[2]  # resnets_utils/
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from resnets_utils.autograde.engines.worker import main; main()"
)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    phase_seconds: float = 120.0
    submission_seconds: float = 600.0
    memory_mb: int = 4096  # of address space; importing TensorFlow fits in 3 GB (measured)
    file_mb: int = 32
    threads: int = 1  # per worker: the workers themselves use the cores
    scratch_mb: int = 256  # written in its folders in all, beyond the submission's own files
    scratch_entries: int = 20_000  # files and folders it may have there


def prepare_library(root: Path) -> Path:
    """A copy of ``resnets_utils`` for the workers (code and public data only)."""
    library = root / "lib"
    shutil.copytree(PACKAGE, library / "resnets_utils", ignore=shutil.ignore_patterns("__pycache__"))
    library.chmod(0o755)  # jobs with users of their own import it
    return library


def read_only_paths(library: Path) -> list[str]:
    """What a worker may read: the Python installation, system files and the library copy."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    paths |= {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev/urandom", str(library)}
    return sorted(paths)


def protections() -> list[str]:
    """What contains a job on this machine, in words, as a job reports it."""
    return privileges.protections() + landlock.protections() + seccomp.protections()


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
        # OpenBLAS starts its threads when NumPy loads, in the server, before any fork (OMP_NUM_THREADS
        # would give it `threads`); TensorFlow starts its own later, in each job.
        "OPENBLAS_NUM_THREADS": "1",
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
        self._connect(ours, warm, 600)

    def _connect(self, ours: socket.socket, warm: bool, timeout: float) -> None:
        """Hold the server answering on ``ours`` once it says it is ready (its pid and threads)."""
        self.socket, self.warm, self.busy, self.gone, self.pidfd = ours, warm, False, False, None
        ready = self._receive(READY, timeout)
        self.threads, self.pid = ready["threads"], ready["pid"]

    def spawn(self) -> Server:
        """A copy of this idle server, forked by it, with a socket of its own: warm without a second import."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(self.socket, [SPAWN], [theirs.fileno()])
        except OSError:
            ours.close()
            raise ServerFailedError("the worker server is gone") from None
        finally:
            theirs.close()
        copy = object.__new__(Server)
        copy.process = None  # not our child: killed through its pidfd, collected by the server that forked it
        try:
            copy._connect(ours, self.warm, 60)
            copy.pidfd = os.pidfd_open(copy.pid)  # kills it even once its pid is reused
        except (ServerFailedError, OSError):
            ours.close()
            raise ServerFailedError("the worker server's copy did not start") from None
        return copy

    def answering(self) -> bool:
        """Whether an idle server is still there (one that is gone closed its socket: it reads as ready)."""
        ready, _, _ = select.select([self.socket], [], [], 0)
        return not ready

    def _receive(self, kind: str, timeout: float):
        try:
            ready, _, _ = select.select([self.socket], [], [], timeout)
            return json.loads(self.socket.recv(4096) if ready else b"")[kind]
        except (OSError, ValueError, KeyError, TypeError):
            self.gone = True
            raise ServerFailedError(f"the worker server did not answer {kind!r}") from None

    def start(self, job: Job, workdir: Path) -> tuple[int, int, int]:
        """Fork a child for ``job``; its pid, the read end of its channel and the write end of its phase pipe."""
        read_end, write_end = os.pipe()
        phases_in, phases_out = os.pipe()
        job_file = tempfile.TemporaryFile(dir=home_of(workdir))
        job_file.write(job.encode())
        job_file.seek(0)
        try:
            log_fd = os.open(workdir.parent / f"{workdir.name}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with open(log_fd, "ab") as log:
                fds = [job_file.fileno(), write_end, phases_in, log.fileno()]
                socket.send_fds(self.socket, [b"job"], fds)
        except OSError:
            for fd in (read_end, phases_out):
                os.close(fd)
            self.gone = True
            raise ServerFailedError("the worker server is gone") from None
        finally:
            for fd in (write_end, phases_in):
                os.close(fd)
            job_file.close()
        self.busy = True
        os.set_blocking(phases_out, False)  # a child that stops reading never blocks the grader
        return self._receive(FORKED, 60), read_end, phases_out

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
        if self.process is None:  # a copy
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            os.close(self.pidfd)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.socket.close()


COLD_NOTE = (
    "note: a worker server had {threads} threads after importing TensorFlow, and a process with threads "
    "is not forked safely: every submission now starts Python and TensorFlow afresh (about 3 s more "
    "each). With --workers equal to the number of cores each job has one thread."
)


class Servers:
    """Idle servers for the jobs of one run: warm ones are reused, cold ones serve one job.

    Warm servers are copies forked by one *origin* server that runs no job: TensorFlow is imported
    once per run, and the copies share its memory until they write to it.
    """

    def __init__(self, library: Path, root: Path, threads: int = 1, warm: bool = True):
        self.library, self.root, self.threads, self.warm = library, root, threads, warm
        self._idle: list[Server] = []
        self._origin: Server | None = None
        self._count = 0
        self._lock = threading.Lock()
        self._origin_lock = threading.Lock()

    @contextlib.contextmanager
    def server(self):
        """A server for one job; one that failed is closed, not given back."""
        found = None
        with self._lock:
            while self._idle and found is None:
                found = self._idle.pop()
                if not found.answering():  # it died while idle (with its origin): never handed a job
                    found.close()
                    found = None
        if found is None:
            found = self._new()
        healthy = False
        try:
            yield found
            healthy = not found.busy and not found.gone
        finally:
            if healthy and found.warm:
                with self._lock:
                    self._idle.append(found)
            else:
                found.close()

    @contextlib.contextmanager
    def worker(self, job: Job, workdir: Path):
        """A child forked for ``job``; a server found gone before it forked (no code of the job ran) is
        replaced, twice at most."""
        for attempt in range(3):
            with self.server() as server:
                try:
                    started = Worker(server, job, workdir)
                except ServerFailedError:
                    if attempt == 2:
                        raise
                    continue
                yield started
                return

    def _new(self) -> Server:
        """A fork of the origin (started first if need be) when warm; else a cold server of its own."""
        with self._origin_lock:
            for _ in range(2):  # an origin that died is started again, once
                if not self.warm:
                    break
                if self._origin is None:
                    self._origin = Server(self.library, self._home(), self.threads, True)
                    if self._origin.threads != 1:
                        # Forking a process with threads risks a deadlock: start each job cold.
                        print(COLD_NOTE.format(threads=self._origin.threads), file=sys.stderr)
                        self._origin.close()
                        self._origin, self.warm = None, False
                        break
                try:
                    return self._origin.spawn()
                except ServerFailedError:
                    self._origin.close()
                    self._origin = None
        return Server(self.library, self._home(), self.threads, self.warm)

    def _home(self) -> Path:
        with self._lock:
            self._count += 1
            return self.root / f"server-{self._count:03d}"

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        with self._origin_lock:
            origin, self._origin = self._origin, None
        for server in idle + ([origin] if origin else []):
            server.close()


class ChannelAbuseError(Exception):
    """The child wrote more on its channel than a job ever needs."""


class Worker:
    """One job's child (forked by a server), its channel (reports) and its phase pipe (what to run)."""

    def __init__(self, server: Server, job: Job, workdir: Path):
        self.server = server
        self.pid, self.channel, self.phases = server.start(job, workdir)
        self.partial = bytearray()  # the line being received
        self.lines = 0
        self.outgoing = bytearray()  # what is still to be written on the phase pipe
        self.status: int | None = None

    def send(self, phase: dict) -> None:
        self.outgoing += json.dumps(phase).encode() + b"\n"

    def finish(self) -> None:
        """No more phases: the child reads the end of its pipe."""
        if self.phases >= 0:
            os.close(self.phases)
            self.phases = -1

    def unread(self) -> bool:
        """Whether the last phase sent has not been read whole by the child (it is still busy before it)."""
        if self.phases < 0:
            return False
        waiting = struct.unpack("i", fcntl.ioctl(self.phases, termios.FIONREAD, b"\0" * 4))[0]
        return bool(self.outgoing) or waiting > 0

    def exchange(self, timeout: float):
        """Write what fits of the phases to send; the messages that arrive within ``timeout`` seconds
        (any other line is ignored) and whether the child ended. Raises :class:`ChannelAbuseError`."""
        writing = [self.phases] if self.outgoing and self.phases >= 0 else []
        readable, writable, _ = select.select([self.channel], writing, [], max(timeout, 0))
        if writable:
            try:
                written = os.write(self.phases, self.outgoing[: 1 << 16])
                del self.outgoing[:written]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                self.outgoing.clear()  # the child is gone: its channel says so
        if not readable:
            return [], False
        chunk = os.read(self.channel, 1 << 20)
        if not chunk:
            return [], True
        found, start = [], 0
        while (end := chunk.find(b"\n", start)) >= 0:
            line = bytes(self.partial) + chunk[start:end]
            self.partial.clear()
            start = end + 1
            self.lines += 1
            if len(line) > MAX_LINE or self.lines > MAX_LINES:
                raise ChannelAbuseError()
            if message := received(line):
                found.append(message)
        self.partial += chunk[start:]
        if len(self.partial) > MAX_LINE:
            raise ChannelAbuseError()
        return found, False

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
            self.finish()


@dataclass(frozen=True)
class Sample:
    """What a job's process had used at one moment: wall clock, CPU time, each thread's wait for a core."""

    wall: float
    cpu: float
    waits: dict

    TICK = os.sysconf("SC_CLK_TCK")

    @classmethod
    def of(cls, pid: int) -> Sample:
        return cls(time.monotonic(), cls._cpu(pid), cls._waits(pid))

    def charged_since(self, start: Sample) -> float:
        """The seconds a job is charged from ``start`` to this sample: the CPU time its process used, or the
        wall time less the longest wait of any of its threads for a core, whichever is more. A sleeping or
        looping job is charged in full; one that a neighbour keeps off the cores is not charged the wait.
        Where the kernel keeps no scheduler statistics, the wall time."""
        waited = max((w - start.waits.get(tid, 0.0) for tid, w in self.waits.items()), default=0.0)
        return max(self.cpu - start.cpu, self.wall - start.wall - waited)

    @classmethod
    def _cpu(cls, pid: int) -> float:
        fields = stat_fields(pid)
        if not fields:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / cls.TICK  # utime and stime of all its threads

    @staticmethod
    def _waits(pid: int) -> dict[str, float]:
        found = {}
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return found
        for tid in threads:
            try:
                found[tid] = int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                continue
        return found


class Scratch:
    """A job's folders (its copy of the submission, its home): what it wrote there, against the limits."""

    def __init__(self, folders: list[Path], limits: Limits):
        self.folders, self.limits = folders, limits
        self.initial = set(self._paths())
        self.size, self.entries = self._use(limits.scratch_entries + len(self.initial))

    def over(self) -> str | None:
        """Why the job broke the limits, if it did (polled: a burst can overshoot by one poll's writing)."""
        most = self.limits.scratch_entries
        size, entries = self._use(self.entries + most)
        if size - self.size > self.limits.scratch_mb << 20 or entries - self.entries > most:
            return f"it wrote more than the limit of {self.limits.scratch_mb} MB or {most:,} files in its folder"
        return None

    def restore(self) -> None:
        """Remove what the job added (links themselves, never followed): the next child starts within the limits."""
        for path in sorted(set(self._paths()) - self.initial, key=lambda p: -p.count(os.sep)):
            with contextlib.suppress(OSError):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)

    def _paths(self):
        stack = [str(folder) for folder in self.folders]
        while stack:
            with contextlib.suppress(OSError), os.scandir(stack.pop()) as found:
                for entry in found:
                    yield entry.path
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)

    def _use(self, most_entries: int) -> tuple[int, int]:
        """Bytes allocated and entries, counting no further than ``most_entries``."""
        size = entries = 0
        for path in self._paths():
            entries += 1
            with contextlib.suppress(OSError):
                size += os.lstat(path).st_blocks * 512
            if entries > most_entries:
                break
        return size, entries


def home_of(workdir: Path) -> Path:
    return workdir.with_name(workdir.name + ".home")


def run_phases(
    phases: list[dict], workdir: Path, servers: Servers, limits: Limits, stopping=None, usage=None
) -> tuple[dict, list]:
    """Run ``phases`` for one submission; return ``{phase id: result}`` and the protections that applied.

    A phase that overruns its time limit, exceeds the memory or scratch limit, floods the channel
    or kills its worker gets ``{"error": reason}``; a new child runs the cells that had run again,
    and the rest. A phase's first report is final. ``usage``, a dict if given, receives the
    ``seconds`` of each phase that ended and ``peak_mb``, the largest address space reached (as the
    worker reports it: trust it for the master only).
    """
    results: dict[str, dict] = {}
    protections: list = []
    failed_cells: set[str] = set()
    usage = {} if usage is None else usage
    usage.setdefault("seconds", {})
    usage.setdefault("peak_mb", 0.0)
    home = home_of(workdir)
    home.mkdir(mode=0o700, exist_ok=True)  # private until the job's user is given it
    (home / "tmp").mkdir(exist_ok=True)
    scratch = Scratch([workdir, home], limits)
    spent = 0.0  # charged seconds of the children before
    try:
        for _ in range(len(phases) + 1):
            # A new child runs the cells again (except those that failed), and the tests not yet run.
            pending = [p for p in phases if p["id"] not in (failed_cells if p["kind"] == CELL else results)]
            if not any(p["kind"] == TEST for p in pending):
                break
            child = _Child(pending, workdir, servers, limits, stopping, usage, spent, scratch)
            stopped = child.run(results, failed_cells)
            spent += child.charged
            protections = protections or child.protections
            if stopped is None:
                continue  # done, or a phase failed: what is left (if anything) goes to a new child
            for phase in pending:  # out of time, or it died outside any phase: the whole run is to blame
                results.setdefault(phase["id"], {"error": stopped})
            break
    finally:
        if privileges.dropping():
            for folder in (workdir, home):  # out of reach of a later job that gets the same user
                with contextlib.suppress(OSError):
                    os.chown(folder, os.geteuid(), os.getegid())
                    os.chmod(folder, 0o700)
    return results, protections


class _Child:
    """One child's run over ``pending`` phases, sent one at a time and watched from here."""

    def __init__(self, pending, workdir, servers, limits, stopping, usage, spent, scratch):
        self.pending, self.workdir, self.servers, self.limits = pending, workdir, servers, limits
        self.stopping, self.usage, self.spent, self.scratch = stopping, usage, spent, scratch
        self.protections: list = []
        self.charged = 0.0  # seconds this child is charged, once it ended
        self.scratch_broken = False
        home = home_of(workdir)
        self.job = Job(
            str(workdir),
            read=read_only_paths(servers.library),
            write=[str(workdir), str(home), "/dev/null"],
            landlock=bool(landlock.abi_version()),
            memory_bytes=limits.memory_mb << 20,
            file_bytes=limits.file_mb << 20,
            environment=_environment(home, limits.threads),
            own=[str(workdir), str(home)],
            drop_root=privileges.dropping(),
        )

    def run(self, results: dict, failed_cells: set) -> str | None:
        """Record each phase's result in ``results``; ``None``, or why the whole submission stopped."""
        kinds = {phase["id"]: phase["kind"] for phase in self.pending}
        queue = list(self.pending)
        current = previous = None
        reason = None
        with self.servers.worker(self.job, self.workdir) as worker:
            child_start = phase_start = now = Sample.of(worker.pid)
            try:
                while True:
                    if self.stopping is not None and self.stopping.is_set():
                        raise KeyboardInterrupt  # the grader is shutting down: kill the worker, record nothing
                    now = Sample.of(worker.pid)
                    if reason := self._over_a_limit(now, phase_start, child_start, worker):
                        break
                    try:
                        found, ended = worker.exchange(0.2)
                    except ChannelAbuseError:
                        reason = "it wrote more on the grader's channel than a test ever does"
                        break
                    for kind, message in found:
                        if kind == PROTECTIONS and current is None and previous is None:
                            self.protections = message[kind]  # sent before any student code runs
                        elif kind == DONE and message[kind] == current:
                            results.setdefault(current, message["result"])  # the first report is final
                            self.usage["seconds"][current] = time.monotonic() - phase_start.wall
                            # The worker's own high-water mark: polling alone misses a peak just before it exits.
                            self.usage["peak_mb"] = max(self.usage["peak_mb"], float(message["peak_mb"]))
                            if "error" in message["result"] and kinds[current] == CELL:
                                failed_cells.add(current)
                            previous, current = current, None
                        else:
                            continue
                        if queue:
                            phase = queue.pop(0)
                            current, phase_start = phase["id"], Sample.of(worker.pid)
                            worker.send(phase)
                        else:
                            worker.finish()  # nothing more to send: the child reads EOF and exits
                    if ended:
                        if current or queue:
                            reason = _death(worker.wait())
                        break
                unread = current is not None and worker.unread()
            except ServerFailedError as failure:
                reason, unread = f"the grader's worker stopped ({failure})", False
            finally:
                self.charged = now.charged_since(child_start)
                with contextlib.suppress(ServerFailedError):
                    worker.close()
        if reason is None:
            return None
        if self.scratch_broken:
            self.scratch.restore()
        if unread and previous is not None:
            # The phase sent last was never read: the one before it reported done but went on running.
            results[previous] = {"error": f"it went on running after it reported itself done, and {reason}"}
            if kinds[previous] == CELL:
                failed_cells.add(previous)
            return None
        if current is not None:
            results.setdefault(current, {"error": reason})
            if kinds[current] == CELL:
                failed_cells.add(current)
        if current is None or reason.startswith("the submission's time limit"):
            return reason if current is not None else f"the grader's worker stopped: {reason}"
        return None

    def _over_a_limit(self, now: Sample, phase_start: Sample, child_start: Sample, worker: Worker) -> str | None:
        limits = self.limits
        if self.spent + now.charged_since(child_start) > limits.submission_seconds:
            return f"the submission's time limit ({limits.submission_seconds:g} s) was reached"
        if now.charged_since(phase_start) > limits.phase_seconds:
            return f"it did not finish within the time limit ({limits.phase_seconds:g} s)"
        memory = memory_mb(worker.pid)
        self.usage["peak_mb"] = max(self.usage["peak_mb"], memory.get("VmPeak", 0.0))
        if memory.get("VmRSS", 0.0) > limits.memory_mb:
            return f"it used more than the memory limit ({limits.memory_mb} MB)"
        reason = self.scratch.over()
        self.scratch_broken = reason is not None
        return reason


def _death(returncode: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return f"the process was killed by {name}" + (" (a crash)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else "")
    return f"the process exited (exit status {returncode})"
