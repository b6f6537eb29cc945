"""Put feedparser's own test feeds (about 2,200 RSS, Atom, RDF and CDF files, well-formed and
broken, in many encodings) into var/feed-corpus/, for tests/mediawatch/test_feed_corpus.py.

They come from the sdist of the feedparser version pinned in requirements.txt, downloaded
by pip (the wheel does not ship them). Does nothing when the corpus of that version is there
already; the tests never download anything. Usage:
    python scripts/fetch_feed_corpus.py [target directory]   (default: var/feed-corpus)
"""

import re
import shutil
import subprocess  # noqa: S404 - runs pip, with fixed arguments
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "var" / "feed-corpus"
STAMP = "VERSION"  # written last: a corpus without it is incomplete and fetched again
FEED_SUFFIXES = frozenset({".xml", ".rdf", ".rss", ".atom", ".json"})
PINNED = re.compile(r"^feedparser==([\w.]+)\s*(?:#.*)?$", re.MULTILINE)


def pinned_version() -> str:
    found = PINNED.search((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit("feedparser is not pinned in requirements.txt")
    return found.group(1)


def download_sdist(version: str, into: Path) -> Path:
    subprocess.run(  # noqa: S603 - our own interpreter's pip, fixed arguments
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-binary", ":all:", f"feedparser=={version}", "-d", str(into),
        ],
        check=True,
    )  # fmt: skip
    found = sorted(into.glob("feedparser-*.tar.gz"))
    if not found:
        raise SystemExit(f"pip downloaded no sdist of feedparser {version}")
    return found[0]


def extract_feeds(sdist: Path, into: Path) -> int:
    """The feed files under the sdist's tests/, at the same relative paths; nothing else
    (no link, no path outside `into`)."""
    count = 0
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            if len(parts) < 3 or parts[1] != "tests" or not member.isfile():
                continue
            relative = PurePosixPath(*parts[2:])
            if ".." in relative.parts or relative.suffix.lower() not in FEED_SUFFIXES:
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            target = into.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())
            count += 1
    return count


def fetch_corpus(target: Path) -> tuple[int, bool]:
    """The number of feed files in `target`, and whether they were fetched now (they are
    not when the pinned version's corpus is there already)."""
    version = pinned_version()
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == version:
        return sum(1 for path in target.rglob("*") if path.suffix.lower() in FEED_SUFFIXES), False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        download = Path(scratch) / "download"
        corpus = Path(scratch) / "corpus"
        count = extract_feeds(download_sdist(version, download), corpus)
        (corpus / STAMP).write_text(f"{version}\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)  # an older version's corpus, or an incomplete one
        corpus.rename(target)
    return count, True


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    total, fetched = fetch_corpus(where)
    print(f"feed corpus: {total} files in {where}" + ("" if fetched else " (already there)"))
