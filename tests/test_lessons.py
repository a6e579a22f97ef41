"""Self-check answers and the training's reading are computed from the student's own objects."""

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_script, told_alike

from resnets_utils import language
from resnets_utils.course import lessons
from resnets_utils.training.pretrain import RECIPE


@pytest.fixture(scope="module")
def reference():
    from resnets_utils.course.reference import load_reference

    return load_reference()


def _numbers(text: str) -> list[int]:
    return [int(number.replace(",", "")) for number in re.findall(r"\d[\d,]*", text)]


def test_the_bottleneck_answer_counts_the_students_own_kernels(reference):
    answer = lessons.bottleneck_weights(reference["identity_block"])
    assert 256 * 64 + 9 * 64 * 64 + 64 * 256 in _numbers(answer)
    assert 2 * 9 * 256 * 256 in _numbers(answer)

    def wide_middle(X, f, filters, stage, block, training=None, initializer=None):  # a 5x5 window, not f x f
        import keras

        X = keras.layers.Conv2D(filters[0], 1)(X)
        X = keras.layers.Conv2D(filters[1], 5, padding="same")(X)
        return keras.layers.Conv2D(filters[2], 1)(X)

    assert 256 * 64 + 25 * 64 * 64 + 64 * 256 in _numbers(lessons.bottleneck_weights(wide_middle))


def test_a_block_with_a_zero_branch_is_the_identity_and_the_answer_says_how_close(reference):
    assert "was 0." in lessons.zero_branch(reference["identity_block"])

    def relu_on_the_shortcut_too(X, f, filters, stage, block, training=None, initializer=None):
        import keras

        Y = keras.layers.Conv2D(filters[2], 1)(X)
        return keras.layers.Activation("relu")(keras.layers.Add()([keras.layers.Activation("tanh")(X), Y]))

    found = re.search(r"was ([\d.e-]+)\.", lessons.zero_branch(relu_on_the_shortcut_too))
    assert float(found.group(1)) > 0.01  # not the identity: tanh changes its input


def test_shape_answers_come_from_the_students_model(reference):
    assert "turns 15x15x256 into 8x8x512" in lessons.strided_shape(reference["convolutional_block"])
    assert "turns 9x9x64 into 3x3x32" in lessons.strided_shape(
        reference["convolutional_block"], (9, 9, 64), (8, 8, 32), 3
    )
    model = reference["ResNet50"](input_shape=(64, 64, 3), classes=6)
    assert lessons.stage_output(model).startswith("8 x 8 x 512")
    assert lessons.stage_output(model, stage=4).startswith("4 x 4 x 1024")
    bigger = reference["ResNet50"](input_shape=(96, 96, 3), classes=6)
    assert lessons.stage_output(bigger).startswith("12 x 12 x 512")
    shortcuts = lessons.shortcut_parameters(model)
    assert "Only the 4 projection shortcuts" in shortcuts and "The other 12 shortcuts" in shortcuts


def test_an_answer_to_unfinished_code_says_so_and_never_stops_the_notebook():
    def stub(X, f, filters, stage, block, training=None, initializer=None):
        raise NotImplementedError()

    answers = lessons.Answers(("Answer 1", lambda: lessons.bottleneck_weights(stub)))
    assert "Not computed" in repr(answers) and "NotImplementedError" in repr(answers)
    page = answers._repr_html_()
    assert page.count("<details>") == 1 and "<summary>" in page


@pytest.mark.parametrize(
    ("train", "test", "verdict"),
    [(0.99, 0.80, "overfitting"), (0.97, 0.95, "no sign of overfitting"), (0.40, 0.38, "underfitting")],
)
def test_the_reading_names_what_the_curves_show(train, test, verdict):
    reading = lessons.read_training({"accuracy": [0.2, train]}, test, training_pictures=1080, epochs=10)
    assert verdict in reading
    assert f"{train:.1%}" in reading and f"{test:.1%}" in reading
    views = RECIPE["epochs"] * (1080 + RECIPE["fresh_pictures_per_epoch"])
    distinct = 1080 + RECIPE["epochs"] * RECIPE["fresh_pictures_per_epoch"]
    assert f"{10 * 2 * 1080:,} pictures" in reading and f"{views:,}" in reading and f"{distinct:,}" in reading
    assert "re-exposed at random" not in reading


def test_the_reading_says_when_each_picture_was_changed_at_random():
    reading = lessons.read_training({"accuracy": [0.9]}, 0.9, training_pictures=1080, epochs=16, camera_changes=True)
    assert f"{16 * 2 * 1080:,} pictures" in reading and "re-exposed at random" in reading
    for changed in (True, False):  # the comparison with make pretrain says whether its pictures are changed too
        reading = lessons.read_training({"accuracy": [0.9]}, 0.9, 1080, 16, camera_changes=changed)
        same = changed == RECIPE["camera_changes"]
        assert ("same recipe otherwise" in reading) == same


