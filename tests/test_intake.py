"""The grading process reads a submission folder without following links or opening special files."""

from __future__ import annotations

import copy
import functools
import json
import os
import signal
from contextlib import contextmanager

import numpy as np
import pytest

from resnets_utils.autograde import intake
from resnets_utils.autograde.grader import Submission

NOTEBOOK = "Residual_Networks.ipynb"


@contextmanager
def within(seconds: int):
    """Fail instead of hanging: opening a FIFO for reading blocks until a writer comes."""

    def expire(*_):
        raise TimeoutError(f"still blocked after {seconds} s: something opened a FIFO")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def hostile(tmp_path):
    """A submission next to instructor files, with every kind of entry that must not be followed."""
    secret = tmp_path / "source"
    secret.mkdir()
    (secret / "master.ipynb").write_text('{"cells": ["the solutions"]}')
    os.mkfifo(secret / "trap")  # a reader that follows a link here blocks
    folder = tmp_path / "submitted" / "ann" / "residual_networks"
    (folder / "data").mkdir(parents=True)
    (folder / NOTEBOOK).write_text('{"cells": []}')
    (folder / "data" / "mine.txt").write_text("my own file")
    (folder / "answers.ipynb").symlink_to(secret / "master.ipynb")  # absolute
    (folder / "course").symlink_to("../../../source")  # relative, into the course
    (folder / "notes.txt").symlink_to(secret / "trap")
    (folder / "gone").symlink_to(tmp_path / "nowhere")
    os.mkfifo(folder / "pipe")
    with open(folder / "big.bin", "wb") as file:
        file.truncate(3 << 20)  # sparse: costs no disk
    return folder, secret


def test_only_plain_files_within_the_limits_are_taken_and_nothing_else_is_opened(hostile, tmp_path):
    folder, secret = hostile
    with within(20):
        found = intake.scan(folder, intake.Allowance(file_mb=2), first=NOTEBOOK)
        fingerprint = intake.fingerprint(found)
        intake.copy(found, tmp_path / "scratch")
    assert set(found.files) == {NOTEBOOK, "data/mine.txt"}
    assert found.refused == {
        "answers.ipynb": f"a link to {secret / 'master.ipynb'}",
        "course": "a link to ../../../source",
        "notes.txt": f"a link to {secret / 'trap'}",
        "gone": f"a link to {tmp_path / 'nowhere'}",
        "pipe": "a FIFO (named pipe)",
        "big.bin": "3.0 MB, over the limit of 2 MB per file",
    }
    copied = sorted(str(p.relative_to(tmp_path / "scratch")) for p in (tmp_path / "scratch").rglob("*"))
    assert copied == sorted([NOTEBOOK, "data", "data/mine.txt"])
    assert (tmp_path / "scratch").stat().st_mode & 0o777 == 0o700  # no other job looks in before its user has it
    assert all(not p.is_symlink() for p in (tmp_path / "scratch").rglob("*"))
    assert any("pipe (a FIFO (named pipe)): not read" == note for note in found.notes())
    # What was refused counts in the fingerprint: adding a link is a change, graded again.
    (folder / "another").symlink_to(secret)
    with within(20):
        assert intake.fingerprint(intake.scan(folder, intake.Allowance(file_mb=2), first=NOTEBOOK)) != fingerprint


