"""A correct submission that writes to stderr and warns while it runs (nbgrader would zero it)."""

SCORE = 10


def build(kit):
    noise = (
        'import sys, warnings\n    print("debug: building", stage, block, file=sys.stderr)\n'
        '    warnings.warn("just a warning")\n    '
    )
    source = kit.edit(kit.solution("identity_block"), "F1, F2, F3 = filters", noise + "F1, F2, F3 = filters")
    return kit.notebook(identity_block=source)
