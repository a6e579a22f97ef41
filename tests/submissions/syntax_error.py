"""identity_block's cell does not parse: the blocks built on it fail too; convolutional_block counts."""

SCORE = 3


def build(kit):
    return kit.notebook(identity_block=kit.solution("identity_block").replace("X_shortcut = X", "X_shortcut = = X"))
