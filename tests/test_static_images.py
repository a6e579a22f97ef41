"""The pictures a notebook keeps for readers without a kernel: sharp, readable and complete."""

import io
import logging
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from matplotlib.image import AxesImage
from matplotlib.text import Text
from PIL import Image

from resnets_utils.course.reference import load_reference
from resnets_utils.views import diagrams, plotting
from resnets_utils.views import widgets as views

OLD_DPI = 72  # what every picture was drawn at before: 1 pixel per point
MIN_TEXT_PX = 11
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")


def ihdr_size(png) -> tuple[int, int]:
    """``(width, height)`` from the PNG's IHDR chunk, checked against Pillow's reading."""
    png = bytes(png)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    size = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert Image.open(io.BytesIO(png)).size == size
    return size


def assert_retina(png, metadata: dict, figure) -> None:
    """Twice the old pixels for the figure's size, shown at half of them (the old on-screen size)."""
    width, height = ihdr_size(png)
    inches = figure.get_size_inches()
    assert (width, height) == pytest.approx(tuple(2 * OLD_DPI * inches), abs=1)
    assert metadata == {"width": round(width / 2), "height": round(height / 2)}


def visible_texts(figure) -> list[Text]:
    figure.draw_without_rendering()  # lays the figure out and makes its tick labels, without pixels
    hidden = {id(text) for axes in figure.axes if not axes.axison for text in axes.xaxis.findobj(Text)}
    hidden |= {id(text) for axes in figure.axes if not axes.axison for text in axes.yaxis.findobj(Text)}
    texts = [text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]
    return [text for text in texts if id(text) not in hidden]  # an axis turned off draws no tick labels


def assert_readable(figure, display_width: float) -> list[str]:
    """Every text at least 11 CSS pixels high when the picture is ``display_width`` pixels wide."""
    pixels_per_point = display_width / (figure.get_figwidth() * 72)
    texts = visible_texts(figure)
    # Rounded to a tenth of a pixel: the PNG's size is a whole number of pixels, the figure's is not.
    small = [
        (t.get_text(), t.get_fontsize()) for t in texts if round(t.get_fontsize() * pixels_per_point, 1) < MIN_TEXT_PX
    ]
    assert texts and not small
    return [text.get_text() for text in texts]


def static_output(view):
    """The view's notebook output: ``(png, its display size)``."""
    bundle, metadata = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget is still there
    return bundle["image/png"], metadata["image/png"]


def assert_live_view_matches(image) -> None:
    """An ``ipywidgets.Image`` holds a retina picture, shown at half its pixel size."""
    width, height = ihdr_size(image.value)
    assert (image.width, image.height) == (str(round(width / 2)), str(round(height / 2)))


# ----------------------------------------------------------------------------- small models


@pytest.fixture(scope="module")
def tiny_resnet():
    """Stage 1, a convolutional and an identity block of stage 2 (the course's names), a classifier."""
    reference = load_reference()
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(axis=3, name="bn_conv1")(x)
    x = keras.layers.Activation("relu")(x)
    x = reference["convolutional_block"](x, 3, [2, 2, 8], stage=2, block="a", s=2)
    x = reference["identity_block"](x, 3, [2, 2, 8], stage=2, block="b")
    x = keras.layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="fc")(x), name="tiny_resnet")


@pytest.fixture(scope="module")
def pictures():
    return np.random.default_rng(0).integers(0, 256, (12, 16, 16, 3), dtype=np.uint8)


# ----------------------------------------------------------------------------- matplotlib figures


def test_notebook_figures_are_retina_pngs():
    figure = plotting.NotebookFigure(figsize=(4, 3))
    figure.subplots().plot([0, 1])
    png, metadata = figure._repr_png_()
    assert ihdr_size(png) == (576, 432)  # 4 x 3 inches at 144 dpi, where 72 dpi gave 288 x 216
    assert_retina(png, metadata, figure)
    assert plotting.display_size(png) == {"width": 288, "height": 216}


def test_show_samples_is_a_retina_png(pictures):
    figure = plotting.show_samples(pictures, np.arange(12) % 3, per_class=4)
    assert_retina(*figure._repr_png_(), figure)


def _in_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip()


