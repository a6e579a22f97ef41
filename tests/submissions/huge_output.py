"""A correct submission that prints about 1 GB: the output is thrown away, the marks kept."""

SCORE = 10


def build(kit):
    flood = "\n\nfor _ in range(1000):\n    print('spam ' * 200_000)\n"
    return kit.notebook(identity_block=kit.solution("identity_block") + flood)
