"""Stubs untouched, and the locked imports cell edited to make every check pass."""

SCORE = 0


def build(kit):
    notebook = kit.stubbed()
    cell = kit.cell(notebook, "imports")
    cell.source += (
        "\nfor _name in dir(checks):\n    if _name.startswith('check_'):\n"
        "        setattr(checks, _name, lambda *a, **k: None)\n"
    )
    return notebook
