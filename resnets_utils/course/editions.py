"""Language editions of a master notebook, from gettext catalogues kept beside the masters.

A master's translatable units are its markdown cells (one unit each) and, in its code cells, the
comments, the docstrings, the text given to ``print`` and every other literal that reads as words,
such as a figure's title (one unit per distinct text in a cell; printed text that an "Expected output"
block quotes stays as printed). A sentence printed in pieces between values is refused
(:func:`split_sentences`): each language needs it whole. Each unit's gettext context
is its cell's id, so a catalogue entry names the cell it belongs to. Code, cell metadata (nbgrader's
grade ids and points), cell ids and the course's markers are never units: an edition differs from
its master only in its units, which :func:`edition` builds and the tests prove.

``course/locale/<language>/<notebook stem>.po`` holds a language's catalogue of one notebook.
:func:`updated_catalogue` merges a master's units into it with gettext's rules: a unit whose
English changed keeps its old translation marked *fuzzy*, a new unit is untranslated, and
:func:`problems` names the cell of every unit that is either, so CI fails until it is translated.
The package's own messages (``say``, ``N_``: :mod:`resnets_utils.language`) have one catalogue per
language, ``resnets_utils/locale/<language>/messages.po``, kept the same way (:func:`updated_messages`,
:func:`message_problems`).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from resnets_utils.assignments import edition_name, edition_of
from resnets_utils.language import ENGLISH, LANGUAGES

GENERATED = "generated from course/source/{master} by `make release`: edit the master and its catalogues instead"

# Comments that are markers or tool directives, not prose: never translated.
UNTRANSLATED_COMMENTS = ("###", "# fmt:", "# noqa", "# type:")
COPYRIGHT = "the ResNets course maintainers"
ITALIC = r"(?<!\*)\*(?!\*)[^*]+(?<!\*)\*(?!\*)"  # *a title*, not **bold**


@dataclass(frozen=True)
class Unit:
    cell_id: str  # the gettext context
    text: str  # the English, as the master has it (a comment without its "# ")


_QUOTES = re.compile(r"(?is)^([rbfu]*)(\"\"\"|\'\'\'|\"|\')")


def _offsets(source: str) -> list[int]:
    """The offset in ``source`` of each line's start (tokenize's rows count from 1)."""
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _sentence(literal: str) -> bool:
    """Whether a ``literal`` (its source, quotes included) reads as words: two or more, its ``{fields}``
    aside; not a key, a name or a path."""
    text = literal[len(_QUOTES.match(literal).group(0)) :]
    words = [word.strip(".,:;!?()'\"") for word in re.sub(r"\{[^{}]*\}", " ", text).split()]
    return sum(len(word) > 1 and word.isalpha() for word in words) >= 2


def _literal(node) -> bool:
    """Whether ``node`` is a string literal or an f-string."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _literals(tree) -> list:
    """The string literals and f-strings of ``tree``, each whole (not the parts inside an f-string)."""
    inside = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in ast.walk(node)}
    inside -= {id(node) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)}
    return [node for node in ast.walk(tree) if id(node) not in inside and _literal(node)]