@pytest.mark.parametrize("code", language.LANGUAGES)
def test_readings_and_unfinished_answers_are_said_in_each_language(code, fallbacks):
    """Seeded random training runs: every sentence in the edition's language, its numbers kept."""
    rng = np.random.default_rng(sum(map(ord, code)))

    def unfinished():
        raise NotImplementedError("identity_block")

    for _ in range(25):
        train, test = rng.uniform(0.05, 1.0, 2)
        arguments = ({"accuracy": [0.2, train]}, test, int(rng.integers(100, 5000)), int(rng.integers(1, 40)))
        changes = bool(rng.integers(2))
        told = {}
        for spoken in ("en", code):
            fallbacks.clear()  # English has no catalogue: there, everything is "missed"
            with language.speaking(spoken):
                answers = lessons.Answers(("1", unfinished))
                told[spoken] = lessons.read_training(*arguments, camera_changes=changes) + str(answers)
                told[spoken] += answers._repr_html_()
        assert not fallbacks, fallbacks
        assert not told_alike(told["en"], told[code]), (told["en"], told[code])


def test_tensorflows_start_up_lines_are_silenced_and_later_native_errors_are_not():
    script = (
        "import os\n"
        "from resnets_utils.settings import native_stderr_silenced\n"
        "with native_stderr_silenced():\n"
        "    import keras\n"
        "os.write(2, b'written after the import\\n')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "written after the import" in result.stderr
    assert "absl" not in result.stderr and "oneDNN" not in result.stderr, result.stderr


def test_every_graded_function_and_experiment_is_followed_by_questions_with_folded_answers():
    import nbformat

    from resnets_utils.course.reference import REPO

    folder = REPO / "course" / "source" / "residual_networks"
    for name, anchors in (
        ("Residual_Networks.ipynb", ["identity_block_hidden", "convolutional_block_hidden", "model.summary()"]),
        ("Explore_ResNet.ipynb", ["degraded.figure()", "with_bn.figure()", "shortcut_run.figure()"]),
        (
            "Beyond_ResNet50.ipynb",
            ["check_resnet18(ResNet18)", "check_preactivation_block(", "comparison.figure()", "deeper.figure()"],
        ),
    ):
        cells = nbformat.read(folder / name, as_version=4).cells
        for anchor in anchors:
            index = next(
                i
                for i, cell in enumerate(cells)
                if cell.metadata.get("nbgrader", {}).get("grade_id") == anchor or anchor in cell.source
            )
            following = "\n".join(cell.source for cell in cells[index + 1 : index + 4])
            assert "Check your understanding" in following, (name, anchor)
            assert "<details>" in following or "lessons.Answers(" in following, (name, anchor)


def test_the_answers_are_numbers_only_the_cell_computes():
    """A question's markdown states no answer the student's code should produce (Answer cells compute them)."""
    import nbformat

    from resnets_utils.course.reference import REPO

    cells = nbformat.read(REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb", 4).cells
    text = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    for computed in ("69,632", "1,179,648", "2,788,096"):
        assert computed not in text


# ------------------------------------------------------------------ the network without its shortcuts


def _layer_kinds(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers if type(layer).__name__ not in ("Identity", "InputLayer")]


@pytest.mark.parametrize("depth", [4, 8, 14])
def test_a_residual_network_without_shortcuts_is_the_plain_network_of_its_depth(depth):
    import keras

    from resnets_utils.experiments import degradation, no_shortcuts

    residual = degradation.build_network(True, depth)
    rewired = no_shortcuts.without_shortcuts(residual)
    assert not any(isinstance(layer, keras.layers.Add) for layer in rewired.layers)
    assert _layer_kinds(rewired) == _layer_kinds(degradation.build_network(False, depth))
    pictures = np.random.default_rng(depth).random((2, *residual.input_shape[1:]), dtype="float32")
    assert rewired(pictures).shape == residual(pictures).shape


@pytest.mark.parametrize("seed", range(4))
def test_any_residual_graph_loses_its_additions_and_projections_and_keeps_its_main_path(seed):
    """Random residual networks: blocks of random length, identity or projection shortcuts, either Add order."""
    import keras

    from resnets_utils.experiments import no_shortcuts

    rng = np.random.default_rng(seed)
    inputs = keras.Input((8, 8, 4))
    x, main_layers, projections = inputs, 0, 0
    for _ in range(rng.integers(2, 5)):
        channels = int(rng.choice([4, 6]))
        y = x
        for _ in range(rng.integers(1, 4)):
            y = keras.layers.Conv2D(channels, 3, padding="same")(y)
            main_layers += 1
        shortcut = x
        if channels != x.shape[-1] or rng.random() < 0.3:
            shortcut = keras.layers.Conv2D(channels, 1)(x)
            projections += 1
        pair = [shortcut, y] if rng.random() < 0.5 else [y, shortcut]
        x = keras.layers.Add()(pair)
    model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x)))
    rewired = no_shortcuts.without_shortcuts(model)
    convolutions = [layer for layer in rewired.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convolutions) == main_layers
    assert not any(isinstance(layer, keras.layers.Add) for layer in rewired.layers)
    assert rewired.output.shape == model.output.shape


