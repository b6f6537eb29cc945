"""Compile the translation catalogs (.po -> .mo) with Babel, so that `make run` needs no GNU
gettext. Fuzzy entries are left out, as msgfmt does. Usage:
    python scripts/compile_messages.py [locale directory]   (default: intersection/locale)
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = Path(__file__).resolve().parent.parent / "intersection" / "locale"


def compile_catalogs(locale_dir: Path) -> list[Path]:
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    for path in compile_catalogs(target):
        print(f"compiled {path}")
