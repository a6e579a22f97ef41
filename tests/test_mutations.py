"""The checks name mistakes nobody listed: seeded one-change mutations of the reference blocks.

Each mutation changes one statement that builds a layer in the reference of a checked block
(the graded ``identity_block`` and ``convolutional_block``, the optional exercises' blocks):
drops it, duplicates it, swaps it with the next one, changes one setting of the layer (to a
value the reference uses elsewhere, or another), feeds it another tensor, or leaves its result
unused.
The visible check then runs on the mutant. A mutant the check passes is an equivalent
spelling (two independent statements swapped, say) and is not counted. A message *names*
the mistake when it contains the changed layer's name (for the case checked; for a ReLU or the
addition, its place: "the ReLU after 'bn1a_branch2a'") or quotes the changed line, and contains
no Python exception name. The test asserts that at least 95% of
200 mutants per block are named, and prints the share per kind of change with a few messages
that do not name theirs.
"""

from __future__ import annotations

import ast
import copy
import re
from collections import Counter, defaultdict

import numpy as np
import pytest
from conftest import told_alike

from resnets_utils import assignments, checks, language
from resnets_utils.course import notebooks
from resnets_utils.course.notebooks import execute
from resnets_utils.course.reference import REPO

# Every checked block, graded or optional, with the assignment or exercise set that has it.
OWNERS = {
    function.name: assignment
    for assignment in [*assignments.ASSIGNMENTS.values(), *assignments.EXERCISES.values()]
    for function in assignment.functions
    if function.kind == assignments.BLOCK
}
BLOCKS = tuple(OWNERS)
KINDS = ("drop", "duplicate", "swap", "setting", "rewire", "unconnected")
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")

# What a layer's setting may become besides the values the reference itself uses for it.
OTHER_SETTINGS = {
    "filters": [],  # the reference's own values; twice the value if it uses one only
    "kernel_size": ["(1, 1)", "(3, 3)"],
    "strides": ["(1, 1)", "(2, 2)"],
    "padding": ['"same"', '"valid"'],
    "axis": ["1", "-1"],
    "kernel_initializer": ["initializer", "glorot_uniform(seed=0)", "initializer(seed=1)"],
    "name": ['conv_name_base + "2x"', 'bn_name_base + "2x"'],
}


def solution(block: str) -> str:
    """The reference's source of ``block``, from its master notebook."""
    owner = OWNERS[block]
    master = notebooks.load(REPO / "course" / "source" / owner.folder / owner.notebook)
    cell = owner.function(block).cell
    return next(notebooks.without_markers(c.source) for c in notebooks.code_cells(master) if c.grade_id == cell)


def settings_of(source: str) -> dict[str, list[str]]:
    """One change of a layer's setting, by keyword: the values the reference uses, then the others."""
    used: dict[str, list[str]] = {keyword: [] for keyword in OTHER_SETTINGS}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in used and ast.unparse(node.value) not in used[node.arg]:
            used[node.arg].append(ast.unparse(node.value))
    if len(used["filters"]) == 1:
        used["filters"].append(f"2 * {used['filters'][0]}")
    return {keyword: list(dict.fromkeys(values + OTHER_SETTINGS[keyword])) for keyword, values in used.items()}


def layer_statements(tree: ast.FunctionDef) -> list[int]:
    """Indexes of the body's statements that build a layer: ``target = Layer(...)(input)``."""
    return [
        index
        for index, node in enumerate(tree.body)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Call)
    ]


