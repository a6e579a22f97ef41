"""identity_block's cell starts a fork bomb: every process forks again, without end.

The grader's seccomp filter makes the first fork fail (root included), so the cell raises and
identity_block is never defined: its tests and ResNet50's fail, convolutional_block passes.
"""

SCORE = 3
NEEDS = ("seccomp",)


def build(kit):
    bomb = "import os\n\nwhile True:\n    os.fork()\n\n"
    return kit.notebook(identity_block=bomb + kit.solution("identity_block"))
