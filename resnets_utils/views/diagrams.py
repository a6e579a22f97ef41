"""Readable Graphviz diagrams of a residual block and of the whole ResNet-50.

Keras' ``plot_model`` draws every one of ResNet-50's 177 layers: a picture 14 times taller
than it is wide, whose names cannot be read once it fits a screen. Here instead:

- :func:`block_diagram`: one block (a small model holding just the block), one node per layer
  with its name, type, kernel size, stride and output shape; the shortcut in orange.
  :func:`block_diagram_from_rows` draws the same from a block's rows of a whole model's table
  (the architecture explorer's diagram).
- :func:`stage_diagram`: the whole network with one node per stage (its block count,
  filters, stride and output shape) between the stem and the classifier.
- :func:`layer_graph`: Keras' diagram of every layer, folded away until a click unfolds it.

Both diagrams are drawn at :data:`DPI` with text of :data:`FONTSIZE` points, so letters are
``FONTSIZE * DPI / 72`` pixels high (13 px) at 100% zoom, and fit in 1,000 x 1,200 pixels.
Without Graphviz's ``dot`` program they print why and a text summary, and return None.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from resnets_utils.language import N_, say
from resnets_utils.models import naming
from resnets_utils.models.architecture import describe, shape_text
from resnets_utils.models.naming import is_shortcut

# In English; ``say(GRAPHVIZ_MISSING)`` in the student's language.
GRAPHVIZ_MISSING = N_(
    "Graphviz's `dot` program is missing, so here is a text summary instead of a diagram. "
    "Install it with `sudo apt-get install graphviz` (or `conda install -c conda-forge graphviz`), "
    "then restart the kernel."
)
DPI = 96
RETINA_DPI = 2 * DPI  # for pictures shown at half their pixels, as the widgets' pictures: sharper, the same size
FONTSIZE = 10  # points: 10 * 96 / 72 = 13.3 pixels
FONT = "Helvetica"
SHORTCUT_COLOUR = "#ff7f0e"  # matplotlib's tab:orange, the shortcut's colour in the course
SHORTCUT_FILL = "#fde3c8"
MAIN_FILL = "#dbe9f6"
STAGE_FILL = "#c6dbef"
OTHER_FILL = "#f2f2f2"

_AUTOMATIC_MODEL_NAME = re.compile(r"(functional|model|sequential)(_\d+)?$")


@dataclass(frozen=True)
class DiagramImage:
    """A rendered diagram: a notebook shows it as a picture when it is a cell's value.

    Attributes:
        png: the PNG file's bytes.
        source: the Graphviz DOT text it was drawn from.
    """

    png: bytes
    source: str

    @property
    def data(self) -> bytes:
        """The PNG bytes (the name ``IPython.display.Image`` uses)."""
        return self.png

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, read from the PNG header."""
        return int.from_bytes(self.png[16:20], "big"), int.from_bytes(self.png[20:24], "big")

    def save(self, path) -> Path:
        """Write the PNG to ``path``; return it as a ``Path``."""
        path = Path(path)
        path.write_bytes(self.png)
        return path

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        width, height = self.size
        return f"<DiagramImage {width}x{height} px>"


# ----------------------------------------------------------------------------- public functions


def block_diagram(model, title: str | None = None) -> DiagramImage | None:
    """Draw a small functional model, such as one residual block, one node per layer.

    Each node gives the layer's name (or only its type when Keras named it), its type,
    kernel size, stride when not 1 and output shape. The shortcut's layers and edges are
    orange. Example::

        inputs = keras.Input((15, 15, 256))
        outputs = identity_block(inputs, 3, [64, 64, 256], stage=2, block="x", training=None)
        block_diagram(keras.Model(inputs, outputs, name="identity_block"))

    Args:
        model: a Keras functional model, e.g. a block on its own (about 15 layers fit).
        title: shown above the diagram; by default the model's name unless Keras chose it.

    Returns:
        A :class:`DiagramImage`, or None when Graphviz is missing (then the reason and
        ``model.summary()`` are printed).
    """
    if not have_dot():
        print(say(GRAPHVIZ_MISSING))
        model.summary()
        return None
    return _render(block_source(describe(model), _title(model, title)))


