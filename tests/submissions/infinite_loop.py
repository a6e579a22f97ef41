"""convolutional_block never returns: its tests, and ResNet50's, hit the time limit."""

SCORE = 3


def build(kit):
    source = kit.edit(
        kit.solution("convolutional_block"),
        "F1, F2, F3 = filters",
        "F1, F2, F3 = filters\n    while True:\n        pass",
    )
    return kit.notebook(convolutional_block=source)
