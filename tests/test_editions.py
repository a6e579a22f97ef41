"""Language editions: what a catalogue may change in a master (markdown and comments only), and how a
changed English sentence is caught. The catalogues here are made by the test from the masters, each
unit "translated" by a marked copy, so that every unit of every master is exercised."""

import contextlib
import functools
import io
import random
import re

import nbformat
import pytest
from conftest import SCRIPTS

from resnets_utils.course import editions
from resnets_utils.course.reference import REPO

MASTERS = editions.master_notebooks(REPO / "course" / "source")


def _translated(notebook, language="zh_CN"):
    catalogue = editions.updated_catalogue(notebook, "course", language)
    for message in catalogue:
        if message.id:
            message.string = f"«{language}» {message.id}"
    return catalogue


@pytest.mark.parametrize("master", MASTERS, ids=[path.name for path in MASTERS])
def test_an_edition_changes_markdown_and_comments_only(master):
    notebook = nbformat.read(master, as_version=4)
    edition = editions.edition(notebook, _translated(notebook), "zh_CN")
    assert edition.metadata["resnets_course"]["language"] == "zh_CN"
    assert len(edition.cells) == len(notebook.cells)
    comments = 0
    for ours, theirs in zip(notebook.cells, edition.cells, strict=True):
        assert (ours.id, ours.cell_type, ours.metadata) == (theirs.id, theirs.cell_type, theirs.metadata)
        if ours.cell_type == "markdown" and ours.source.strip():
            assert theirs.source == f"«zh_CN» {ours.source}"
        elif ours.cell_type == "code":
            # Without the marks of the stand-in translation, the code is the master's, byte for byte:
            # only comments, docstrings and printed text were touched.
            assert theirs.source.replace("«zh_CN» ", "") == ours.source
            for line, their_line in zip(ours.source.splitlines(), theirs.source.splitlines(), strict=True):
                if line.lstrip().startswith(editions.UNTRANSLATED_COMMENTS):
                    assert their_line == line  # markers and directives stay as they are
            comments += theirs.source.count("«zh_CN»")
    assert comments > 0  # the masters' code cells do have comments to translate
    assert nbformat.validate(edition) is None


@pytest.mark.parametrize("master", MASTERS, ids=[path.name for path in MASTERS])
def test_a_changed_english_unit_is_named_until_it_is_translated_again(master, tmp_path):
    notebook = nbformat.read(master, as_version=4)
    path = editions.catalogue_path(tmp_path, "ko_KR", master)
    editions.write_catalogue(path, _translated(notebook, "ko_KR"))
    assert editions.problems(notebook, editions.read_catalogue(path, "ko_KR")) == []
    rng = random.Random(master.name)
    for _ in range(5):  # random units of the master, each changed by one word
        changed = nbformat.read(master, as_version=4)
        unit = rng.choice(editions.units(changed))
        cell = next(cell for cell in changed.cells if cell.id == unit.cell_id)
        assert unit.text in cell.source
        cell.source = cell.source.replace(unit.text, unit.text.replace(" ", " very ", 1) + " again", 1)
        merged = editions.updated_catalogue(changed, "course", "ko_KR", editions.read_catalogue(path, "ko_KR"))
        found = editions.problems(changed, merged)
        assert len(found) == 1 and found[0].startswith(f"cell {unit.cell_id}: "), found
        with pytest.raises(ValueError, match=unit.cell_id):
            editions.edition(changed, merged, "ko_KR")


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_every_glossary_term_is_translated_one_way_and_a_synonym_is_named(language):
    glossary = editions.read_catalogue(editions.glossary_path(REPO / "course" / "locale", language), language)
    terms = sorted(((m.id, m.string) for m in glossary if m.id), key=lambda pair: -len(pair[0]))
    assert len(terms) >= 15 and all(translation for _, translation in terms)

    def stand_in(english):  # a "translation" that uses every term's glossary translation, longest first
        for term, translation in terms:
            english = editions.term_pattern(term).sub(translation, english)
        return english

    for master in MASTERS:
        notebook = nbformat.read(master, as_version=4)
        catalogue = editions.updated_catalogue(notebook, master.stem, language)
        using = []
        for message in catalogue:
            if message.id:
                message.string = stand_in(message.id)
                if any(editions.term_pattern(term).search(editions.prose(message.id)) for term, _ in terms):
                    using.append(message)
        assert editions.glossary_problems(catalogue, glossary) == []
        rng = random.Random(f"{language}{master.name}")
        for message in rng.sample(using, min(5, len(using))):  # a translator's synonym in one unit
            term, translation = next(
                (t, tr) for t, tr in terms if tr in message.string and t.lower() in message.id.lower()
            )
            kept = message.string
            message.string = message.string.replace(translation, "〈synonym〉")
            found = editions.glossary_problems(catalogue, glossary)
            assert f"cell {message.context}: {term!r} is not translated as {translation!r}" in found, found
            message.string = kept


