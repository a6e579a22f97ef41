"""A complete, correct submission."""

SCORE = 10


def build(kit):
    return kit.notebook()
