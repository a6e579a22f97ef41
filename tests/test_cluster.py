"""resnets-grade on a Dask cluster: two workers on this machine, one killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_grader import ALLOWANCE, ASSIGNMENT, REPO, Kit, _course, _grade_command, _load, _scores, _submit

from resnets_utils.autograde import gradebook, sandbox
from resnets_utils.autograde.engines import cluster

# Maintainers install the cluster extra (make test does); CI must run these tests, never skip them.
needs_dask = pytest.mark.skipif(
    not cluster.dask_installed() and not os.environ.get("CI"),
    reason='the cluster extra is not installed: pip install -e ".[cluster]"',
)

# A correct, a broken and two hostile submissions (one kills its own worker process).
STUDENTS = ("correct", "identity_wrong", "monkeypatched_checks", "os_exit", "untouched")


def _dask(*arguments: str, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *arguments], stdout=out, stderr=out)


@pytest.fixture
def local_cluster(tmp_path):
    """A scheduler and two single-slot workers on 127.0.0.1, started and stopped here."""
    address_file = tmp_path / "scheduler.json"
    log = tmp_path / "dask.log"
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(address_file),
                       "--no-dashboard", log=log)]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        workers = [
            _dask("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}", log=log)
            for i in range(2)
        ]
        processes += workers
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers, log
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait()


def _processing(address: str) -> dict:
    from distributed import Client

    with Client(address, timeout=30) as client:
        return {worker: keys for worker, keys in client.processing().items() if keys}


@pytest.mark.slow
@needs_dask
def test_a_batch_on_two_dask_workers_survives_losing_one_and_resumes(tmp_path, local_cluster):
    address, workers, log = local_cluster
    course = _course(tmp_path)
    kit = Kit(course)
    for student in STUDENTS:
        _submit(course, student, _load(REPO / "tests" / "submissions" / f"{student}.py").build(kit))
    markers = {s: gradebook.autograded_folder(course, ASSIGNMENT, s) / gradebook.MARKER for s in STUDENTS}

    command = _grade_command(course, "--scheduler", address, "--phase-seconds", "60", *ALLOWANCE)
    grading = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill a worker in the middle of a submission's job, once the first grade is saved.
    deadline, killed = time.monotonic() + 900, None
    while killed is None and time.monotonic() < deadline and grading.poll() is None:
        busy = _processing(address) if any(marker.exists() for marker in markers.values()) else {}
        if busy:
            from distributed import Client

            with Client(address, timeout=30) as client:
                pids = client.run(lambda: __import__("os").getpid(), workers=list(busy)[:1])
            killed = next(iter(pids.values()))
            next(w for w in workers if w.pid == killed).send_signal(signal.SIGKILL)
        time.sleep(0.2)
    stdout, stderr = grading.communicate(timeout=900)
    assert killed is not None, "no worker was busy once the first grade was saved: " + stdout[-2000:] + stderr[-3000:]
    assert grading.returncode == 0, stdout[-3000:] + stderr[-3000:] + log.read_text()[-3000:]
    assert "1 kind" in stdout and "Dask worker" in stdout
    expected = {student: float(_load(REPO / "tests" / "submissions" / f"{student}.py").SCORE) for student in STUDENTS}
    assert _scores(course) == expected

    saved = {s: marker.stat().st_mtime_ns for s, marker in markers.items()}
    again = subprocess.run(command, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(STUDENTS)} submissions: 0 to grade" in again.stdout
    assert {s: marker.stat().st_mtime_ns for s, marker in markers.items()} == saved


@needs_dask
def test_an_unreachable_scheduler_gets_one_line_saying_what_to_do(tmp_path):
    course = _course(tmp_path)
    _submit(course, "ann", Kit(course).notebook())
    command = _grade_command(course, "--scheduler", "tcp://127.0.0.1:9")
    # Dask's own setting of how long to keep trying (30 s unless set): the grader follows it.
    quick = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, env=quick)
    assert time.monotonic() - start < 25, "the grader did not follow Dask's connect timeout"
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr and "dask scheduler" in result.stderr


def test_plain_tcp_beyond_this_machine_is_warned_about():
    assert cluster.insecure_warning("tcp://10.0.0.5:8786").startswith("warning: tcp://10.0.0.5:8786 is plain TCP")
    assert cluster.insecure_warning("tcp://127.0.0.1:8786") is None and cluster.insecure_warning("tls://h:1") is None


def test_a_worker_says_its_kind_versions_and_protections():
    info = cluster.describe()
    assert info["versions"]["keras"] in info["kind"] and info["versions"]["python"] in info["kind"]
    assert info["protections"] == sandbox.protections()


def test_without_the_cluster_extra_scheduler_says_what_to_install(monkeypatch, tmp_path, capsys):
    from resnets_utils.autograde import cli

    monkeypatch.setitem(sys.modules, "distributed", None)  # what an environment without Dask answers
    monkeypatch.chdir(tmp_path)
    assert cli.main(["residual_networks", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and 'pip install -e ".[cluster]"' in error and "environment-cluster.yml" in error
    with pytest.raises(cluster.EngineError, match="cluster"):
        cluster.DaskEngine("tcp://127.0.0.1:8786")
