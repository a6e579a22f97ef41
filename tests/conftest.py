"""Shared fixtures (one generated data set per test session) and the order tests are handed out in."""

import fcntl
import functools
import hashlib
import os
import re
from pathlib import Path

# pytest-xdist runs one test process per core. Each process's numerical libraries would start a
# thread per core and fight the other's for them; give each its share of the cores instead
# (TensorFlow's inter-op pool too: the degradation test alone, 39 s of CPU instead of 48).
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:
    _share = str(max(1, len(os.sched_getaffinity(0)) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                      "TF_NUM_INTEROP_THREADS"):  # fmt: skip
        os.environ.setdefault(_variable, _share)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from resnets_utils import data, language, settings  # noqa: E402
from resnets_utils.course import editions  # noqa: E402
from resnets_utils.data import handsigns  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def load_file(path: Path, name: str):
    """The Python file ``path`` run afresh as a module called ``name`` (a script, a corpus entry)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def load_script(name: str):
    """``scripts/<name>.py`` as a module, to call in this process (no second TensorFlow import)."""
    return load_file(REPO / "scripts" / f"{name}.py", f"scripts_{name}")


_drawn: dict = {}  # (pictures per class, seed) -> (images, labels), for this test process
_shared: list[Path] = []  # the folder where this session's test processes leave their drawings
_draw = handsigns.generate_split


def _generate_split_once(n_per_class, seed, workers=None):
    """``handsigns.generate_split``, drawing each (size, seed) once per test session: equal seeds give
    equal pictures (test_generated_data proves it byte for byte, from scratch, and for any workers)."""
    key = (n_per_class, seed)
    if key not in _drawn:
        _drawn[key] = _drawn_in_this_session(key, lambda: _draw(n_per_class, seed, workers))
    images, labels = _drawn[key]
    return images.copy(), labels.copy()


def _drawn_in_this_session(key, draw):
    """``draw()``'s pictures, read from the session's folder if another test process drew them first."""
    if not _shared:
        return draw()
    path = _shared[0] / f"{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.npz"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first process draws, the others wait for its file
        if not path.exists():
            images, labels = draw()
            part = path.with_suffix(".part")
            with open(part, "wb") as file:
                np.savez(file, images=images, labels=labels)
            os.replace(part, path)
            return images, labels
        with np.load(path) as saved:
            return saved["images"], saved["labels"]


@pytest.fixture(scope="session", autouse=True)
def _drawings_shared_by_the_session(tmp_path_factory):
    """pytest-xdist gives each test process a folder inside the session's: the drawings go beside them."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "drawn"
    folder.mkdir(exist_ok=True)
    _shared.append(folder)
    yield
    _shared.clear()


@pytest.fixture
def drawn_once(monkeypatch):
    """Tests of what happens around the drawing (which folder, when, redrawn or not) skip its cost."""
    monkeypatch.setattr(handsigns, "generate_split", _generate_split_once)


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory) -> Path:
    """A folder holding the course's generated train and test files (read-only use)."""
    directory = tmp_path_factory.mktemp("signs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handsigns, "generate_split", _generate_split_once)
        data.write_generated_dataset(directory)
    return directory


@pytest.fixture(scope="session")
def generated(generated_dir):
    """``load_dataset`` on the generated files."""
    return data.load_dataset(generated_dir)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    """Keep every test away from the user's real cache and data directory."""
    monkeypatch.setenv(settings.CACHE_HOME, str(tmp_path / "cache"))
    monkeypatch.delenv(settings.DATA_DIR, raising=False)


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups into node ids
def pytest_collection_modifyitems(config, items):
    """Slow tests first, so that the quick ones fill the gaps at the end; every test sharing a
    module-scoped fixture with a slow test in one process (pytest-xdist's loadgroup), so that
    fixture is built once."""

    def shared(item):
        fixtures = item._fixtureinfo.name2fixturedefs
        return {(item.module.__name__, name) for name, defs in fixtures.items() if defs[-1].scope == "module"}

    expensive = set().union(*(shared(item) for item in items if item.get_closest_marker("slow")))
    for item in items:
        if shared(item) & expensive:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


class _Heard(dict):
    """A language's catalogue that notes each message asked for and not found (said in English)."""

    def __init__(self, found: dict, missed: list):
        super().__init__(found)
        self.missed = missed

    def get(self, message, default=None):
        if message not in self:
            self.missed.append(message)
        return super().get(message, default)


@pytest.fixture
def fallbacks(monkeypatch) -> list:
    """The messages said in English for want of a translation while the test runs in another language."""
    catalogue, missed = language.translations, []
    monkeypatch.setattr(language, "translations", lambda code: _Heard(catalogue(code), missed))
    return missed


def told_alike(english: str, translated: str) -> list[str]:
    """What ``translated`` loses or leaves of ``english``: code spans, quoted names, words with a digit or an
    underscore it lacks, and English it keeps (beyond Keras' own error text, which is quoted as it is)."""
    keras_says = [said.rstrip(".)") for said in KERAS_SAYS.findall(english)]
    lost = [kept for kept in KEPT.findall(english) if kept not in translated]
    left = editions.english_runs(functools.reduce(lambda text, said: text.replace(said, ""), keras_says, translated))
    return lost + left + (["the same as the English"] if translated == english else [])


# Where the English quotes Keras' own error message, which every language quotes as it is.
KERAS_SAYS = re.compile(r"(?:the error reads|Keras then failed): (.+)")
# What a translation keeps: code spans, quoted names, and every word with a digit or an underscore.
KEPT = re.compile(r"`[^`]+`|'[^'\s]+'|\b\w*[\d_]\w*\b")


# The script each language writes in: what it says holds at least one of these characters.
SCRIPTS = {"zh_CN": re.compile(r"[\u4e00-\u9fff]"), "ko_KR": re.compile(r"[\uac00-\ud7a3]")}
NUMBER = re.compile(r"\d+")


def in_every_language(say_it, fallbacks: list) -> dict:
    """``say_it()`` in English and in each language, by language; fails where a message is said in
    English for want of a translation (``fallbacks``: the fixture)."""
    told = {}
    for code in (language.ENGLISH, *language.LANGUAGES):
        with language.speaking(code):
            told[code] = say_it()
        assert code == language.ENGLISH or not fallbacks, f"{code} says in English: {fallbacks}"
        fallbacks.clear()  # English has no catalogue: there, everything is "missed"
    return told


def raised(call) -> str:
    """The message of the exception ``call()`` raises."""
    with pytest.raises(Exception) as error:
        call()
    return str(error.value)


def spoken_problems(code: str, english: str, translated: str, names=()) -> list[str]:
    """What ``translated``, ``english`` said in ``code``, gets wrong: not written in the language's script,
    a number or one of ``names`` that the English holds (fields said as they are: paths, CPU names, a library's
    own error) lost or changed, or what :func:`told_alike` finds (English words left among them)."""
    problems = [f"{name!r} is lost" for name in names if name in english and name not in translated]
    for name in sorted(names, key=len, reverse=True):  # a field may hold English: the translation's words count
        english, translated = english.replace(name, " "), translated.replace(name, " ")
    if not SCRIPTS[code].search(translated):
        problems.append(f"not written in the script of {code}")
    if sorted(NUMBER.findall(english)) != sorted(NUMBER.findall(translated)):
        problems.append(f"the numbers differ: {NUMBER.findall(english)} {NUMBER.findall(translated)}")
    return problems + told_alike(english, translated)
