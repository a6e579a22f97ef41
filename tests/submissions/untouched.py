"""Submitted as released: every stub still raises NotImplementedError."""

SCORE = 0


def build(kit):
    return kit.notebook(**{cell: kit.stub(cell) for cell in ("identity_block", "convolutional_block", "resnet50")})
