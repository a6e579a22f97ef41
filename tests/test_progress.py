"""Training progress, the student's saved model, and a training cell that is safe to re-run."""

import contextlib
import io
import itertools
import json
import math
import random
import re

import nbformat
import numpy as np
import pytest
from conftest import in_every_language, spoken_problems
from nbclient import NotebookClient

from resnets_utils.course import measured
from resnets_utils.course.reference import MASTER, load_reference
from resnets_utils.data import handsigns
from resnets_utils.language import LANGUAGES
from resnets_utils.models import saved
from resnets_utils.settings import GRADING as GRADING_VARIABLE
from resnets_utils.training import progress
from resnets_utils.training.pretrain import RECIPE
from resnets_utils.wording import duration, said_duration


def _tiny_model(compiled: bool = True):
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    if compiled:
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _tiny_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype("float32")
    return X, np.eye(3, dtype="float32")[rng.integers(0, 3, 64)]


def test_time_left_comes_from_the_steps_after_the_first(monkeypatch):
    clock = iter([0.0, 30.0, 32.0, 34.0, 36.0, 50.0])  # the first step traces the model: 30 s
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    shown = []
    live = progress.LiveProgress()
    live.set_params({"epochs": 2, "steps": 5})
    live._status = shown.append
    live.on_train_begin()
    live.on_epoch_begin(0)
    for step in range(4):
        live.on_train_batch_end(step, {"loss": 1.0})
    assert shown[0].endswith("30 s so far")  # nothing to extrapolate from yet
    # After steps 2 to 4: 2 s a step, 6 of the 10 steps left.
    assert shown[-1].startswith("epoch 1/2, step 4/5  loss 1.000")
    assert shown[-1].endswith("36 s so far, about 12 s left")
    live.history = {"loss": [1.0, 0.5]}
    live.on_train_end()
    assert shown[-1] == "trained 2 epochs in 50 s" and live.seconds == 50.0


def test_outside_a_notebook_it_prints_one_line_per_epoch(capsys):
    X, Y = _tiny_data()
    live = progress.LiveProgress()
    _tiny_model().fit(X, Y, epochs=3, batch_size=16, validation_data=(X, Y), verbose=0, callbacks=[live])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "val_accuracy" in lines[-1] and live.seconds > 0
    assert len(live.history["val_loss"]) == 3


def test_learning_curves_plot_training_and_test_for_loss_and_accuracy():
    history = {
        "loss": [2.0, 1.0, 0.5],
        "val_loss": [2.1, 1.5, 1.2],
        "accuracy": [0.2, 0.6, 0.9],
        "val_accuracy": [0.2, 0.5, 0.7],
    }
    figure = progress.learning_curves(history)
    loss, accuracy = figure.axes
    assert [line.get_label() for line in loss.lines] == ["training", "test"]
    assert list(loss.lines[1].get_ydata()) == history["val_loss"]
    assert list(accuracy.lines[0].get_ydata()) == history["accuracy"]
    assert list(accuracy.lines[0].get_xdata()) == [1, 2, 3]


