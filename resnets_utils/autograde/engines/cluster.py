"""Grade on a Dask cluster: one task per job, carrying its files, run by a worker's own sandbox.

The grading process (:class:`DaskEngine`) reads each submission (:func:`.intake.contents`) and
sends its phases and files to the cluster; a Dask worker runs them in its :class:`.local.LocalEngine`
(warm servers, Landlock, seccomp) and returns the plain observations. Judging and the gradebook
stay in the grading process. Every worker says what it is (:func:`describe`): jobs are grouped by
kind of machine (architecture, CPU, library versions), and the reference solution is observed on
each kind a batch uses. A worker that dies mid-task costs only that task: the scheduler runs it
again elsewhere, and what is recorded is recorded once, by the grading process.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import platform
import socket
import sys
import threading
import time

from resnets_utils import machine
from resnets_utils.autograde import intake, sandbox
from resnets_utils.autograde.engines import local

# What decides a worker's observations, beside its CPU.
PACKAGES = ("resnets-course", "tensorflow-cpu", "tensorflow", "keras", "numpy", "h5py")


CLUSTER_EXTRA_MISSING = (
    "grading on a Dask cluster needs Dask, which students do not install: run "
    '`pip install -e ".[cluster]"` in the course\'s checkout (conda: '
    "`conda env update -n resnets-course -f environment-cluster.yml`)"
)


class EngineError(RuntimeError):
    """A job the cluster could not run (its worker died too often, the cluster went away)."""


def dask_installed() -> bool:
    """Whether the cluster extra is installed (students' environments have no Dask)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache  # asked once per job: the answer does not change in a process's life
def describe() -> dict:
    """This worker machine: its kind, its library versions and the protections its jobs get."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    protections = sandbox.protections()
    libraries = (f"{name} {version}" for name, version in versions.items())
    kind = ", ".join([platform.machine(), machine.cpu_model(), *libraries])
    return {"kind": kind, "host": socket.gethostname(), "versions": versions, "protections": protections}


_engine: local.LocalEngine | None = None
_engine_lock = threading.Lock()


def run_job(phases: list[dict], files: dict[str, bytes], limits: sandbox.Limits) -> local.Ran:
    """On a Dask worker: run one job in this worker's engine; say which kind of machine ran it."""
    global _engine
    from distributed import get_worker

    with _engine_lock:
        if _engine is None:
            _engine = local.LocalEngine(limits.threads, keep=False)
            atexit.register(_engine.close)
    ran = _engine.run(phases, files, limits)
    ran.kind, ran.where = describe()["kind"], get_worker().address
    return ran


class DaskEngine:
    """Sends jobs to the Dask scheduler at ``address``.

    TLS settings and how long to keep trying to connect (``distributed.comm.timeouts.connect``,
    30 s unless set) come from Dask's configuration; ``timeout`` overrides the latter.
    """

    def __init__(self, address: str, timeout: float | None = None):
        if not dask_installed():
            raise EngineError(CLUSTER_EXTRA_MISSING)
        from distributed import Client

        connect = {} if timeout is None else {"timeout": timeout}
        try:
            self.client = Client(address, set_as_default=False, **connect)
        except (OSError, TimeoutError) as error:
            raise EngineError(
                f"cannot reach the Dask scheduler at {address} ({error}): start one with `dask scheduler` "
                "and workers with `dask worker ADDRESS` (see docs/grading.md)"
            ) from None
        try:
            self.workers = self.client.run(describe)  # {worker address: describe()}
        except Exception as error:  # a worker without the course's package cannot even unpickle describe
            self.client.close()
            raise EngineError(
                f"a Dask worker at {address} cannot run the grader ({type(error).__name__}: {error}): "
                'install the course\'s package on every worker machine (pip install -e ".[cluster]" in its checkout)'
            ) from None
        if not self.workers:
            self.client.close()
            raise EngineError(f"the Dask scheduler at {address} has no workers: start some with `dask worker`")

    def slots(self) -> int:
        """How many jobs the cluster runs at once."""
        return sum(self.client.nthreads().values()) or 1

    def kinds(self) -> dict[str, str]:
        """One worker of each kind of machine the cluster has now."""
        found: dict[str, str] = {}
        for address, info in sorted(self.workers.items()):
            found.setdefault(info["kind"], address)
        return found

    def run(self, phases, submitted, limits: sandbox.Limits, stopping=None, where=None) -> local.Ran:
        files = intake.contents(submitted) if submitted is not None else {}
        # A worker named is preferred, not required: if it dies, the job runs elsewhere.
        placement = {"workers": [where], "allow_other_workers": True} if where else {}
        future = self.client.submit(run_job, phases, files, limits, pure=False, **placement)
        lost = 0
        try:
            while True:
                if stopping is not None and stopping.is_set():
                    raise KeyboardInterrupt  # the grader is shutting down: the task is cancelled
                try:
                    ran = future.result(timeout=0.5)
                except TimeoutError:
                    continue
                except Exception as error:
                    # A result lost with its worker before it reached us is computed again by the scheduler.
                    if future.status != "error" and lost < 10:
                        lost += 1
                        time.sleep(1)
                        continue
                    raise EngineError(f"{type(error).__name__}: {error}".splitlines()[0]) from None
                return ran
        finally:
            future.cancel()

    def close(self) -> None:
        self.client.close()


def insecure_warning(address: str) -> str | None:
    """A line for a ``tcp://`` address that is not this machine: Dask's plain TCP has no authentication."""
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if address.startswith("tcp://") and host not in ("127.0.0.1", "localhost", "::1"):
        return (
            f"warning: {address} is plain TCP: anyone who can reach the scheduler can run code on its workers "
            "and read the submissions; use tls:// with Dask's TLS settings (docs/grading.md)"
        )
    return None


if __name__ == "__main__":  # python -m resnets_utils.autograde.engines.cluster ADDRESS: what each worker is
    for address, info in sorted(DaskEngine(sys.argv[1]).workers.items()):
        print(address, info["kind"], "; ".join(info["protections"]) or "no Landlock", sep="\n  ")
