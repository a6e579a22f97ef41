"""identity_block asks for 16 GB, 256 MB at a time (bounded, so a machine without limits survives);
convolutional_block is right, ResNet50 as handed out."""

SCORE = 3


def build(kit):
    bomb = "hog = [bytearray(1 << 28) for _ in range(64)]\n    "
    source = kit.edit(kit.solution("identity_block"), "F1, F2, F3 = filters", bomb + "F1, F2, F3 = filters")
    return kit.notebook(identity_block=source, resnet50=kit.stub("resnet50"))
