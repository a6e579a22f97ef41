# ruff: noqa: E501  (the table of sources names tests in full)
"""Every quantitative sentence of the course's notebooks, with what it comes from.

    python scripts/quantities.py          # list each sentence and its source; exit 1 on any without one

A sentence is quantitative when it states a number or a comparison (more, faster, higher,
times, ...), once names are set aside: code, sizes such as 3x3, section, stage, figure and
table numbers, years and model names. Each must match one entry of ``SOURCES`` (a piece of
its text), and the entry's source must resolve:

- ``measured:<name>``: a measurement of ``scripts/measure.py`` in ``resnets_utils/course/measured.json``;
- ``test:<tests/file.py>::<function>``: a test that asserts the claim on a seeded run or the reference;
- ``code:<module>:<name>``: the value is defined there (the recipe, the architecture, the experiment);
- ``printed:<code>``: the notebook computes and prints it: ``<code>`` is in one of its code cells;
- ``arithmetic:<expression>``: the sentence shows its working; the result is in the sentence;
- ``paper:<reference>``: a claim of a cited work; ``<reference>`` is in the notebook's further reading.

An entry that matches no sentence is stale and fails too. Sentences in a "Further reading"
section summarise the works they cite.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import nbformat

from resnets_utils.course import editions

ROOT = Path(__file__).resolve().parent.parent
# every master (the generated editions translate them, numbers and sources included)
NOTEBOOKS = editions.master_notebooks(ROOT / "course" / "source")
COMPARISON = re.compile(
    r"\b(more|less|fewer|faster|slower|higher|lower|larger|smaller|better|worse|times|most|twice|half|halves|"
    r"doubles?|grows?|falls?|fades?|explodes?)\b",
    re.IGNORECASE,
)
NAMES = [
    r"`[^`]*`",  # code
    r"<[^>]+>",  # html tags
    r"\$\$.*?\$\$|\$[^$]*\$",  # formulas
    r"\b\d+\s*x\s*\d+(\s*x\s*\d+)?\b",  # sizes: 3x3, 64x64x3, 15 x 15
    r"\b(section|stage|stages|figure|table|block|layer|exercise)\s+\d+(\.\d+)?\b",
    r"\b(ResNet|ResNet50|VGG)-?\d+(V\d)?\b",
    r"\bv\d\.\d\b",
    r"\btop-\d\b",
    r"\b(19|20)\d\d\b",  # years of citations
    r"arXiv:\S+",
    r"\b(Keras|Answer|Python)\s+\d+\b",
    r"^\s*(\d+\.|[-*]|\([A-C]\))\s",  # list markers
]

WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten"}
REFERENCES = ("He et al.", "Goyal", "Yang", "NVIDIA")

TESTS = "tests/test_assignment.py::test_every_expected_output_block_equals_what_the_reference_prints"
SOURCES = {  # a piece of the sentence's text -> where its figure comes from
    # The optional notebook, Beyond_ResNet50.
    "the shortcut is a 1x1 convolution with stride `s` and a BatchNormalization": "code:resnets_utils.assignments.beyond_resnet50:RESNET18_STAGES",
    "The first block of stages 3, 4 and 5 halves the height and width": "code:resnets_utils.assignments.beyond_resnet50:RESNET18_STAGES",
    "He et al. (2015, Table 1) build ResNet-18 and ResNet-34 the same way": "paper:He et al.",
    "He et al. (2016, Figure 1) trained networks of 1001 layers": "paper:He et al.",
    "ResNet-50 has about twice the parameters and multiply-adds of ResNet-18": "test:tests/test_block_comparison.py::test_the_notebooks_reading_of_the_counts_holds_for_the_reference",
    "the graded notebook's recipe runs 16 epochs": "printed:epochs, batch_size = 16, 128",
    "a residual network of 32 layers trained at least as well as one of 8": "test:tests/test_degradation.py::test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not",
    "pictures scaled down to 16x16, 16 channels": "code:resnets_utils.experiments.degradation:DEEPER",
    "the 62-layer network ends with a clearly *higher* training loss than the 32-layer one": "test:tests/test_degradation.py::test_at_greater_depth_the_original_block_degrades_and_the_preactivation_block_does_not",
    "The 62-layer network of original blocks has a shortcut around every block": "code:resnets_utils.experiments.degradation:DEEPER",
    "The more blocks, the further the input of a late block is from the input of an early one": "paper:He et al.",
    "makes training harder, the ReLU after the addition the more so the deeper the network": "paper:He et al.",
    "the 62-layer network ends far lower than the original one": "test:tests/test_degradation.py::test_at_greater_depth_the_original_block_degrades_and_the_preactivation_block_does_not",
    # The assignment: what it is and how it is graded.
    "the 50-layer residual network of He et al": "arithmetic:1 + (3 + 4 + 6 + 3) * 3 + 1",
    "**10 points in total**": "test:tests/test_assignment.py::test_points_add_up_to_the_total_stated_in_the_notebook",
    "a few more checks are hidden": "code:resnets_utils.checks.cases:HIDDEN_EXPECTED",
    "relative tolerance of 1e-4": "code:resnets_utils.checks.judge:TOLERANCE",
    "3 + 4 + 6 + 3 = 16 blocks": "arithmetic:3 + 4 + 6 + 3",
    "23.6 million parameters, most of them (15 million)": "test:tests/test_widgets.py::test_explorer_stage_table_adds_up",
    "Every one of the 177 layers": f"test:{TESTS}",
    "23.6 million weights (4 bytes each)": f"test:{TESTS}",
    "with 23.6 million parameters and only 1,080 pictures": f"test:{TESTS}",
    "With 1,080 pictures a network this large overfits": "printed:lessons.read_training(",
    "holds most of them": "test:tests/test_widgets.py::test_explorer_stage_table_adds_up",
    # The specification's own numbers (the checks compare every layer with the reference).
    "with `F1` filters of shape (1, 1)": "code:resnets_utils.models.architecture:SETTINGS",
    "with `F2` filters of shape (f, f)": "code:resnets_utils.models.architecture:SETTINGS",
    "with `F3` filters of shape (1, 1), stride (1, 1)": "code:resnets_utils.models.architecture:SETTINGS",
    "with `F3` filters of shape (1, 1), stride (s, s)": "code:resnets_utils.models.architecture:SETTINGS",
    "on a 1x1 convolution (a 1x1 window needs no padding": "test:tests/test_checks.py::test_equivalent_spellings_pass_the_visible_and_hidden_checks",
    "one layer called twice would share its weights": "test:tests/test_checks.py::test_each_mistake_gets_its_own_diagnosis",
    "In stage 2 the block gets 256 channels": "test:tests/test_diagrams.py::test_stage_diagram_of_resnet50_has_each_stage_with_its_blocks_and_shapes",
    "Only some of the 16 shortcuts have weights": "printed:lessons.shortcut_parameters(model)",
    "much cheaper than two f x f convolutions": "printed:lessons.bottleneck_weights(identity_block)",
    "with a stride `s` of 2 also fewer rows": "printed:lessons.strided_shape(convolutional_block)",
    "works on four times as many pixels": "arithmetic:2 * 2",
    "| Stage | Layers | Output shape |": "test:tests/test_diagrams.py::test_stage_diagram_of_resnet50_has_each_stage_with_its_blocks_and_shapes",
    "64x64 pictures of a hand showing 0 to 5 fingers": "code:resnets_utils.data.handsigns:GESTURES",
    "0 mostly as the fingertips meeting the thumb": "code:resnets_utils.data.handsigns:GESTURES",
    "showing 0 to 5 fingers against a plain background": "code:resnets_utils.data.handsigns:NUM_CLASSES",
    # The training recipe and what the training shows.
    "The recipe below trains for 16": "measured:assignment_training",
    "so each identity block starts as the identity (a convolutional": "printed:lessons.zero_branch(identity_block)",
    "not the pixels of 1,080 pictures": "printed:X_train.shape[0]",
    "**bfloat16 arithmetic where the CPU has it.**": "code:resnets_utils.training.precision:NATIVE_FLAGS",
    "**BatchNormalization momentum 0.9**": "code:resnets_utils.training.pretrain:RECIPE",
    "the mirrored copies double the training set": "printed:np.concatenate([X_train, X_train[:, :, ::-1]])",
    "in batches of 128": "code:resnets_utils.training.pretrain:RECIPE",
    "2 to 3 times faster": "test:tests/test_training.py::test_every_notebook_turns_onednn_on_before_tensorflow_loads",
    "the network is **overfitting**": "printed:lessons.read_training(",
    "The usual cure is more, and more varied, pictures": "printed:lessons.read_training(",
    "More, and more varied, pictures are the cure": "printed:lessons.read_training(",
    "with the same recipe, with one difference": "code:resnets_utils.training.pretrain:RECIPE",
    "the closer the photo is to the training pictures, the better": "measured:realism",
    "the trained model with the higher test accuracy": "test:tests/test_progress.py::test_the_best_trained_model_is_the_one_with_the_higher_test_accuracy_then_none",
    "the pre-trained one, the one with the higher test accuracy": "test:tests/test_progress.py::test_the_best_trained_model_is_the_one_with_the_higher_test_accuracy_then_none",
    # The papers.
    "largely deal with this (He et al., 2015, section 1)": "paper:He et al.",
    "a deeper plain network can end with a *higher training error*": "paper:He et al.",
    "He et al. start from an experiment": "paper:He et al.",
    "He et al. trained theirs to the end": "paper:He et al.",
    "NVIDIA reports it about 0.5 points more accurate": "paper:NVIDIA",
    "top-1 error was 25.03% with A": "paper:He et al.",
    '(as in "ResNet-50 v1.5"': "paper:NVIDIA",
    "in the paper it ends lower": "paper:He et al.",
    "nothing pulls the optimiser towards it": "paper:He et al.",
    "a 1x1 convolution restores the channels": "paper:He et al.",
    "Stacking more layers lets a network represent more complicated functions": "paper:He et al.",
    "the product shrinks exponentially with depth": "arithmetic:0.9**50 < 0.01",
    "it blows up (**exploding gradients**)": "arithmetic:1.1**50 > 100",
    # The experiments of Explore_ResNet.ipynb, asserted on seeded runs.
    "a plain and a residual network of 8 and of 32 weight layers": "code:resnets_utils.experiments.degradation:DEPTHS",
    "Each is a 3x3 convolution (stride 2)": "code:resnets_utils.experiments.degradation:FIRST_STRIDE",
    "each network trains for 300 steps": "code:resnets_utils.experiments.degradation:STEPS",
    "the loss ln 6 of a network": "test:tests/test_degradation.py::test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not",
    "stays near chance level, far above the other three": "test:tests/test_degradation.py::test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not",
    "is *slower to start*": "test:tests/test_degradation.py::test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not",
    "That is not overfitting, which would make the training error *lower*": "paper:He et al.",
    "Two 30-layer networks": "code:resnets_utils.experiments.gradient_flow:DEPTH",
    "30 times (the first convolution, stride 4": "code:resnets_utils.experiments.gradient_flow:build_network",
    "halves the gradient's variance": "test:tests/test_widgets.py::test_the_plain_gradient_fades_or_explodes_layer_by_layer_and_the_residual_one_grows_a_little",
    "by about the same factor at every layer": "test:tests/test_widgets.py::test_the_plain_gradient_fades_or_explodes_layer_by_layer_and_the_residual_one_grows_a_little",
    "gradient therefore grows a little towards the input": "test:tests/test_widgets.py::test_the_plain_gradient_fades_or_explodes_layer_by_layer_and_the_residual_one_grows_a_little",
    "is below one in most blocks": "arithmetic:1 + -0.5 < 1",
    "a plain network of the same 50 weight layers": "test:tests/test_lessons.py::test_the_reference_resnet50_and_keras_own_lose_16_additions_and_start_16_branches_at_zero",
    "for the same 60 steps of Adam": "code:resnets_utils.experiments.no_shortcuts:STEPS",
    "falls well below chance level in 60 steps": "test:tests/test_lessons.py::test_without_its_shortcuts_resnet50_learns_more_slowly",
    "learns far more slowly": "test:tests/test_lessons.py::test_without_its_shortcuts_resnet50_learns_more_slowly",
    "deeper layers have fewer, coarser pixels and more channels": "printed:FeatureMapViewer(trained",
}


def _plain(markdown: str) -> str:
    markdown = re.sub(r"```.*?```", " ", markdown, flags=re.S)  # Expected output: tests/test_assignment.py
    markdown = re.sub(r"^#+ .*$", " ", markdown, flags=re.M)  # headings
    return markdown


def sentences(notebook: Path) -> list[tuple[str, bool]]:
    """``(sentence, in_further_reading)`` for every markdown sentence of ``notebook``."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        reading = False
        for part in re.split(r"(^#+ .*$)", cell.source, flags=re.M):
            if part.startswith("#"):
                reading = "Further reading" in part
                continue
            for paragraph in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.) )|</?details>|</?summary>", _plain(part)):
                text = re.sub(r"\s+", " ", paragraph or "").strip()
                for sentence in re.split(r"(?<!al\.)(?<=[.?!])\s+(?=[A-Z*(\"])", text):
                    if sentence:
                        found.append((sentence, reading))
    return found