@pytest.mark.parametrize("plotting_first", [True, False])
def test_in_ipython_pyplot_inline_figures_become_retina(plotting_first):
    """Importing the package's plotting makes pyplot's inline figures retina, before or after pyplot starts."""
    imports = ["import resnets_utils.views.plotting", "import matplotlib.pyplot as plt; plt.figure()"]
    code = f"""
        import base64
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        import matplotlib
        matplotlib.use("module://matplotlib_inline.backend_inline")
        {"; ".join(imports if plotting_first else imports[::-1])}
        import matplotlib.pyplot as plt
        from resnets_utils.views.plotting import png_size
        figure, axis = plt.subplots(figsize=(4, 3))
        axis.plot([0, 1])
        data, metadata = shell.display_formatter.format(figure)
        print(*png_size(base64.b64decode(data["image/png"])), metadata["image/png"]["width"], figure.dpi)
    """
    width, height, display_width, dpi = map(float, _in_python(code).split())
    assert display_width == round(width / 2)  # drawn at twice the figure's dpi, shown at half the pixels
    assert width > 4 * dpi * 1.5  # about 4 inches (cropped to the drawing) at 2 x dpi


def test_a_chosen_inline_format_is_kept_and_plain_python_is_left_alone():
    chosen = _in_python(
        """
        from IPython.core.interactiveshell import InteractiveShell
        from matplotlib_inline.config import InlineBackend
        InlineBackend.instance(parent=InteractiveShell.instance()).figure_formats = {"svg"}
        import resnets_utils.views.plotting
        print(sorted(InlineBackend.instance().figure_formats))
        """
    )
    assert chosen == "['svg']"
    assert _in_python("import sys, resnets_utils.views.plotting; print('IPython' in sys.modules)") == "False"


# ----------------------------------------------------------------------------- architecture


def rgb_on_white(png) -> np.ndarray:
    """A PNG's pixels as RGB integers, its transparent parts on white (as a notebook shows them)."""
    picture = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    white = Image.new("RGBA", picture.size, "white")
    white.alpha_composite(picture)
    return np.asarray(white.convert("RGB")).astype(int)


@needs_dot
@pytest.mark.parametrize("block", ["a", "b"])
def test_architecture_picture_is_sharp_readable_and_holds_the_stage_table(tiny_resnet, block):
    explorer = views.ArchitectureExplorer(tiny_resnet)
    explorer.stage.value, explorer.block.value = 2, block
    figure = explorer.static_figure()
    png, metadata = static_output(explorer)
    assert_retina(png, metadata, figure)
    assert_live_view_matches(explorer.diagram)

    text = "\n".join(assert_readable(figure, metadata["width"]))
    assert "tiny_resnet" in text and f"stage 2, block {block}" in explorer.selected_diagram.source
    summary = explorer.stage_summary()
    assert [name for name, *_ in summary] == ["input", "stage 1", "stage 2", "classifier"]
    for name, shape, params, share in summary:  # each stage's row of the widget's table
        assert any(
            line.split()[:-3] == name.split() and line.split()[-3:] == [shape, f"{params:,}", f"{share:.1%}"]
            for line in text.splitlines()
        ), name


@needs_dot
@pytest.mark.parametrize("block", ["a", "b"])
def test_architecture_picture_holds_the_block_diagram_pixel_for_pixel(tiny_resnet, block):
    explorer = views.ArchitectureExplorer(tiny_resnet)
    explorer.stage.value, explorer.block.value = 2, block
    diagram = explorer.selected_diagram
    assert bytes(explorer.diagram.value) == diagram.png  # the live view shows the same picture
    assert f"dpi={diagrams.RETINA_DPI}" in diagram.source  # shown at half its pixels, as the static picture

    png, _ = static_output(explorer)
    width, height = diagram.size
    assert ihdr_size(png)[0] > width  # the table beside it
    assert np.array_equal(rgb_on_white(png)[:height, :width], rgb_on_white(diagram.png))  # not resampled


# ----------------------------------------------------------------------------- results


