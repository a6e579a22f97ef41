"""identity_block's cell puts 8 GB in a memfd, memory that neither the address-space limit nor the
resident-size watch counts: the seccomp filter refuses memfd_create, so the cell fails.

Never graded where no seccomp filter exists: there it would take the machine's memory.
"""

SCORE = 3
NEEDS = ("seccomp",)


def build(kit):
    hog = (
        "import os\n\n_fd = os.memfd_create('hog')\nfor _ in range(8 << 10):\n    os.write(_fd, b'x' * (1 << 20))\n\n\n"
    )
    return kit.notebook(identity_block=hog + kit.solution("identity_block"))
