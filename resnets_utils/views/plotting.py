"""Pictures of the data for the notebooks and the README."""

from __future__ import annotations

import io
import logging
import re
import struct
import sys
import textwrap
import unicodedata
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from resnets_utils.language import say

# A retina picture: 144 pixels per inch, shown at 72 per inch (half its pixel size), so it keeps
# its on-screen size (1 point = 1 CSS pixel at 100% zoom) and is sharp on high-density screens.
DISPLAY_DPI = 72
DPI = 2 * DISPLAY_DPI
MIN_FONTSIZE = 11  # points, so at least 11 CSS pixels at DISPLAY_DPI: the smallest text in the widgets


def figure_png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (for notebooks and ``ipywidgets.Image``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels, read from the PNG's header (its IHDR chunk)."""
    png = bytes(png[:24])
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG picture")
    return struct.unpack(">II", png[16:24])


def display_size(png: bytes, dpi: int = DPI) -> dict[str, int]:
    """The size in CSS pixels to show a picture rendered at ``dpi``: ``{"width": ..., "height": ...}``."""
    width, height = png_size(png)
    return {"width": round(width * DISPLAY_DPI / dpi), "height": round(height * DISPLAY_DPI / dpi)}


class NotebookFigure(Figure):
    """A Figure that a notebook shows as a picture when it is a cell's value, pyplot or not.

    Without pyplot it is a retina PNG (:func:`figure_png`) shown at :data:`DISPLAY_DPI`; once pyplot
    runs inline, IPython's formatter draws it as any figure (retina too, see below).
    """

    def _repr_png_(self):
        png = figure_png(self)
        return png, display_size(png)


def _retina_inline_figures() -> None:
    """In a notebook, draw pyplot's inline figures at twice their pixel density, shown at the same size.

    Sets IPython's ``InlineBackend.figure_formats`` (``%config InlineBackend.figure_formats = {'retina'}``),
    which the inline backend reads whenever pyplot starts it, unless the user chose formats other
    than the default PNG. Outside IPython (scripts, tests with Agg) it does nothing.
    """
    if "IPython" not in sys.modules:  # IPython is not running, so there is no notebook to configure
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    try:
        from matplotlib_inline.config import InlineBackend
    except ImportError:  # no inline backend installed: the notebook draws figures some other way
        return
    config = InlineBackend.instance(parent=shell)
    if config.figure_formats == {"png"}:
        # matplotlib_inline reacts through traitlets' old ``_changed`` hook, which warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            config.figure_formats = {"retina"}  # also updates IPython's formatters if the backend already runs


_retina_inline_figures()

# Fonts with the Han and Hangul glyphs that matplotlib's own font lacks: Debian's fonts-wqy-microhei
# (what `make lab` installs), or Noto's CJK fonts where they are installed instead.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK KR", "Noto Sans CJK JP")
CJK_FONT_MISSING = (
    "no font with Chinese and Korean characters: figures would show boxes for them. Install one: "
    "'sudo apt-get install fonts-wqy-microhei' (Debian/Ubuntu) or 'conda install -c conda-forge font-ttf-noto-cjk'."
)


class OneWeightFonts(logging.Filter):
    """Drops matplotlib's log line that a CJK font has no bold face (it then draws regular, as meant);
    without it, every bold title in any language prints "findfont: Failed to find font weight ..."."""

    def filter(self, record: logging.LogRecord) -> bool:
        said = str(record.msg).startswith("findfont: Failed to find font weight")
        return not (said and len(record.args) > 1 and record.args[1] in CJK_FONTS)


FONT_LOG = logging.getLogger("matplotlib.font_manager")


def cjk_font() -> str | None:
    """Let every figure draw Chinese and Korean: an installed CJK font follows the default font in
    ``font.family``, and matplotlib takes each glyph the first font lacks from it. Returns its name,
    or None when no CJK font is installed (figures then show boxes for those characters)."""
    import matplotlib
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known & set(CJK_FONTS):  # installed after matplotlib cached its font list: add the files
        for path in font_manager.findSystemFonts():
            if any(mark in Path(path).name.lower() for mark in ("wqy", "notosanscjk")):
                font_manager.fontManager.addfont(path)
        known = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in known), None)
    families = [family for family in matplotlib.rcParams["font.family"] if family not in CJK_FONTS]
    matplotlib.rcParams["font.family"] = families + ([found] if found else [])
    if not any(isinstance(known, OneWeightFonts) for known in FONT_LOG.filters):
        FONT_LOG.addFilter(OneWeightFonts())
    return found


cjk_font()

