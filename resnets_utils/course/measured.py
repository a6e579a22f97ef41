"""The times and accuracies the notebooks state, as measured by ``scripts/measure.py``.

The notebooks never type such a figure: they print ``say(name)``, a sentence made from
``measured.json``, which only ``scripts/measure.py`` writes (from runs it repeats), so a
change of data, recipe or machine updates the text by running the script again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from resnets_utils import language
from resnets_utils.experiments import EXPERIMENTS
from resnets_utils.language import N_
from resnets_utils.settings import write_atomically
from resnets_utils.wording import SECONDS

MEASURED = Path(__file__).resolve().parent / "measured.json"
PERFORMANCE = Path(__file__).resolve().parents[2] / "docs" / "performance.md"  # the measurement history

# How the sentence names what was measured (said in the student's language), with and without its epochs.
WHAT = {
    "assignment_training": N_("the training cell ({epochs} epochs)"),
    "pretrain": N_("`make pretrain` ({epochs} epochs)"),
    "realism": N_("the pre-trained ResNet-50 on real photos"),
    **{name: experiment.what for name, experiment in EXPERIMENTS.items()},
}
WHAT_WITHOUT_EPOCHS = {"assignment_training": N_("the training cell"), "pretrain": N_("`make pretrain`")}

# The sentences, whole, by the number of runs and whether a test accuracy was measured; the
# second sentence by whether other CPU kinds were measured (and with a test accuracy).
NOT_MEASURED = N_("Not measured yet for {what}: `python scripts/measure.py {name}` measures it.")
REALISM = N_(
    "Measured on the course's test machine ({date}): the ResNet-50 that `make pretrain` trains on generated "
    "pictures only read {accuracy} of {photos} real SIGNS photographs correctly (chance is {chance:.1%})."
)
MEASURED_FOR = {
    (True, False): N_("Measured for {what} on the course's test machine ({cpu}, {date}, one run): it took {time}."),
    (True, True): N_(
        "Measured for {what} on the course's test machine ({cpu}, {date}, one run): "
        "it took {time} and reached {accuracy} test accuracy."
    ),
    (False, False): N_(
        "Measured for {what} on the course's test machine ({cpu}, {date}, {runs} seeded runs): it took {time}."
    ),
    (False, True): N_(
        "Measured for {what} on the course's test machine ({cpu}, {date}, {runs} seeded runs): "
        "it took {time} and reached {accuracy} test accuracy."
    ),
}
ONE_CPU_KIND = N_(
    "Only this CPU kind has been measured so far; on another the time can differ several-fold (docs/performance.md)."
)
CPU_KINDS = {
    False: N_("On the {kinds} CPU kinds measured: {time}."),
    True: N_("On the {kinds} CPU kinds measured: {time}, {accuracy} test accuracy."),
}
# The figures in those sentences: a time or a range of times, an accuracy or a range of them.
SECONDS_RANGE = N_("{low} to {high} s")  # one time in seconds: wording.SECONDS
MINUTES, MINUTES_RANGE = N_("{minutes} minutes"), N_("{low} to {high} minutes")
RANGE = N_("{low} to {high}")


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
        low, high = _rounded(min(seconds)), _rounded(max(seconds))
        return language.say(SECONDS, seconds=low) if low == high else language.say(SECONDS_RANGE, low=low, high=high)
    low, high = _rounded(min(seconds) / 60), _rounded(max(seconds) / 60)
    return language.say(MINUTES, minutes=low) if low == high else language.say(MINUTES_RANGE, low=low, high=high)


def _accuracy(values: list[float]) -> str:
    low, high = f"{min(values):.1%}", f"{max(values):.1%}"
    return low if len(values) == 1 or low == high else language.say(RANGE, low=low, high=high)


def _what(name: str, epochs: int | None) -> str:
    """What ``name`` measured, as the sentence names it; an unknown name as it is."""
    if name not in WHAT:
        return name
    if epochs:
        return language.say(WHAT[name], epochs=epochs)
    return language.say(WHAT_WITHOUT_EPOCHS.get(name, WHAT[name]))


def say(name: str) -> str:
    """One sentence: how long ``name`` took (and the test accuracy it reached) when measured; in the
    student's language, as the notebooks print it."""
    from resnets_utils.training.pretrain import RECIPE  # cheap: TensorFlow is imported only to train

    entry = figures().get(name)
    epochs = (entry or {}).get("epochs") or (RECIPE["epochs"] if name == "pretrain" else None)
    what = _what(name, epochs)
    if not entry:
        return language.say(NOT_MEASURED, what=what, name=name)
    if name == "realism":
        return language.say(
            REALISM,
            date=entry["date"],
            accuracy=_accuracy(entry["test_accuracy"]),
            photos=entry["photos"],
            chance=1 / 6,
        )
    runs = len(entry["seconds"])
    accuracy = _accuracy(entry["test_accuracy"]) if entry.get("test_accuracy") else None
    sentence = language.say(
        MEASURED_FOR[runs == 1, accuracy is not None],
        what=what,
        cpu=entry["cpu"],
        date=entry["date"],
        runs=runs,
        time=_minutes(entry["seconds"]),
        accuracy=accuracy,
    )
    others = list((entry.get("other_cpus") or {}).values())
    if not others:
        return language.sentences(sentence, language.say(ONE_CPU_KIND))
    every = [entry, *others]
    seconds = [value for one in every for value in one["seconds"]]
    accuracies = [value for one in every for value in one.get("test_accuracy") or []]
    overall = language.say(
        CPU_KINDS[bool(accuracies)],
        kinds=len(every),
        time=_minutes(seconds),
        accuracy=_accuracy(accuracies) if accuracies else None,
    )
    return language.sentences(sentence, overall)


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