def _printed(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"


def _read_aloud(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans ``((row, column), (end row, end column))`` of the string literals a student reads in
    ``source``: docstrings, what ``print`` is given as text, and any other literal that reads as words
    (a figure's title, a line joined before it is printed). Columns in characters, as tokenize's."""
    tree = ast.parse(source)
    nodes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                nodes += [first.value] if isinstance(first.value.value, str) else []
        if _printed(node):
            nodes += [arg for arg in node.args if _literal(arg)]
    nodes += [node for node in _literals(tree) if _sentence(ast.get_source_segment(source, node) or "")]
    lines = source.splitlines()

    def column(row, offset):  # ast counts UTF-8 bytes
        return len(lines[row - 1].encode()[:offset].decode(errors="ignore"))

    return [
        (
            (node.lineno, column(node.lineno, node.col_offset)),
            (node.end_lineno, column(node.end_lineno, node.end_col_offset)),
        )
        for node in nodes
    ]


def split_sentences(notebook) -> list[str]:
    """One line per ``print`` in ``notebook``'s code that gives its text in pieces between values
    (``print("Keras", version, "with the", backend, "backend")``): each piece would be translated alone,
    and no language puts its words where English does. One f-string makes it one sentence."""
    shown = expected_outputs(notebook)
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:  # cell magics and shell lines are not Python
            continue
        for node in filter(_printed, ast.walk(tree)):
            texts = [arg for arg in node.args if _literal(arg)]
            words = [ast.get_source_segment(cell["source"], arg) for arg in texts]
            spoken = [text for text in words if re.search(r"[A-Za-z]", text) and not _shown(text[1:-1].strip(), shown)]
            if spoken and len(node.args) > 1 and len(texts) < len(node.args):
                call = ast.get_source_segment(cell["source"], node)
                found.append(f"cell {cell['id']}: {call[:70]!r} prints a sentence in pieces: write it as one f-string")
    return found


def _shown(text: str, shown: str) -> bool:
    """Whether printed ``text`` (an f-string's fields matching anything) appears in ``shown``."""
    pattern = ".+?".join(re.escape(part) for part in re.split(r"\{[^{}]*\}", text))
    return bool(shown) and re.search(pattern, shown) is not None


def expected_outputs(notebook) -> str:
    """The notebook's code blocks in markdown ("Expected output"): what its code prints, not prose."""
    return "\n".join(
        block for cell in notebook["cells"] if cell["cell_type"] == "markdown"
        for block in re.findall(r"```(.*?)```", cell["source"], flags=re.DOTALL)
    )  # fmt: skip


def _pieces(source: str, shown: str = "") -> list[tuple[int, int, str]]:
    """``(start, end, text)`` offsets of each translatable piece of a code cell's ``source``: the text of
    its comments (after ``# ``), of its docstrings and of the literals it prints (inside the quotes),
    except printed text that ``shown`` (the expected outputs) quotes: an edition prints what they say."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        spans = _read_aloud(source)
    except (tokenize.TokenError, SyntaxError):  # cell magics and shell lines are not Python
        return []
    lines, found = _offsets(source), []
    for token in tokens:
        (row, column), (end_row, end_column) = token.start, token.end
        start, end = lines[row - 1] + column, lines[end_row - 1] + end_column
        if token.type == tokenize.COMMENT and not token.string.startswith(UNTRANSLATED_COMMENTS):
            text = token.string.lstrip("#")  # "## a hint" is a comment too; its marks stay
            found.append((end - len(text), end, text))
        elif token.type == tokenize.STRING and any(first <= token.start and token.end <= last for first, last in spans):
            opening = _QUOTES.match(token.string)
            quote = opening.group(2)
            text = token.string[len(opening.group(0)) : -len(quote)]
            if not _shown(text.strip(), shown):
                found.append((start + len(opening.group(0)), end - len(quote), text))
    # Leading and trailing blanks stay in the code; a piece needs words to be translated.
    pieces = []
    for start, _end, text in found:
        stripped = text.strip()
        if any(character.isalpha() for character in re.sub(r"\{[^{}]*\}", "", stripped)):  # words, not just fields
            lead = len(text) - len(text.lstrip())
            pieces.append((start + lead, start + lead + len(stripped), stripped))
    return pieces


def units(notebook) -> list[Unit]:
    """The translatable units of a notebook read by ``nbformat`` (cells with ids), in cell order."""
    found: list[Unit] = []
    shown = expected_outputs(notebook)
    for cell in notebook["cells"]:
        source = cell["source"]
        if cell["cell_type"] == "markdown" and source.strip():
            found.append(Unit(cell["id"], source))
        elif cell["cell_type"] == "code":
            texts = dict.fromkeys(text for _, _, text in _pieces(source, shown))
            found.extend(Unit(cell["id"], text) for text in texts)
    return found


def kept(text: str) -> list[str]:
    """What a translation must keep as it is: code blocks (an "Expected output" among them), code spans,
    replacement fields ``{...}``, formulas and the course's markers (``### START CODE HERE ###``)."""
    found = re.findall(r"```.*?```|`[^`]*`|\{[^{}]*\}|\$[^$]*\$|###[^#\n`]+###", text, flags=re.DOTALL)
    return sorted(found)


def catalogue_path(locale_dir: Path, language: str, master: Path) -> Path:
    return Path(locale_dir) / language / f"{Path(master).stem}.po"


def _catalogue(name: str, language: str | None = None):
    from babel.messages.catalog import Catalog

    return Catalog(locale=language, project=name, fuzzy=False, copyright_holder=COPYRIGHT, msgid_bugs_address="")


def template(notebook, name: str):
    """A Babel catalogue holding every unit of ``notebook``, untranslated (gettext's .pot)."""
    catalogue = _catalogue(name)
    for unit in units(notebook):
        catalogue.add(unit.text, context=unit.cell_id)
    return catalogue


def read_catalogue(path: Path, language: str):
    from babel.messages.pofile import read_po

    with open(path, "rb") as file:
        return read_po(file, locale=language)


def write_catalogue(path: Path, catalogue) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=0, ignore_obsolete=True, include_previous=True, include_lineno=False)
    path.write_bytes(buffer.getvalue())


def updated_catalogue(notebook, name: str, language: str, existing=None):
    """``existing`` (or a new catalogue) brought up to the notebook's units, as ``msgmerge`` does."""
    catalogue = existing if existing is not None else _catalogue(name, language)
    catalogue.update(template(notebook, name), update_creation_date=False)
    return catalogue


def message_template():
    """Every message the package says to students (marked with ``say`` or ``N_``), untranslated."""
    from babel.messages.extract import extract_from_dir

    package = Path(__file__).resolve().parents[1]
    catalogue = _catalogue("resnets_utils")
    keywords = {"say": None, "N_": None}
    for filename, line, message, _, _ in extract_from_dir(package, [("**.py", "python")], keywords=keywords):
        catalogue.add(message, locations=[(f"resnets_utils/{filename}", line)])
    return catalogue


def updated_messages(language: str, existing=None):
    """``existing`` (or a new catalogue) brought up to the package's messages, as ``msgmerge`` does."""
    catalogue = existing if existing is not None else _catalogue("resnets_utils", language)
    catalogue.update(message_template(), update_creation_date=False)
    return catalogue


ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ -][A-Za-z]{2,}){2,}\b")
NOT_PROSE = r"`[^`]*`|\{[^{}]*\}|'[^']*'|\"[^\"]*\""  # code spans, fields and quotes


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words in translated ``text``, outside code, quotes and fields:
    English the translation left behind (a single term such as ReLU or Keras is fine)."""
    return ENGLISH_RUN.findall(re.sub(NOT_PROSE, " ", text))


ENGLISH_WORD = re.compile(r"(?<![\w.-])[a-z]{2,}(?:-[a-z]+)*(?!\w)")


def english_words(text: str, names=()) -> list[str]:
    """Lowercase English words in a translated line the course printed, outside code, quotes, paths and
    ``names`` (values printed as they are, such as a CPU's name): a code name printed where its label
    belongs ("plain", "with shortcuts"), which a run of three words would miss."""
    for name in names:
        text = text.replace(name, " ")
    code = r"\w+\s*=\s*\S*|\w+\("  # arguments, calls
    path = r"(?<!\S)[~/]\S*|\S+/\S*\.\w+"  # a file's path, not a unit such as pictures/s
    return ENGLISH_WORD.findall(re.sub(f"{NOT_PROSE}|{code}|{path}", " ", text))


def message_problems(catalogue) -> list[str]:
    """One line per package message that ``catalogue`` leaves untranslated, marks out of date, or
    translates with its code spans or ``{fields}`` changed or with English words left in it."""
    found = []
    for message in message_template():
        if not message.id:
            continue  # the catalogue's header
        where, have = message.locations[0][0], catalogue.get(message.id)
        if told := _translation_problem(message.id, have):
            found.append(f"{where}: {told}: {message.id[:70]!r}")
        elif left := english_runs(have.string):
            found.append(f"{where}: the translation leaves {left[0]!r} in English: {message.id[:70]!r}")
    return found


def _translation_problem(english: str, message) -> str | None:
    """Why catalogue entry ``message`` does not translate ``english`` as it is now; None if it does."""
    if message is None or not message.string:
        return "not translated"
    if message.fuzzy:
        return "the English changed since it was translated"
    if kept(message.string) != kept(english):
        return "the translation changes code, fields or formulas"
    return None


def _parameters(source: str) -> set[str]:
    """The names of the parameters of the functions a code cell defines."""
    try:
        return {node.arg for node in ast.walk(ast.parse(source)) if isinstance(node, ast.arg)}
    except SyntaxError:
        return set()


def described_parameters(text: str, parameters: set[str]) -> set[str]:
    """The parameters a docstring describes on a line of their own (``X: input tensor ...``; a Chinese or
    Korean translation may write the colon full-width)."""
    return {name for name in re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*[:：]", text) if name in parameters}


def problems(notebook, catalogue) -> list[str]:
    """One line per unit of ``notebook`` that ``catalogue`` leaves untranslated, marks out of date, or
    translates with code, fields, formulas or a described parameter's name changed, and per sentence
    the master prints in pieces (:func:`split_sentences`)."""
    parameters = {cell["id"]: _parameters(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"}
    found = split_sentences(notebook)
    for unit in units(notebook):
        message = catalogue.get(unit.text, context=unit.cell_id)
        first_line = unit.text.strip().splitlines()[0][:60]
        if told := _translation_problem(unit.text, message):
            found.append(f"cell {unit.cell_id}: {told}: {first_line!r}")
        elif lost := described_parameters(unit.text, parameters.get(unit.cell_id, set())) - described_parameters(
            message.string, parameters.get(unit.cell_id, set())
        ):
            names = ", ".join(sorted(lost))
            found.append(
                f"cell {unit.cell_id}: the translation no longer describes the argument {names}: {first_line!r}"
            )
    return found


def edition(notebook, catalogue, language: str):
    """A copy of ``notebook`` with every unit translated; ``ValueError`` naming the cells if any is not."""
    import copy

    if missing := problems(notebook, catalogue):
        raise ValueError(f"the {language} catalogue is incomplete:\n" + "\n".join(missing))
    translated = copy.deepcopy(notebook)

    def translation(cell_id, text):
        return catalogue.get(text, context=cell_id).string

    shown = expected_outputs(notebook)
    for cell in translated["cells"]:
        source = cell["source"]
        if cell["cell_type"] == "markdown" and source.strip():
            cell["source"] = translation(cell["id"], source)
        elif cell["cell_type"] == "code":
            cell["source"] = _with_pieces(source, shown, lambda text, cell_id=cell["id"]: translation(cell_id, text))
            try:
                ast.parse(cell["source"])
            except SyntaxError as error:  # a quote or a backslash in a translated literal
                raise ValueError(f"cell {cell['id']}: the {language} translation breaks the code: {error}") from None
    translated["metadata"].setdefault("resnets_course", {})["language"] = language  # the checks read it
    return translated


def _with_pieces(source: str, shown: str, translate) -> str:
    """``source`` with each translatable piece replaced by ``translate(text)``."""
    for start, end, text in reversed(_pieces(source, shown)):
        source = source[:start] + translate(text) + source[end:]
    return source


def master_folders(source: Path) -> list[Path]:
    """The folders of ``source`` (a course's ``source/``) holding hand-edited masters, not generated editions."""
    return sorted(path for path in Path(source).iterdir() if path.is_dir() and edition_of(path.name)[1] == ENGLISH)


def master_notebooks(source: Path) -> list[Path]:
    """Every hand-edited master notebook under ``source`` (a course's ``source/``), folder by folder."""
    return [path for folder in master_folders(source) for path in sorted(folder.glob("*.ipynb"))]


def editions_of(master_folder: Path, locale_dir: Path) -> dict[str, dict[str, object]]:
    """Every edition of the masters in ``master_folder``, English included: nbgrader name (``residual_networks``,
    ``residual_networks_zh_CN``, ...) -> notebook file name -> notebook. A translated edition is marked as
    generated in its metadata; ``ValueError`` names any unit a catalogue lacks."""
    import nbformat

    masters = {path.name: nbformat.read(path, as_version=4) for path in sorted(Path(master_folder).glob("*.ipynb"))}
    found = {Path(master_folder).name: masters}
    for language in LANGUAGES:
        translated = {}
        for name, notebook in masters.items():
            catalogue = read_catalogue(catalogue_path(locale_dir, language, Path(name)), language)
            translated[name] = edition(notebook, catalogue, language)
            note = GENERATED.format(master=f"{Path(master_folder).name}/{name}")
            translated[name]["metadata"]["resnets_course"]["note"] = note
        found[edition_name(Path(master_folder).name, language)] = translated
    return found


def glossary_path(locale_dir: Path, language: str) -> Path:
    return Path(locale_dir) / language / "glossary.po"


def term_pattern(term: str):
    # The term as a word, singular or plural, in any case ("Shortcuts", "filters").
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?:s|es)?(?![\w-])", re.IGNORECASE)


def prose(text: str) -> str:
    """``text`` without its code spans and ``{fields}``: code and field names keep their English."""
    return re.sub(r"`[^`]*`|\{[^{}]*\}", "", text)


def glossary_problems(catalogue, glossary) -> list[str]:
    """One line per translated unit whose English uses a glossary term (outside code spans and the
    italic titles it keeps in English) and whose translation lacks the glossary's translation of it."""
    terms = [(message.id, message.string, term_pattern(message.id)) for message in glossary if message.id]
    found = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        english = prose(message.id)
        kept_words = " ".join(message.string.split())
        for title in re.findall(ITALIC, english):  # a cited title the translation keeps as it is
            if " ".join(title.split()) in kept_words:
                english = english.replace(title, " ")
        for term, translation, pattern in terms:
            if pattern.search(english) and translation not in message.string:
                where = f"cell {message.context}" if message.context else ", ".join(f for f, _ in message.locations)
                found.append(f"{where}: {term!r} is not translated as {translation!r}")
    return found