# Monospaced fonts with Han and Hangul, for the glyphs matplotlib's monospace font lacks.
CJK_MONOSPACE_FONTS = ("WenQuanYi Micro Hei Mono", "Noto Sans Mono CJK SC", "Noto Sans Mono CJK KR")


def monospace() -> str | list[str]:
    """The ``family`` of monospaced text that may hold Chinese or Korean: matplotlib's monospace font,
    then an installed monospaced CJK font for the glyphs it lacks (plain ``"monospace"`` without one)."""
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_MONOSPACE_FONTS if name in known), None)
    return ["monospace", found] if found else "monospace"


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F")


def text_width(text: str) -> int:
    """How many columns of monospaced text ``text`` fills: a Han or Hangul character (wide) fills two."""
    return sum(2 if _wide(character) else 1 for character in text)


# In a figure, a column of monospaced text is a character of matplotlib's monospace font, 0.6 em wide;
# a wide character, from the CJK font, is 1 em: 5/3 of a column, not the 2 of a terminal. So is an
# ideographic space (U+3000), which the monospace font lacks too: wide characters and ideographic
# spaces, three by three, fill five columns, and spaces the rest.
WIDE_COLUMNS = Fraction(5, 3)
IDEOGRAPHIC_SPACE = "\u3000"


def drawn_columns(text: str) -> Fraction:
    """How many columns of a figure's monospaced text ``text`` fills (a wide character: 5/3)."""
    wide = sum(map(_wide, text))
    return len(text) - wide + WIDE_COLUMNS * wide


def padded_columns(text: str) -> int:
    """The fewest whole columns :func:`padding` fills ``text`` to, exactly."""
    wide = sum(map(_wide, text))
    return len(text) - wide + 5 * -(-wide // 3)


def padding(text: str, columns: int) -> str:
    """The spaces that make ``text`` exactly ``columns`` columns wide in a figure's monospaced text
    (at least :func:`padded_columns`). Text without wide characters: plain spaces, as ``str.ljust`` pads."""
    ideographic = -sum(map(_wide, text)) % 3
    return IDEOGRAPHIC_SPACE * ideographic + " " * int(columns - drawn_columns(text) - WIDE_COLUMNS * ideographic)


# What a line may break before: a Han character (with an opening bracket before it and the punctuation
# after it, which a line neither ends nor starts with), else a word with what follows it up to a space.
_BREAKABLE = re.compile(r"[（“「]?[\u4e00-\u9fff][，。、；：！？）”」]*|[^\s\u4e00-\u9fff]+|\s+")


def wrapped(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` columns of a figure (:func:`drawn_columns`); Chinese, which
    leaves no space between words, breaks between characters. Without wide characters: ``textwrap.fill``."""
    if not any(map(_wide, text)):
        return textwrap.fill(text, width=width)
    lines = [""]
    for piece in _BREAKABLE.findall(" ".join(text.split())):
        if piece.isspace():
            lines[-1] += " " if lines[-1] else ""
        elif lines[-1] and drawn_columns(lines[-1] + piece) > width:
            lines[-1] = lines[-1].rstrip()
            lines.append(piece)
        else:
            lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines)


def show_samples(images, labels, per_class: int = 6, seed: int = 0, title: str | None = None) -> Figure:
    """Draw a grid of examples: one row per class, ``per_class`` pictures in each.

    Args:
        images: uint8 ``(m, 64, 64, 3)`` pictures, e.g. ``X_train_orig``.
        labels: their labels, shaped ``(m,)`` or ``(1, m)``, e.g. ``Y_train_orig``.
        per_class: pictures shown for each class.
        seed: which pictures are picked (the same seed picks the same ones).
        title: optional title above the grid.

    Returns:
        A matplotlib ``Figure``; a notebook shows it when it is a cell's last value.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) != len(labels):
        raise ValueError(
            say(
                "expected RGB images (m, height, width, 3) and m labels, got images {shape} and {labels} labels",
                shape=images.shape,
                labels=labels.size,
            )
        )
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    figure = NotebookFigure(figsize=(1.25 * per_class, 1.3 * len(classes)), layout="constrained")
    axes = figure.subplots(len(classes), per_class, squeeze=False)
    for row, label in zip(axes, classes, strict=True):
        members = np.flatnonzero(labels == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for column, axis in enumerate(row):
            axis.set_xticks([])
            axis.set_yticks([])
            if column < len(chosen):
                axis.imshow(images[chosen[column]])
            else:
                axis.set_axis_off()
        fingers = say("{count} finger", count=label) if label == 1 else say("{count} fingers", count=label)
        row[0].set_ylabel(fingers, fontsize=9)
    if title:
        figure.suptitle(title)
    return figure