def quantitative(sentence: str) -> bool:
    """A claim with a number or a comparison in it (a question claims nothing)."""
    if sentence.rstrip().endswith("?") or re.fullmatch(r"\d+\.", sentence.strip()):
        return False
    bare = sentence
    for pattern in NAMES:
        bare = re.sub(pattern, " ", bare, flags=re.IGNORECASE | re.MULTILINE)
    return bool(re.search(r"\d", bare) or COMPARISON.search(bare))


def _code_cells() -> str:
    return "\n".join(
        cell.source
        for notebook in NOTEBOOKS
        for cell in nbformat.read(notebook, as_version=4).cells
        if cell.cell_type == "code"
    )


def resolve(source: str, sentence: str) -> str | None:
    """``None`` when ``source`` resolves for ``sentence``; else what is wrong."""
    kind, _, detail = source.partition(":")
    if kind == "measured":
        entries = json.loads((ROOT / "resnets_utils" / "course" / "measured.json").read_text())
        return None if detail in entries else f"no measurement {detail!r} in measured.json"
    if kind == "test":
        path, _, function = detail.partition("::")
        file = ROOT / path
        if not file.exists() or not re.search(rf"^def {re.escape(function)}\(", file.read_text(), re.M):
            return f"no test {detail}"
        return None
    if kind == "code":
        module, _, name = detail.partition(":")
        try:
            return None if hasattr(importlib.import_module(module), name) else f"{module} has no {name}"
        except ImportError as error:
            return f"cannot import {module}: {error}"
    if kind == "printed":
        return None if detail in _code_cells() else f"no code cell computes {detail!r}"
    if kind == "arithmetic":
        value = eval(detail, {"__builtins__": {}})  # noqa: S307 - our own table's expressions
        if isinstance(value, bool):  # a comparison the sentence puts in words
            return None if value else f"{detail} is false"
        shown = [f"{value:,}", str(value), *([WORDS[value]] if value in WORDS else [])]
        return None if any(text in sentence for text in shown) else f"{detail} = {value} is not in the sentence"
    if kind == "paper":
        return None if detail in REFERENCES else f"{detail!r} is not a work the notebooks cite"
    return f"unknown kind of source {kind!r}"


def report() -> tuple[list[tuple[str, str, str]], list[str]]:
    """Each quantitative sentence with its source, and the problems (unsourced sentences, stale entries)."""
    rows, problems, used = [], [], set()
    for notebook in NOTEBOOKS:
        for sentence, reading in sentences(notebook):
            if not quantitative(sentence):
                continue
            if reading:
                rows.append((notebook.stem, sentence, "the work it cites"))
                continue
            keys = [key for key in SOURCES if key in sentence]
            if not keys:
                problems.append(f"{notebook.stem}: no source for: {sentence}")
                continue
            used.update(keys)
            for key in keys:
                wrong = resolve(SOURCES[key], sentence)
                if wrong:
                    problems.append(f"{notebook.stem}: {wrong}: {sentence}")
            rows.append((notebook.stem, sentence, "; ".join(SOURCES[key] for key in keys)))
    problems += [f"stale entry, in no sentence: {key!r}" for key in SOURCES if key not in used]
    return rows, problems


def main() -> int:
    rows, problems = report()
    for notebook, sentence, source in rows:
        print(f"{notebook}: {sentence}\n    <- {source}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{len(rows)} quantitative sentences, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
