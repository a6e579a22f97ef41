"""Both blocks done (ResNet50 as handed out), identity_block's cell printing about 1 GB: the output is
thrown away, the marks kept."""

SCORE = 6


def build(kit):
    flood = "\n\nfor _ in range(1000):\n    print('spam ' * 200_000)\n"
    return kit.stubbed(
        identity_block=kit.solution("identity_block") + flood, convolutional_block=kit.solution("convolutional_block")
    )
