"""Readable diagrams (a block, the network by stage, the full graph) and the widgets' static pictures."""

import base64
import html
import io
import random
import re
import shutil
import subprocess
import sys
from typing import NamedTuple

import keras
import numpy as np
import pydot
import pytest
from conftest import in_every_language, raised, spoken_problems
from IPython.core.formatters import DisplayFormatter
from PIL import Image

from resnets_utils.course.reference import REPO, load_reference
from resnets_utils.language import LANGUAGES
from resnets_utils.models.architecture import describe
from resnets_utils.views import diagrams
from resnets_utils.views import widgets as views

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_WIDTH, MAX_HEIGHT, MIN_TEXT_PX = 1000, 1200, 11
ORANGE = "#ff7f0e"  # matplotlib's tab:orange

# pydot's DOT parser (used to read the diagrams back) calls pyparsing's old names.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot.dot_parser")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")


@pytest.fixture(scope="module")
def reference():
    return load_reference()


@pytest.fixture(scope="module")
def resnet(reference):
    return reference["ResNet50"]()


def _block(reference, kind: str) -> keras.Model:
    inputs = keras.Input((15, 15, 256))
    extra = {"s": 2} if kind == "convolutional_block" else {}
    outputs = reference[kind](inputs, 3, [64, 64, 256], stage=2, block="x", training=None, **extra)
    return keras.Model(inputs, outputs, name=kind)


@pytest.fixture(scope="module")
def identity(reference):
    return _block(reference, "identity_block")


@pytest.fixture(scope="module")
def convolutional(reference):
    return _block(reference, "convolutional_block")


# ----------------------------------------------------------------------------- helpers


def png_size(png: bytes) -> tuple[int, int]:
    png = bytes(png)
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def assert_readable_and_small(diagram):
    width, height = png_size(diagram.png)
    assert (width, height) == diagram.size
    assert 100 < width <= MAX_WIDTH and 100 < height <= MAX_HEIGHT, (width, height)
    picture = np.asarray(Image.open(io.BytesIO(diagram.png)))
    assert picture.shape[:2] == (height, width) and picture.std() > 0  # drawn, not blank

    # Text height in pixels is fontsize (points) * dpi / 72; every font size set must be readable.
    (graph,) = pydot.graph_from_dot_data(diagram.source)
    dpi = float(graph.get_graph_defaults()[0]["dpi"])
    sizes = [float(size) for size in re.findall(r"fontsize\s*=\s*\"?([\d.]+)", diagram.source)]
    assert sizes, "no fontsize in the DOT source: Graphviz's default is 14 pt, but say it"
    assert graph.get_node_defaults()[0]["fontsize"] and graph.get_edge_defaults()[0]["fontsize"]
    assert min(sizes) * dpi / 72 >= MIN_TEXT_PX, (sizes, dpi)
    assert "POINT-SIZE" not in diagram.source.upper()  # no smaller font hidden in an HTML label
    assert not re.search(r"\b(size|ratio|viewport)\s*=", diagram.source)  # nothing that shrinks the drawing


class Source(NamedTuple):
    """DOT text where the helpers below expect a diagram."""

    source: str


def nodes_of(diagram) -> dict[str, str]:
    """``{node id: label text without HTML}``, subgraphs included."""
    (graph,) = pydot.graph_from_dot_data(diagram.source)
    found = {}

    def walk(graph):
        for node in graph.get_nodes():
            if node.get_name() not in ("node", "edge", "graph") and node.get("label"):
                text = re.sub(r"<BR/>", "\n", re.fullmatch(r"<(.*)>", node.get("label"), re.S).group(1))
                found[node.get_name()] = html.unescape(re.sub(r"</?B>", "", text))
        for subgraph in graph.get_subgraphs():
            walk(subgraph)

    walk(graph)
    return found


def edges_of(diagram) -> list[tuple[str, str, str]]:
    (graph,) = pydot.graph_from_dot_data(diagram.source)
    return [(e.get_source(), e.get_destination(), (e.get("color") or "").strip('"')) for e in graph.get_edges()]


def node_named(nodes: dict[str, str], name: str) -> tuple[str, str]:
    (match,) = [(node, label) for node, label in nodes.items() if label.split("\n")[0] == name]
    return match


# ----------------------------------------------------------------------------- blocks


