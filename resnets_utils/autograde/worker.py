"""The grader's worker, and the protocol it speaks with the grading process (one definition of both sides).

:mod:`.sandbox` starts :func:`main` from a scratch copy of this package, a :class:`Job` on its
stdin and a channel as argument. Before any student code runs, the worker applies the job's
limits and Landlock rules and reports them (``protections``); then each phase, a :func:`cell` to
run or a :func:`test` that observes a function on its cases, goes down the channel as ``start``
and ``done`` :func:`message` lines; a result is ``{"ok": True}``, ``{"cases": [observation, ...]}``
or ``{"error": one line}``. Student code can write on the channel too: the grading process keeps
only what has a message's shape (:func:`received`), and its verdicts trust none of it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
from pathlib import Path

CELL, TEST = "cell", "test"  # the kinds of phase
PROTECTIONS, START, DONE = "protections", "start", "done"  # the kinds of message
_VALUES = {PROTECTIONS: list, START: str, DONE: str}  # what each carries: a list of protections, a phase id


def cell(phase_id: str, source: str) -> dict:
    return {"id": phase_id, "kind": CELL, "source": source}


def test(phase_id: str, function: str, cases: list[dict]) -> dict:
    return {"id": phase_id, "kind": TEST, "function": function, "cases": cases}


@dataclasses.dataclass(frozen=True)
class Job:
    phases: list[dict]
    workdir: str  # the worker's folder, a copy of the submission
    read: list[str]  # Landlock: read-only beneath these paths, read and write beneath ``write``
    write: list[str]
    landlock: bool  # whether to apply the rules (the kernel has Landlock)
    memory_bytes: int  # of address space
    file_bytes: int  # the largest file it may write
    threads: int

    def encode(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()


def message(kind: str, value, **fields) -> str:
    """One line of the channel: ``{kind: value}`` (``done`` also has ``result`` and ``peak_mb``)."""
    return json.dumps({kind: value, **fields}) + "\n"


def received(line: bytes) -> tuple[str, dict] | None:
    """``(kind, message)`` from a line of the channel, ``None`` when it is not a message."""
    try:
        found = json.loads(line)
    except ValueError:
        return None
    for kind, value in _VALUES.items() if isinstance(found, dict) else ():
        if isinstance(found.get(kind), value) and (kind != DONE or isinstance(found.get("result"), dict)):
            return kind, found
    return None


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """A process's ``VmRSS`` (resident size) and ``VmPeak`` (largest address space so far) in MB; ``{}`` if gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) / 1024 for line in lines if line.startswith(("VmRSS:", "VmPeak:"))}


def _limit_resources(job: Job) -> None:
    import ctypes

    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: a killed grader leaves no worker behind
    resource.setrlimit(resource.RLIMIT_AS, (job.memory_bytes, job.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job.file_bytes, job.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault leaves no core file behind


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    send = os.fdopen(int(argv[0]), "w", buffering=1).write  # line-buffered: each message goes at once
    job = Job(**json.loads(sys.stdin.read()))
    _limit_resources(job)
    from resnets_utils.autograde import landlock

    send(message(PROTECTIONS, landlock.restrict(job.read, job.write) if job.landlock else []))
    os.chdir(job.workdir)

    namespace: dict = {"__name__": "__main__"}
    for phase in job.phases:
        send(message(START, phase["id"]))
        try:
            if phase["kind"] == CELL:
                exec(compile(phase["source"], f"<cell {phase['id']}>", "exec"), namespace)
                result = {"ok": True}
            else:
                result = {"cases": _observe(namespace, phase)}
        except BaseException as error:  # student code may raise anything, SystemExit included
            result = {"error": _one_line(error)}
        # The peak address space is what the memory limit bounds.
        send(message(DONE, phase["id"], result=result, peak_mb=memory_mb().get("VmPeak", 0.0)))
    return 0


def _observe(namespace: dict, phase: dict) -> list[dict]:
    from resnets_utils import checks

    function = namespace.get(phase["function"])
    if not callable(function):
        return [{"error": f"{phase['function']} is not defined: its cell did not run to the end."}]
    return [checks.observe(phase["function"], function, case) for case in phase["cases"]]


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__
