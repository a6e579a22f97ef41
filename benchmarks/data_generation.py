"""How long drawing and writing the generated SIGNS set takes (target: under 10 s on 2 cores)."""

import tempfile
import time
from pathlib import Path

from resnets_utils import data


def main(repeats: int = 3) -> None:
    timings = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            data.write_generated_dataset(Path(directory))
            timings.append(time.perf_counter() - start)
    print(f"generate + write train and test files ({repeats} runs)")
    print(f"  best {min(timings):.2f} s   median {sorted(timings)[len(timings) // 2]:.2f} s")


if __name__ == "__main__":
    main()
