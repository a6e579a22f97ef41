"""identity_block done (the rest as handed out) and its test cells deleted: the grader's tests are its own."""

SCORE = 3


def build(kit):
    notebook = kit.stubbed(identity_block=kit.solution("identity_block"))
    gone = {"identity_block_public", "identity_block_hidden"}
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in gone]
    return notebook
