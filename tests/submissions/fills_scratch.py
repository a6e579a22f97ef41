"""identity_block's cell writes 8 MB files in its folder without end (each under the per-file limit):
past the scratch limit the grader kills it, so the cell fails and identity_block is never defined."""

SCORE = 3


def build(kit):
    filler = (
        "for _n in range(100_000):\n"
        "    with open(f'filler-{_n}.bin', 'wb') as _out:\n"
        "        _out.write(b'x' * (8 << 20))\n\n\n"
    )
    return kit.notebook(identity_block=filler + kit.solution("identity_block"))
