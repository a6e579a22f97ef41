"""identity_block returns an object array holding a 401-digit integer whenever it is given numbers
(ResNet50 only builds it on symbolic tensors, so ResNet50 is right): identity_block's tests fail."""

SCORE = 7


def build(kit):
    wrapper = (
        "\n\n_right_identity_block = identity_block\n\n\n"
        "def identity_block(X, *args, **kwargs):\n"
        "    if type(X).__module__ == 'numpy':\n"
        "        return np.array([[10**400, 'x']], dtype=object)\n"
        "    return _right_identity_block(X, *args, **kwargs)\n"
    )
    return kit.notebook(identity_block=kit.solution("identity_block") + wrapper)