def test_printed_text_docstrings_and_comments_are_units_and_code_is_not():
    source = (
        "def f(X, s=1):\n"
        '    """Scale X by s."""  # why: the spec\n'
        '    print(f"{X.shape} scaled", measured.say("realism"), "x" + "y")\n'
        "    return X * s  # fmt: skip\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    assert [unit.text for unit in editions.units(notebook)] == ["Scale X by s.", "why: the spec", "{X.shape} scaled"]


# Literals a student reads, wherever the code puts them, and literals that are code.
SENTENCES = (
    "predicted {guess} / true {truth}",
    "{loss:.2f} with {depth} layers",
    "mean loss, last steps",
    "No model yet.",
)
NOT_SENTENCES = ("relu", "val_accuracy", "~/.cache/resnets-course/x.keras", "res2a_branch2a", "%Y-%m-%d %H", "{x}/{y}")
PLACES = (
    "axis.set_title({})",
    "label = {}",
    "plot(x, label={})",
    "names = [{}, 'b']",
    "f({}, 2)",
    "', '.join({} for depth in d)",
)


def test_any_literal_that_reads_as_words_is_a_unit_wherever_the_code_puts_it():
    rng = random.Random(32)
    for _ in range(60):
        text = rng.choice(SENTENCES + NOT_SENTENCES)
        quote = rng.choice(['"', "'"])
        literal = ("f" if "{" in text else "") + quote + text + quote
        source = rng.choice(PLACES).format(literal)
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        assert [unit.text for unit in editions.units(notebook)] == ([text] if text in SENTENCES else []), source
        if text in SENTENCES:  # and its translation takes its place, the code around it unchanged
            edition = editions.edition(notebook, _translated(notebook), "zh_CN")
            assert edition.cells[0].source == source.replace(text, f"«zh_CN» {text}")


def test_a_sentence_printed_in_pieces_between_values_is_refused_and_one_f_string_prints_it_alike():
    rng = random.Random(7)
    words, values = ("training examples:", "with the", "backend", "done"), ("n", "shape", "name.upper()", "3")
    namespace = {"n": 1080, "shape": (64, 64, 3), "name": "keras"}
    outcomes = set()
    for _ in range(40):
        said = [rng.random() < 0.5 for _ in range(rng.randint(1, 4))]  # a literal's text, or a value
        pieces = [(text, rng.choice(words if text else values)) for text in said]
        call = "print(" + ", ".join(repr(piece) if said else piece for said, piece in pieces) + ")"
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(call)])
        texts = [piece for said, piece in pieces if said]
        in_pieces = len(pieces) > 1 and len(texts) < len(pieces) and any(any(c.isalpha() for c in t) for t in texts)
        assert bool(editions.split_sentences(notebook)) == in_pieces, call
        outcomes.add(in_pieces)
        whole = 'print(f"' + " ".join(piece if said else "{" + piece + "}" for said, piece in pieces) + '")'
        assert not editions.split_sentences(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(whole)]))
        assert _printed(call, namespace) == _printed(whole, namespace)  # the advice changes nothing printed
    assert outcomes == {True, False}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print("Keras", version, "with the", b)')])
    with pytest.raises(ValueError, match="prints a sentence in pieces: write it as one f-string"):
        editions.edition(notebook, _translated(notebook), "zh_CN")


def _printed(code: str, namespace: dict) -> str:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(code, dict(namespace))
    return out.getvalue()


