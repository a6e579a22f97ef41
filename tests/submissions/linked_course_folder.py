"""A relative link to the course's source folder beside the stubs; each cell runs the master's solution through it."""

SCORE = 0


def _through_the_link(grade_id):
    return (
        "import json\n\n"
        "for _cell in json.load(open('course_link/Residual_Networks.ipynb'))['cells']:\n"
        f"    if _cell.get('metadata', {{}}).get('nbgrader', {{}}).get('grade_id') == {grade_id!r}:\n"
        "        exec(''.join(_cell['source']))\n"
    )


def build(kit):
    return kit.stubbed(
        **{cell: _through_the_link(cell) for cell in ("identity_block", "convolutional_block", "resnet50")}
    )


def beside(kit):
    # submitted/<student>/<assignment>/course_link -> course/source/residual_networks
    return {"course_link": kit.link("../../../source/residual_networks")}
