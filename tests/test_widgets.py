"""The interactive views, built and driven without a browser, and the gradient-flow experiment."""

import io
import os
import re
import shutil
import subprocess
import sys

import keras
import nbformat
import numpy as np
import pytest
from PIL import Image

from resnets_utils import checks
from resnets_utils.course.notebooks import run_solution_cells
from resnets_utils.course.reference import REPO, load_reference
from resnets_utils.experiments import gradient_flow
from resnets_utils.views import diagrams, plotting
from resnets_utils.views import widgets as views

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")


def _picture(png: bytes) -> np.ndarray:
    png = bytes(png)  # ipywidgets keeps the value as a memoryview
    assert png.startswith(PNG_SIGNATURE)
    picture = np.asarray(Image.open(io.BytesIO(png)))
    assert picture.shape[0] > 50 and picture.shape[1] > 50 and picture.std() > 0  # not blank
    return picture


@pytest.fixture(scope="module")
def resnet():
    return load_reference()["ResNet50"]()


def test_importing_the_widgets_needs_no_display():
    environment = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    subprocess.run([sys.executable, "-c", "import resnets_utils.views.widgets"], env=environment, check=True)


@needs_dot
def test_explorer_lists_stages_and_blocks_and_follows_the_controls(resnet):
    explorer = views.ArchitectureExplorer(resnet)
    assert [label for label, _ in explorer.stage.options] == [
        "input", "stage 1", "stage 2", "stage 3", "stage 4", "stage 5", "classifier"
    ]  # fmt: skip
    explorer.stage.value = 4
    assert [value for _, value in explorer.block.options] == list("abcdef")
    first_diagram = explorer.diagram.value
    explorer.block.value = "c"
    assert "res4c_branch2b" in explorer.layers.value and "res4b_branch2b" not in explorer.layers.value
    assert explorer.diagram.value != first_diagram
    _picture(explorer.diagram.value)
    # The identity block's rows: 3 convolutions, 3 normalisations, 3 activations, 1 addition.
    kinds = [row["type"] for row in explorer.selected_rows]
    assert kinds.count("Conv2D") == 3 and kinds.count("Add") == 1 and kinds.count("Activation") == 3


@needs_dot
def test_explorer_marks_the_convolutional_shortcut(resnet):
    explorer = views.ArchitectureExplorer(resnet)
    explorer.stage.value = 3
    explorer.block.value = "a"
    assert "res3a_branch1" in explorer.layers.value
    orange = np.array([255, 127, 14])  # matplotlib's tab:orange, the shortcut's colour
    picture = _picture(explorer.diagram.value)[..., :3].astype(int)
    assert (np.abs(picture - orange).sum(axis=-1) < 30).sum() > 50


def test_without_graphviz_the_explorer_says_what_to_install_and_still_works(resnet, monkeypatch):
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    explorer = views.ArchitectureExplorer(resnet)
    explorer.stage.value, explorer.block.value = 3, "a"
    assert "res3a_branch1" in explorer.layers.value  # the table of layers still follows the controls
    assert explorer.selected_diagram is None and explorer.diagram.layout.display == "none"
    note = explorer.graphviz_missing.value
    assert "\n" not in note and "<code>sudo apt-get install graphviz</code>" in note

    figure = explorer.static_figure()
    texts = " ".join(text.get_text() for text in figure.texts).replace("\n", " ")
    assert "sudo apt-get install graphviz" in texts and "stage 5" in texts
    bundle, _ = explorer._repr_mimebundle_()
    _picture(bundle["image/png"])


def test_explorer_stage_table_adds_up(resnet):
    summary = views.ArchitectureExplorer(resnet).stage_summary()
    assert sum(params for _, _, params, _ in summary) == resnet.count_params()
    assert abs(sum(share for *_, share in summary) - 1) < 1e-9
    shapes = {name: shape for name, shape, _, _ in summary}
    assert shapes["stage 2"] == "15x15x256" and shapes["stage 5"] == "2x2x2048"
    assert max(summary, key=lambda row: row[2])[0] == "stage 5"
    # The assignment's sentence about it: "23.6 million parameters, most of them (15 million) in stage 5".
    master = nbformat.read(REPO / "course" / "source" / "residual_networks" / "Residual_Networks.ipynb", 4)
    text = re.sub(r"\s+", " ", " ".join(cell.source for cell in master.cells if cell.cell_type == "markdown"))
    total, stage5 = re.search(r"([\d.]+) million parameters, most of them \((\d+) million\) in stage 5", text).groups()
    parameters = {name: params for name, _, params, _ in summary}
    assert f"{resnet.count_params() / 1e6:.1f}" == total
    assert round(parameters["stage 5"] / 1e6) == int(stage5) and parameters["stage 5"] > resnet.count_params() / 2


def test_explorer_understands_keras_own_resnet_names():
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
    explorer = views.ArchitectureExplorer(model)
    explorer.stage.value = 4
    assert [value for _, value in explorer.block.options] == list("abcdef")


