"""The pictures a notebook keeps for readers without a kernel: sharp, readable and complete."""

import functools
import html
import io
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from unittest import mock

import ipywidgets
import keras
import numpy as np
import pytest
from conftest import SCRIPTS, in_every_language, raised, spoken_problems
from matplotlib.font_manager import FontProperties
from matplotlib.image import AxesImage
from matplotlib.text import Text
from matplotlib.textpath import text_to_path
from PIL import Image

from resnets_utils.course import editions
from resnets_utils.course.reference import load_reference
from resnets_utils.experiments import block_comparison, degradation, gradient_flow, no_shortcuts
from resnets_utils.language import LANGUAGES, say, speaking, translations
from resnets_utils.training import progress
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


# ----------------------------------------------------------------------------- in the student's language

# Words every language keeps: with a digit or an underscore (layer names, shapes), or capitals inside (Conv2D, ResNet).
NAME = re.compile(r"[\w-]*[\d_][\w-]*|[A-Za-z]+[A-Z][\w-]*")
MATHTEXT = re.compile(r"\$[^$]*\$")  # a log axis' tick labels: $\mathdefault{10^{-3}}$
LOSSES = list(np.linspace(2.0, 0.5, 40))
HISTORY = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "accuracy": [0.3, 0.6], "val_accuracy": [0.2, 0.5]}


def _explorer(model, stage: int, block: str, graphviz: bool = True) -> views.ArchitectureExplorer:
    which = diagrams.shutil.which if graphviz else lambda name: None
    with mock.patch.object(diagrams.shutil, "which", which):  # Graphviz is looked for once, by the constructor
        explorer = views.ArchitectureExplorer(model)
    explorer.stage.value, explorer.block.value = stage, block
    return explorer


def _feature_maps(model, pictures) -> views.FeatureMapViewer:
    viewer = views.FeatureMapViewer(model, pictures[:3], labels=[2, 0, 1], per_page=4)
    viewer.layer.value = "res2a_branch2c"
    return viewer


def _results(pictures, mistakes: int, gallery: int = 24) -> views.ResultsView:
    true = np.arange(12) % 3
    return views.ResultsView(true, np.where(np.arange(12) < mistakes, (true + 1) % 3, true), pictures, gallery=gallery)


def _comparison() -> block_comparison.Comparison:
    made_up = [("ResNet-18", 11.2, 0.81), ("PreActResNet-18", 11.2, 0.78), ("ResNet-50", 23.6, 0.74)]
    return block_comparison.Comparison(
        [
            block_comparison.Trained(name, int(m * 1e6), int(40 * m * 1e6), 900 / m, accuracy)
            for name, m, accuracy in made_up
        ]
    )


# Every figure a view or an experiment draws, from the small model and pictures: made-up results, no training.
FIGURES = {
    "samples": lambda model, pictures: plotting.show_samples(pictures, np.arange(12) % 3, per_class=2),
    "architecture": lambda model, pictures: _explorer(model, 2, "a").static_figure(),
    "architecture without Graphviz": lambda model, pictures: _explorer(model, 9, "", graphviz=False).static_figure(),
    "feature maps": lambda model, pictures: _feature_maps(model, pictures).static_figure(),
    "results": lambda model, pictures: _results(pictures, 2).static_figure(),
    "results, four shown": lambda model, pictures: _results(pictures, 6, gallery=4).static_figure(),
    "results without mistakes": lambda model, pictures: _results(pictures, 0).static_figure(),
    "learning curves": lambda model, pictures: progress.learning_curves(HISTORY),
    "degradation": lambda model, pictures: degradation.Degradation(
        {(kind, depth): LOSSES for kind in degradation.KINDS for depth in degradation.DEPTHS}
    ).figure(),
    "gradient flow": lambda model, pictures: gradient_flow.GradientFlow(
        np.geomspace(1, 1e-3, 10), np.linspace(1.2, 1.0, 10)
    ).figure(),
    "gradient flow with batchnorm": lambda model, pictures: gradient_flow.GradientFlow(
        np.geomspace(1, 1e3, 10), np.linspace(1.2, 1.0, 10), batchnorm=True
    ).figure(),
    "no shortcuts": lambda model, pictures: no_shortcuts.ShortcutRun(
        {run: LOSSES for run in no_shortcuts.RUNS}
    ).figure(),
    "block comparison": lambda model, pictures: _comparison().figure(),
}

