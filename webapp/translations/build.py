"""Write messages.po and messages.mo for each language from the code's msgids and <lang>.yaml.

Run through `make translations` after changing interface text. Fails if a msgid has no
translation, so no English page shows Chinese by accident.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def main() -> int:
    """Extract, fill from YAML, write .po and .mo; return 1 if a translation is missing."""
    pot = HERE / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                    "--omit-header", "-o", str(pot), str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as handle:
        template = read_po(handle)
    pot.unlink()
    # Fixed dates in the catalog header, so the compiled .mo only changes when the text does.
    template.creation_date = template.revision_date = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    missing = []
    for source in sorted(HERE.glob("*.yaml")):
        lang = source.stem
        texts = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        template.locale = lang
        for message in template:
            if message.id:
                message.string = texts.get(message.id, "")
                if not message.string:
                    missing.append(f"{source.name}: no translation for {message.id!r}")
        folder = HERE / lang / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.po").open("wb") as handle:
            # No source locations: their order follows the file system's, which differs between clones.
            write_po(handle, template, omit_header=True, sort_output=True, no_location=True)
        with (folder / "messages.mo").open("wb") as handle:
            write_mo(handle, template)
    for line in missing:
        print(line, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
