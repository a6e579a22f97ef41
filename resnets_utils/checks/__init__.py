"""Checks of the graded functions, with a diagnosis of the likely mistake.

Each check builds the student's function on the assignment's cases (:mod:`resnets_utils.assignments`),
fixed inputs with fixed initial weights, and compares it with the reference solution: first the
layers (types, names, settings, connections), then the output values (``TOLERANCE``).

A failing check raises :class:`CheckFailed` whose message names the most likely mistake
in one sentence. Everything the checks run is kept off stderr, because nbgrader fails a
grade cell that writes there, and TensorFlow logs freely.

Its modules: ``cases`` (the expected files, a case's inputs), ``observe`` (runs student code) and
``judge`` (judges plain data); ``checks.observe`` and ``checks.judge`` are those modules' main
functions, so import the modules' other names with ``from resnets_utils.checks.judge import ...``.
"""

from __future__ import annotations

import contextlib
import weakref

from resnets_utils import assignments
from resnets_utils.assignments import HIDDEN, PUBLIC

# Used by the autograder, scripts/make_expected.py and the tests, besides the checks below.
from resnets_utils.checks.cases import HIDDEN_EXPECTED, PUBLIC_EXPECTED, block_arguments, load_expected  # noqa: F401
from resnets_utils.checks.judge import TOLERANCE, CheckFailed, hidden_case, judge  # noqa: F401
from resnets_utils.checks.observe import block_outputs, observe, quiet, resnet50_outputs  # noqa: F401
from resnets_utils.language import say


def check_identity_block(identity_block, cases: str = PUBLIC) -> None:
    """Check ``identity_block`` on the visible (``"public"``) or ``"hidden"`` cases."""
    check("identity_block", identity_block, cases)


def check_convolutional_block(convolutional_block, cases: str = PUBLIC) -> None:
    """Check ``convolutional_block`` on the visible (``"public"``) or ``"hidden"`` cases."""
    check("convolutional_block", convolutional_block, cases)


def check_resnet50(ResNet50, cases: str = PUBLIC) -> None:
    """Check ``ResNet50``: the full layer summary and its outputs on fixed inputs."""
    check("ResNet50", ResNet50, cases)


def check_basic_block(basic_block) -> None:
    """Check ``basic_block`` (Beyond_ResNet50, optional) on its visible cases."""
    check("basic_block", basic_block, PUBLIC, "beyond_resnet50")


def check_resnet18(ResNet18) -> None:
    """Check ``ResNet18`` (Beyond_ResNet50, optional): its layers and its outputs on two fixed pictures."""
    check("ResNet18", ResNet18, PUBLIC, "beyond_resnet50")


def check_preactivation_block(preactivation_block) -> None:
    """Check ``preactivation_block`` (Beyond_ResNet50, optional) on its visible cases."""
    check("preactivation_block", preactivation_block, PUBLIC, "beyond_resnet50")


def check_preact_resnet18(PreActResNet18) -> None:
    """Check ``PreActResNet18`` (Beyond_ResNet50, optional): its layers and its outputs on two fixed pictures."""
    check("PreActResNet18", PreActResNet18, PUBLIC, "beyond_resnet50")


def check(name: str, function, cases: str = PUBLIC, assignment: str = assignments.DEFAULT) -> None:
    """Check ``function``, the student's version of the graded function ``name`` of ``assignment``,
    on its visible (``"public"``) or ``"hidden"`` cases: print that it passes, or raise :class:`CheckFailed`."""
    graded = assignments.get(assignment).function(name)
    count = len(load_expected(cases, assignment=assignment)[name])
    with quiet():
        failure = _first_failure(name, function, cases, assignment)
        wrong_blocks = _wrong_blocks_of(graded, function, assignment)
    # Raised afresh here so the student sees one short traceback, not our internals.
    if failure and wrong_blocks:
        block, block_failure = wrong_blocks[0]
        raise CheckFailed(
            say(
                "{name} is built from your {block}, which does not pass its checks yet; fix it first ({failure})",
                name=name,
                block=block,
                failure=block_failure,
            )
        )
    if failure:
        raise CheckFailed(failure)
    print(_passed(name, count, cases))
    for block, block_failure in wrong_blocks:
        print(
            say(
                "Note: {name} builds the right model, so it earns its points, but your {block} does not "
                "pass its own checks yet: {failure}",
                name=name,
                block=block,
                failure=block_failure,
            )
        )


def _passed(name: str, count: int, cases: str) -> str:
    """The line saying that ``name`` passes its ``count`` ``"public"`` or ``"hidden"`` cases."""
    if cases == PUBLIC:
        if count == 1:
            return say("{name}: the public case passes.", name=name)
        return say("{name}: all {count} public cases pass.", name=name, count=count)
    if count == 1:  # the hidden cases (load_expected knows no others)
        return say("{name}: the hidden case passes.", name=name)
    return say("{name}: all {count} hidden cases pass.", name=name, count=count)


def _first_failure(name: str, function, cases: str, assignment: str) -> str | None:
    """The diagnosis of the first of the ``cases`` that ``function`` fails; None if it passes them all."""
    for case in load_expected(cases, assignment=assignment)[name]:
        try:
            judge(name, observe(name, function, case, stop_at_layers=True), case)
        except CheckFailed as failure:
            if cases == HIDDEN:  # the words the grader's feedback gives too: nothing of the case's values
                return hidden_case(name, case, load_expected(PUBLIC, assignment=assignment)[name][0], failure)
            return str(failure)
    if cases == PUBLIC and assignments.graded_function(name).kind == assignments.BLOCK:
        with contextlib.suppress(TypeError):  # an object that takes no weak reference is simply not remembered
            _PASSED[function] = _fingerprint(function)
    return None


def _wrong_blocks_of(graded: assignments.GradedFunction, function, assignment: str) -> list[tuple[str, str]]:
    """``(block, diagnosis)`` for each block ``function`` is built from (found in its module, as the
    notebook defines them) that fails its public checks: the course's policy, as the grader's."""

    def failure_of(block: str) -> str | None:
        found = getattr(function, "__globals__", {}).get(block)
        if callable(found) and not _passed_public_checks(found):
            return _first_failure(block, found, PUBLIC, assignment)
        return None

    return assignments.blocks_to_fix_first(graded, failure_of)


# Block functions that passed their public checks in this process, with the code they had
# then: a model's checks need not build them again (about 1.8 s per check). Running the
# cell again defines a new function, which is checked afresh.
_PASSED = weakref.WeakKeyDictionary()


def _fingerprint(function):
    return getattr(function, "__code__", None), getattr(function, "__defaults__", None)


def _passed_public_checks(function) -> bool:
    with contextlib.suppress(TypeError):
        return _PASSED.get(function) == _fingerprint(function)
    return False
