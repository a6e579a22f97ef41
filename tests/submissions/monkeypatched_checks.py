"""Stubs untouched; the first solution cell replaces every function of resnets_utils.checks."""

SCORE = 0


def build(kit):
    cheat = (
        "from resnets_utils import checks\n\n"
        "for _name in dir(checks):\n"
        "    if callable(getattr(checks, _name)) and not _name[0].isupper():\n"
        "        setattr(checks, _name, lambda *a, **k: {})\n"
        "checks.observe = lambda name, function, case: {\n"
        "    'rows': case.get('summary', []), 'outputs': case.get('outputs', {})}\n\n"
    )
    return kit.stubbed(identity_block=cheat + kit.stub("identity_block"))
