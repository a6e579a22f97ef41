"""identity_block is taken from the master notebook and the hidden expected values read from disk."""

SCORE = 3
NEEDS = ("landlock",)


def build(kit):
    cheat = (
        "import json\n\n"
        f"_hidden = open({str(kit.hidden)!r}).read()\n"
        f"_master = json.load(open({str(kit.master)!r}))\n"
        "for _cell in _master['cells']:\n"
        "    if _cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') == 'identity_block':\n"
        "        exec(''.join(_cell['source']))\n"
    )
    return kit.notebook(identity_block=cheat)
