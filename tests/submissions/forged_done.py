"""identity_block's cell writes a forged "done" report for itself on every pipe, then loops forever.

The grader sends the next cell, which is never read: when the time limit is reached the forger is
blamed, so identity_block's cell fails (its tests and ResNet50's), and the other cells are graded.
"""

SCORE = 3


def build(kit):
    forger = kit.to_pipes + (
        '_to_pipes(b\'{"done": "identity_block", "result": {"ok": true}, "peak_mb": 1.0}\\n\')\nwhile True:\n    pass\n'
    )
    return kit.notebook(identity_block=forger)