# What the English figures said before they spoke other languages: their texts with letters.
STAGES = """\
stage       output shape  parameters  share
----------  ------------  ----------  -----
input            16x16x3           0   0.0%
stage 1          16x16x4         128   6.4%
stage 2              512         320  16.1%
classifier             3       1,539  77.5%"""
GRAPHVIZ_NOTE = """\
Graphviz's dot program is missing, so here is a
text summary instead of a diagram. Install it
with sudo apt-get install graphviz (or conda
install -c conda-forge graphviz), then restart
the kernel."""
ENGLISH = {
    "samples": ["0 fingers", "1 finger", "2 fingers"],
    "architecture": [STAGES, "tiny_resnet: 1,987 parameters"],
    "architecture without Graphviz": [GRAPHVIZ_NOTE, STAGES, "tiny_resnet: 1,987 parameters"],
    "feature maps": [
        "channel 0", "channel 1", "channel 2", "channel 3", "picture 0 (label 2)",
        "res2a_branch2c: output 8x8x8, channels 0 to 3 of 8",
    ],
    "results": [
        "Confusion matrix", "Misclassified: 2", "predicted", "predicted 1\ntrue 0", "predicted 2\ntrue 1", "true",
    ],
    "results, four shown": [
        "Confusion matrix", "Misclassified: 6 (4 shown)", "predicted", "predicted 0\ntrue 2", "predicted 1\ntrue 0",
        "predicted 2\ntrue 1", "true",
    ],
    "results without mistakes": ["Confusion matrix", "no misclassified pictures", "predicted", "true"],
    "learning curves": ["accuracy", "epoch", "loss", "test", "training"],
    "degradation": [
        "chance (ln 6)", "plain networks", "plain-32", "plain-8", "pre-activation networks", "pre-activation-32",
        "pre-activation-8", "residual networks", "residual-32", "residual-8", "training loss", "training step",
    ],
    "gradient flow": [
        "The gradient reaching each of 10 layers (no normalisation)", "gradient norm w.r.t. the layer's output",
        "layer (1 = nearest the input)", "plain", "residual",
    ],
    "gradient flow with batchnorm": [
        "The gradient reaching each of 10 layers (with BatchNormalization)", "gradient norm w.r.t. the layer's output",
        "layer (1 = nearest the input)", "plain", "residual",
    ],
    "no shortcuts": [
        "Your ResNet-50, with and without its shortcuts", "chance (ln 6)", "training loss", "training step",
        "with shortcuts", "without shortcuts",
    ],
    "block comparison": [
        "PreActResNet-18", "ResNet-18", "ResNet-50", "multiply-adds per picture (millions)", "parameters (millions)",
        "test accuracy after 4 epochs (%)", "training speed (pictures/s)",
    ],
}  # fmt: skip


@pytest.fixture
def cjk_font():
    """The installed font with Chinese and Korean characters (CI must have one)."""
    found = plotting.cjk_font()
    if found is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(plotting.CJK_FONT_MISSING)
    return found


def names_of(model) -> set[str]:
    """What a figure of ``model`` names as it is in every language: the model, its layers, their Keras classes."""
    return {model.name} | {layer.name for layer in model.layers} | {type(layer).__name__ for layer in model.layers}


@functools.cache
def quoted_code() -> list[str]:
    """The code the package's messages quote (`dot`, `sudo apt-get install graphviz`), longest first."""
    messages = translations(LANGUAGES[0])  # English -> translation, every message
    return sorted({code for english in messages for code in re.findall(r"`([^`]+)`", english)}, key=len, reverse=True)


def untranslated(text: str, language: str, names=()) -> list[str]:
    """The English a text drawn in ``language`` keeps: runs of English words outside the code it quotes; and,
    in a text without a character of that language, every word that is not a name (``names``, or :data:`NAME`'s)."""
    text = " ".join(MATHTEXT.sub("", text).split())  # a line broken inside quoted code: joined again
    for code in quoted_code():  # drawn without its backquotes
        text = text.replace(code, " ")
    left = editions.english_runs(text)
    if not SCRIPTS[language].search(text):
        words = re.findall(r"[A-Za-z][\w-]+", text)  # a single letter is a symbol: block "a", f, x
        left += [word for word in words if word not in names and not NAME.fullmatch(word)]
    return left


def drawn(name: str, model, pictures) -> tuple[list[str], list[str]]:
    """The visible texts of figure ``name`` once drawn to PNG, and the glyphs missing from its fonts (boxes)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = FIGURES[name](model, pictures)
        plotting.figure_png(figure)
    missing = [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]
    return [text.get_text() for text in visible_texts(figure)], missing


@pytest.mark.parametrize("name", FIGURES)
def test_in_english_every_figure_says_what_it_said_before(name, tiny_resnet, pictures):
    with speaking("en"):
        texts, missing = drawn(name, tiny_resnet, pictures)
    assert sorted({text for text in texts if re.search("[A-Za-z]", MATHTEXT.sub("", text))}) == ENGLISH[name]
    assert not missing


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_speaks_the_students_language(name, language, tiny_resnet, pictures, fallbacks, cjk_font):
    with speaking(language):
        texts, missing = drawn(name, tiny_resnet, pictures)
    assert not fallbacks, f"said in English, for want of a translation: {fallbacks}"
    assert not missing, missing
    english = {text: left for text in texts if (left := untranslated(text, language, names_of(tiny_resnet)))}
    assert not english, english
    assert any(SCRIPTS[language].search(text) for text in texts)


def widget_texts(widget) -> list[str]:
    """What a view shows as text: its controls' descriptions and choices, and the text of its HTML."""
    found = [text for child in getattr(widget, "children", ()) for text in widget_texts(child)]
    if getattr(widget, "description", ""):
        found.append(widget.description)
    if isinstance(widget, ipywidgets.Dropdown):
        found += [option[0] if isinstance(option, tuple) else str(option) for option in widget.options]
    if isinstance(widget, ipywidgets.HTML):  # its text without tags, nor the code it quotes
        found += [html.unescape(text) for text in re.split(r"<code>.*?</code>|<[^>]*>", widget.value) if text.strip()]
    return found