def block_diagram_from_rows(
    rows: list[dict], title: str = "", model_rows: list[dict] | None = None, dpi: int = DPI
) -> DiagramImage:
    """The diagram of :func:`block_diagram`, drawn from a block's rows of ``describe``.

    Layers outside ``rows`` that feed the block (found in ``model_rows``, the whole model's
    rows) are drawn as its input. Needs Graphviz: check :func:`have_dot` first.
    """
    return _render(block_source(rows, title, model_rows, dpi))


def stage_diagram(model, title: str | None = None) -> DiagramImage | None:
    """Draw the course's ResNet-50 by stage: the stem's layers, one node per stage, the classifier.

    Each stage's node gives its block count ("1 convolutional + 2 identity blocks"), filters,
    window size f, stride, output shape and parameters; the title, by default, the model's
    name and parameter count.

    Stages and blocks are found from the layer names (``res{stage}{block}_branch2a``; a
    convolutional block also has ``res{stage}{block}_branch1``), so any model named as in
    the course works, whatever its depth or input size.

    Returns:
        A :class:`DiagramImage`, or None when Graphviz is missing (then the reason and the
        same information as text are printed).
    """
    nodes = stage_nodes(model)
    if not have_dot():
        print(say(GRAPHVIZ_MISSING))
        for node in nodes:
            print(" | ".join(line for line in node.lines if line))
        return None
    return _render(stage_source(model, title, nodes))


def layer_graph(model) -> LayerGraph | None:
    """Keras' diagram of every layer, shown folded under a line a click unfolds (None without Graphviz).

    An SVG: it stays sharp at any zoom, and a browser finds a layer in it (Ctrl+F
    ``res4c_branch2b``). ``.save("resnet50_layers.svg")`` writes it to a file.
    """
    import keras

    if not have_dot():
        print(say(GRAPHVIZ_MISSING))
        model.summary()
        return None
    graph = keras.utils.model_to_dot(model, show_shapes=True, show_layer_names=True, dpi=DPI)
    return LayerGraph(graph.create(format="svg"), len(model.layers))


@dataclass(frozen=True)
class LayerGraph:
    """An SVG of every layer; a notebook shows it folded (HTML ``<details>``)."""

    svg: bytes
    layers: int

    def save(self, path) -> Path:
        path = Path(path)
        path.write_bytes(self.svg)
        return path

    def __repr__(self) -> str:  # also the notebook's text/plain: not the SVG itself
        return f"<LayerGraph of {self.layers} layers, {len(self.svg):,} bytes of SVG>"

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.svg).decode()
        summary = html.escape(
            say("Every layer ({count} layers, with their output shapes): click to unfold", count=self.layers)
        )
        alt = html.escape(say("every layer of the model"), quote=True)
        return (
            f"<details><summary>{summary}</summary><div style='overflow:auto; max-height:900px'>"
            f"<img style='max-width:none' alt='{alt}' src='data:image/svg+xml;base64,{encoded}'>"
            "</div></details>"
        )


# ----------------------------------------------------------------------------- a block, layer by layer


