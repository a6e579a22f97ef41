"""Both blocks done, ResNet50 still the released stub."""

SCORE = 6


def build(kit):
    return kit.stubbed(
        identity_block=kit.solution("identity_block"), convolutional_block=kit.solution("convolutional_block")
    )
