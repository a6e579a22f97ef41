"""The grader's worker, and the protocol it speaks with the grading process (one definition of both sides).

:mod:`.sandbox` starts :func:`main`, a *server*, from a scratch copy of this package. A warm
server imports TensorFlow and Keras once, builds nothing and freezes what it holds (:func:`gc.freeze`);
then, for each :class:`Job` it is handed (with the job's channel, its phase pipe and its log), it
forks a child that becomes its own session and contains itself (:func:`contain`: limits, its own
user when the grader is root, Landlock, the seccomp filter), and reports how (``protections``)
before any student code runs.

The grading process then sends the **phases one at a time** on the phase pipe, each only
after the previous one's report: a :func:`cell` to run or a :func:`test` that observes a
function on its cases. So the child never holds a case before it runs it (student code that
looks through memory finds no hidden case while a visible one runs). Each phase ends with a
``done`` :func:`message` on the channel; a result is ``{"ok": True}``, ``{"cases": [...]}``
or ``{"error": one line}``. Student code can write on the channel too: the grading process
keeps only what has a message's exact shape (:func:`received`), bounds lines and their number,
and its verdicts trust none of it. The server talks to the grading process on a socket the
child closes first: ``forked`` (the child's pid), ``ended`` (its exit status, once it and
everything it started are gone), and it kills the child's session on ``kill``. Given a socket
with ``spawn``, an idle server forks a copy of itself that answers there: the grading process
imports TensorFlow in one server, the *origin*, and forks the others from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
from pathlib import Path

CELL, TEST = "cell", "test"  # the kinds of phase
PROTECTIONS, DONE = "protections", "done"  # the kinds of message
MAX_LINE = 8 << 20  # bytes in one line of the channel (a test's report takes under 200 KB)
MAX_LINES = 2000  # lines on the channel in one job's life (it needs two per phase)


def cell(phase_id: str, source: str) -> dict:
    return {"id": phase_id, "kind": CELL, "source": source}


def test(phase_id: str, function: str, cases: list[dict], language: str = "en") -> dict:
    return {"id": phase_id, "kind": TEST, "function": function, "cases": cases, "language": language}


@dataclasses.dataclass(frozen=True)
class Job:
    workdir: str  # the worker's folder, a copy of the submission
    read: list[str]  # Landlock: read-only beneath these paths, read and write beneath ``write``
    write: list[str]
    landlock: bool  # whether to apply the rules (the kernel has Landlock)
    memory_bytes: int  # of address space
    file_bytes: int  # the largest file it may write
    environment: dict  # set before any student code runs (its own home and temporary folder)
    own: list[str] = dataclasses.field(default_factory=list)  # the job's folders, given to its user
    drop_root: bool = False  # run as a user of its own (the grader is root)

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()


def message(kind: str, value, **fields) -> str:
    """One line of the channel: ``{kind: value}`` (``done`` also has ``result`` and ``peak_mb``)."""
    return json.dumps({kind: value, **fields}) + "\n"


def received(line: bytes) -> tuple[str, dict] | None:
    """``(kind, message)`` from a line of the channel, ``None`` when it is not exactly a message.

    A ``protections`` message is a list of strings; a ``done`` message names a phase, has a
    ``result`` dict and a numeric ``peak_mb``. Anything else (too long, too deep, not JSON) is None.
    """
    if len(line) > MAX_LINE:
        return None
    try:
        found = json.loads(line)
    except (ValueError, RecursionError, MemoryError):
        return None
    if not isinstance(found, dict):
        return None
    if set(found) == {PROTECTIONS} and isinstance(found[PROTECTIONS], list):
        if all(isinstance(item, str) for item in found[PROTECTIONS]):
            return PROTECTIONS, found
    if set(found) == {DONE, "result", "peak_mb"} and isinstance(found[DONE], str):
        peak = found["peak_mb"]
        if isinstance(found["result"], dict) and type(peak) in (int, float) and 0 <= peak < 1e12:
            return DONE, found | {"peak_mb": float(peak)}
    return None


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """A process's ``VmRSS`` (resident size) and ``VmPeak`` (largest address space so far) in MB; ``{}`` if gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) / 1024 for line in lines if line.startswith(("VmRSS:", "VmPeak:"))}


def stat_fields(pid: int | str = "self") -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command's name (field 3, the state, first); ``[]`` if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
READY, FORKED, ENDED = "ready", "forked", "ended"  # the server's side of the socket
KILL, SPAWN = b"kill", b"spawn"  # the grading process's requests besides a job


def _prctl(option: int, value: int) -> None:
    import ctypes

    ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


def _limit_resources(job: Job) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (job.memory_bytes, job.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job.file_bytes, job.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault leaves no core file behind


def main(argv=None) -> int:
    """The server: ``SOCKET_FD warm|cold``; a warm one imports TensorFlow and Keras before its first job."""
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[0]))
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # a killed grader leaves no server behind
    if argv[1] == "warm":
        # As the master's set-up cell sets them, before Keras loads TensorFlow.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
        import keras  # noqa: F401
    # What the imports made lives as long as the server: out of the collector's sight, a child's
    # full collections skip it and leave its pages shared (benchmarks/warm_worker.py: 5% of a job).
    gc.freeze()
    return _serve(control)


