"""How often a block's check names the mistake: seeded one-change mutations of the reference blocks.

    python benchmarks/diagnoses.py [--mutations 200] [--seed 27] [--show 5]

Each mutation changes one statement of the reference ``identity_block`` or
``convolutional_block`` that builds a layer: drops it, duplicates it, swaps it with the next
one, changes one setting of the layer, feeds it another tensor, or leaves its result unused.
The visible check then runs on the mutant. A mutant the check passes is an equivalent
spelling (two independent statements swapped, say) and is not counted. A message *names*
the mistake when it contains the changed layer's name (for the case checked) or quotes the
changed line, and contains no Python exception name. Prints the share named per block and
per kind of change, and a few messages that do not name it (issue 27's measure, target 95%).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
from collections import Counter, defaultdict

import numpy as np

from resnets_utils import checks
from resnets_utils.notebooks import execute
from resnets_utils.reference import solution

BLOCKS = ("identity_block", "convolutional_block")
KINDS = ("drop", "duplicate", "swap", "setting", "rewire", "unconnected")
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")

# One change of a layer's setting, by keyword: what it may become.
SETTINGS = {
    "filters": ["F1", "F2", "F3"],
    "kernel_size": ["(1, 1)", "(f, f)", "(3, 3)"],
    "strides": ["(1, 1)", "(2, 2)", "(s, s)"],
    "padding": ['"same"', '"valid"'],
    "axis": ["1", "-1", "3"],
    "kernel_initializer": ["initializer", "glorot_uniform(seed=0)", "initializer(seed=1)"],
    "name": ['conv_name_base + "2x"', 'bn_name_base + "2x"'],
}


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
    kind = KINDS[rng.integers(len(KINDS))]
    index = statements[rng.integers(len(statements))]
    node = function.body[index]
    original = copy.deepcopy(node)  # the layer as the reference names it
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
        keywords = [k for k in node.value.func.keywords if k.arg in SETTINGS]
        if not keywords:
            return None
        keyword = keywords[rng.integers(len(keywords))]
        choices = [c for c in SETTINGS[keyword.arg] if c != ast.unparse(keyword.value)]
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


def _changed_layer_names(node: ast.stmt, case: dict) -> list[str]:
    """The changed layer's name for the case ('res1a_branch2b') and as the code builds it (conv_name_base + '2b')."""
    for keyword in getattr(node.value.func, "keywords", []):
        if keyword.arg == "name":
            code = ast.unparse(keyword.value).replace('"', "'")
            base = "res" if "conv_name_base" in code else "bn"
            suffix = re.search(r"'(\w+)'", code).group(1)
            return [f"'{base}{case['stage']}{case['block']}_branch{suffix}'", code]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutations", type=int, default=200, help="per block")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--show", type=int, default=5, help="messages shown that do not name the mistake")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    base = namespace()
    for block in BLOCKS:
        case = checks.load_expected("public")[block][0]
        named, counted, equivalent, missed = Counter(), Counter(), 0, defaultdict(list)
        while sum(counted.values()) + equivalent < args.mutations:
            drawn = mutate(solution(block), rng)
            if drawn is None:
                continue
            kind, source, node = drawn
            scope = dict(base)
            try:
                execute(source, f"<mutant {block}>", scope)
                with checks.quiet():
                    message = checks._first_failure(block, scope[block], "public")
            except Exception as error:  # the check itself broke: that names nothing
                message = f"{type(error).__name__}: {error}"
            if message is None:
                equivalent += 1
                continue
            counted[kind] += 1
            if names_it(message, node, case):
                named[kind] += 1
            else:
                missed[kind].append((" ".join(ast.unparse(node).split())[:90], message[:240]))
        total = sum(counted.values())
        print(f"\n{block}: {sum(named.values())} of {total} mutants named ({sum(named.values()) / total:.0%}), "
              f"{equivalent} equivalent")  # fmt: skip
        for kind in KINDS:
            if counted[kind]:
                print(f"  {kind:<12}{named[kind]:>4} of {counted[kind]:<4} {named[kind] / counted[kind]:6.0%}")
        for kind, examples in missed.items():
            for line, message in examples[: args.show]:
                print(f"  - {kind}: {line}\n      -> {message}")


if __name__ == "__main__":
    main()