@needs_dot
def test_identity_block_diagram_is_small_readable_and_complete(identity):
    diagram = diagrams.block_diagram(identity)
    assert_readable_and_small(diagram)
    nodes = nodes_of(diagram)
    assert len(nodes) == len(identity.layers) == 11  # one node per layer, the input included
    expected = {
        "res2x_branch2a": ("Conv2D 1x1", "15x15x64"),
        "bn2x_branch2a": ("BatchNormalization", "15x15x64"),
        "res2x_branch2b": ("Conv2D 3x3", "15x15x64"),
        "bn2x_branch2b": ("BatchNormalization", "15x15x64"),
        "res2x_branch2c": ("Conv2D 1x1", "15x15x256"),
        "bn2x_branch2c": ("BatchNormalization", "15x15x256"),
    }
    for name, (kind, shape) in expected.items():
        _, label = node_named(nodes, name)
        assert kind in label and shape in label and "stride" not in label, label
    labels = "\n".join(nodes.values())
    assert not re.search(r"activation_\d|add_\d|input_layer|#", labels)  # no automatic names
    assert labels.count("ReLU") == 3 and labels.count("Add") == 1

    # The shortcut: an orange edge from the block's input straight to the addition.
    (add,) = [node for node, label in nodes.items() if label.startswith("Add")]
    (start,) = [node for node, label in nodes.items() if label.startswith("input")]
    assert (start, add, ORANGE) in edges_of(diagram)
    assert sum(colour == ORANGE for *_, colour in edges_of(diagram)) == 1


@needs_dot
def test_convolutional_block_diagram_shows_its_shortcut_beside_the_main_path(convolutional):
    diagram = diagrams.block_diagram(convolutional)
    assert_readable_and_small(diagram)
    nodes = nodes_of(diagram)
    assert len(nodes) == len(convolutional.layers) == 13
    for name, details in {
        "res2x_branch2a": ("Conv2D 1x1, stride 2", "8x8x64"),
        "res2x_branch2b": ("Conv2D 3x3", "8x8x64"),
        "res2x_branch2c": ("Conv2D 1x1", "8x8x256"),
        "res2x_branch1": ("Conv2D 1x1, stride 2", "8x8x256"),
        "bn2x_branch1": ("BatchNormalization", "8x8x256"),
        "bn2x_branch2c": ("BatchNormalization", "8x8x256"),
    }.items():
        _, label = node_named(nodes, name)
        assert all(part in label for part in details), label
    assert "stride" not in node_named(nodes, "res2x_branch2b")[1]

    # The shortcut's layers and edges are orange, the main path's are not.
    (graph,) = pydot.graph_from_dot_data(diagram.source)
    (cluster,) = graph.get_subgraphs()
    shortcut = {node.get_name() for node in cluster.get_nodes() if node.get_name() != "node"}
    assert shortcut == {node_named(nodes, "res2x_branch1")[0], node_named(nodes, "bn2x_branch1")[0]}
    assert all(node.get("color").strip('"') == ORANGE for node in cluster.get_nodes() if node.get("label"))
    orange = {(a, b) for a, b, colour in edges_of(diagram) if colour == ORANGE}
    assert len(orange) == 3 and all(a in shortcut or b in shortcut for a, b in orange)
    picture = np.asarray(Image.open(io.BytesIO(diagram.png)).convert("RGB")).astype(int)
    assert (np.abs(picture - [255, 127, 14]).sum(axis=-1) < 30).sum() > 100  # visibly orange


@needs_dot
def test_a_diagram_shows_in_a_notebook_as_a_png(identity):
    diagram = diagrams.block_diagram(identity, title="my block")
    data, _ = DisplayFormatter().format(diagram)
    assert data["image/png"] == diagram.png == diagram.data
    assert "my block" in diagram.source and "24x24" not in repr(diagram)


def test_a_block_drawn_from_a_whole_models_rows_is_the_block_diagram(resnet, identity):
    # Stage 2's block b is the identity fixture's block: same input shape and filters, other names.
    rows = describe(resnet)
    block_rows = views.group_layers(rows)[(2, "b")]
    from_rows = diagrams.block_source(block_rows, "a title", model_rows=rows)
    assert from_rows == diagrams.block_source(describe(identity), "a title").replace("2x_", "2b_")
    # Without the model's rows the block's input is still drawn, without its shape.
    (start,) = [label for label in nodes_of(Source(diagrams.block_source(block_rows))).values() if "input" in label]
    assert start == "input"


# ----------------------------------------------------------------------------- the network


