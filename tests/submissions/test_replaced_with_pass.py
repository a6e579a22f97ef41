"""Stubs untouched, every test cell's source replaced with `pass`."""

SCORE = 0


def build(kit):
    notebook = kit.stubbed()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass"
    return notebook