def _serve(control: socket.socket) -> int:
    """Answer the grading process: a child per job, or (``spawn``) a copy of this server on a new socket."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # what a child leaves running comes back here, to be killed
    # Forking is safe only with one thread: the grading process checks this number.
    ready = {"threads": len(os.listdir("/proc/self/task")), "pid": os.getpid()}
    control.send(json.dumps({READY: ready}).encode())
    while True:
        try:
            request, fds, _, _ = socket.recv_fds(control, 64, 4)
        except OSError:
            return 0
        _reap_spawned()
        if not request:
            return 0  # the grading process closed the socket
        if request == SPAWN and len(fds) == 1:
            _spawn(control, fds[0])
            continue
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue  # a kill that came after its child had ended
        pid = os.fork()
        if pid == 0:
            _child(control, *fds)  # never returns
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({FORKED: pid}).encode())
        status = _supervise(control, pid)
        control.send(json.dumps({ENDED: status}).encode())


_spawned: set[int] = set()  # the servers this one forked: never a job's leftovers


def _spawn(control: socket.socket, fd: int) -> None:
    """Fork a server that answers on ``fd``: warm like this one, without importing anything again."""
    origin = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            control.close()
            os.setsid()  # the grading process's Ctrl-C reaches the grader only
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # closing the origin closes its copies
            if os.getppid() != origin:
                os._exit(1)  # the origin died before the signal was set
            _spawned.clear()
            _serve(socket.socket(fileno=fd))
        finally:
            os._exit(0)
    os.close(fd)
    _spawned.add(pid)


def _reap_spawned() -> None:
    """Collect the copies that ended (the grading process closed them)."""
    for pid in list(_spawned):
        try:
            ended = os.waitpid(pid, os.WNOHANG)[0]
        except ChildProcessError:
            ended = True
        if ended:
            _spawned.discard(pid)


def _supervise(control: socket.socket, pid: int) -> int:
    """Wait for the child (killing its session on ``kill``), then for everything it left; its exit status."""
    ended = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([control, ended], [], [])
            if ended in ready:
                break
            if control.recv(64) in (KILL, b""):
                _kill_session(pid)
    finally:
        os.close(ended)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # the group outlives its leader while a member is left
    while children := [child for child in _children() if child not in _spawned]:
        for child in children:
            _kill_session(child)
            os.waitpid(child, 0)
    return status


def _kill_session(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def _children() -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/self/task/{os.getpid()}/children").read_text().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: the seccomp filter leaves nothing to find
        return []


def _child(control: socket.socket, job_fd: int, channel: int, phases: int, log: int) -> None:
    """The forked child: its own session, the job's limits and rules, then the phases; exits."""
    try:
        os.setsid()  # its session and process group: killed with everything it starts
        control.close()  # student code never reaches the server
        with os.fdopen(job_fd) as file:
            job = Job(**json.load(file))
        null = os.open(os.devnull, os.O_RDWR)
        # What a submission prints goes nowhere (a flood costs nothing); stderr is kept, capped.
        for fd, target in ((0, null), (1, null), (2, log)):
            os.dup2(target, fd)
        os.close(null)
        os.close(log)
        os.environ.update(job.environment)
        import tempfile

        tempfile.tempdir = None  # chosen again, from the job's TMPDIR (TensorFlow's import chose the server's)
        run(job, channel, phases, server=os.getppid())
    except BaseException:
        import traceback

        traceback.print_exc()  # into the job's log: the grader's own failure, never student code's (caught per phase)
        os._exit(1)
    finally:
        os._exit(0)


def contain(job: Job, server: int) -> list[str]:
    """The job's limits, its own user (when root), Landlock and seccomp, in that order; what applied, in words."""
    from resnets_utils.autograde.sandbox import landlock, privileges, seccomp

    _limit_resources(job)
    applied = []
    if job.drop_root and privileges.dropping():
        uid, applied = privileges.job_uid(), privileges.protections()  # said while still root
        privileges.give(job.own, uid)
        privileges.readable_view(job.read + job.write)
        privileges.drop(uid)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # its server gone, it goes too (set after setuid, which clears it)
    if os.getppid() != server:
        os._exit(1)  # the server died before the signal was set
    applied += landlock.restrict(job.read, job.write) if job.landlock else []
    applied += seccomp.protections() if seccomp.install() else []
    return applied


def run(job: Job, channel: int, phases: int, server: int) -> None:
    """Contain this process, report how, then run each phase read from ``phases``, reporting on ``channel``."""
    send = os.fdopen(channel, "w", buffering=1).write  # line-buffered: each message goes at once
    send(message(PROTECTIONS, contain(job, server)))
    os.chdir(job.workdir)

    namespace: dict = {"__name__": "__main__"}
    with os.fdopen(phases, "rb") as incoming:
        for line in incoming:  # the next phase is sent only once this one is reported
            phase = json.loads(line)
            try:
                if phase["kind"] == CELL:
                    from resnets_utils.course.notebooks import execute

                    execute(phase["source"], f"<cell {phase['id']}>", namespace)
                    result = {"ok": True}
                else:
                    result = {"cases": _observe(namespace, phase)}
            except BaseException as error:  # student code may raise anything, SystemExit included
                result = {"error": one_line(error)}
            # The peak address space is what the memory limit bounds.
            send(message(DONE, phase["id"], result=result, peak_mb=memory_mb().get("VmPeak", 0.0)))


def _observe(namespace: dict, phase: dict) -> list[dict]:
    from resnets_utils import checks
    from resnets_utils.language import say, speaking

    with speaking(phase.get("language")):  # the messages of the notebook's language
        function = namespace.get(phase["function"])
        if not callable(function):
            return [{"error": say("{name} is not defined: its cell did not run to the end.", name=phase["function"])}]
        return [checks.observe(phase["function"], function, case) for case in phase["cases"]]


def one_line(error: BaseException) -> str:
    """An error as one short line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__