@needs_dot
def test_stage_diagram_of_resnet50_has_each_stage_with_its_blocks_and_shapes(resnet):
    diagram = diagrams.stage_diagram(resnet)
    assert_readable_and_small(diagram)
    labels = list(nodes_of(diagram).values())
    stages = {label.split("\n")[0]: label for label in labels if label.startswith("stage ")}
    assert list(stages) == ["stage 2", "stage 3", "stage 4", "stage 5"]
    for stage, identity_blocks, filters, stride, shape in [
        (2, 2, [64, 64, 256], 1, "15x15x256"),
        (3, 3, [128, 128, 512], 2, "8x8x512"),
        (4, 5, [256, 256, 1024], 2, "4x4x1024"),
        (5, 2, [512, 512, 2048], 2, "2x2x2048"),
    ]:
        label = stages[f"stage {stage}"]
        assert f"1 convolutional + {identity_blocks} identity blocks" in label, label
        assert f"filters {filters}" in label and f"stride {stride}" in label and shape in label, label
    text = "\n".join(labels)
    for part in ("ZeroPadding2D", "conv1\nConv2D 7x7, stride 2", "bn_conv1", "MaxPooling2D 3x3, stride 2",
                 "avg_pool", "Flatten", "fc6\nDense, 6 units, softmax"):  # fmt: skip
        assert part in text, part
    # One chain of edges from the input to the classifier, through the stem and the stages in order.
    nodes, following = nodes_of(diagram), {a: b for a, b, _ in edges_of(diagram)}
    chain = [node_named(nodes, "input")[0]]
    while chain[-1] in following:
        chain.append(following[chain[-1]])
    firsts = [nodes[node].split("\n")[0] for node in chain]
    assert len(chain) == len(nodes) == 13 and firsts[0] == "input" and firsts[-1] == "fc6"
    assert firsts.index("conv1") < firsts.index("stage 2") < firsts.index("stage 3") < firsts.index("stage 5")
    assert "23,600,006" in diagram.source  # the title counts the parameters


def test_stage_nodes_follow_the_model_not_a_fixed_list(reference):
    # A smaller input and other classes: other shapes, the same stages.
    nodes = diagrams.stage_nodes(reference["ResNet50"](input_shape=(96, 96, 3), classes=3))
    stages = [node for node in nodes if node.key.startswith("stage")]
    assert [node.lines[0] for node in stages] == ["stage 2", "stage 3", "stage 4", "stage 5"]
    assert "output 23x23x256" in stages[0].lines[3] and "output 3x3x2048" in stages[3].lines[3]
    assert "Dense, 3 units" in nodes[-1].lines[1]
    with pytest.raises(ValueError, match="res2a_branch2a"):
        inputs = keras.Input((4,))
        diagrams.stage_nodes(keras.Model(inputs, keras.layers.Dense(2, name="fc")(inputs)))


@needs_dot
@pytest.mark.parametrize("network, last", [("ResNet18", "Activation"), ("PreActResNet18", "Add")])
def test_the_stage_diagram_and_the_explorer_work_on_resnets_of_basic_and_preactivation_blocks(network, last):
    beyond = load_reference(REPO / "course" / "source" / "residual_networks" / "Beyond_ResNet50.ipynb")
    model = beyond[network](input_shape=(64, 64, 3), classes=6)
    diagram = diagrams.stage_diagram(model)
    assert_readable_and_small(diagram)
    stages = [label for label in nodes_of(diagram).values() if label.startswith("stage ")]
    assert [label.split("\n")[0] for label in stages] == ["stage 2", "stage 3", "stage 4", "stage 5"]
    assert "2 blocks of 2 convolutions" in stages[1] and "1 with a projection" in stages[1], stages[1]
    explorer = views.ArchitectureExplorer(model)
    explorer.stage.value = 3
    assert [value for _, value in explorer.block.options] == ["a", "b"]
    explorer.block.value = "a"
    assert "res3a_branch1" in explorer.layers.value and "res3a_branch2b" in explorer.layers.value
    kinds = [row["type"] for row in explorer.selected_rows]
    assert kinds.count("Conv2D") == 3 and kinds.count("Add") == 1, kinds  # two 3x3 and the projection
    assert kinds[-1] == last, kinds  # a ReLU after the addition, or (pre-activation) nothing


@needs_dot
def test_layer_graph_holds_every_layer_folded_away(resnet, tmp_path):
    graph = diagrams.layer_graph(resnet)
    svg = graph.svg.decode()
    assert svg.lstrip().startswith("<?xml") and "res3b_branch2a" in svg and "res5c_branch2c" in svg
    page = graph._repr_html_()
    assert page.startswith("<details><summary>Every layer (177 layers")
    assert base64.b64decode(page.split("base64,")[1].split("'")[0]) == graph.svg
    assert graph.save(tmp_path / "resnet.svg").read_bytes() == graph.svg
    assert repr(graph).startswith("<LayerGraph of 177 layers") and len(repr(graph)) < 100


