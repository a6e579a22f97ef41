"""identity_block crashes the interpreter: it reads address 0 with ctypes."""

SCORE = 3


def build(kit):
    crash = "import ctypes\n    ctypes.string_at(0)\n    "
    source = kit.edit(kit.solution("identity_block"), "F1, F2, F3 = filters", crash + "F1, F2, F3 = filters")
    return kit.notebook(identity_block=source)
