"""identity_block forgets the ReLU after the addition: its tests and ResNet50's fail."""

SCORE = 3


def build(kit):
    source = kit.edit(
        kit.solution("identity_block"),
        'X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)',
        "X = Add()([X, X_shortcut])",
    )
    return kit.notebook(identity_block=source)
