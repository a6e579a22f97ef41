"""A correct submission whose identity_block test cells were deleted: the grader's tests are its own."""

SCORE = 10


def build(kit):
    notebook = kit.notebook()
    gone = {"identity_block_public", "identity_block_hidden"}
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in gone]
    return notebook