def layer_lines(row: dict) -> tuple[str, str]:
    """``(name, details)`` for a row of ``describe``: the name is empty for unnamed layers."""
    kind = row["type"]
    if kind == "Activation":
        kind = {"relu": "ReLU", "softmax": "Softmax"}.get(row.get("activation"), f"Activation {row.get('activation')}")
    parts = [kind]
    window = row.get("kernel_size") or row.get("pool_size")
    if window:
        parts.append("x".join(str(n) for n in window))
    strides = row.get("strides")
    if strides and any(n != 1 for n in strides):
        stride = "x".join(str(n) for n in strides) if len(set(strides)) > 1 else str(strides[0])
        parts.append(say("stride {stride}", stride=stride))
    if row["type"] == "ZeroPadding2D" and row.get("padding"):
        pads = {n for pair in row["padding"] for n in (pair if isinstance(pair, list) else [pair])}
        parts.append(say("pad {padding}", padding=pads.pop() if len(pads) == 1 else row["padding"]))
    if row["type"] == "Dense":
        parts.append(say("{units} units", units=row.get("units")))
        if row.get("activation") not in (None, "linear"):
            parts.append(row["activation"])
    details = ", ".join([" ".join(parts[:2]), *parts[2:]]) if window else ", ".join(parts)
    shape = shape_text(row)
    name = "" if "#" in row["name"] else row["name"]
    if row["type"] == "InputLayer":
        name, details = say("input"), ""
    return name, f"{details} \u2192 {shape}" if details else shape


def block_source(rows: list[dict], title: str = "", model_rows: list[dict] | None = None, dpi: int = DPI) -> str:
    """The DOT text of a block's diagram from its rows (no Graphviz needed); see :func:`block_diagram_from_rows`."""
    inside = {row["name"] for row in rows}
    feeding = list(dict.fromkeys(source for row in rows for source in row["inputs"] if source not in inside))
    order = {name: index for index, name in enumerate([*feeding, *(row["name"] for row in rows)])}
    ids = {name: f"n{index}" for name, index in order.items()}
    lines = _header(title, ranksep=0.17, dpi=dpi)

    known = {row["name"]: row for row in model_rows or ()}
    for name in feeding:  # the previous block's output: this block's input
        shape = shape_text(known[name]) if name in known else ""
        lines.append(_node(ids[name], say("input"), shape, fill=OTHER_FILL, group="main"))
    shortcut_rows = [row for row in rows if is_shortcut(row["name"])]
    for row in rows:
        if row in shortcut_rows:
            continue
        lines.append(_node(ids[row["name"]], *layer_lines(row), fill=_fill(row), group="main", shape=_shape_of(row)))
    if shortcut_rows:
        label = _quoted(say("shortcut"))  # said outside the f-string, where the catalogues' extraction finds it
        lines.append(
            "  subgraph cluster_shortcut {"
            f' label={label}; color="{SHORTCUT_COLOUR}"; fontcolor="{SHORTCUT_COLOUR}"; style="rounded,dashed";'
        )
        for row in shortcut_rows:
            name, details = layer_lines(row)
            lines.append("  " + _node(ids[row["name"]], name, details, fill=SHORTCUT_FILL, colour=SHORTCUT_COLOUR))
        lines.append("  }")

    for row in rows:
        sources = sorted(row["inputs"], key=order.get)
        for source in sources:
            skip = row["type"] == "Add" and source == sources[0] and not any(is_shortcut(s) for s in sources)
            if is_shortcut(source) or is_shortcut(row["name"]):
                lines.append(_edge(ids[source], ids[row["name"]], colour=SHORTCUT_COLOUR))
            elif skip and len(sources) > 1:  # an identity block: the earliest input skips the main path
                label = say("shortcut (identity)")
                lines.append(_edge(ids[source], ids[row["name"]], colour=SHORTCUT_COLOUR, label=label))
            else:
                lines.append(_edge(ids[source], ids[row["name"]]))
    return "\n".join([*lines, "}"]) + "\n"


def _fill(row: dict) -> str:
    return MAIN_FILL if row["type"] not in ("InputLayer", "Add") else OTHER_FILL


def _shape_of(row: dict) -> str:
    return "ellipse" if row["type"] == "Add" else "box"


# ----------------------------------------------------------------------------- the network, stage by stage


