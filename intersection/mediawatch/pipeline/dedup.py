"""Duplicate detection: the same story republished by several outlets is one story.

Exact rules come first: the same canonical URL, or the same normalised title with reasonably
similar text. Then near-duplicate text:

- near copies: a 64-bit SimHash of the text's word shingles, indexed by LSH banding
  (pigeonhole: with at most k differing bits, one of k+1 bands is identical), so a lookup
  among a million stored signatures checks a few hundred of them;
- edited copies (new intro, last paragraph dropped, a closing line added) are too far apart
  for a small k: MinHash band keys find them as candidates, and the share of word shingles
  the two texts have in common (containment) decides;
- figures: two police zones' copies of one press-release template share most of their
  words but not their numbers, so the same words around different numbers mean two stories.

Method, thresholds and measured precision/recall: docs/mediawatch-duplicates.md.
"""

import functools
import hashlib
import operator
import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .stemming import strip_accents
from .urls import comparable_url

SIGNATURE_BITS = 64
SHINGLE_SIZE = 3
DEFAULT_MAX_DISTANCE = 4
MINHASH_BANDS = 16
MINHASH_ROWS = 2
MERSENNE_61 = (1 << 61) - 1
# Fixed permutations h -> (a*h + b) mod (2^61 - 1), derived from blake2b so that every
# process and every Python version computes the same keys.
MINHASH_PERMUTATIONS = tuple(
    (
        1
        + int.from_bytes(hashlib.blake2b(f"minhash-a-{i}".encode(), digest_size=8).digest())
        % (MERSENNE_61 - 1),
        int.from_bytes(hashlib.blake2b(f"minhash-b-{i}".encode(), digest_size=8).digest())
        % MERSENNE_61,
    )
    for i in range(MINHASH_BANDS * MINHASH_ROWS)
)
MINHASH_TAG = 1 << 62  # MinHash keys never collide with SimHash band keys (below 2^54)

# Live/video markers an outlet puts in front of a title ("EN DIRECT - …", "[VIDÉO] …").
TITLE_MARKERS = (
    "en direct", "direct", "en images", "vidéo", "video", "vidéos", "videos", "live",
    "liveblog", "photos", "photo", "fotos", "foto's", "foto’s", "interview", "update",
    "mise à jour", "watch", "breaking",
)  # fmt: skip
_MARKER = "|".join(sorted((re.escape(m) for m in TITLE_MARKERS), key=len, reverse=True))
# A marker counts only when bracketed or followed by a separator: "Direct debit fraud" keeps
# its first word, "DIRECT : Namur …" loses it.
LEADING_MARKER = re.compile(
    rf"^\s*(?:[\[(]\s*(?:{_MARKER})\s*[\])]\s*[-|:.–—]?|(?:{_MARKER})\s*[-|:.–—])\s*",
    re.IGNORECASE,
)
SUFFIX_SEPARATOR = re.compile(r"\s+[-|–—]\s+")
# Words allowed in lower case inside an outlet's name ("Le Journal de Montréal").
NAME_PARTICLES = frozenset({"de", "du", "des", "la", "le", "van", "het", "the", "of", "and", "et"})
MAX_SUFFIX_WORDS = 5
MAX_SUFFIX_CHARS = 40

FOLDED = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})
THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ .,]\d{3})+(?!\d)")
NOT_WORD = re.compile(r"[\W_]+")
DIGIT = re.compile(r"\d")
WORDS = re.compile(r"[^\W_]+")


FOLDED_LETTERS = re.compile("[" + "".join(chr(code) for code in FOLDED) + "]")


def fold(text: str) -> str:
    """Lower case without accents: "Vidéo Liège Œuvre" -> "video liege oeuvre"."""
    folded = text.casefold()
    if FOLDED_LETTERS.search(folded):  # rare: translate() is slow on every other text
        folded = folded.translate(FOLDED)
    return strip_accents(folded)