def mutate(source: str, rng: np.random.Generator) -> tuple[str, str, ast.stmt] | None:
    """``(kind, mutated source, the changed statement)``, or None if the drawn change does not apply."""
    tree = ast.parse(source)
    function = tree.body[0]
    statements = layer_statements(function)
    settings = settings_of(source)
    kind = KINDS[rng.integers(len(KINDS))]
    index = statements[rng.integers(len(statements))]
    node = function.body[index]
    original = copy.deepcopy(node)  # the layer as the reference names it
    original.previous = copy.deepcopy(_previous_layer(function, index))
    if kind == "drop":
        del function.body[index]
    elif kind == "duplicate":
        function.body.insert(index + 1, copy.deepcopy(node))
    elif kind == "swap":
        later = [i for i in statements if i > index]
        if not later:
            return None
        other = later[0]
        function.body[index], function.body[other] = function.body[other], node
    elif kind == "setting":
        keywords = [k for k in node.value.func.keywords if k.arg in settings]
        if not keywords:
            return None
        keyword = keywords[rng.integers(len(keywords))]
        choices = [c for c in settings[keyword.arg] if c != ast.unparse(keyword.value)]
        keyword.value = ast.parse(choices[rng.integers(len(choices))], mode="eval").body
    elif kind == "rewire":
        names = [n for n in ast.walk(node.value) if isinstance(n, ast.Name) and n.id in ("X", "X_shortcut")]
        inputs = [n for n in names if n not in ast.walk(node.value.func)]
        if not inputs:
            return None
        chosen = inputs[rng.integers(len(inputs))]
        chosen.id = "X_shortcut" if chosen.id == "X" else "X"
    else:  # unconnected: the layer is built but its result goes nowhere
        node.targets = [ast.Name("X_unused", ast.Store())]
    return kind, ast.unparse(tree), original


def _previous_layer(function: ast.FunctionDef, index: int) -> ast.stmt | None:
    """The statement that made the tensor the layer at ``index`` takes (its first input), if any."""
    node = function.body[index]
    source = next(
        (n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and n not in ast.walk(node.value.func)), None
    )
    for earlier in reversed(function.body[:index]):
        if isinstance(earlier, ast.Assign) and any(getattr(t, "id", None) == source for t in earlier.targets):
            return earlier if isinstance(earlier.value, ast.Call) and isinstance(earlier.value.func, ast.Call) else None
    return None


def _changed_layer_names(node: ast.stmt, case: dict) -> list[str]:
    """The changed layer's name for the case ('res1a_branch2b') and as the code builds it (conv_name_base + '2b');
    for a layer nobody names, its place: "the addition", "ReLU after 'bn1a_branch2a'", "ReLU after the addition"."""
    for keyword in getattr(node.value.func, "keywords", []):
        if keyword.arg == "name":
            code = ast.unparse(keyword.value).replace('"', "'")
            base = "res" if "conv_name_base" in code else "bn"
            suffix = re.search(r"'(\w+)'", code).group(1)
            return [f"'{base}{case['stage']}{case['block']}_branch{suffix}'", code]
    layer = getattr(node.value.func.func, "id", "")
    if layer == "Add":
        return ["the addition"]
    previous = getattr(node, "previous", None)
    if layer == "Activation" and previous is not None:
        before = _changed_layer_names(previous, case)
        return [f"ReLU after {before[0]}"] if before else []
    return []


def names_it(message: str, node: ast.stmt, case: dict) -> bool:
    """Whether ``message`` points at the changed layer (its name, or its name as code) or quotes the changed
    line, and has no Python exception name."""
    if EXCEPTION_NAME.search(message):
        return False
    line = " ".join(ast.unparse(node).split())
    flat = " ".join(message.replace('"', "'").split())
    return any(name in flat for name in _changed_layer_names(node, case)) or line[:40] in flat


def namespace() -> dict:
    import keras
    from keras.initializers import glorot_uniform

    found = {name: getattr(keras.layers, name) for name in dir(keras.layers) if not name.startswith("_")}
    return found | {"glorot_uniform": glorot_uniform}


MUTANTS, SEED, TARGET = 200, 27, 0.95


