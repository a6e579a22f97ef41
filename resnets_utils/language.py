"""The language of the package's messages to students: gettext catalogues in ``resnets_utils/locale``.

A message is written in English in the code, marked with :func:`say` (or :func:`N_` where it is a
constant filled in later), and looked up in ``locale/<language>/messages.po`` at the moment it is
said. The language is the one the code chose (:func:`speaking`, as the grader does for each
notebook it grades, or :func:`use`); else ``RESNETS_LANGUAGE``; else the
``metadata.resnets_course.language`` of the notebook the kernel runs (JupyterLab names it in
``JPY_SESSION_NAME``; otherwise the notebooks of the working folder, when they agree); else English.
``scripts/translations.py`` keeps the catalogues in step with the code, and the tests fail while a
message lacks a translation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
from pathlib import Path

ENGLISH = "en"
LANGUAGES = ("zh_CN", "ko_KR")
ENVIRONMENT = "RESNETS_LANGUAGE"
LOCALE = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
_used: str | None = None  # by use(), for the whole process
# By speaking(), per thread: the grader judges several submissions, each in its own language, at once.
_spoken: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "marked, translated later")
    """Mark ``message`` for the catalogues without translating it now (a constant said later)."""
    return message


def say(message: str, **fields) -> str:
    """``message`` in the student's language, its ``{fields}`` filled in."""
    translated = translations(current()).get(message) or message
    return translated.format(**fields) if fields else translated


def listed(items: list[str]) -> str:
    """``items`` as a list in a sentence ("a, b, c"), with the student's language's separator."""
    text = items[0]
    for item in items[1:]:
        text = say("{items}, {item}", items=text, item=item)
    return text


def _known(language: str | None) -> str | None:
    if language not in (None, ENGLISH, *LANGUAGES):
        raise ValueError(f"unknown language {language!r}: choose one of {', '.join((ENGLISH, *LANGUAGES))}")
    return language


def unstopped(text: str) -> str:
    """``text`` without its closing full stop, in any of the course's languages (before more is added)."""
    return text.rstrip(".。")


def sentences(*said: str) -> str:
    """Whole sentences, each said on its own, one after another as the language writes them: a space
    between two, none after a Chinese full stop."""
    text = said[0]
    for sentence in said[1:]:
        text += ("" if text.endswith("。") else " ") + sentence
    return text


def use(language: str | None) -> None:
    """Say every later message in ``language`` (None: decide from the notebook again)."""
    global _used
    _used = _known(language)


@contextlib.contextmanager
def speaking(language: str | None):
    """Say the messages of a ``with`` block in ``language`` (the grader: each submission's own)."""
    token = _spoken.set(_known(language))
    try:
        yield
    finally:
        _spoken.reset(token)


def current() -> str:
    """The language messages are said in now (see the module's docstring)."""
    chosen = _spoken.get() or _used or os.environ.get(ENVIRONMENT)
    if chosen is None:
        chosen = _notebook_language(os.environ.get("JPY_SESSION_NAME", ""), os.getcwd())
    return chosen if chosen in LANGUAGES else ENGLISH


def of_notebook(notebook: dict) -> str:
    """The language a notebook (as JSON) records in its metadata; English when it records none."""
    language = notebook.get("metadata", {}).get("resnets_course", {}).get("language")
    return language if language in LANGUAGES else ENGLISH


@functools.lru_cache(maxsize=16)
def _notebook_language(session: str, folder: str) -> str:
    """The language of the kernel's notebook: the session's, else that of every notebook in ``folder``."""
    # The session's path is relative to the server's root; the kernel runs in the notebook's folder.
    paths = [Path(folder) / Path(session).name] if session.endswith(".ipynb") else Path(folder).glob("*.ipynb")
    found = set()
    for path in paths:
        try:
            found.add(of_notebook(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, AttributeError):
            continue
    return found.pop() if len(found) == 1 else ENGLISH


@functools.cache
def translations(language: str) -> dict[str, str]:
    """The catalogue of ``language`` as ``{English: translation}``, without untranslated or fuzzy entries."""
    path = LOCALE / language / f"{DOMAIN}.po"
    if language == ENGLISH or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        catalogue = read_po(file, locale=language)
    return {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}