@dataclass(frozen=True)
class StageNode:
    """One node of :func:`stage_diagram`: ``lines[0]`` in bold, ``cluster`` groups the stem and classifier."""

    key: str
    lines: tuple[str, ...]
    cluster: str = ""


def stage_nodes(model) -> list[StageNode]:
    """The nodes of :func:`stage_diagram`, input to output."""
    rows = describe(model)
    by_name = {row["name"]: row for row in rows}
    blocks: dict[int, list[str]] = {}
    for row in rows:
        if start := naming.block_start(row["name"]):
            blocks.setdefault(start[0], []).append(start[1])
    if not blocks:
        raise ValueError(
            say(
                "no layer is named like res2a_branch2a: stage_diagram knows the course's ResNet names only; "
                "use block_diagram or layer_graph for other models"
            )
        )

    first_block_layer = min(index for index, row in enumerate(rows) if naming.is_block_layer(row["name"]))
    nodes = []
    for row in rows[:first_block_layer]:
        name, details = layer_lines(row)
        cluster = "" if row["type"] == "InputLayer" else say("stage 1 (stem)")
        nodes.append(StageNode(row["name"], (name, details), cluster))

    last_output = None
    for stage in sorted(blocks):
        letters = sorted(blocks[stage])
        convolutional = [b for b in letters if naming.conv(stage, b, naming.SHORTCUT) in by_name]
        first = letters[0]
        branch = [name for part in naming.BRANCH if (name := naming.conv(stage, first, part)) in by_name]
        filters = [by_name[name].get("filters") for name in branch]
        window = max((by_name[name]["kernel_size"] for name in branch), key=lambda size: size[0] * size[1])
        kernel = str(window[0]) if len(set(window)) == 1 else "x".join(str(n) for n in window)
        strides = by_name[naming.conv(stage, first, "2a")]["strides"]
        last_block = [
            name
            for part in naming.BRANCH
            for name in (naming.conv(stage, letters[-1], part), naming.batchnorm(stage, letters[-1], part))
            if name in by_name
        ]
        last_output = _block_output(rows, max(last_block, key=lambda name: rows.index(by_name[name])))
        params = sum(row["params"] for row in rows if naming.is_block_layer(row["name"], stage))
        identity = len(letters) - len(convolutional)
        if len(branch) == len(naming.BRANCH):  # bottlenecks: the course's convolutional and identity blocks
            counts = {"convolutional": len(convolutional), "identity": identity}
            if identity == 1:
                count = say("{convolutional} convolutional + {identity} identity block", **counts)
            else:
                count = say("{convolutional} convolutional + {identity} identity blocks", **counts)
        else:
            count = say(
                "{blocks} blocks of {convolutions} convolutions, {projections} with a projection",
                blocks=len(letters),
                convolutions=len(branch),
                projections=len(convolutional),
            )
        nodes.append(
            StageNode(
                f"stage{stage}",
                (
                    say("stage {stage}", stage=stage),
                    count,
                    say(
                        "filters {filters}, f={kernel}, stride {stride}",
                        filters=filters,
                        kernel=kernel,
                        stride=strides[0],
                    ),
                    say(
                        "output {shape}, {count:,} parameters",
                        shape="x".join(str(n) for n in last_output["output_shape"]),
                        count=params,
                    ),
                ),
            )
        )

    if last_output is not None:
        for row in rows[rows.index(last_output) + 1 :]:
            nodes.append(StageNode(row["name"], layer_lines(row), say("classifier")))
    return nodes


def _block_output(rows: list[dict], last_branch_layer: str) -> dict:
    """The ReLU after the block's addition, else (a pre-activation block) the addition itself."""
    add = next(row for row in rows if row["type"] == "Add" and last_branch_layer in row["inputs"])
    after = (row for row in rows if row["inputs"] == [add["name"]] and row["type"] == "Activation")
    return next(after, add)