def test_results_picture_holds_the_matrix_and_the_misread_pictures(pictures):
    true = np.arange(12) % 3
    predicted = true.copy()
    predicted[[2, 7]] = (predicted[[2, 7]] + 1) % 3
    view = views.ResultsView(true, predicted, pictures)
    figure = view.static_figure()
    png, metadata = static_output(view)
    assert_retina(png, metadata, figure)
    assert_live_view_matches(view.matrix_view)
    assert_live_view_matches(view.gallery_view)

    text = assert_readable(figure, metadata["width"])
    assert "Confusion matrix" in text and f"predicted {predicted[2]}\ntrue {true[2]}" in text
    shown = [np.asarray(image.get_array()) for image in figure.findobj(AxesImage)]
    assert any(picture.shape == view.matrix.shape and np.array_equal(picture, view.matrix) for picture in shown)
    for which in (2, 7):
        assert any(np.array_equal(picture, pictures[which]) for picture in shown)


def test_results_picture_without_mistakes_says_so(pictures):
    labels = np.arange(12) % 3
    view = views.ResultsView(labels, labels, pictures)
    figure = view.static_figure()
    png, metadata = static_output(view)
    assert_retina(png, metadata, figure)
    assert "no misclassified pictures" in assert_readable(figure, metadata["width"])
    assert len(figure.findobj(AxesImage)) == 1  # the matrix alone


# ----------------------------------------------------------------------------- feature maps


def test_feature_map_picture_names_its_layer_and_picture(tiny_resnet, pictures):
    viewer = views.FeatureMapViewer(tiny_resnet, pictures[:3], labels=[2, 0, 1])
    viewer.layer.value, viewer.image.value = "res2a_branch2c", 0
    png, metadata = static_output(viewer)
    assert png == bytes(viewer.view.value)  # the live view's own picture
    figure = viewer.static_figure()
    assert_retina(png, metadata, figure)
    assert_live_view_matches(viewer.view)

    assert_readable(figure, metadata["width"])
    assert figure.get_suptitle().startswith("res2a_branch2c: output 8x8x8")
    assert "picture 0 (label 2)" in [axis.get_title() for axis in figure.axes]
    viewer.layer.value = "conv1"
    assert viewer.static_figure().get_suptitle().startswith("conv1: output 16x16x4")


def _missing_glyphs(text: str) -> list[str]:
    """matplotlib's warnings while drawing ``text`` in a figure: one per glyph its fonts lack (a box)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = plotting.NotebookFigure(figsize=(4, 2))
        figure.subplots().set_title(text)
        plotting.figure_png(figure)
    return [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]


def test_figures_draw_chinese_and_korean_without_boxes(monkeypatch, caplog):
    import os
    import random

    import matplotlib

    from resnets_utils.course import editions

    if plotting.cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail(plotting.CJK_FONT_MISSING)
        pytest.skip(plotting.CJK_FONT_MISSING)
    rng = random.Random(7)
    for language in editions.LANGUAGES:  # sentences the course says, in each language
        catalogue = editions.read_catalogue(
            plotting.Path(editions.__file__).parents[1] / "locale" / language / "messages.po", language
        )
        said = [message.string for message in catalogue if message.id and message.string]
        for text in rng.sample(said, 5):
            text = text.replace("$", "").splitlines()[0][:60]  # one line, no mathtext
            assert _missing_glyphs(text) == [], text
    # Bold text: the CJK font has no bold face, and matplotlib's note saying so is not printed (a fresh
    # size makes matplotlib look the font up again rather than answer from its cache).
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        figure = plotting.NotebookFigure(figsize=(4, 2))
        figure.suptitle("残差网络 잔차 네트워크", fontweight="bold", fontsize=rng.uniform(12, 13))
        plotting.figure_png(figure)
    assert not caplog.records, [record.getMessage() for record in caplog.records]
    other = logging.LogRecord(
        "m",
        logging.WARNING,
        "",
        0,
        "findfont: Failed to find font weight %s for %s, now using %s.",
        ("bold", "Some Font", 400),
        None,
    )
    assert plotting.OneWeightFonts().filter(other)  # another font's missing weight is still said
    # Without the CJK font, the same text shows boxes: what the assertion above would catch.
    monkeypatch.setitem(matplotlib.rcParams, "font.family", ["sans-serif"])
    assert _missing_glyphs("残差网络 잔차 네트워크")
