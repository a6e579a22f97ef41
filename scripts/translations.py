"""Keep the gettext catalogues in step with the master notebooks and the package's messages.

    python scripts/translations.py update    # add new units, mark changed ones fuzzy
    python scripts/translations.py check     # name every unit untranslated or out of date; exit 1 if any

A translator then fills in ``msgstr`` in ``course/locale/<language>/<notebook>.po`` (the notebooks)
and ``resnets_utils/locale/<language>/messages.po`` (what the checks and the grader say), with any
PO editor, and removes the ``fuzzy`` flag once a changed unit is translated again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from resnets_utils.course import editions

ROOT = Path(__file__).resolve().parent.parent
MASTERS = editions.master_notebooks(ROOT / "course" / "source")
LOCALE = ROOT / "course" / "locale"
MESSAGES = ROOT / "resnets_utils" / "locale"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "check"])
    args = parser.parse_args(argv)
    found = []
    for language in editions.LANGUAGES:
        for master in MASTERS:
            notebook = nbformat.read(master, as_version=4)
            path = editions.catalogue_path(LOCALE, language, master)
            existing = editions.read_catalogue(path, language) if path.exists() else None
            if args.command == "update":
                editions.write_catalogue(path, editions.updated_catalogue(notebook, master.stem, language, existing))
                print(f"updated {path.relative_to(ROOT)}")
            elif existing is None:
                found.append(f"{path.relative_to(ROOT)}: missing (run `python scripts/translations.py update`)")
            else:
                found += [f"{path.relative_to(ROOT)}: {line}" for line in editions.problems(notebook, existing)]
        path = MESSAGES / language / "messages.po"
        existing = editions.read_catalogue(path, language) if path.exists() else None
        if args.command == "update":
            editions.write_catalogue(path, editions.updated_messages(language, existing))
            print(f"updated {path.relative_to(ROOT)}")
        elif existing is None:
            found.append(f"{path.relative_to(ROOT)}: missing (run `python scripts/translations.py update`)")
        else:
            found += [f"{path.relative_to(ROOT)}: {line}" for line in editions.message_problems(existing)]
    if found:
        print("\n".join(found), file=sys.stderr)
        print(f"{len(found)} units to translate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
