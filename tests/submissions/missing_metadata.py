"""A correct submission in which ResNet50's cell lost its nbgrader metadata (pasted into a new cell): still found."""

SCORE = 10


def build(kit):
    notebook = kit.notebook()
    del kit.cell(notebook, "resnet50").metadata["nbgrader"]
    return notebook
