"""ResNet50 never returns (the blocks are right): its two tests hit the time limit, the blocks' pass."""

SCORE = 6


def build(kit):
    source = kit.edit(
        kit.solution("resnet50"),
        "    X_input = Input(input_shape)",
        "    while True:\n        pass\n    X_input = Input(input_shape)",
    )
    return kit.notebook(resnet50=source)
