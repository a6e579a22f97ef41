"""Stubs untouched; IPython's traceback display silenced, so failing cells look clean in the notebook."""

SCORE = 0


def build(kit):
    cheat = (
        "try:\n"
        "    get_ipython().showtraceback = lambda *a, **k: None\n"
        "    get_ipython().showsyntaxerror = lambda *a, **k: None\n"
        "except NameError:\n"
        "    pass\n\n"
    )
    return kit.stubbed(identity_block=cheat + kit.stub("identity_block"))
