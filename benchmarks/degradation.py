"""The degradation experiment as the exploration notebook runs it: its time and its four losses.

    python benchmarks/degradation.py [--seed N]

Prints the wall-clock time of ``resnets_utils.experiments.degradation.run`` on the course's training
pictures (target: under 2 minutes on 2 cores), each network's mean training loss over the
last 10% of steps, and whether the notebook's two claims hold; appends a dated row to
docs/performance.md.
"""

import argparse
import datetime
import os
import time

from resnets_utils import data
from resnets_utils.course.measured import PERFORMANCE, log_row
from resnets_utils.experiments import degradation
from resnets_utils.machine import cpu_name

HEADING = "## Degradation experiment (`make bench`, benchmarks/degradation.py)"
COLUMNS = "| date | CPU | seed | seconds | plain-8 | plain-32 | residual-8 | residual-32 |"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    images, labels, *_ = data.load_dataset()
    start = time.perf_counter()
    result = degradation.run(images, labels, seed=args.seed)
    seconds = time.perf_counter() - start
    shallow, deep = degradation.DEPTHS
    final = {(kind, depth): result.final(kind, depth) for kind in ("plain", "residual") for depth in (shallow, deep)}
    print(f"degradation experiment: {seconds:.0f} s on {os.cpu_count()} cores (target < 120 s), seed {args.seed}")
    for (kind, depth), loss in final.items():
        print(f"  {kind + '-' + str(depth):<12} mean training loss over the last 10% of steps: {loss:.3f}")
    print(f"  plain-{deep} / plain-{shallow}: {final['plain', deep] / final['plain', shallow]:.2f} (claim: >= 1.10)")
    print(f"  residual-{deep} <= residual-{shallow}: {final['residual', deep] <= final['residual', shallow]}")
    losses = " | ".join(f"{loss:.3f}" for loss in final.values())
    log_row(HEADING, COLUMNS, f"| {datetime.date.today()} | {cpu_name()} | {args.seed} | {seconds:.0f} | {losses} |")
    print(f"recorded in {PERFORMANCE}")


if __name__ == "__main__":
    main()
