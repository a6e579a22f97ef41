"""Where the test suite's CPU goes: `make test`'s pytest, with every test's CPU and the machine's.

    python benchmarks/suite_cost.py [PYTEST_ARGS...]      # make bench-suite

Runs pytest as the README's command does (the project's addopts: one process per core) and prints
the wall time, the core-seconds the whole machine was busy and idle meanwhile (/proc/stat before and
after), and the core-seconds of each test file and of the costliest tests: the test process's own
CPU and its reaped children's. What no test process reaps (servers, kernels, browsers it kills) is
counted only in the machine's total. Run it alone, on an idle machine; with no arguments (the whole
suite) it appends a dated row to docs/performance.md.

This file is also the pytest plugin that records the tests (loaded with ``-p suite_cost``).
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = "SUITE_COST_OUT"  # where each test process writes its records
HEADING = "## The test suite (`make test`, pytest's `--durations=30` table)"
COLUMNS = "| date | CPU | commit | tests | wall | user + sys | largest |"


# ----------------------------------------------------------------------------- the plugin


def _cpu() -> tuple[float, float]:
    own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, reaped.ru_utime + reaped.ru_stime


_records: list[dict] = []
_started: dict[str, tuple] = {}
_recording = True  # False in pytest-xdist's controller, which hears of its workers' tests too


def pytest_sessionstart(session):
    global _recording
    _recording = not session.config.pluginmanager.hasplugin("dsession")


def pytest_runtest_logstart(nodeid, location):
    if _recording:
        _started[nodeid] = (time.time(), *_cpu())


def pytest_runtest_logfinish(nodeid, location):
    if _recording and nodeid in _started:
        start, own, reaped = _started.pop(nodeid)
        now_own, now_reaped = _cpu()
        cpu = now_own - own + now_reaped - reaped
        _records.append({"test": nodeid, "start": start, "end": time.time(), "cpu": cpu})


def pytest_sessionfinish(session):
    if os.environ.get(OUT):
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(os.environ[OUT], f"{name}.json").write_text(json.dumps(_records))


# ----------------------------------------------------------------------------- the runner


def busy_idle() -> tuple[float, float]:
    """The machine's busy and idle seconds since boot, summed over its cores (/proc/stat's first line)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle and iowait
    return (sum(values) - idle) / tick, idle / tick


def _commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return found.stdout.strip() + (" with changes" if dirty else "")


def main(argv=None) -> int:
    from resnets_utils.course.measured import log_row
    from resnets_utils.machine import cpu_name

    arguments = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory() as records:
        environment = {**os.environ, OUT: records}
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
        )
        command = [sys.executable, "-m", "pytest", "-p", "suite_cost", *arguments]
        start, (busy0, idle0) = time.perf_counter(), busy_idle()
        pytest = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True)
        wall, (busy1, idle1) = time.perf_counter() - start, busy_idle()
        rows = [row for path in Path(records).glob("*.json") for row in json.loads(path.read_text())]
    busy, idle = busy1 - busy0, idle1 - idle0
    summary = next(
        (line for line in reversed(pytest.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", line)), ""
    )
    by_file = collections.Counter()
    for row in rows:
        by_file[row["test"].split("::")[0]] += row["cpu"]
    attributed = sum(by_file.values())
    print(f"{cpu_name()}, commit {_commit()}: {summary.strip('= ')}")
    print(f"wall {wall:.0f} s; machine busy {busy:,.0f} core-s, idle {idle:,.0f}; in tests {attributed:,.0f} core-s,")
    print(f"outside them (start-up, collection, processes no test reaped) {busy - attributed:,.0f}\n")
    print(f"{'core-s':>8}  test file")
    for name, seconds in by_file.most_common(12):
        print(f"{seconds:8.1f}  {name}")
    costliest = sorted(rows, key=lambda row: -row["cpu"])[:12]
    print(f"\n{'core-s':>8} {'wall s':>7}  test")
    for row in costliest:
        print(f"{row['cpu']:8.1f} {row['end'] - row['start']:7.1f}  {row['test'][:110]}")
    if pytest.returncode:
        print(pytest.stdout[-3000:] + pytest.stderr[-2000:], file=sys.stderr)
        return pytest.returncode
    if arguments:
        print("\n(pytest's arguments given: not the whole suite, so no row in docs/performance.md)")
        return 0
    tests = re.search(r"(\d+) passed", summary)
    largest = ", ".join(
        f"{Path(name).stem.removeprefix('test_')} {seconds:.0f} core-s" for name, seconds in by_file.most_common(3)
    )
    log_row(
        HEADING,
        COLUMNS,
        f"| {datetime.date.today()} | {cpu_name()} | {_commit()}, installed checkout (benchmarks/suite_cost.py) "
        f"| {tests.group(1) if tests else '?'} | {int(wall // 60)} min {wall % 60:02.0f} s "
        f"| {busy:,.0f} core-s busy, {idle:,.0f} idle (/proc/stat) | {largest} |",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
