"""The notebook handed in is a link to the master notebook (its solutions would score 10)."""

SCORE = 0


def build(kit):
    return kit.link(kit.master)