@pytest.mark.slow
def test_in_a_notebook_the_output_keeps_the_last_status_and_the_final_curves(tmp_path):
    source = (
        "import numpy as np, keras\n"
        "from resnets_utils.training.progress import LiveProgress\n"
        "inputs = keras.Input((4,))\n"
        "model = keras.Model(inputs, keras.layers.Dense(3, activation='softmax')(inputs))\n"
        "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])\n"
        "X = np.random.default_rng(0).normal(size=(64, 4)); Y = np.eye(3)[np.arange(64) % 3]\n"
        "model.fit(X, Y, epochs=2, batch_size=16, validation_data=(X, Y), verbose=0, callbacks=[LiveProgress()])\n"
        "None"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = notebook.cells[0].outputs
    displays = [o for o in outputs if o.output_type == "display_data"]
    assert len(displays) == 2, outputs  # updated in place, not one output per step
    assert displays[0].data["text/markdown"].startswith("`trained 2 epochs in")
    assert displays[1].data["image/png"]  # the curves after the last epoch
    assert not [o for o in outputs if o.output_type == "stream"]


def test_the_trained_model_is_saved_in_the_cache_and_loaded_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # where a notebook would be
    model = _tiny_model()
    assert saved.save_yours(model, test_accuracy=0.9, training_seconds=12.0, epochs=10) is None  # no output
    assert saved.yours_path().is_file() and saved.yours_path().is_relative_to(tmp_path / "cache")
    assert not list(tmp_path.glob("*.keras"))  # nothing beside the notebook
    assert "Saved your trained model in" in capsys.readouterr().out
    loaded, report = saved.load_yours()
    for mine, theirs in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert report["test_accuracy"] == 0.9 and report["epochs"] == 10


def test_nothing_is_saved_or_loaded_while_grading(monkeypatch, capsys):
    saved.save_yours(_tiny_model(), test_accuracy=0.5)
    monkeypatch.setenv(GRADING_VARIABLE, "autograde")
    saved.save_yours(_tiny_model(), test_accuracy=0.1)
    assert "Not saved while the notebook is graded." in capsys.readouterr().out
    assert saved.load_yours() == (None, None)
    monkeypatch.delenv(GRADING_VARIABLE)
    assert saved.load_yours()[1]["test_accuracy"] == 0.5  # the earlier model is untouched


def test_the_best_trained_model_is_the_one_with_the_higher_test_accuracy_then_none():
    model, reason = saved.best_trained()
    assert model is None and "make pretrain" in reason
    pretrained = _tiny_model(compiled=False)  # an optimizer never used would not load back
    saved.pretrained_path().parent.mkdir(parents=True)
    pretrained.save(saved.pretrained_path())
    saved.pretrained_path().with_name(saved.PRETRAINED_REPORT).write_text(
        json.dumps({"test_accuracy": 0.967, "generator_version": handsigns.GENERATOR_VERSION})
    )
    model, description = saved.best_trained()
    assert description.startswith("the pre-trained ResNet-50") and "96.7%" in description
    saved.save_yours(_tiny_model(), test_accuracy=0.8)  # lower: the pre-trained one stays
    model, description = saved.best_trained()
    assert description.startswith("the pre-trained ResNet-50")
    saved.save_yours(_tiny_model(), test_accuracy=0.98)
    model, description = saved.best_trained()
    assert description.startswith("your ResNet-50") and "98.0%" in description


def test_running_the_training_cell_again_starts_from_a_fresh_untrained_model(generated, monkeypatch):
    namespace = load_reference()
    X_train, Y_train, X_test, Y_test, _ = generated
    namespace.update(X_train=X_train / 255.0, X_test=X_test / 255.0)
    namespace.update(Y_train=np.eye(6)[Y_train.reshape(-1)], Y_test=np.eye(6)[Y_test.reshape(-1)])
    started_with = []

    def fake_fit(model, *args, **options):  # records the starting gammas, then "trains" them
        gammas = [
            layer.gamma.numpy()
            for layer in model.layers
            if layer.name.startswith("bn") and layer.name.endswith("branch2c")
        ]
        started_with.append((model, gammas))
        for layer in model.layers:
            if layer.name.startswith("bn") and layer.name.endswith("branch2c"):
                layer.gamma.assign(np.ones(layer.gamma.shape))

    cell = next(c for c in nbformat.read(MASTER, as_version=4).cells if "callbacks=[progress]" in c.source)
    for _ in range(2):
        namespace["fit"] = fake_fit
        exec(compile(cell.source, "<training cell>", "exec"), namespace)
    (first, _), (second, gammas) = started_with
    assert second is not first
    assert len(gammas) == 16 and all(not gamma.any() for gamma in gammas)


def test_a_measurement_becomes_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setattr(measured, "MEASURED", tmp_path / "measured.json")
    assert "Not measured yet" in measured.say("pretrain")
    measured.record("pretrain", [700.0, 760.0, 820.0], "Some CPU x2", "2026-12-01", [0.95, 0.967, 0.958])
    sentence = measured.say("pretrain")
    assert "(Some CPU x2, 2026-12-01, 3 seeded runs)" in sentence
    assert "it took 12 to 14 minutes and reached 95.0% to 96.7% test accuracy" in sentence
    assert "Only this CPU kind has been measured" in sentence
    measured.record("pretrain", [300.0, 330.0, 360.0], "Faster CPU x2", "2026-12-04", [0.97, 0.975, 0.98])
    sentence = measured.say("pretrain")  # the latest machine first, the range over both after it
    assert "(Faster CPU x2, 2026-12-04, 3 seeded runs): it took 5 to 6 minutes and reached 97.0% to 98.0%" in sentence
    assert sentence.endswith("On the 2 CPU kinds measured: 5 to 14 minutes, 95.0% to 98.0% test accuracy.")
    measured.record("pretrain", [310.0], "Faster CPU x2", "2026-12-05", [0.97], epochs=30)  # another recipe
    assert "Only this CPU kind has been measured" in measured.say("pretrain")
    measured.record("assignment_training", [281.0], "Some CPU x2", "2026-12-01", [0.9], epochs=16)
    assert measured.say("assignment_training").startswith("Measured for the training cell (16 epochs) on")
    measured.record("assignment_training", [281.0], "Some CPU x2", "2026-12-01", [0.9])  # epochs not recorded
    assert measured.say("assignment_training").startswith("Measured for the training cell on")
    measured.record("degradation", [67.4], "Some CPU x2", "2026-12-01")
    assert "one run): it took 67 s." in measured.say("degradation")
    measured.record("realism", [3.1], "Some CPU x2", "2026-12-01", [0.75], photos=60)
    assert "read 75.0% of 60 real SIGNS photographs correctly (chance is 16.7%)" in measured.say("realism")


def test_a_logged_row_goes_under_its_own_heading_and_table(monkeypatch, tmp_path):
    history = tmp_path / "performance.md"
    history.write_text("# P\n\n### Speed (old)\n\nold text\n\n### Data\n\ntext\n\n## Other\n\n| a |\n| --- |\n| 1 |\n")
    monkeypatch.setattr(measured, "PERFORMANCE", history)
    measured.log_row("## Speed (old)", "| x | y |", "| 1 | 2 |")  # not the "### Speed (old)" line
    measured.log_row("## Other", "| a |", "| 2 |")
    measured.log_row("## Speed (old)", "| x | y |", "| 3 | 4 |")
    text = history.read_text()
    assert text.startswith("# P\n\n### Speed (old)\n\nold text\n\n### Data\n\ntext\n\n## Other\n")
    assert "| a |\n| --- |\n| 1 |\n| 2 |\n" in text
    assert text.endswith("## Speed (old)\n\n| x | y |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |\n")
    measured.log_row("## Other", "| a | b |", "| 5 | 6 |")  # new columns: a second table, then a blank line
    assert "| 1 |\n| 2 |\n\n| a | b |\n| --- | --- |\n| 5 | 6 |\n\n## Speed (old)\n" in history.read_text()


def test_every_figure_the_notebooks_print_has_been_measured():
    import re

    named = set()
    for notebook in sorted(MASTER.parent.glob("*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            named |= set(re.findall(r'measured\.say\("(\w+)"\)', cell.source))
    assert named and named <= set(measured.WHAT)
    missing = named - set(measured.figures())
    assert not missing, f"run `python scripts/measure.py NAME` for {sorted(missing)}"
    # Measured on other pictures, a figure no longer says what the notebook's data gives.
    stale = {name for name in named if measured.figures()[name].get("generator_version") != handsigns.GENERATOR_VERSION}
    assert not stale, f"measured on another generator version: run `python scripts/measure.py NAME` for {sorted(stale)}"
    # Measured with another training cell or pretrain recipe, a figure no longer says what the code does.
    changed = {name for name in named if measured.figures()[name].get("recipe") != measured.recipe_fingerprint(name)}
    assert not changed, f"measured with another recipe: run `python scripts/measure.py NAME` for {sorted(changed)}"


# ----------------------------------------------------------------------------- in the student's language

DURATION = r"(?:\d+ min \d\d s|\d+ s)"  # wording.duration's English
VALUES = r"\w+ \d\.\d{3}(?:  \w+ \d\.\d{3})*"  # Keras' metrics as it logs them
STATUS = re.compile(rf"epoch \d+/\d+, step \d+/\d+  (?:{VALUES})?  \|  {DURATION} so far(?:, about {DURATION} left)?")
EPOCH_LINE = re.compile(rf"epoch \d+/\d+  {VALUES}  \({DURATION}\)")
TRAINED = re.compile(rf"trained (1 epoch|(?!1 )\d+ epochs) in {DURATION}")


def test_durations_are_said_in_every_language(fallbacks):
    rng = random.Random(5)
    for seconds in [rng.uniform(0, 90) for _ in range(10)] + [rng.uniform(60, 10000) for _ in range(10)]:
        told = in_every_language(lambda: said_duration(seconds), fallbacks)  # noqa: B023 (said at once)
        assert told["en"] == duration(seconds)
        for code in LANGUAGES:
            assert not spoken_problems(code, told["en"], told[code]), (told["en"], told[code])


@pytest.mark.parametrize("seed", range(4))
def test_the_status_lines_are_said_in_every_language_with_their_numbers(monkeypatch, fallbacks, seed):
    rng = random.Random(seed)
    epochs, steps = rng.randint(1, 3), rng.randint(1, 5)
    ticks = list(itertools.accumulate(rng.choice([0.4, 1.5, 20.0, 70.0, 400.0]) for _ in range(60)))
    metrics = rng.sample(["loss", "accuracy", "val_loss", "val_accuracy"], rng.randint(1, 3))
    logs = [[{key: rng.random() for key in metrics} for _ in range(steps)] for _ in range(epochs)]

    def train() -> list[str]:  # the same training, said again: the status lines, then the lines printed
        clock = iter(ticks)
        monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
        shown, printed = [], io.StringIO()
        live = progress.LiveProgress()
        live.set_params({"epochs": epochs, "steps": steps})
        live._status = shown.append
        with contextlib.redirect_stdout(printed):  # outside a notebook: a line per epoch
            live.on_train_begin()
            for epoch in range(epochs):
                live.on_epoch_begin(epoch)
                for step in range(steps):
                    live.on_train_batch_end(step, logs[epoch][step])
                live.on_epoch_end(epoch, logs[epoch][-1])
            live.on_train_end()
        return shown + printed.getvalue().splitlines()

    told = in_every_language(train, fallbacks)
    (
        *running,
        trained,
    ) = told["en"][:-epochs]
    assert running and all(STATUS.fullmatch(line) for line in running), running
    assert TRAINED.fullmatch(trained) and trained.startswith(f"trained {epochs} epoch")
    assert all(EPOCH_LINE.fullmatch(line) for line in told["en"][-epochs:]), told["en"]
    for code in LANGUAGES:
        assert len(told[code]) == len(told["en"])
        for english, translated in zip(told["en"], told[code], strict=True):
            assert not spoken_problems(code, english, translated), (english, translated)


def test_the_first_lines_in_a_notebook_are_said_in_every_language(monkeypatch, fallbacks):
    import IPython
    import IPython.display

    class Shown:
        def update(self, what):
            pass

    said = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # as if in a notebook
    monkeypatch.setattr(IPython.display, "display", lambda what, display_id: said.append(what.data) or Shown())

    def begin() -> list[str]:
        said.clear()
        live = progress.LiveProgress()
        live.set_params({"epochs": 1, "steps": 1})
        live.on_train_begin()
        return list(said)

    told = in_every_language(begin, fallbacks)
    assert told["en"] == [
        "starting: the first step also prepares the model",
        "*the learning curves appear after the first epoch*",
    ]
    for code in LANGUAGES:
        assert told[code][1].startswith("*") and told[code][1].endswith("*")
        for english, translated in zip(told["en"], told[code], strict=True):
            assert not spoken_problems(code, english, translated), (english, translated)


CPUS = ["AMD EPYC (family 26 model 2) x2", "Intel(R) Xeon(R) (family 6 model 143) x4", "Apple M2 x8"]
# How the English sentence named each measurement before it spoke other languages.
NAMED = {
    "assignment_training": "the training cell ({epochs} epochs)",
    "pretrain": "`make pretrain` ({epochs} epochs)",
    "degradation": "the degradation experiment",
    "deeper_degradation": "the deeper degradation experiment",
    "block_comparison": "the comparison of three ResNets",
    "gradient_flow": "one gradient-flow measurement",
    "no_shortcuts": "the training with and without shortcuts",
}


def _english_measurement(name: str, entry: dict) -> str:
    """The sentence ``measured.say`` made, in English, before it spoke other languages."""

    def minutes(seconds):
        if max(seconds) < 120:
            low, high, unit = math.floor(min(seconds) + 0.5), math.floor(max(seconds) + 0.5), "s"
        else:
            low, high, unit = math.floor(min(seconds) / 60 + 0.5), math.floor(max(seconds) / 60 + 0.5), "minutes"
        return f"{low} {unit}" if low == high else f"{low} to {high} {unit}"

    def accuracy(values):
        low, high = f"{min(values):.1%}", f"{max(values):.1%}"
        return low if low == high else f"{low} to {high}"

    epochs = entry.get("epochs") or (RECIPE["epochs"] if name == "pretrain" else None)
    what = NAMED[name].format(epochs=epochs) if epochs else NAMED[name].split(" (")[0]
    runs = len(entry["seconds"])
    reached = f" and reached {accuracy(entry['test_accuracy'])} test accuracy" if entry.get("test_accuracy") else ""
    how = "one run" if runs == 1 else f"{runs} seeded runs"
    sentence = (
        f"Measured for {what} on the course's test machine ({entry['cpu']}, {entry['date']}, {how}): "
        f"it took {minutes(entry['seconds'])}{reached}."
    )
    every = [entry, *entry["other_cpus"].values()]
    if len(every) == 1:
        return sentence + (
            " Only this CPU kind has been measured so far; on another the time can differ several-fold "
            "(docs/performance.md)."
        )
    accuracies = [value for one in every for value in one.get("test_accuracy") or []]
    reached = f", {accuracy(accuracies)} test accuracy" if accuracies else ""
    return (
        sentence
        + f" On the {len(every)} CPU kinds measured: {minutes([s for one in every for s in one['seconds']])}{reached}."
    )


@pytest.mark.parametrize("seed", range(4))
def test_a_measurement_is_said_in_every_language_with_its_numbers_and_names(monkeypatch, tmp_path, fallbacks, seed):
    monkeypatch.setattr(measured, "MEASURED", tmp_path / "measured.json")
    rng = random.Random(seed)
    for name in rng.sample(sorted(NAMED), 4):
        told = in_every_language(lambda: measured.say(name), fallbacks)  # noqa: B023 (said at once)
        assert told["en"].startswith("Not measured yet for ") and told["en"].endswith(f"py {name}` measures it.")
        for code in LANGUAGES:
            assert not spoken_problems(code, told["en"], told[code]), (told["en"], told[code])
        epochs = {"epochs": rng.randint(2, 30)} if rng.random() < 0.5 else {}
        for cpu in rng.sample(CPUS, rng.randint(1, 2)):
            scale = rng.choice([3, 40, 100, 600])
            seconds = [rng.uniform(0.5, 1.5) * scale for _ in range(rng.choice([1, 3]))]
            accuracies = [rng.uniform(0.15, 1.0) for _ in seconds] if rng.random() < 0.7 else None
            measured.record(
                name, seconds, cpu, f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", accuracies, **epochs
            )
        entry = measured.figures()[name]
        told = in_every_language(lambda: measured.say(name), fallbacks)  # noqa: B023 (said at once)
        assert told["en"] == _english_measurement(name, entry)
        for code in LANGUAGES:
            problems = spoken_problems(code, told["en"], told[code], [entry["cpu"], entry["date"]])
            assert not problems, (told["en"], told[code], problems)
    photos, accuracy = rng.randint(20, 120), rng.uniform(0.2, 0.9)
    measured.record("realism", [3.1], rng.choice(CPUS), "2026-12-01", [accuracy], photos=photos)
    told = in_every_language(lambda: measured.say("realism"), fallbacks)
    assert told["en"] == (
        "Measured on the course's test machine (2026-12-01): the ResNet-50 that `make pretrain` trains on generated "
        f"pictures only read {round(accuracy, 4):.1%} of {photos} real SIGNS photographs correctly (chance is 16.7%)."
    )
    for code in LANGUAGES:
        assert not spoken_problems(code, told["en"], told[code], ["2026-12-01"]), told[code]


@pytest.mark.parametrize("seed", range(3))
def test_what_the_saved_models_print_is_said_in_every_language(monkeypatch, fallbacks, seed):
    import keras

    rng = random.Random(seed)
    pretrained, yours = saved.shown(saved.pretrained_path()), saved.shown(saved.yours_path())

    def printed(call):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            call()
        return output.getvalue()

    told = in_every_language(lambda: printed(saved.load_pretrained), fallbacks)
    expected = {f"No pre-trained model yet ({pretrained}): `make pretrain` makes it.\n": told}
    told = in_every_language(lambda: saved.best_trained()[1], fallbacks)
    expected["No trained model yet: train yours in Residual_Networks.ipynb, or run `make pretrain`"] = told

    version = rng.choice([0, handsigns.GENERATOR_VERSION - 1, handsigns.GENERATOR_VERSION + rng.randint(1, 9)])
    saved.pretrained_path().parent.mkdir(parents=True, exist_ok=True)
    saved.pretrained_path().write_bytes(b"not read")
    saved.pretrained_path().with_name(saved.PRETRAINED_REPORT).write_text(json.dumps({"generator_version": version}))
    told = in_every_language(lambda: printed(saved.load_pretrained), fallbacks)
    expected[
        f"The pre-trained model ({pretrained}) learnt from older course pictures (generator version {version}, "
        f"now {handsigns.GENERATOR_VERSION}): `make pretrain` trains it again.\n"
    ] = told

    size = rng.randint(1, 3_000_000)  # bytes: the sizes of a tiny model, said in MB
    monkeypatch.setattr(saved, "save_atomically", lambda model, path: path.write_bytes(bytes(size)))
    told = in_every_language(lambda: printed(lambda: saved.save_yours(_tiny_model(), test_accuracy=0.5)), fallbacks)
    expected[f"Saved your trained model in {yours} ({size / 1e6:.0f} MB), for Explore_ResNet.ipynb.\n"] = told

    error = rng.choice([ValueError, OSError, KeyError, TypeError])
    monkeypatch.setattr(keras.saving, "load_model", lambda *args, **options: (_ for _ in ()).throw(error("damaged")))
    told = in_every_language(lambda: printed(saved.load_yours), fallbacks)
    expected[f"Your saved model ({yours}) could not be loaded ({error.__name__}); train it again.\n"] = told

    monkeypatch.setenv(GRADING_VARIABLE, "autograde")
    told = in_every_language(
        lambda: printed(saved.load_pretrained) + printed(lambda: saved.save_yours(None)), fallbacks
    )
    expected[
        "The pre-trained model is not loaded while the notebook is graded.\nNot saved while the notebook is graded.\n"
    ] = told
    monkeypatch.delenv(GRADING_VARIABLE)

    for _ in range(4):
        report = {
            "test_accuracy": rng.uniform(0.1, 1.0),
            "saved": f"2026-12-0{rng.randint(1, 9)} 1{rng.randint(0, 9)}:00",
        }
        report = {key: value for key, value in report.items() if rng.random() < 0.7}
        monkeypatch.setattr(saved, "load_yours", lambda: (object(), report))  # noqa: B023 (said at once)
        monkeypatch.setattr(saved, "load_pretrained", lambda: (object(), report))  # noqa: B023
        accuracy = report.get("test_accuracy")
        detail = f", {accuracy:.1%} test accuracy" if accuracy is not None else ""
        english = f"your ResNet-50 as trained in Residual_Networks.ipynb (saved {report.get('saved', '?')}{detail})"
        expected[english] = in_every_language(lambda: saved._yours()[1], fallbacks)
        english = f"the pre-trained ResNet-50 from `make pretrain` ({report.get('test_accuracy', 0):.1%} test accuracy)"
        expected[english] = in_every_language(lambda: saved._pretrained()[1], fallbacks)

    for english, told in expected.items():
        assert told["en"] == english
        for code in LANGUAGES:
            problems = spoken_problems(code, english, told[code], [pretrained, yours])
            assert not problems, (english, told[code], problems)
