"""convolutional_block uses a name it never defines (NameError when called)."""

SCORE = 3


def build(kit):
    source = kit.edit(kit.solution("convolutional_block"), "F1, F2, F3 = filters", "F1, F2, F3 = filtres")
    return kit.notebook(convolutional_block=source)
