"""The package speaks the student's language: how it is chosen, and the message catalogues."""

import json
import random
import threading

import pytest

from resnets_utils import language
from resnets_utils.course import editions
from resnets_utils.course.reference import REPO
from resnets_utils.language import LANGUAGES, say, speaking

SAID = "{name} returns None: end it with `return X`."  # a message the checks say


@pytest.fixture(autouse=True)
def undecided(monkeypatch, tmp_path):
    """No language chosen, no notebook around: every test decides its own."""
    monkeypatch.delenv(language.ENVIRONMENT, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    language.use(None)
    language._notebook_language.cache_clear()
    yield
    language.use(None)
    language._notebook_language.cache_clear()


def _notebook(folder, name, code):
    metadata = {"resnets_course": {"language": code}} if code else {}
    (folder / name).write_text(json.dumps({"cells": [], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}))


def test_english_without_a_choice_and_the_catalogue_once_one_is_made(monkeypatch):
    assert say(SAID, name="f") == "f returns None: end it with `return X`."
    for code in LANGUAGES:
        monkeypatch.setenv(language.ENVIRONMENT, code)
        translated = say(SAID, name="f")
        assert translated != "f returns None: end it with `return X`."
        assert translated == language.translations(code)[SAID].format(name="f")
        assert "`return X`" in translated and translated.startswith("f")


def test_the_notebooks_metadata_decides_and_the_code_or_the_environment_overrides_it(monkeypatch, tmp_path):
    _notebook(tmp_path, "Residual_Networks.ipynb", "ko_KR")
    assert language.current() == "ko_KR"  # the kernel runs in the notebook's folder
    monkeypatch.setenv(language.ENVIRONMENT, "zh_CN")
    assert language.current() == "zh_CN"
    with speaking("en"):
        assert language.current() == "en"
    language.use("ko_KR")
    assert language.current() == "ko_KR"
    with pytest.raises(ValueError, match="zh_CN"):
        language.use("klingon")


def test_jupyterlabs_session_names_the_notebook_among_others(monkeypatch, tmp_path):
    _notebook(tmp_path, "Residual_Networks.ipynb", "zh_CN")
    _notebook(tmp_path, "Explore.ipynb", None)
    assert language.current() == "en"  # the folder's notebooks disagree
    monkeypatch.setenv("JPY_SESSION_NAME", "assignments/residual_networks_zh_CN/Residual_Networks.ipynb")
    assert language.current() == "zh_CN"


def test_each_thread_speaks_its_own_language():
    """The grader judges submissions of different editions at once."""
    barrier, heard = threading.Barrier(len(LANGUAGES) + 1), {}

    def judge(code):
        with speaking(code):
            barrier.wait()  # every thread is inside its own `speaking` now
            heard[code] = say(SAID, name="f")

    threads = [threading.Thread(target=judge, args=(code,)) for code in ("en", *LANGUAGES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert heard["en"] == "f returns None: end it with `return X`."
    assert len(set(heard.values())) == len(heard)
    assert language.current() == "en"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_of_the_package_is_translated_and_current(code):
    catalogue = editions.read_catalogue(language.LOCALE / code / "messages.po", code)
    problems = editions.message_problems(catalogue)
    assert not problems, "run `python scripts/translations.py update`, then translate:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_changed_english_message_is_named_until_translated_again(code, monkeypatch):
    path = language.LOCALE / code / "messages.po"
    template = editions.message_template()
    rng = random.Random(sum(map(ord, code)))
    changed = rng.choice([message for message in template if message.id])
    edited = changed.id.replace(" ", "  ", 1) if " " in changed.id else changed.id + "!"
    template.delete(changed.id)
    template.add(edited, locations=changed.locations)
    monkeypatch.setattr(editions, "message_template", lambda: template)
    merged = editions.updated_messages(code, editions.read_catalogue(path, code))
    problems = editions.message_problems(merged)
    assert len(problems) == 1 and "changed since it was translated" in problems[0], problems
    assert changed.locations[0][0] in problems[0]


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_messages_use_the_glossarys_terms(code):
    glossary = editions.read_catalogue(editions.glossary_path(REPO / "course" / "locale", code), code)
    catalogue = editions.read_catalogue(language.LOCALE / code / "messages.po", code)
    assert not editions.glossary_problems(catalogue, glossary)
