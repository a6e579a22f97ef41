"""What one submission costs a warm worker, with the server's imports frozen (as shipped) and without.

    python benchmarks/warm_worker.py [--pairs 12] [--no-log]

Grades the reference solution (the phases of a complete submission: set-up, solutions, the six
tests) in two local engines, one job in each in turn after a first job that starts their
servers. The baseline engine's library is the same with the ``gc.freeze()`` call taken out of
its copy of the worker. Prints each variant's median seconds and busy core-seconds a job
(/proc/stat: run it on an otherwise idle machine) and the median saving of the pairs, and logs
a row in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime
import re
import statistics
import threading
import time
from pathlib import Path
from unittest import mock

from suite_cost import busy_idle  # this folder's: scripts run with it first on sys.path

from resnets_utils import assignments
from resnets_utils.autograde import catalogue, sandbox
from resnets_utils.autograde.engines import local
from resnets_utils.course.measured import log_row
from resnets_utils.course.reference import MASTER
from resnets_utils.machine import cpu_name

HEADING = "## A warm worker's job (benchmarks/warm_worker.py)"
COLUMNS = "| date | CPU | pairs of jobs | frozen: s a job, core-s a job | not frozen: the same | CPU saved |"
NAMES = {True: "frozen (as shipped)", False: "not frozen"}
FREEZE = re.compile(r"^(\s*)gc\.freeze\(\)$", re.M)


def _unfrozen_library(root: Path, prepare=sandbox.prepare_library) -> Path:
    library = prepare(root)
    worker = library / "resnets_utils" / "autograde" / "engines" / "worker.py"
    text, found = FREEZE.subn(r"\1pass  # the baseline: nothing frozen", worker.read_text())
    if found != 1:
        raise SystemExit(f"expected one gc.freeze() call in {worker.name}, found {found}: update this benchmark")
    worker.write_text(text)
    return library


def new_engine(frozen: bool) -> local.LocalEngine:
    with mock.patch.object(sandbox, "prepare_library", sandbox.prepare_library if frozen else _unfrozen_library):
        return local.LocalEngine(1)


def job(engine: local.LocalEngine, phases: list[dict]) -> tuple[float, float]:
    """``(seconds, busy core-seconds)`` of one job of ``phases``."""
    start, (busy, _) = time.perf_counter(), busy_idle()
    ran = engine.run(phases, None, sandbox.Limits(), threading.Event())
    if any("error" in result for result in ran.results.values()):
        raise SystemExit(f"the reference failed in a worker: {ran.results}")
    return time.perf_counter() - start, busy_idle()[0] - busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--no-log", action="store_true", help="print only; no row in docs/performance.md")
    arguments = parser.parse_args()

    assignment = assignments.get(MASTER.parent.name)
    master = catalogue.Master.read(MASTER, assignment)
    phases = master.phases(master.solutions, catalogue.grading_cases(assignment, seed=0))
    engines = {frozen: new_engine(frozen) for frozen in (True, False)}
    found: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    try:
        for each in engines.values():
            job(each, phases)  # starts its origin and the origin's first copy
        for number in range(arguments.pairs):  # one job each, each variant first in turn: the host's speed drifts
            for frozen in (number % 2 == 0, number % 2 == 1):
                found[frozen].append(job(engines[frozen], phases))
    finally:
        for each in engines.values():
            each.close()
    summary = {
        frozen: (statistics.median(s for s, _ in jobs), statistics.median(c for _, c in jobs))
        for frozen, jobs in found.items()
    }
    ratios = [f[1] / n[1] for f, n in zip(found[True], found[False], strict=True)]
    saved = 1 - statistics.median(ratios)
    print(f"{cpu_name()}, {arguments.pairs} pairs of jobs (medians)")
    for frozen, (seconds, core) in summary.items():
        print(f"  {NAMES[frozen]:<20} {seconds:5.2f} s a job  {core:5.2f} core-s a job")
    wins = sum(ratio < 1 for ratio in ratios)
    print(f"  frozen saves {saved:.0%} of a job's CPU (median of the pairs; cheaper in {wins} of {len(ratios)})")
    if not arguments.no_log:
        cells = [datetime.date.today(), cpu_name(), arguments.pairs]
        cells += [f"{summary[frozen][0]:.2f} s, {summary[frozen][1]:.2f}" for frozen in (True, False)]
        cells.append(f"{saved:.0%} ({wins} of {len(ratios)} pairs)")
        log_row(HEADING, COLUMNS, "| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
