"""The sandboxed side of the grader: run one submission's graded cells, report what they build.

Started by :mod:`resnets_utils.autograde.sandbox` from a scratch copy of this package (never
from the course folder), with the job on stdin and a channel file descriptor as argument.
Before any student code runs it applies the resource limits and the Landlock rules of the
job. Then it runs the phases in order: the master's locked set-up cells, the student's
solution cells, and one phase per test that observes the student's function on the cases
(:func:`resnets_utils.checks.observe`). Each phase's start and result go down the channel
as JSON lines; the verdict is made elsewhere, by a process that never runs student code.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def _limit_resources(job: dict) -> None:
    import ctypes

    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL: a killed grader leaves no worker behind
    memory = job["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (job["file_bytes"], job["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault leaves no core file behind


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    channel = os.fdopen(int(argv[0]), "w", buffering=1)

    def send(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    job = json.loads(sys.stdin.read())
    _limit_resources(job)
    from resnets_utils.autograde import landlock

    protections = landlock.restrict(job["read"], job["write"]) if job["landlock"] else []
    send({"protections": protections})
    os.chdir(job["workdir"])

    namespace: dict = {"__name__": "__main__"}
    for phase in job["phases"]:
        send({"start": phase["id"]})
        try:
            if phase["kind"] == "cell":
                exec(compile(phase["source"], f"<cell {phase['id']}>", "exec"), namespace)
                result = {"ok": True}
            else:
                result = {"cases": _observe(namespace, phase)}
        except BaseException as error:  # student code may raise anything, SystemExit included
            result = {"error": _one_line(error)}
        send({"done": phase["id"], "result": result, "peak_mb": _peak_mb()})
    return 0


def _peak_mb() -> float:
    """This process's largest address space so far (what the memory limit bounds), in MB."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmPeak:"))
    except (OSError, StopIteration):
        return 0.0
    return int(line.split()[1]) / 1024


def _observe(namespace: dict, phase: dict) -> list[dict]:
    from resnets_utils import checks

    function = namespace.get(phase["function"])
    if not callable(function):
        return [{"error": f"{phase['function']} is not defined: its cell did not run to the end."}]
    return [checks.observe(phase["function"], function, case) for case in phase["cases"]]


def _one_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:300]}" if message else type(error).__name__


if __name__ == "__main__":
    raise SystemExit(main())
