"""How long drawing the generated SIGNS set takes, in one process and in one per core (target: under 10 s).

Draws the training and test splits (``make data``'s 1,200 pictures) a few times each way,
prints the best and median and appends dated rows to docs/performance.md. ``make pretrain``
draws fresh pictures the same way every epoch.
"""

import datetime
import os
import time

from resnets_utils import data
from resnets_utils.course.measured import log_row
from resnets_utils.data import handsigns
from resnets_utils.machine import cpu_name

HEADING = "## Drawing the data set (`make bench-data`, benchmarks/data_generation.py)"
COLUMNS = "| date | CPU | generator | pictures | processes | best s | median s | ms a picture | vs one process |"


def draw_both_splits(workers: int) -> float:
    start = time.perf_counter()
    for index, per_class in enumerate((data.TRAIN_PER_CLASS, data.TEST_PER_CLASS)):
        handsigns.generate_split(per_class, seed=(data.DEFAULT_SEED, index), workers=workers)
    return time.perf_counter() - start


def main(repeats: int = 3) -> None:
    pictures = (data.TRAIN_PER_CLASS + data.TEST_PER_CLASS) * handsigns.NUM_CLASSES
    version = handsigns.GENERATOR_VERSION
    print(f"draw the train and test splits ({pictures} pictures, {repeats} runs, generator {version})")
    baseline = None
    for workers in sorted({1, os.cpu_count() or 1}):
        timings = sorted(draw_both_splits(workers) for _ in range(repeats))
        best, median = timings[0], timings[len(timings) // 2]
        baseline = baseline or best
        per_picture = 1000 * best / pictures
        print(f"  {workers} process(es): best {best:.2f} s   median {median:.2f} s   {baseline / best:.2f}x")
        cells = [datetime.date.today(), cpu_name(), version, pictures, workers, f"{best:.2f}", f"{median:.2f}"]
        cells += [f"{per_picture:.1f}", f"{baseline / best:.2f}x"]
        log_row(HEADING, COLUMNS, "| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