def test_feature_map_viewer_follows_picture_layer_and_page(resnet, generated):
    _, _, X_test, Y_test, _ = generated
    viewer = views.FeatureMapViewer(resnet, X_test[:4], Y_test[0, :4])
    assert {"conv1", "res2a_branch2b"} <= set(viewer.layer.options)
    assert all(
        type(resnet.get_layer(name)).__name__ in ("Conv2D", "Activation", "Add") for name in viewer.layer.options
    )

    viewer.layer.value = "res3a_branch2b"
    expected_shape = tuple(resnet.get_layer("res3a_branch2b").output.shape[1:])
    assert str(expected_shape) in viewer.shape.value
    assert viewer.page.max == expected_shape[-1] // 16 - 1
    before = viewer.view.value
    viewer.page.value = 2
    assert viewer.panels == 16 and "channels 32 to 47" in viewer.shape.value
    assert viewer.view.value != before
    before = viewer.view.value
    viewer.image.value = 3
    assert viewer.view.value != before
    _picture(viewer.view.value)


def test_feature_map_viewer_works_on_any_functional_model(generated):
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(20, 3, name="my_conv")(inputs)
    model = keras.Model(inputs, keras.layers.Activation("relu", name="my_relu")(x))
    viewer = views.FeatureMapViewer(model, generated[2][:2], per_page=16)
    assert list(viewer.layer.options) == ["my_conv", "my_relu"]
    viewer.page.value = 1
    assert viewer.panels == 4  # 20 channels: 16 on the first page, 4 on the second
    assert "(62, 62, 20)" in viewer.shape.value


def test_results_view_counts_and_shows_the_mistakes(generated):
    _, _, X_test, Y_test, _ = generated
    true = Y_test[0]
    predicted = true.copy()
    predicted[:7] = (predicted[:7] + 1) % 6
    view = views.ResultsView(true, predicted, X_test)
    assert view.matrix.sum() == len(true) and np.trace(view.matrix) == len(true) - 7
    assert len(view.misclassified) == 7 and view.gallery_size == 7
    _picture(view.matrix_view.value)
    _picture(view.gallery_view.value)


def test_results_view_from_model_accepts_one_hot_labels(resnet, generated):
    _, _, X_test, Y_test, _ = generated
    one_hot = np.eye(6)[Y_test[0, :10]]
    view = views.ResultsView.from_model(resnet, X_test[:10] / 255.0, one_hot, X_test[:10])
    assert view.matrix.sum() == 10


@pytest.mark.parametrize("batchnorm", [False, True], ids=["no normalisation", "batchnorm"])
@pytest.mark.slow
def test_the_plain_gradient_fades_or_explodes_layer_by_layer_and_the_residual_one_grows_a_little(generated, batchnorm):
    X_train, Y_train, *_ = generated
    flow = gradient_flow.measure(X_train, Y_train, batches=2, batchnorm=batchnorm)
    assert flow.plain.shape == flow.residual.shape == (gradient_flow.DEPTH,)
    assert np.all(flow.plain > 0) and np.all(np.isfinite(flow.residual))
    # Plain: at least 100x apart between the first and the last layer, fading without normalisation and
    # exploding with it, and changing all the way (every fifth layer), not in one jump.
    steps = np.diff(np.log(flow.plain[::5]))
    if batchnorm:
        assert flow.fall(flow.plain) <= 1 / 100 and np.all(steps < 0)
    else:
        assert flow.fall(flow.plain) >= 100 and np.all(steps > 0)
    # Residual: the gradient grows a little towards the input (each block adds its branch's part).
    assert 1 < 1 / flow.fall(flow.residual) <= 1.5
    _picture(plotting.figure_png(flow.figure()))


def _exploration_cell(cell_id: str) -> str:
    explore = nbformat.read(REPO / "assignments" / "residual_networks" / "Explore_ResNet.ipynb", as_version=4)
    return next(cell.source for cell in explore.cells if cell.get("id") == cell_id)


@pytest.mark.parametrize(
    ("assignment", "change", "expected"),
    [
        ("assignments", None, "not implemented yet"),  # the student's stubs as released
        ("solutions", ('for block in "bcdef"', 'for block in "bcde"'), "stage 4 needs 5 identity blocks"),
        ("solutions", None, "Using your ResNet50"),
    ],
)
def test_exploration_uses_the_students_resnet50_only_once_it_passes_its_checks(
    assignment, change, expected, tmp_path, monkeypatch, capsys
):
    notebook = nbformat.read(REPO / assignment / "residual_networks" / "Residual_Networks.ipynb", as_version=4)
    if change:  # a ResNet50 that builds but is wrong
        (cell,) = [cell for cell in notebook.cells if cell.source.startswith("def ResNet50")]
        cell.source = cell.source.replace(*change)
    nbformat.write(notebook, tmp_path / "Residual_Networks.ipynb")
    monkeypatch.chdir(tmp_path)
    namespace = {"keras": keras, "checks": checks, "run_solution_cells": run_solution_cells}
    exec(_exploration_cell("2f458c53"), namespace)  # section 1, "Your model"
    assert expected in capsys.readouterr().out
    assert (namespace["yours"] is None) == (expected != "Using your ResNet50")
    assert namespace["model"].count_params() > 23_000_000