def test_the_reference_resnet50_and_keras_own_lose_16_additions_and_start_16_branches_at_zero(reference):
    import keras

    from resnets_utils.experiments import no_shortcuts

    for model in (
        reference["ResNet50"](input_shape=(64, 64, 3), classes=6),
        keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6),
    ):
        rewired = no_shortcuts.without_shortcuts(model)
        convolutions = sum(isinstance(layer, keras.layers.Conv2D) for layer in rewired.layers)
        assert convolutions == 49 and rewired.count_params() < model.count_params()
        assert no_shortcuts.start_branches_at_zero(model) == 16
        zeroed = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        zeroed = [layer for layer in zeroed if not np.any(layer.gamma.numpy())]
        assert len(zeroed) == 16 and all(layer.name.endswith(("branch2c", "_3_bn")) for layer in zeroed)
    with pytest.raises(ValueError, match="no Add layer"):
        no_shortcuts.without_shortcuts(rewired)


def test_without_its_shortcuts_resnet50_learns_more_slowly():
    from resnets_utils.course import recorded
    from resnets_utils.experiments import no_shortcuts

    run = recorded.load("no_shortcuts")  # the Explore notebook's seeded run (scripts/measure.py no_shortcuts)
    assert all(len(loss) == no_shortcuts.STEPS and np.all(np.isfinite(loss)) for loss in run.losses.values())
    # What the notebook says: with shortcuts the loss falls well below chance, without it stays near it.
    assert run.final("with shortcuts") <= 0.85 * run.final("without shortcuts")
    assert run.final("with shortcuts") < np.log(6) - 0.2
    assert abs(run.final("without shortcuts") - np.log(6)) < 0.3
    lines = run.figure().axes[0].lines
    assert len(lines) == 3 and np.allclose(lines[-1].get_ydata(), np.log(6))


# ------------------------------------------------------------------ every quantitative sentence has a source


def test_every_quantitative_sentence_of_the_notebooks_names_a_source_that_resolves():
    rows, problems = load_script("quantities").report()
    assert not problems, "\n".join(problems)
    assert len(rows) >= 50  # the notebooks' numbers and comparisons, not an empty match


def test_the_notebooks_state_no_time_or_accuracy_by_hand():
    """A time or a percentage comes from a measurement, the student's own run or a cited work."""
    typed = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|minutes?\b|min\b|seconds?\b|s\b(?!\s*=))")
    rows, _ = load_script("quantities").report()
    for notebook, sentence, source in rows:
        if typed.search(sentence):
            kinds = {part.strip().split(":")[0] for part in source.split(";")}
            assert kinds & {"measured", "printed", "paper", "the work it cites"}, (notebook, sentence, source)


def test_a_new_unsourced_claim_and_a_wrong_source_are_caught(tmp_path, monkeypatch):
    import nbformat

    quantities = load_script("quantities")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("Shortcuts make training 3 times faster. Stage 2 has three blocks."),
        nbformat.v4.new_markdown_cell("It has 50 layers in all. Is it deeper than VGG-19?"),
    ]
    path = tmp_path / "claims.ipynb"
    nbformat.write(notebook, path)
    monkeypatch.setattr(quantities, "NOTEBOOKS", [path])
    monkeypatch.setattr(quantities, "SOURCES", {"It has 50 layers": "arithmetic:1 + 47 + 1", "gone": "paper:He et al."})
    _, problems = quantities.report()
    assert any("no source for: Shortcuts make training 3 times faster." in problem for problem in problems)
    assert any("1 + 47 + 1 = 49 is not in the sentence" in problem for problem in problems)
    assert any("stale entry" in problem and "gone" in problem for problem in problems)
    assert not any("Stage 2 has three blocks" in problem or "VGG-19" in problem for problem in problems)
