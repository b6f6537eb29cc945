"""Fail when the French or Dutch catalog has an untranslated or fuzzy entry.

Usage: python scripts/check_translations.py [LOCALE_DIR]
(exit status 1 and a list of entries on failure)
"""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "intersection" / "locale"
LANGUAGES = ("fr", "nl")


@dataclass
class Entry:
    line: int
    fuzzy: bool = False
    fields: dict[str, str] = field(default_factory=dict)  # "msgid", "msgstr[0]", ...

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def translated(self) -> bool:
        strs = [value for key, value in self.fields.items() if key.startswith("msgstr")]
        return bool(strs) and all(strs)


def parse(path: Path) -> list[Entry]:
    """Read the entries of a .po file; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        starts_entry = line.startswith(("#", "msgctxt ", "msgid "))
        if entry is None or (starts_entry and "msgid" in entry.fields):
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.fuzzy = entry.fuzzy or "fuzzy" in line[2:].replace(",", " ").split()
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry.fields[key] = entry.fields.get(key, "") + ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry.fields[key] = ast.literal_eval(value)
    return entries


def problems(path: Path) -> list[str]:
    found = []
    for entry in parse(path):
        if not entry.msgid:  # the header
            continue
        if entry.fuzzy or not entry.translated:
            state = "fuzzy" if entry.fuzzy else "untranslated"
            found.append(f"{path}:{entry.line}: {state}: {entry.msgid!r}")
    return found


def main() -> int:
    locale_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else LOCALE_DIR
    found: list[str] = []
    for language in LANGUAGES:
        path = locale_dir / language / "LC_MESSAGES" / "django.po"
        if not path.exists():
            found.append(f"{path}: missing catalog")
            continue
        found.extend(problems(path))
    for problem in found:
        print(problem)
    if found:
        print(f"{len(found)} translation problem(s) in the {'/'.join(LANGUAGES)} catalogs.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
