"""The times and accuracies the notebooks state, as measured by ``scripts/measure.py``.

The notebooks never type such a figure: they print ``say(name)``, a sentence made from
``measured.json``, which only ``scripts/measure.py`` writes (from runs it repeats), so a
change of data, recipe or machine updates the text by running the script again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from resnets_utils.experiments import EXPERIMENTS
from resnets_utils.settings import write_atomically

MEASURED = Path(__file__).resolve().parent / "measured.json"
PERFORMANCE = Path(__file__).resolve().parents[2] / "docs" / "performance.md"  # the measurement history

WHAT = {
    "assignment_training": "the training cell ({epochs} epochs)",
    "pretrain": "`make pretrain` ({epochs} epochs)",
    "realism": "the pre-trained ResNet-50 on real photos",
    **{name: experiment.what for name, experiment in EXPERIMENTS.items()},
}


def recipe_fingerprint(name: str) -> str | None:
    """A short hash of what ``name``'s figure depends on besides the data: the training cell's
    code, or ``make pretrain``'s recipe. A figure measured under another one is stale."""
    import hashlib

    if name == "assignment_training":
        import nbformat

        from resnets_utils.course.reference import MASTER

        cells = nbformat.read(MASTER, as_version=4).cells
        what = "".join(cell.source for cell in cells if "callbacks=[progress]" in cell.source)
    elif name in ("pretrain", "realism"):
        from resnets_utils.training.pretrain import RECIPE

        what = json.dumps(RECIPE, sort_keys=True)
    else:
        return None
    return hashlib.sha256(what.encode()).hexdigest()[:12]


def figures() -> dict:
    return json.loads(MEASURED.read_text()) if MEASURED.exists() else {}


def _rounded(value: float) -> int:
    return math.floor(value + 0.5)  # half up, as people round (Python's round() goes to even)


def _minutes(seconds: list[float]) -> str:
    if max(seconds) < 120:
        low, high, unit = _rounded(min(seconds)), _rounded(max(seconds)), "s"
    else:
        low, high, unit = _rounded(min(seconds) / 60), _rounded(max(seconds) / 60), "minutes"
    return f"{low} {unit}" if low == high else f"{low} to {high} {unit}"


def _accuracy(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.1%}" if len(values) == 1 or f"{low:.1%}" == f"{high:.1%}" else f"{low:.1%} to {high:.1%}"


def say(name: str) -> str:
    """One sentence: how long ``name`` took (and the test accuracy it reached) when measured."""
    from resnets_utils.training.pretrain import RECIPE  # cheap: TensorFlow is imported only to train

    entry = figures().get(name)
    epochs = (entry or {}).get("epochs") or (RECIPE["epochs"] if name == "pretrain" else None)
    what = WHAT.get(name, name).format(epochs=epochs) if epochs else WHAT.get(name, name).split(" (")[0]
    if not entry:
        return f"Not measured yet for {what}: `python scripts/measure.py {name}` measures it."
    if name == "realism":
        return (
            f"Measured on the course's test machine ({entry['date']}): the ResNet-50 that `make pretrain` trains "
            f"on generated pictures only read {_accuracy(entry['test_accuracy'])} of {entry['photos']} real SIGNS "
            f"photographs correctly (chance is {1 / 6:.1%})."
        )
    runs = len(entry["seconds"])
    reached = f" and reached {_accuracy(entry['test_accuracy'])} test accuracy" if entry.get("test_accuracy") else ""
    how = "one run" if runs == 1 else f"{runs} seeded runs"
    sentence = (
        f"Measured for {what} on the course's test machine ({entry['cpu']}, {entry['date']}, {how}): "
        f"it took {_minutes(entry['seconds'])}{reached}."
    )
    others = list((entry.get("other_cpus") or {}).values())
    if not others:
        return sentence + (
            " Only this CPU kind has been measured so far; on another the time can differ several-fold "
            "(docs/performance.md)."
        )
    every = [entry, *others]
    seconds = [value for one in every for value in one["seconds"]]
    accuracies = [value for one in every for value in one.get("test_accuracy") or []]
    reached = f", {_accuracy(accuracies)} test accuracy" if accuracies else ""
    return sentence + f" On the {len(every)} CPU kinds measured: {_minutes(seconds)}{reached}."


def record(
    name: str, seconds: list[float], cpu: str, date: str, test_accuracy: list[float] | None = None, **details
) -> None:
    """Replace ``name``'s measurement on ``cpu``, with ``details`` stored beside it; the latest figures of other
    CPU kinds, made with the same recipe, are kept (only ``scripts/measure.py`` calls this)."""
    entries = figures()
    previous = entries.get(name) or {}
    others = dict(previous.get("other_cpus") or {})
    if previous and previous["cpu"] != cpu:
        others[previous["cpu"]] = {key: value for key, value in previous.items() if key != "other_cpus"}
    entries[name] = {"seconds": [round(s, 1) for s in seconds], "cpu": cpu, "date": date, **details}
    if fingerprint := recipe_fingerprint(name):
        entries[name]["recipe"] = fingerprint
    # Another CPU's figure stays beside this one only when measured on the same pictures and recipe.
    same = ("recipe", "generator_version", "epochs")
    entries[name]["other_cpus"] = {
        other: entry
        for other, entry in others.items()
        if other != cpu and all(entry.get(key) == entries[name].get(key) for key in same)
    }
    if test_accuracy:
        entries[name]["test_accuracy"] = [round(a, 4) for a in test_accuracy]
    write_atomically(MEASURED, json.dumps(entries, indent=1, sort_keys=True) + "\n")


def log_row(heading: str, columns: str, row: str) -> None:
    """Append ``row`` to the table under ``heading`` in docs/performance.md (made when missing)."""
    text = PERFORMANCE.read_text() if PERFORMANCE.exists() else "# Performance measurements\n"
    lines = text.rstrip("\n").split("\n")
    if heading not in lines:  # a whole line: "## X" must not match "### X"
        lines += ["", heading]
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    table = [i for i in range(start, end) if lines[i] == columns]
    if table:  # after the last row of the section's last table with these columns
        end = table[-1] + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
    else:  # a new section, or the columns changed: a new table, before the blank lines ending the section
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = ["", columns, "| --- " * (columns.count("|") - 1) + "|"]
        end += 3
    lines.insert(end, row)
    write_atomically(PERFORMANCE, "\n".join(lines) + "\n")