def mutants(block: str, seed: int):
    """Seeded one-change mutants of ``block``'s solution, without end: ``(kind, source, node, namespace)``."""
    rng, base = np.random.default_rng(seed), namespace()
    while True:
        drawn = mutate(solution(block), rng)
        if drawn is None:
            continue
        scope = dict(base)
        execute(drawn[1], f"<mutant {block}>", scope)
        yield (*drawn, scope)


@pytest.mark.slow  # 200 checks of mutants: about 30 s
@pytest.mark.parametrize("block", BLOCKS)
def test_the_checks_name_the_layer_or_line_of_random_one_change_mistakes(block, capsys):
    case = checks.load_expected("public", assignment=OWNERS[block].name)[block][0]
    named, counted, equivalent, missed = Counter(), Counter(), 0, defaultdict(list)
    drawn = mutants(block, SEED + BLOCKS.index(block))
    while sum(counted.values()) + equivalent < MUTANTS:
        kind, _, node, scope = next(drawn)
        with checks.quiet():
            # a crash of the check fails the test
            message = checks._first_failure(block, scope[block], "public", OWNERS[block].name)
        if message is None:  # an equivalent spelling (two independent statements swapped, say)
            equivalent += 1
            continue
        counted[kind] += 1
        if names_it(message, node, case):
            named[kind] += 1
        else:
            missed[kind].append((" ".join(ast.unparse(node).split())[:90], message[:240]))
    total, share = sum(counted.values()), sum(named.values()) / sum(counted.values())
    report = [f"{block}: {sum(named.values())} of {total} mutants named ({share:.0%}), {equivalent} equivalent"]
    report += [f"  {kind:<12}{named[kind]:>4} of {counted[kind]:<4}" for kind in KINDS if counted[kind]]
    report += [
        f"  - {kind}: {line}\n      -> {message}" for kind, found in missed.items() for line, message in found[:3]
    ]
    with capsys.disabled():
        print("\n" + "\n".join(report))
    assert share >= TARGET, "\n".join(report)


def _verdict(block, observation, case):
    try:
        checks.judge(block, observation, case)
    except checks.CheckFailed as failure:
        return str(failure), failure.hidden
    return None


@pytest.mark.parametrize("block", BLOCKS)
def test_a_check_that_stops_at_the_first_layer_difference_says_what_the_full_observation_says(block):
    """The notebook's checks stop running a block whose layers differ; the grader runs it in full."""
    case = checks.load_expected("public", assignment=OWNERS[block].name)[block][0]
    stopped_early = compared = 0
    drawn = mutants(block, SEED + 100 + BLOCKS.index(block))
    while compared < 30:
        _, source, _, scope = next(drawn)
        with checks.quiet():
            quick, full = (checks.observe(block, scope[block], case, stop_at_layers=stop) for stop in (True, False))
        assert _verdict(block, quick, case) == _verdict(block, full, case), source
        stopped_early += "again" not in quick and "again" in full
        compared += 1
    assert stopped_early >= 15  # the shortcut is taken, not merely harmless


@pytest.mark.parametrize("block", BLOCKS)
def test_random_mistakes_are_told_in_every_language_with_their_names_and_numbers(block, fallbacks):
    """No message of a mutant's diagnosis is said in English in an edition, nor loses a name or a number."""
    assignment, told = OWNERS[block].name, 0
    drawn = mutants(block, SEED + 200 + BLOCKS.index(block))
    while told < 8:
        _, source, _, scope = next(drawn)
        said = {}
        for code in ("en", *language.LANGUAGES):
            with checks.quiet(), language.speaking(code):
                said[code] = checks._first_failure(block, scope[block], "public", assignment)
            assert code == "en" or not fallbacks, f"{code} says in English: {fallbacks}\n{source}"
            fallbacks.clear()
        if said["en"] is None:  # an equivalent spelling
            continue
        told += 1
        for code in language.LANGUAGES:
            assert not told_alike(said["en"], said[code]), (said["en"], said[code], told_alike(said["en"], said[code]))
