"""convolutional_block ends the process with os._exit(1)."""

SCORE = 3


def build(kit):
    source = kit.edit(kit.solution("convolutional_block"), "F1, F2, F3 = filters", "import os\n    os._exit(1)")
    return kit.notebook(convolutional_block=source)