def test_a_translation_that_drops_a_field_or_breaks_the_code_is_refused():
    cell = nbformat.v4.new_code_cell('print(f"{count} blocks")\nprint("done")')
    notebook = nbformat.v4.new_notebook(cells=[cell])
    catalogue = editions.updated_catalogue(notebook, "course", "ko_KR")
    catalogue.get("{count} blocks", context=cell.id).string = "블록 개수"
    catalogue.get("done", context=cell.id).string = "끝"
    assert editions.problems(notebook, catalogue) == [
        f"cell {cell.id}: the translation changes code, fields or formulas: '{{count}} blocks'"
    ]
    catalogue.get("{count} blocks", context=cell.id).string = "블록 {count}개"
    catalogue.get("done", context=cell.id).string = '"끝"'
    with pytest.raises(ValueError, match="breaks the code"):
        editions.edition(notebook, catalogue, "ko_KR")
    catalogue.get("done", context=cell.id).string = "끝"
    assert editions.edition(notebook, catalogue, "ko_KR").cells[0].source == 'print(f"블록 {count}개")\nprint("끝")'


def test_a_docstring_keeps_the_names_of_the_arguments_it_describes():
    source = (
        'def block(X, filters, s=1):\n    """A block.\n\n    Args:\n'
        '        X: input.\n        filters (int): how many.\n    """'
    )
    cell = nbformat.v4.new_code_cell(source)
    notebook = nbformat.v4.new_notebook(cells=[cell])
    catalogue = editions.updated_catalogue(notebook, "course", "zh_CN")
    (english,) = [unit.text for unit in editions.units(notebook)]
    catalogue.get(
        english, context=cell.id
    ).string = "一个块。\n\n    参数：\n        X：输入。\n        滤波器数 (int)：数量。"
    (found,) = editions.problems(notebook, catalogue)
    assert "no longer describes the argument filters" in found  # and not X, whose name is kept
    catalogue.get(
        english, context=cell.id
    ).string = "一个块。\n\n    参数：\n        X: 输入。\n        filters (int): 数量。"
    assert editions.problems(notebook, catalogue) == []


def test_a_cited_title_kept_in_english_is_not_a_term_left_untranslated():
    glossary = editions.read_catalogue(editions.glossary_path(REPO / "course" / "locale", "zh_CN"), "zh_CN")
    cell = nbformat.v4.new_markdown_cell("The shortcut of *Identity Mappings in Deep Residual Networks*.")
    catalogue = editions.updated_catalogue(nbformat.v4.new_notebook(cells=[cell]), "course", "zh_CN")
    message = catalogue.get(cell.source, context=cell.id)
    message.string = "*Identity Mappings in Deep Residual Networks* 中的捷径连接。"
    assert editions.glossary_problems(catalogue, glossary) == []
    message.string = "*深度残差网络中的恒等映射* 中的捷径连接。"  # translated: the terms must follow the glossary
    assert editions.glossary_problems(catalogue, glossary) == []
    message.string = "*深度残差网络中的恒等变换* 中的捷径连接。"
    assert editions.glossary_problems(catalogue, glossary) == [
        f"cell {cell.id}: 'identity mapping' is not translated as '恒等映射'"
    ]


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_every_unit_of_every_master_is_translated_current_and_in_the_glossarys_terms(language):
    """CI's completeness check: a new or changed English unit fails here, naming its cell, until translated."""
    locale = REPO / "course" / "locale"
    glossary = editions.read_catalogue(editions.glossary_path(locale, language), language)
    for master in MASTERS:
        notebook = nbformat.read(master, as_version=4)
        path = editions.catalogue_path(locale, language, master)
        assert path.exists(), f"{path} is missing: run `python scripts/translations.py update`"
        catalogue = editions.read_catalogue(path, language)
        missing = editions.problems(notebook, catalogue)
        assert not missing, f"{path.name}:\n" + "\n".join(missing)
        assert editions.glossary_problems(catalogue, glossary) == []
        assert nbformat.validate(editions.edition(notebook, catalogue, language)) is None


def test_printed_text_that_an_expected_output_shows_stays_as_the_output_shows_it():
    code = nbformat.v4.new_code_cell(
        'print(f"{n} layers, {p:,} parameters")\nprint("training examples:", 5)\nprint("done")'
    )
    expected = nbformat.v4.new_markdown_cell("**Expected output**:\n\n```\n177 layers, 23,600,006 parameters\n```")
    notebook = nbformat.v4.new_notebook(cells=[code, expected])
    assert [unit.text for unit in editions.units(notebook)] == ["training examples:", "done", expected.source]


# ----------------------------------------------------------------------------- the released editions

ENGLISH_RELEASE = REPO / "assignments" / "residual_networks"