def dot_texts(source: str) -> list[str]:
    """The lines of text a Graphviz diagram's DOT source labels its graph, clusters, nodes and edges with."""
    found = []
    for markup, quoted in re.findall(r'label=(?:<(.*?)>[,;]|"((?:[^"\\]|\\.)*)")', source):
        lines = re.split(r"<BR/>", markup) if markup else [quoted]
        found += [html.unescape(re.sub(r"<[^>]*>", "", line)).strip() for line in lines]
    return [line for line in found if line]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_views_controls_diagrams_and_tables_speak_the_students_language(language, tiny_resnet, pictures, fallbacks):
    with speaking(language):
        explorer = _explorer(tiny_resnet, 2, "a", graphviz=False)  # its note says how to install Graphviz
        texts = widget_texts(explorer)
        for block in "ab":  # a convolutional block (the shortcut's box) and an identity block (its edge)
            explorer.block.value = block
            texts += widget_texts(explorer) + dot_texts(
                diagrams.block_source(explorer.selected_rows, explorer.title, explorer.rows)
            )
        texts += dot_texts(diagrams.stage_source(tiny_resnet))
        texts += widget_texts(_feature_maps(tiny_resnet, pictures)) + widget_texts(_results(pictures, 2))
        texts += re.split(r"<[^>]*>", diagrams.LayerGraph(b"<svg/>", 3)._repr_html_())
        texts += _comparison().table().splitlines()[:1]  # the printed table's heading
        # Labels the texts must hold, so that none was left out of them.
        expected = [say(label) for label in ("Stage", "Stages", "shortcut", "shortcut (identity)", "stage 1 (stem)")]
    assert not fallbacks, f"said in English, for want of a translation: {fallbacks}"
    english = {text: left for text in texts if (left := untranslated(text, language, names_of(tiny_resnet)))}
    assert not english, english
    assert set(expected) <= set(texts), set(expected) - set(texts)


def test_a_tables_columns_line_up_as_drawn_in_any_script(cjk_font):
    """Each column ends at the same place on every line, as the figure's monospaced fonts draw it."""
    header = ["stage", "输出形状", "파라미터 수", "share"]
    rows = [
        ("输入", "16x16x3", "0", "0.0%"),
        ("第 1 阶段", "8x8x8", "128", "6.4%"),
        ("스테이지 2", "512", "1,539", "77.5%"),
    ]
    font = FontProperties(family=plotting.monospace(), size=plotting.MIN_FONTSIZE)
    for columns in range(2, len(header) + 1):  # the table of the first columns: the last one right-aligned
        lines = views.text_table(header[:columns], [row[:columns] for row in rows]).splitlines()
        # Points, unhinted, between two bars: the ink's width is then the text's advance, its spaces included.
        widths = [text_to_path.get_text_width_height_descent(f"|{line}|", font, ismath=False)[0] for line in lines]
        # Within a tenth of an em, where a wide character counted as two columns is a fifth of an em off.
        assert max(widths) - min(widths) < 0.1 * plotting.MIN_FONTSIZE, (lines, widths)


@pytest.mark.parametrize("seed", range(3))
def test_pictures_the_samples_cannot_show_are_refused_in_every_language(fallbacks, seed):
    rng = random.Random(seed)
    m = rng.randint(1, 30)
    shape = rng.choice([(m, 8, 8), (m, 8, 8, rng.choice([1, 4])), (m, 8, 8, 3), (8, 8, 3, 1, 1)])
    labels = m + rng.choice([1, 2, 5]) if shape == (m, 8, 8, 3) else m
    told = in_every_language(
        lambda: raised(lambda: plotting.show_samples(np.zeros(shape), np.zeros(labels))), fallbacks
    )
    assert told["en"] == (
        f"expected RGB images (m, height, width, 3) and m labels, got images {shape} and {labels} labels"
    )
    for code in LANGUAGES:
        assert not spoken_problems(code, told["en"], told[code]), told[code]
