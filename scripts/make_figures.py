"""Regenerate the README's picture of the generated data (docs/signs_samples.png).

Usage: python scripts/make_figures.py [OUTPUT.png]
"""

import sys
import tempfile
from pathlib import Path

from resnets_utils.data import load_dataset
from resnets_utils.views.plotting import show_samples

FIGURE = Path(__file__).resolve().parent.parent / "docs" / "signs_samples.png"


def main(output: Path = FIGURE) -> None:
    # Always the generated set, even where a user keeps the real SIGNS files.
    with tempfile.TemporaryDirectory() as directory:
        X_train, Y_train, *_ = load_dataset(directory)
    figure = show_samples(X_train, Y_train, per_class=8, seed=0)
    # No software/version tag: the file changes only when the picture does.
    figure.savefig(output, dpi=72, metadata={"Software": None})
    print(f"wrote {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FIGURE)