def stage_source(model, title: str | None = None, nodes: list[StageNode] | None = None) -> str:
    """The DOT text of :func:`stage_diagram` (no Graphviz needed); the title counts the parameters."""
    nodes = nodes if nodes is not None else stage_nodes(model)
    if title is None:
        title = say("{model}: {count:,} parameters", model=model.name, count=model.count_params())
    lines = _header(title, ranksep=0.15)
    ids = {node.key: f"n{index}" for index, node in enumerate(nodes)}
    clusters: dict[str, list[StageNode]] = {}
    for node in nodes:
        clusters.setdefault(node.cluster, []).append(node)
    for cluster, members in clusters.items():
        indent = "  "
        if cluster:
            label = _quoted(cluster)  # the stem's or the classifier's name, in the student's language
            lines.append(
                f'  subgraph cluster_{len(lines)} {{ label={label}; labeljust="l"; color="#999999"; style=rounded;'
            )
            indent = "    "
        for node in members:
            fill = STAGE_FILL if node.key.startswith("stage") else (MAIN_FILL if cluster else OTHER_FILL)
            name, *rest = node.lines
            lines.append(indent + _node(ids[node.key], name, *rest, fill=fill, group="main").strip())
        if cluster:
            lines.append("  }")
    for before, after in zip(nodes, nodes[1:], strict=False):
        lines.append(_edge(ids[before.key], ids[after.key]))
    return "\n".join([*lines, "}"]) + "\n"


# ----------------------------------------------------------------------------- DOT text and rendering


def _title(model, title: str | None) -> str:
    if title is not None:
        return title
    return "" if _AUTOMATIC_MODEL_NAME.match(model.name) else model.name


def _header(title: str, ranksep: float, dpi: int = DPI) -> list[str]:
    font = f'fontname="{FONT}", fontsize={FONTSIZE}'
    lines = [
        "digraph diagram {",
        f"  graph [dpi={dpi}, rankdir=TB, ranksep={ranksep}, nodesep=0.25, margin=0.1, {font}, labelloc=t];",
        f'  node [shape=box, style="rounded,filled", margin="0.1,0.03", height=0.3, penwidth=1, {font}];',
        f"  edge [arrowsize=0.6, penwidth=1.2, {font}];",
    ]
    if title:
        lines.append(f"  label=<<B>{html.escape(title)}</B>>;")
    return lines


def _node(node_id, name, *details, fill, colour="#555555", group="", shape="box") -> str:
    parts = [f"<B>{html.escape(name)}</B>"] if name else []
    parts += [html.escape(line) for line in details if line]
    attributes = [f"label=<{'<BR/>'.join(parts)}>", f'fillcolor="{fill}"', f'color="{colour}"', f"shape={shape}"]
    if group:
        attributes.append(f"group={group}")
    return f"  {node_id} [{', '.join(attributes)}];"


def _edge(source, target, colour="#333333", label="") -> str:
    attributes = [f'color="{colour}"']
    if colour != "#333333":
        attributes.append("penwidth=2")
    if label:  # the identity shortcut: free to bend round the main path, which stays straight
        attributes.append(f'label={_quoted(" " + label)}, fontcolor="{colour}", weight=0')
    return f"  {source} -> {target} [{', '.join(attributes)}];"


def _quoted(text: str) -> str:
    """A DOT string: double quotes, with quotes and backslashes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def have_dot() -> bool:
    """Whether Graphviz's ``dot`` program is installed (else :data:`GRAPHVIZ_MISSING` says how)."""
    return shutil.which("dot") is not None


def _render(source: str) -> DiagramImage:
    result = subprocess.run(
        [shutil.which("dot") or "dot", "-Tpng"], input=source.encode(), capture_output=True, timeout=120, check=False
    )
    if result.returncode != 0 or not result.stdout.startswith(b"\x89PNG"):
        error = result.stderr.decode(errors="replace").strip()
        raise RuntimeError(say("Graphviz could not draw the diagram: {error}", error=error))
    return DiagramImage(result.stdout, source)
