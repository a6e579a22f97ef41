"""identity_block done, writing to stderr and warning while it runs (nbgrader would zero it); the other
cells as handed out."""

SCORE = 3


def build(kit):
    noise = (
        'import sys, warnings\n    print("debug: building", stage, block, file=sys.stderr)\n'
        '    warnings.warn("just a warning")\n    '
    )
    source = kit.edit(kit.solution("identity_block"), "F1, F2, F3 = filters", noise + "F1, F2, F3 = filters")
    return kit.stubbed(identity_block=source)
