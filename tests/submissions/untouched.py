"""Submitted as released: every stub still raises NotImplementedError."""

SCORE = 0


def build(kit):
    return kit.stubbed()