def test_the_submission_total_and_the_number_of_files_are_bounded(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / NOTEBOOK).write_bytes(b"x" * (intake.MB // 2))
    for index in range(5):
        (folder / f"a{index}.bin").write_bytes(b"y" * (intake.MB // 4))  # sorts before the notebook
    found = intake.scan(folder, intake.Allowance(file_mb=1, total_mb=1, files=4), first=NOTEBOOK)
    assert list(found.files) == [NOTEBOOK, "a0.bin", "a1.bin"]  # the notebook is looked at first
    assert found.refused == {
        "a2.bin": "over the limit of 1 MB per submission",
        ".": "more than 4 files and folders: the rest was not looked at",
    }


@pytest.mark.parametrize(
    ("make", "verdict"),
    [
        (lambda path, secret: path.symlink_to(secret / "master.ipynb"), "is a link to"),
        (lambda path, secret: os.mkfifo(path), "is a FIFO (named pipe), not a file"),
        (lambda path, secret: path.symlink_to(secret / "trap"), "is a link to"),
    ],
    ids=["link", "fifo", "link-to-fifo"],
)
def test_a_notebook_that_is_not_a_plain_file_gets_a_verdict_not_a_read(hostile, make, verdict):
    folder, secret = hostile
    (folder / NOTEBOOK).unlink()
    make(folder / NOTEBOOK, secret)
    with within(20):
        solutions, problem = Submission("ann", folder, NOTEBOOK).solutions()
    assert solutions == {} and problem.startswith(f"{NOTEBOOK} {verdict}")
    assert problem.endswith("hand in the notebook itself.")


def test_a_notebook_over_the_limit_gets_a_verdict_saying_so(tmp_path):
    folder = tmp_path / "ann" / "residual_networks"
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(b" " * (2 << 20))
    solutions, problem = Submission("ann", folder, NOTEBOOK, intake.Allowance(file_mb=1)).solutions()
    assert solutions == {} and "2.0 MB, over the limit of 1 MB per file" in problem


def test_a_linked_submission_or_student_folder_is_not_followed(hostile, tmp_path):
    folder, secret = hostile
    linked = tmp_path / "submitted" / "ben" / "residual_networks"
    linked.parent.mkdir()
    linked.symlink_to(folder)
    (tmp_path / "submitted" / "cat").symlink_to(folder.parent)
    for student in ("ben", "cat"):
        submission = Submission(student, tmp_path / "submitted" / student / "residual_networks", NOTEBOOK)
        solutions, problem = submission.solutions()
        assert solutions == {} and "is a link to" in problem and not submission.intake().files
        assert submission.timestamp() is None


def _any_value(rng, depth: int = 0):
    """A JSON value of any kind, including what a parser or ``ast.parse`` chokes on."""
    makers = [
        lambda: None,
        lambda: int(rng.integers(-5, 5)),
        lambda: float(rng.choice([0.5, float("nan"), float("inf")])),
        lambda: str(rng.choice(["", "x", "\x00", "\ud800", "def identity_block(", "def ResNet50(:\n"])),
        lambda: bool(rng.random() < 0.5),
        lambda: BIG,  # written as a 5,000-digit number, past what Python reads as an int
        lambda: "def identity_block(X):\n    return " + "-" * 100_000 + "1\n",  # past the parser's depth
        lambda: [_any_value(rng, depth + 1) for _ in range(rng.integers(0, 3))],
        lambda: {str(rng.choice(KEYS)): _any_value(rng, depth + 1) for _ in range(rng.integers(0, 3))},
    ]
    return makers[rng.integers(len(makers) if depth < 3 else 5)]()


BIG = "<a 5,000-digit number>"
KEYS = ["cells", "metadata", "nbgrader", "grade_id", "source", "cell_type", "solution", "resnets_course", "language"]


def _places(node, prefix=()):
    """Every path into a JSON document."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _places(child, (*prefix, key))


def test_any_notebook_json_gets_its_solution_cells_or_a_reason_never_an_exception(tmp_path):
    from resnets_utils.course.reference import solution, student_version

    reference = json.loads(json.dumps(student_version(solution)))
    places, rng = list(_places(reference)), np.random.default_rng(11)
    folder = tmp_path / "submitted" / "ann" / "residual_networks"
    folder.mkdir(parents=True)
    for _ in range(300):  # the reference with one to four values anywhere replaced by any value
        notebook = copy.deepcopy(reference)
        for _ in range(rng.integers(1, 5)):
            *path, last = places[rng.integers(1, len(places))]
            parent = functools.reduce(lambda node, key: node[key] if _has(node, key) else {}, path, notebook)
            if _has(parent, last):
                parent[last] = _any_value(rng)
        (folder / NOTEBOOK).write_text(json.dumps(notebook).replace(json.dumps(BIG), "9" * 5000))
        cells, reason = Submission("ann", folder, NOTEBOOK).solutions()
        assert isinstance(cells, dict) and all(isinstance(source, str) for source in cells.values())
        assert not reason or (not cells and reason.endswith("."))  # the cells found, or why there are none


def _has(node, key) -> bool:
    return isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(key, int) and key < len(node)
