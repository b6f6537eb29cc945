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


def _constant(name: str) -> int:
    """A fixed odd 64-bit constant derived from blake2b, the same in every process and every
    Python version (the stored band keys depend on it)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest()) | 1


# A shingle's hash: its words' hashes times one constant per position, summed (mod 2^64),
# then mixed by MurmurHash3's 64-bit finaliser, so that every bit depends on every word.
SHINGLE_MULTIPLIERS = tuple(_constant(f"shingle-{i}") for i in range(8))
FMIX_1, FMIX_2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
# MinHash permutations h -> (a*h + b) mod 2^64, a odd: each is a bijection of the 64-bit hashes.
MINHASH_PERMUTATIONS = tuple(
    (_constant(f"minhash-a-{i}"), _constant(f"minhash-b-{i}"))
    for i in range(MINHASH_BANDS * MINHASH_ROWS)
)
# A MinHash band's key: its values times one constant per row, plus its number times another.
ROW_MULTIPLIERS = tuple(_constant(f"band-row-{i}") for i in range(MINHASH_ROWS))
BAND_NUMBER_MULTIPLIER = _constant("band-number")
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
# A number with thousands separators, not preceded by a digit, point or comma. The look-behind
# comes after the first digit: the scan then looks for a digit first (three times faster).
THOUSANDS = re.compile(r"\d(?<![\d.,]\d)\d{0,2}(?:[ .,]\d{3})+(?!\d)")
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


def stable_hash(feature: str) -> int:
    """64-bit hash that is the same in every process (Python's hash() is salted per run)."""
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


class _WordHashes(dict[str, int]):
    """`stable_hash` of the words seen so far: the vocabulary of the news repeats, so most
    words of an incoming article are already here. Emptied when it reaches LIMIT words."""

    LIMIT = 200_000

    def __missing__(self, word: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[word] = stable_hash(word)
        return value


_WORD_HASHES = _WordHashes()
_U64 = np.uint64
_SHINGLE_MULTIPLIERS = np.array(SHINGLE_MULTIPLIERS, dtype=_U64)


def _fmix(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser on every value (arithmetic mod 2^64; a new array)."""
    values = values ^ (values >> _U64(33))
    values *= _U64(FMIX_1)
    values ^= values >> _U64(33)
    values *= _U64(FMIX_2)
    values ^= values >> _U64(33)
    return values


def shingle_hashes(normalised: str, size: int = SHINGLE_SIZE) -> np.ndarray:
    """The hashes of the normalised text's word n-grams (shingles), sorted, each once.

    Shingle i of `size` words hashes as fmix(sum over j of stable_hash(word i+j) × M_j) mod
    2^64, with one constant M_j per position ("a b c" and "c b a" differ); a text shorter
    than `size` words is one shingle of all its words."""
    if not 0 < size <= len(SHINGLE_MULTIPLIERS):
        raise ValueError(f"shingle size must be between 1 and {len(SHINGLE_MULTIPLIERS)}")
    words = normalised.split()
    if not words:
        return np.empty(0, dtype=_U64)
    hashes = np.fromiter(map(_WORD_HASHES.__getitem__, words), dtype=_U64, count=len(words))
    count = max(len(words) - size + 1, 1)  # shingles
    mixed = hashes[:count] * _SHINGLE_MULTIPLIERS[0]
    for position in range(1, min(size, len(words))):
        mixed += hashes[position : position + count] * _SHINGLE_MULTIPLIERS[position]
    return np.unique(_fmix(mixed))


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


def simhash(hashes: Iterable[int]) -> int:
    """64-bit SimHash of a set of 64-bit feature hashes: each bit is the majority vote of
    that bit over the hashes."""
    return _simhash(np.unique(np.fromiter(hashes, dtype=_U64)))


@dataclass(frozen=True, eq=False)
class Features:
    """What duplicate detection computes from one text, once (see `features`); the signature
    and the figures only when asked."""

    normalised: str
    hashes: np.ndarray  # shingle_hashes of the normalised text (read-only)

    @functools.cached_property
    def signature(self) -> int:
        """SimHash of the shingles."""
        return _simhash(self.hashes)

    @functools.cached_property
    def figures(self) -> dict[tuple[str, str], set[str]]:
        """`figure_slots` of the normalised text, computed when first compared."""
        return figure_slots(self.normalised)


def features(text: str, size: int = SHINGLE_SIZE) -> Features:
    """Normalised text, shingle hashes and SimHash, computed once per text: an incoming item
    needs them for its keys and for each comparison, and a wire story stored once is compared
    with every outlet's copy (the cache keeps the last 512 texts)."""
    return _features(text, size)  # one cache key however the size is passed


@functools.lru_cache(maxsize=512)
def _features(text: str, size: int) -> Features:
    normalised = normalise_text(text)
    hashes = shingle_hashes(normalised, size)
    hashes.flags.writeable = False
    return Features(normalised, hashes)


def text_signature(text: str, size: int = SHINGLE_SIZE) -> int:
    """SimHash of the text's word shingles (unsigned 64-bit)."""
    return features(text, size).signature


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


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


_PERMUTATION_A = np.array([a for a, _ in MINHASH_PERMUTATIONS], dtype=_U64)[:, None]
_PERMUTATION_B = np.array([b for _, b in MINHASH_PERMUTATIONS], dtype=_U64)[:, None]
_ROW_MULTIPLIERS = np.array(ROW_MULTIPLIERS, dtype=_U64)
_BAND_NUMBERS = np.arange(1, MINHASH_BANDS + 1, dtype=_U64) * _U64(BAND_NUMBER_MULTIPLIER)


def _minhash(hashes: np.ndarray, permutations: int = MINHASH_BANDS * MINHASH_ROWS) -> np.ndarray:
    """For each permutation (rows), the smallest (a*h + b) mod 2^64 over the hashes."""
    if not len(hashes):
        return np.empty(0, dtype=_U64)
    permuted = hashes[None, :] * _PERMUTATION_A[:permutations]
    permuted += _PERMUTATION_B[:permutations]
    return permuted.min(axis=1)


def minhash(hashes: Iterable[int], permutations: int = MINHASH_BANDS * MINHASH_ROWS) -> list[int]:
    """MinHash of a set of 64-bit feature hashes: for each permutation (at most 32), the
    smallest permuted hash. Two sets agree on one value about as often as their Jaccard
    similarity (the hashes are already random: a bijection of them is a random order)."""
    if not 0 < permutations <= len(MINHASH_PERMUTATIONS):
        raise ValueError(f"permutations must be between 1 and {len(MINHASH_PERMUTATIONS)}")
    return _minhash(np.fromiter(hashes, dtype=_U64), permutations).tolist()


def overlap_keys(text: str, size: int = SHINGLE_SIZE) -> list[int]:
    """MinHash LSH keys (16 bands of 2 values): two texts sharing a key are candidates for
    `compare`. A pair with Jaccard similarity J shares one with probability 1-(1-J²)^16:
    0.78 at J=0.3 (the most edited copies of the labelled set), 0.99 at J=0.5, about 0.0002
    for unrelated articles. A band's key mixes its number and its values; tagged with bit
    62, so they can share a table with `band_keys`."""
    values = _minhash(features(text, size).hashes)
    if not len(values):
        return []
    rows = values.reshape(MINHASH_BANDS, MINHASH_ROWS) * _ROW_MULTIPLIERS
    mixed = _fmix(rows.sum(axis=1, dtype=_U64) + _BAND_NUMBERS)
    keys: list[int] = ((mixed & _U64(MINHASH_TAG - 1)) | _U64(MINHASH_TAG)).tolist()
    return keys


def candidate_keys(text: str, max_distance: int | None = None) -> list[int]:
    """Every key stored for a text: SimHash bands and MinHash bands (edited copies). An
    incoming article's candidates share a MinHash key (`is_overlap_key`); the SimHash bands
    are its signature (`signature_from_band_keys`), too coarse to look up by: a 13-bit band
    is shared by one stored article in 8,192."""
    return band_keys(text_signature(text), max_distance) + overlap_keys(text)


def is_overlap_key(key: int) -> bool:
    """A MinHash key (`overlap_keys`), not a SimHash band key (`band_keys`)."""
    return key >= MINHASH_TAG


def signature_from_band_keys(keys: Iterable[int], max_distance: int | None = None) -> int | None:
    """The SimHash signature that `band_keys` cut into these keys (other keys ignored), or
    None when a band is missing."""
    layout = bands(DEFAULT_MAX_DISTANCE if max_distance is None else max_distance)
    values = {key >> 48: key & ((1 << 48) - 1) for key in keys if not is_overlap_key(key)}
    if any(index not in values for index in range(len(layout))):
        return None
    return sum(values[index] << shift for index, (shift, _) in enumerate(layout))


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


@dataclass(frozen=True)
class Decision:
    duplicate: bool
    similarity: float  # shingle overlap, 0..1
    reason: str  # same-url, same-title, near-copy, overlap, figures-differ, outside-window, …


def overlap(a: np.ndarray, b: np.ndarray, min_shingles: int = 1) -> float:
    """Containment: shared shingles over the smaller set (at least `min_shingles`), so a copy
    that lost its last paragraph or gained a new intro still scores high. `a` and `b` are
    shingle hashes, each once (`shingle_hashes`)."""
    if not len(a) or not len(b):
        return 0.0
    shared = np.intersect1d(a, b, assume_unique=True).size
    return shared / max(min(len(a), len(b)), min_shingles)


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


def compare(a: Document, b: Document, thresholds: Thresholds | None = None) -> Decision:
    """Are `a` and `b` the same story? Exact rules first, then near-duplicate text."""
    limits = thresholds or Thresholds()
    features_a = features(a.text, limits.shingle_size)
    features_b = features(b.text, limits.shingle_size)
    text_a, text_b = features_a.normalised, features_b.normalised
    hashes_a, hashes_b = features_a.hashes, features_b.hashes
    similarity = overlap(hashes_a, hashes_b, limits.min_shingles)
    if _same_url(a, b) and (not text_a or not text_b or similarity >= limits.url_min_overlap):
        return Decision(True, similarity, "same-url")
    if _apart(a, b, limits.window):
        return Decision(False, similarity, "outside-window")
    conflict = limits.check_figures and _slots_differ(features_a.figures, features_b.figures)
    title_a = normalise_title(a.title)
    if title_a and title_a == normalise_title(b.title) and similarity >= limits.title_min_overlap:
        return Decision(not conflict, similarity, "figures-differ" if conflict else "same-title")
    long_enough = min(len(hashes_a), len(hashes_b)) >= limits.min_shingles
    near = long_enough and (
        hamming(features_a.signature, features_b.signature) <= limits.max_distance
    )
    if near or similarity >= limits.min_overlap:
        if conflict:
            return Decision(False, similarity, "figures-differ")
        return Decision(True, similarity, "near-copy" if near else "overlap")
    return Decision(False, similarity, "different")
