"""The times and accuracies the notebooks state, as measured by ``scripts/measure.py``.

The notebooks never type such a figure: they print ``say(name)``, a sentence made from
``measured.json``, which only ``scripts/measure.py`` writes (from runs it repeats), so a
change of data, recipe or machine updates the text by running the script again.
"""

from __future__ import annotations

import json
from pathlib import Path

MEASURED = Path(__file__).resolve().parent / "measured.json"

WHAT = {
    "assignment_training": "the training cell (10 epochs)",
    "pretrain": "`make pretrain` (20 epochs)",
    "degradation": "the degradation experiment",
    "gradient_flow": "one gradient-flow measurement",
}


def figures() -> dict:
    return json.loads(MEASURED.read_text()) if MEASURED.exists() else {}


def _minutes(seconds: list[float]) -> str:
    low, high = min(seconds) / 60, max(seconds) / 60
    if high < 2:
        low_s, high_s = round(min(seconds)), round(max(seconds))
        return f"{low_s} s" if low_s == high_s else f"{low_s} to {high_s} s"
    low, high = round(low), round(high)
    return f"{low} minutes" if low == high else f"{low} to {high} minutes"


def _accuracy(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.1%}" if len(values) == 1 or f"{low:.1%}" == f"{high:.1%}" else f"{low:.1%} to {high:.1%}"


def say(name: str) -> str:
    """One sentence: how long ``name`` took (and the test accuracy it reached) when measured."""
    entry = figures().get(name)
    what = WHAT.get(name, name)
    if not entry:
        return f"Not measured yet for {what}: `python scripts/measure.py {name}` measures it."
    runs = len(entry["seconds"])
    reached = f" and reached {_accuracy(entry['test_accuracy'])} test accuracy" if entry.get("test_accuracy") else ""
    how = "one run" if runs == 1 else f"{runs} seeded runs"
    return (
        f"Measured for {what} on the course's test machine ({entry['cpu']}, {entry['date']}, {how}): "
        f"it took {_minutes(entry['seconds'])}{reached}. Expect about that on a recent 2-core CPU."
    )


def record(name: str, seconds: list[float], cpu: str, date: str, test_accuracy: list[float] | None = None) -> None:
    """Replace ``name``'s measurement (only ``scripts/measure.py`` calls this)."""
    entries = figures()
    entries[name] = {"seconds": [round(s, 1) for s in seconds], "cpu": cpu, "date": date}
    if test_accuracy:
        entries[name]["test_accuracy"] = [round(a, 4) for a in test_accuracy]
    MEASURED.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")
