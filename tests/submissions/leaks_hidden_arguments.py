"""The student's functions note every block case they can find (their own arguments, and any dict in
memory that looks like a case), and convolutional_block and ResNet50 raise with the list, hoping to
read the hidden cases' shapes and filters in a visible test's reason. The grader sends each case only
when it runs it, and runs every visible test first: the reasons the student reads show visible cases only.

identity_block is right (3 points); the other two always raise.
"""

SCORE = 3


def signature(input_shape, f, filters) -> str:
    """How the entry writes a case it saw (the tests look for the hidden cases' in what the student reads)."""
    return f"SEEN{list(input_shape)}f{f}F{list(filters)}"


def build(kit):
    recorder = (
        "import gc as _gc\n\n"
        "_SEEN = []\n\n\n"
        "def _signature(input_shape, f, filters):\n"
        "    return f'SEEN{list(input_shape)}f{f}F{list(filters)}'\n\n\n"
        "def _note(X, f, filters):\n"
        "    _SEEN.append(_signature(X.shape, f, filters))\n"
        "    for found in _gc.get_objects():\n"
        "        if isinstance(found, dict) and 'input_shape' in found and 'filters' in found:\n"
        "            _SEEN.append(_signature(found['input_shape'], found.get('f'), found['filters']))\n\n\n"
    )
    identity = recorder + kit.edit(
        kit.solution("identity_block"),
        '"""\n',
        '"""\n    if type(X).__module__ == "numpy":\n        _note(X, f, filters)\n',
        1,
    )
    convolutional = kit.edit(
        kit.solution("convolutional_block"), '"""\n', '"""\n    raise RuntimeError(" ".join(sorted(set(_SEEN))))\n', 1
    )
    resnet = kit.edit(
        kit.solution("resnet50"), '"""\n', '"""\n    raise RuntimeError(" ".join(sorted(set(_SEEN))))\n', 1
    )
    return kit.notebook(identity_block=identity, convolutional_block=convolutional, resnet50=resnet)
