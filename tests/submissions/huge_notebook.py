"""A notebook over the per-file limit (pictures left in its outputs): 0, with a verdict that says so."""

import nbformat

SCORE = 0


def build(kit):
    notebook = kit.notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("x" * int(kit.max_file_mb * (1 << 20))))
    return notebook