def _nbgrader_cells(notebook):
    """Each cell's id, type and nbgrader metadata but its checksum (of the source, whose comments are translated)."""
    return [
        (cell["id"], cell["cell_type"], {k: v for k, v in cell.metadata.get("nbgrader", {}).items() if k != "checksum"})
        for cell in notebook.cells
    ]


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_each_released_edition_has_the_english_releases_cells_grade_ids_and_points(language):
    edition = REPO / "assignments" / f"residual_networks_{language}"
    assert sorted(path.name for path in edition.glob("*.ipynb")) == sorted(
        p.name for p in ENGLISH_RELEASE.glob("*.ipynb")
    )
    for path in sorted(ENGLISH_RELEASE.glob("*.ipynb")):
        english, translated = (nbformat.read(folder / path.name, as_version=4) for folder in (ENGLISH_RELEASE, edition))
        assert _nbgrader_cells(translated) == _nbgrader_cells(english)
        assert translated.metadata["resnets_course"]["language"] == language
        assert SCRIPTS[language].search(translated.cells[0].source)  # its first heading, in its language


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_each_editions_reference_ran_and_its_checks_spoke_its_language(language):
    executed = nbformat.read(REPO / "solutions" / f"residual_networks_{language}" / "Residual_Networks.ipynb", 4)
    outputs = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs]
    assert outputs and not [output for output in outputs if output.output_type == "error"]
    graded = [cell for cell in executed.cells if cell.cell_type == "code" and "check_" in cell.source]
    for cell in graded:  # what each check printed: in the edition's language, no English sentence left
        printed = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        assert SCRIPTS[language].search(printed) and not editions.english_runs(printed), printed
    assert graded


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_every_line_an_editions_references_print_is_in_its_language(language):
    """What the course prints (its own lines, the checks, measured sentences), in all three notebooks;
    lines an "Expected output" block quotes stay as printed, and Keras' own output is not a stream."""
    left = []
    for path in sorted((REPO / "solutions" / f"residual_networks_{language}").glob("*.ipynb")):
        executed = nbformat.read(path, 4)
        shown = editions.expected_outputs(executed)
        printed = [
            line.strip()
            for cell in executed.cells
            if cell.cell_type == "code"
            for output in cell.outputs
            if output.output_type == "stream" and output.name == "stdout"
            for line in output.text.splitlines()
        ]
        assert printed, path.name
        left += [f"{path.name}: {line}" for line in printed if line not in shown and _english_in(line)]
    assert not left, "\n".join(left)


@functools.cache
def _printed_names() -> set[str]:
    """Values a reference prints as they are: the CPUs measured.json names, and Keras' backend."""
    import keras

    from resnets_utils.course import measured

    figures = measured.figures()
    cpus = {entry["cpu"] for entry in figures.values()}
    cpus |= {cpu for entry in figures.values() for cpu in entry.get("other_cpus") or {}}
    return cpus | {keras.config.backend()}


def _english_in(line: str) -> list[str]:
    return editions.english_runs(line) or editions.english_words(line, _printed_names())


@pytest.mark.parametrize("language", editions.LANGUAGES)
def test_a_code_name_or_english_words_in_a_translated_line_are_found(language):
    """English put at random into the lines a translated reference prints (a phrase of the package's own
    messages, such as a label printed as its code name) is found, wherever it stands in the line."""
    executed = nbformat.read(REPO / "solutions" / f"residual_networks_{language}" / "Explore_ResNet.ipynb", 4)
    outputs = [output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs]
    lines = [line for output in outputs if output.output_type == "stream" for line in output.text.splitlines()]
    lines = [line for line in lines if SCRIPTS[language].search(line) and not re.search("[`'\"]", line)]
    english = [message.id for message in editions.message_template() if isinstance(message.id, str)]
    phrases = [re.sub(r"\{[^{}]*\}|`[^`]*`|'[^']*'", " ", text) for text in english]
    phrases = [" ".join(p.split()).strip(" :,.()") for p in phrases]
    phrases = [p for p in phrases if re.search(r"\b[a-z]{2,}\b", p)]  # prose, not only names such as ReLU
    rng = random.Random(7)
    for _ in range(60):
        tokens, phrase = rng.choice(lines).split(" "), rng.choice(phrases)
        at = rng.randrange(len(tokens) + 1)
        spliced = " ".join([*tokens[:at], phrase, *tokens[at:]])
        assert _english_in(spliced), spliced
