"""Write JupyterLab's settings overrides for the course: jupyterlab/overrides.json, in a language.

    python scripts/lab_settings.py LANGUAGE OVERRIDES   # e.g. zh_CN .venv/share/jupyter/lab/settings/overrides.json

`make lab` writes them into the project's environment (JupyterLab reads them as the settings'
defaults), never into the user's home: JupyterLab's menus are then in LANGUAGE (en, zh_CN, ko_KR;
the language pack comes from the extra of that name in pyproject.toml).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATION = "@jupyterlab/translation-extension:plugin"


def overrides(language: str) -> dict:
    """The course's overrides with JupyterLab's display language (its locale, "en" for English)."""
    from resnets_utils.language import ENGLISH, LANGUAGES

    if language not in (ENGLISH, *LANGUAGES):
        raise SystemExit(f"unknown language {language!r}: choose one of {', '.join((ENGLISH, *LANGUAGES))}")
    found = json.loads((ROOT / "jupyterlab" / "overrides.json").read_text())
    return found | {TRANSLATION: {"locale": language}}


def main(argv=None) -> int:
    language, path = argv or sys.argv[1:]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overrides(language), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
