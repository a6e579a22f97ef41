"""identity_block's cell writes 9 MB without a line break on every pipe it holds: past the channel's
line limit the grader kills the worker, so the cell fails and identity_block is never defined."""

SCORE = 3


def build(kit):
    flood = kit.to_pipes + "for _ in range(9):\n    _to_pipes(b'x' * (1 << 20))\n\n\n"
    return kit.notebook(identity_block=flood + kit.solution("identity_block"))
