"""identity_block's cell tries to kill its worker's server and every process it may signal, then
defines the right function. Its own user, Landlock and the seccomp filter refuse each signal, and the
next cell, convolutional_block's, is graded as usual (ResNet50's is as handed out).

Never graded where no seccomp filter exists: there, kill(-1) would reach the grader's own processes.
"""

SCORE = 6
NEEDS = ("seccomp",)


def build(kit):
    killer = (
        "import os\n"
        "import signal\n\n"
        "for _target in (os.getppid(), -1, -os.getpgid(os.getppid())):\n"
        "    try:\n"
        "        os.kill(_target, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n\n\n"
    )
    return kit.stubbed(
        identity_block=killer + kit.solution("identity_block"), convolutional_block=kit.solution("convolutional_block")
    )
