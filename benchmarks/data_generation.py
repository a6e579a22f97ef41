"""How long drawing and writing the generated SIGNS set takes (target: under 10 s on 2 cores).

Prints the best and median of a few runs and appends a dated row to docs/performance.md.
"""

import datetime
import tempfile
import time
from pathlib import Path

from resnets_utils import data, handsigns
from resnets_utils.measured import cpu_name, log_row

HEADING = "## Drawing the data set (`make bench-data`, benchmarks/data_generation.py)"
COLUMNS = "| date | CPU | generator | pictures | best s | median s | ms a picture |"


def main(repeats: int = 3) -> None:
    timings = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            data.write_generated_dataset(Path(directory))
            timings.append(time.perf_counter() - start)
    pictures = (data.TRAIN_PER_CLASS + data.TEST_PER_CLASS) * handsigns.NUM_CLASSES
    best, median = min(timings), sorted(timings)[len(timings) // 2]
    version = handsigns.GENERATOR_VERSION
    print(f"generate + write train and test files ({pictures} pictures, {repeats} runs, generator {version})")
    print(f"  best {best:.2f} s   median {median:.2f} s   (target: under 10 s)")
    per_picture = 1000 * best / pictures
    cells = [datetime.date.today(), cpu_name(), version, pictures, f"{best:.2f}", f"{median:.2f}", f"{per_picture:.1f}"]
    row = "| " + " | ".join(map(str, cells)) + " |"
    log_row(HEADING, COLUMNS, row)


if __name__ == "__main__":
    main()