def test_without_graphviz_the_diagrams_print_why_and_a_summary(resnet, identity, monkeypatch, capsys):
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    assert diagrams.block_diagram(identity) is None
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == diagrams.GRAPHVIZ_MISSING and "res2x_branch2b" in printed

    assert diagrams.stage_diagram(resnet) is None
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == diagrams.GRAPHVIZ_MISSING
    assert "1 convolutional + 5 identity blocks" in printed and "4x4x1024" in printed

    assert diagrams.layer_graph(identity) is None
    assert capsys.readouterr().out.startswith(diagrams.GRAPHVIZ_MISSING)


# ----------------------------------------------------------------------------- widgets' static pictures


def assert_static_picture(view, expected_png=None) -> bytes:
    bundle, metadata = view._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and bundle[WIDGET_VIEW]["model_id"] == view.model_id
    png = bundle["image/png"]
    assert isinstance(png, bytes) and png.startswith(PNG_SIGNATURE)
    if expected_png is not None:
        assert png == bytes(expected_png)
    width, height = png_size(png)
    assert width > 100 and height > 100
    assert metadata == {"image/png": {"width": round(width / 2), "height": round(height / 2)}}  # a retina picture
    return png


def test_importing_the_diagrams_imports_no_widgets():
    # A static diagram needs no ipywidgets: a fresh interpreter shows what the import pulls in.
    program = "import sys, resnets_utils.views.diagrams; print('ipywidgets' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split()[-1] == "False"


@needs_dot
def test_explorer_output_holds_its_block_diagram_as_a_png(resnet):
    explorer = views.ArchitectureExplorer(resnet)
    first = assert_static_picture(explorer)
    explorer.stage.value = 3
    assert assert_static_picture(explorer) != first  # the picture follows the current state
    assert bytes(explorer.diagram.value) == explorer.selected_diagram.png != first


@needs_dot
def test_explorer_draws_each_blocks_own_shortcut(resnet):
    explorer = views.ArchitectureExplorer(resnet)
    explorer.stage.value, explorer.block.value = 3, "a"
    convolutional = explorer.selected_diagram
    explorer.block.value = "b"
    identity = explorer.selected_diagram
    assert convolutional.png != identity.png
    assert "stage 3, block a" in convolutional.source and "stage 3, block b" in identity.source

    # The convolutional block: input -> res3a_branch1 -> bn3a_branch1 -> Add, all orange, in a "shortcut" box.
    nodes = nodes_of(convolutional)
    start, projection, normalisation = (
        node_named(nodes, name)[0] for name in ("input", "res3a_branch1", "bn3a_branch1")
    )
    (add,) = [node for node, label in nodes.items() if label.startswith("Add")]
    assert {(a, b) for a, b, colour in edges_of(convolutional) if colour == ORANGE} == {
        (start, projection),
        (projection, normalisation),
        (normalisation, add),
    }
    assert "15x15x256" in nodes[start] and "8x8x512" in nodes[add]  # the block's input, from the model's rows
    assert 'label="shortcut"' in convolutional.source

    # The identity block: one orange edge, from its input straight to the addition.
    nodes = nodes_of(identity)
    start = node_named(nodes, "input")[0]
    (add,) = [node for node, label in nodes.items() if label.startswith("Add")]
    assert [(a, b) for a, b, colour in edges_of(identity) if colour == ORANGE] == [(start, add)]
    assert "shortcut (identity)" in identity.source and "branch1" not in identity.source


def test_feature_map_viewer_and_results_view_outputs_hold_a_png():
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="conv")(inputs))
    images = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
    viewer = views.FeatureMapViewer(model, images)
    assert_static_picture(viewer, viewer.view.value)

    results = views.ResultsView(np.arange(12) % 3, np.arange(12) % 2, np.zeros((12, 8, 8, 3), np.uint8))
    width, _ = png_size(assert_static_picture(results))
    assert width > sum(png_size(picture.value)[0] for picture in (results.matrix_view, results.gallery_view)) * 0.9


@pytest.mark.parametrize("seed", range(3))
def test_graphviz_failing_is_said_in_every_language(tmp_path, monkeypatch, fallbacks, seed):
    rng = random.Random(seed)
    complaint = f"Error: <stdin>: syntax error in line {rng.randint(1, 500)} near '{rng.choice(['->', '[', 'label'])}'"
    dot = tmp_path / "dot"  # a Graphviz that fails as a broken installation would
    dot.write_text(f'#!/bin/sh\necho "{complaint}" >&2\nexit {rng.randint(1, 3)}\n')
    dot.chmod(0o755)
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: str(dot))
    told = in_every_language(lambda: raised(lambda: diagrams._render("digraph { a -> b }")), fallbacks)
    assert told["en"] == f"Graphviz could not draw the diagram: {complaint}"
    for code in LANGUAGES:
        assert not spoken_problems(code, told["en"], told[code], [complaint]), told[code]