def _is_outlet_name(tail: str) -> bool:
    words = tail.split()
    if not words or len(words) > MAX_SUFFIX_WORDS or len(tail) > MAX_SUFFIX_CHARS:
        return False
    if len(words) == 1 and "." in tail:
        return True  # "hln.be"
    return all(w[0].isupper() or w[0].isdigit() or w in NAME_PARTICLES for w in words)


def strip_outlet_suffix(title: str) -> str:
    """Remove a trailing " - Le Soir", " | RTBF", " – De Standaard" (at most two of them).

    Only a short tail that looks like a name (capitalised words, particles allowed, or a
    domain) goes: "Faux policiers - deux suspects arrêtés" keeps its second half."""
    for _ in range(2):
        separators = list(SUFFIX_SEPARATOR.finditer(title))
        if not separators:
            break
        last = separators[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :].strip()
        if not head or not _is_outlet_name(tail):
            break
        title = head
    return title


def normalise_title(title: str | None) -> str:
    """Comparable form of a title: no outlet suffix, no leading live/video marker, lower case,
    accents folded, punctuation removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    previous = None
    while previous != text:  # markers first: "PHOTOS - Carnaval de Binche" is no outlet
        previous = text
        text = LEADING_MARKER.sub("", text, count=1)
    text = fold(strip_outlet_suffix(text))
    return " ".join(NOT_WORD.sub(" ", text).split())


def normalise_text(text: str | None) -> str:
    """Comparable form of a body: lower case, accents folded, figures written one way
    ("1.100", "1 100" and "1,100" all become "1100"), punctuation removed, spaces collapsed."""
    folded = fold(unicodedata.normalize("NFKC", text or ""))
    if DIGIT.search(folded):
        folded = THOUSANDS.sub(lambda m: re.sub(r"[ .,]", "", m.group(0)), folded)
    return " ".join(WORDS.findall(folded))  # the runs between NOT_WORD runs


def shingles(text: str, size: int = SHINGLE_SIZE) -> frozenset[str]:
    """Word n-grams of the normalised text; a text shorter than `size` words is one shingle."""
    return features(text, size).shingles


def _shingles(normalised: str, size: int) -> frozenset[str]:
    words = normalised.split()
    if len(words) <= size:
        return frozenset({" ".join(words)}) if words else frozenset()
    # zip of the word list shifted 0..size-1 places: every run of `size` words, joined in C.
    return frozenset(map(" ".join, zip(*(words[i:] for i in range(size)), strict=False)))


def stable_hash(feature: str) -> int:
    """64-bit hash that is the same in every process (Python's hash() is salted per run)."""
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


_BLAKE2B_8 = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


def _hashes(items: Iterable[str]) -> np.ndarray:
    """`stable_hash` of each item, as an array: the same digests, read as big-endian 64-bit
    integers, with every step a C-level `map` (three times faster than one call an item)."""
    digests = b"".join(map(_DIGEST, map(_BLAKE2B_8, map(str.encode, items))))
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def _simhash(hashes: np.ndarray) -> int:
    """Each bit of the signature is the majority vote of that bit over the hashes."""
    if not len(hashes):
        return 0
    # Little-endian bytes, least significant bit first: column j is bit j of every hash.
    bits = np.unpackbits(
        hashes.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    votes = bits.sum(axis=0, dtype=np.int64)
    majority = np.flatnonzero(votes * 2 > len(hashes))
    return sum(1 << int(bit) for bit in majority)


def simhash(features: Iterable[str]) -> int:
    """64-bit SimHash: each bit is the majority vote of that bit over the features' hashes."""
    return _simhash(_hashes(features))


@dataclass(frozen=True, eq=False)
class Features:
    """What duplicate detection computes from one text, once (see `features`); the hashes
    and the signature only when asked (a stored article's signature is in the database)."""

    normalised: str
    shingles: frozenset[str]

    @functools.cached_property
    def hashes(self) -> np.ndarray:
        """stable_hash of each shingle (uint64, read-only)."""
        hashes = _hashes(self.shingles)
        hashes.flags.writeable = False
        return hashes

    @functools.cached_property
    def signature(self) -> int:
        """SimHash of the shingles."""
        return _simhash(self.hashes)

    @functools.cached_property
    def figures(self) -> dict[tuple[str, str], set[str]]:
        """`figure_slots` of the normalised text, computed when first compared."""
        return figure_slots(self.normalised)


def features(text: str, size: int = SHINGLE_SIZE) -> Features:
    """Normalised text, shingles, their hashes and SimHash, computed once per text: an
    incoming item needs them for its keys and for each comparison, and a wire story stored
    once is compared with every outlet's copy (the cache keeps the last 512 texts)."""
    return _features(text, size)  # one cache key however the size is passed


@functools.lru_cache(maxsize=512)
def _features(text: str, size: int) -> Features:
    normalised = normalise_text(text)
    return Features(normalised, _shingles(normalised, size))


def text_signature(text: str, size: int = SHINGLE_SIZE) -> int:
    """SimHash of the text's word shingles (unsigned 64-bit)."""
    return features(text, size).signature


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_signed(signature: int) -> int:
    """The unsigned signature as a signed 64-bit integer (what a BIGINT column holds)."""
    return signature - (1 << 64) if signature >= 1 << 63 else signature


def from_signed(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def bands(max_distance: int) -> list[tuple[int, int]]:
    """(shift, width) of the k+1 bands that split 64 bits as evenly as possible."""
    if not 0 <= max_distance < SIGNATURE_BITS:
        raise ValueError(f"max_distance must be between 0 and {SIGNATURE_BITS - 1}")
    count = max_distance + 1
    widths = [SIGNATURE_BITS // count + (i < SIGNATURE_BITS % count) for i in range(count)]
    shifts = [sum(widths[:i]) for i in range(count)]
    return list(zip(shifts, widths, strict=True))


def band_keys(signature: int, max_distance: int | None = None) -> list[int]:
    """One integer per band (band number in the high bits, below 2^54), to store and look up
    in a database: two signatures within `max_distance` bits share at least one key."""
    distance = DEFAULT_MAX_DISTANCE if max_distance is None else max_distance
    if distance < 1:
        raise ValueError("band keys need max_distance >= 1 (one 64-bit band is the signature)")
    return [
        (index << 48) | ((signature >> shift) & ((1 << width) - 1))
        for index, (shift, width) in enumerate(bands(distance))
    ]


_LOW_31 = np.uint64((1 << 31) - 1)
_LOW_30 = np.uint64((1 << 30) - 1)
_M61 = np.uint64(MERSENNE_61)
_PERMUTATION_A = np.array([a for a, _ in MINHASH_PERMUTATIONS], dtype=np.uint64)[:, None]
_PERMUTATION_B = np.array([b for _, b in MINHASH_PERMUTATIONS], dtype=np.uint64)[:, None]


def _permuted(hashes: np.ndarray, permutations: int) -> np.ndarray:
    """(a*h + b) mod (2^61 - 1) for every permutation (rows) and hash (columns), exactly, in
    64-bit integers: a and h are split into 31-bit halves and 2^61 ≡ 1 folds the products."""
    a = _PERMUTATION_A[:permutations]
    b = _PERMUTATION_B[:permutations]
    h = (hashes % _M61)[None, :]
    a0, a1 = a & _LOW_31, a >> np.uint64(31)
    h0, h1 = h & _LOW_31, h >> np.uint64(31)
    high = (a1 * h1) << np.uint64(1)  # a1*h1*2^62 ≡ 2*a1*h1, below 2^61
    middle = a1 * h0 + a0 * h1  # below 2^62; times 2^31 it is hi*2^61 + lo*2^31
    middle = (middle >> np.uint64(30)) + ((middle & _LOW_30) << np.uint64(31))
    total = high + middle + a0 * h0 + b  # below 2^64
    total = (total & _M61) + (total >> np.uint64(61))
    return np.where(total >= _M61, total - _M61, total)


def _minhash(hashes: np.ndarray, permutations: int = MINHASH_BANDS * MINHASH_ROWS) -> list[int]:
    if not len(hashes):
        return []
    return [int(v) for v in _permuted(hashes, permutations).min(axis=1)]


def minhash(features: Iterable[str], permutations: int = MINHASH_BANDS * MINHASH_ROWS) -> list[int]:
    """MinHash: for each permutation (at most 32), the smallest permuted hash of the features.
    Two sets agree on one value with probability equal to their Jaccard similarity."""
    if not 0 < permutations <= len(MINHASH_PERMUTATIONS):
        raise ValueError(f"permutations must be between 1 and {len(MINHASH_PERMUTATIONS)}")
    return _minhash(_hashes(features), permutations)


def overlap_keys(text: str, size: int = SHINGLE_SIZE) -> list[int]:
    """MinHash LSH keys (16 bands of 2 values): two texts sharing a key are candidates for
    `compare`. A pair with Jaccard similarity J shares one with probability 1-(1-J²)^16:
    0.78 at J=0.3 (the most edited copies of the labelled set), 0.99 at J=0.5, about 0.0002
    for unrelated articles. Tagged with bit 62, so they can share a table with `band_keys`."""
    values = _minhash(features(text, size).hashes)
    if not values:
        return []
    keys = []
    for band in range(MINHASH_BANDS):
        rows = values[band * MINHASH_ROWS : (band + 1) * MINHASH_ROWS]
        digest = hashlib.blake2b(repr((band, rows)).encode(), digest_size=8).digest()
        keys.append(MINHASH_TAG | (int.from_bytes(digest) & (MINHASH_TAG - 1)))
    return keys


def candidate_keys(text: str, max_distance: int | None = None) -> list[int]:
    """Every lookup key of a text: SimHash bands (near copies) and MinHash bands (edited
    copies). Store them per article; an incoming article's candidates share one of them."""
    return band_keys(text_signature(text), max_distance) + overlap_keys(text)


class NearDuplicateIndex[Key: Hashable]:
    """Signatures within `max_distance` bits of a query, found through k+1 exact-match bands.

    Memory: one table per band mapping the band's value to the signatures that have it. A
    lookup reads k+1 buckets (about n / 2^(64/(k+1)) signatures each) and checks each by
    popcount, so keep k small (≤ 5 for a million signatures; bench/dedup_lookup.py)."""

    def __init__(self, max_distance: int = DEFAULT_MAX_DISTANCE) -> None:
        self.max_distance = max_distance
        self._bands = [(shift, (1 << width) - 1) for shift, width in bands(max_distance)]
        self._tables: list[dict[int, list[int]]] = [{} for _ in self._bands]
        self._keys: dict[int, list[Key]] = {}

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys.values())

    def add(self, key: Key, signature: int) -> None:
        keys = self._keys.get(signature)
        if keys is not None:
            keys.append(key)
            return
        self._keys[signature] = [key]
        for table, (shift, mask) in zip(self._tables, self._bands, strict=True):
            table.setdefault((signature >> shift) & mask, []).append(signature)

    def query(self, signature: int) -> list[tuple[Key, int]]:
        """Stored keys whose signature is within max_distance bits, nearest first."""
        limit = self.max_distance
        found: set[int] = set()
        for table, (shift, mask) in zip(self._tables, self._bands, strict=True):
            bucket = table.get((signature >> shift) & mask)
            if bucket:
                found.update(s for s in bucket if (s ^ signature).bit_count() <= limit)
        matches = sorted(((s ^ signature).bit_count(), s) for s in found)
        return [(key, distance) for distance, s in matches for key in self._keys[s]]


@dataclass(frozen=True)
class Thresholds:
    """Every tunable of `compare`; the defaults are the ones measured in the docs."""

    max_distance: int = DEFAULT_MAX_DISTANCE  # SimHash bits: a near copy, and the index radius
    min_overlap: float = 0.5  # share of shingles for an edited copy
    title_min_overlap: float = 0.2  # same normalised title: text must still be this close
    url_min_overlap: float = 0.05  # same URL: unless the texts have nothing in common
    shingle_size: int = SHINGLE_SIZE
    min_shingles: int = 20  # shorter texts: overlap counted against this many shingles
    check_figures: bool = True  # the same sentence with other numbers is another story
    window: timedelta = timedelta(days=14)  # dated items further apart are different stories


@dataclass(frozen=True)
class Document:
    """What `compare` looks at. Any field may be empty."""

    title: str = ""
    text: str = ""
    url: str = ""
    published: datetime | None = None
    signature: int | None = None  # text_signature(text) when already known (stored)


@dataclass(frozen=True)
class Decision:
    duplicate: bool
    similarity: float  # shingle overlap, 0..1
    reason: str  # same-url, same-title, near-copy, overlap, figures-differ, outside-window, …


def overlap(a: frozenset[str], b: frozenset[str], min_shingles: int = 1) -> float:
    """Containment: shared shingles over the smaller set (at least `min_shingles`), so a copy
    that lost its last paragraph or gained a new intro still scores high."""
    if not a or not b:
        return 0.0
    return len(a & b) / max(min(len(a), len(b)), min_shingles)


def figure_slots(normalised: str) -> dict[tuple[str, str], set[str]]:
    """Each number with the words around it: ("remis", "constats") -> {"312"}."""
    slots: dict[tuple[str, str], set[str]] = {}
    if not DIGIT.search(normalised):
        return slots
    words = normalised.split()
    for i, word in enumerate(words):
        if word.isdigit():
            before = words[i - 1] if i else "^"
            after = words[i + 1] if i + 1 < len(words) else "$"
            slots.setdefault((before, after), set()).add(word)
    return slots


def figures_differ(a: str, b: str) -> bool:
    """True when both normalised texts say the same words around a number, but not the same
    number: "ont remis 312 constats" against "ont remis 187 constats"."""
    return _slots_differ(figure_slots(a), figure_slots(b))


def _slots_differ(
    slots_a: dict[tuple[str, str], set[str]], slots_b: dict[tuple[str, str], set[str]]
) -> bool:
    return any(slots_a[slot].isdisjoint(slots_b[slot]) for slot in slots_a.keys() & slots_b.keys())


def _same_url(a: Document, b: Document) -> bool:
    return bool(a.url and b.url) and comparable_url(a.url) == comparable_url(b.url)


def _apart(a: Document, b: Document, window: timedelta) -> bool:
    if a.published is None or b.published is None:
        return False
    return abs(a.published - b.published) > window


def _signature(document: Document, found: Features, size: int) -> int:
    """The document's known signature (computed with the default shingle size), else its own."""
    if document.signature is not None and size == SHINGLE_SIZE:
        return document.signature
    return found.signature


def compare(a: Document, b: Document, thresholds: Thresholds | None = None) -> Decision:
    """Are `a` and `b` the same story? Exact rules first, then near-duplicate text."""
    limits = thresholds or Thresholds()
    features_a = features(a.text, limits.shingle_size)
    features_b = features(b.text, limits.shingle_size)
    text_a, text_b = features_a.normalised, features_b.normalised
    shingles_a, shingles_b = features_a.shingles, features_b.shingles
    similarity = overlap(shingles_a, shingles_b, limits.min_shingles)
    if _same_url(a, b) and (not text_a or not text_b or similarity >= limits.url_min_overlap):
        return Decision(True, similarity, "same-url")
    if _apart(a, b, limits.window):
        return Decision(False, similarity, "outside-window")
    conflict = limits.check_figures and _slots_differ(features_a.figures, features_b.figures)
    title_a = normalise_title(a.title)
    if title_a and title_a == normalise_title(b.title) and similarity >= limits.title_min_overlap:
        return Decision(not conflict, similarity, "figures-differ" if conflict else "same-title")
    long_enough = min(len(shingles_a), len(shingles_b)) >= limits.min_shingles
    near = long_enough and (
        hamming(
            _signature(a, features_a, limits.shingle_size),
            _signature(b, features_b, limits.shingle_size),
        )
        <= limits.max_distance
    )
    if near or similarity >= limits.min_overlap:
        if conflict:
            return Decision(False, similarity, "figures-differ")
        return Decision(True, similarity, "near-copy" if near else "overlap")
    return Decision(False, similarity, "different")
