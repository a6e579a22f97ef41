"""identity_block is copied from another student's notebook, read in its scratch folder while both run.

With Landlock the neighbouring folders cannot even be listed, so the cell raises and
identity_block is never defined: its tests and ResNet50's fail, convolutional_block passes.
Without Landlock (and as another user) the copy could succeed: the entry is graded only with Landlock.
"""

SCORE = 3
NEEDS = ("landlock",)


def build(kit):
    cheat = (
        "import json\n"
        "import os\n"
        "import time\n\n"
        "_here = os.path.basename(os.getcwd())\n"
        "_parent = os.path.dirname(os.getcwd())\n"
        "_deadline = time.monotonic() + 20\n"
        "while 'identity_block' not in globals() and time.monotonic() < _deadline:\n"
        "    for _folder in sorted(os.listdir(_parent)):\n"
        "        _path = os.path.join(_parent, _folder, 'Residual_Networks.ipynb')\n"
        "        if _folder == _here or not os.path.isfile(_path):\n"
        "            continue\n"
        "        for _cell in json.load(open(_path))['cells']:\n"
        "            _source = ''.join(_cell['source'])\n"
        "            if _source.startswith('def identity_block(') and 'raise NotImplementedError' not in _source:\n"
        "                exec(_source)\n"
        "    time.sleep(0.5)\n"
    )
    return kit.notebook(identity_block=cheat)
