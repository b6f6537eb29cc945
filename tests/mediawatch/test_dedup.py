"""Duplicate detection: titles, signatures, the index, the rules, and the labelled set."""

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intersection.mediawatch.pipeline import dedup as dedup_module
from intersection.mediawatch.pipeline.dedup import (
    BAND_NUMBER_MULTIPLIER,
    FMIX_1,
    FMIX_2,
    MINHASH_BANDS,
    MINHASH_PERMUTATIONS,
    MINHASH_ROWS,
    MINHASH_TAG,
    ROW_MULTIPLIERS,
    SHINGLE_MULTIPLIERS,
    Decision,
    Document,
    NearDuplicateIndex,
    Thresholds,
    band_keys,
    bands,
    candidate_keys,
    compare,
    figures_differ,
    hamming,
    minhash,
    normalise_text,
    normalise_title,
    overlap_keys,
    shingle_hashes,
    simhash,
    stable_hash,
    text_signature,
)
from intersection.mediawatch.pipeline.evaluation import evaluate

LABELLED = (
    Path(__file__).resolve().parents[2]
    / "intersection"
    / "mediawatch"
    / "data"
    / "duplicates.jsonl"
)

STORY = (
    "La zone de police Namur Capitale lance ce lundi une patrouille cycliste permanente dans "
    "les rues de Salzinnes. Quatre inspecteurs de quartier sillonneront le secteur du lundi au "
    "samedi, de 8 à 20 heures, avec pour mission d'être plus visibles pour les habitants.\n\n"
    "« Les gens nous disent qu'ils ne voient la police que lorsqu'il y a un problème. À vélo, "
    "on s'arrête, on discute », explique le commissaire Laurent Dessart.\n\n"
    "Le projet fait suite à une enquête menée l'an dernier auprès de 1.100 riverains : 62 % "
    "d'entre eux souhaitaient davantage de présence policière à pied ou à vélo, surtout en "
    "soirée aux abords du parc Louise-Marie et de la gare."
)
# The same dispatch at another outlet: one word changed, figures written the Québec way.
NEAR_COPY = STORY.replace("explique", "précise").replace("1.100", "1 100")
# Rewritten intro, last paragraph dropped, a closing line added.
EDITED_COPY = (
    "Plus de contacts, moins de voitures : à partir de lundi, quatre inspecteurs de quartier "
    "namurois patrouilleront à vélo dans Salzinnes, six jours sur sept.\n\n"
    + STORY.split("\n\n")[1]
    + "\n\n"
    + STORY.split("\n\n")[2]
    + "\n\nVous avez été témoin de faits similaires ? Contactez notre rédaction."
)
OTHER_STORY = (
    "Une série de vols dans des véhicules en stationnement a poussé la police de Namur Capitale "
    "à mener une action de sensibilisation mardi soir dans le quartier de Salzinnes. Depuis "
    "début octobre, une trentaine de plaintes ont été déposées pour des vitres brisées.\n\n"
    "Les agents ont contrôlé près de 200 voitures et déposé un papillon sur le pare-brise de "
    "celles où un sac ou un ordinateur était visible. « Un objet visible, c'est une invitation "
    "», rappelle la porte-parole de la zone.\n\n"
    "Deux suspects, âgés de 19 et 23 ans, ont été interpellés le week-end dernier en flagrant "
    "délit. Le parquet examine s'ils peuvent être liés à l'ensemble des faits."
)
TEMPLATE = (
    "Le service de police de {city} a participé du {start} au {end} octobre à l'opération "
    "nationale concertée sur la distraction au volant, menée simultanément par les corps de "
    "police du Québec. Pendant ces sept jours, les policiers ont remis {n} constats "
    "d'infraction pour l'utilisation d'un appareil électronique au volant.\n\n"
    "Rappelons que l'amende pour l'utilisation d'un cellulaire au volant varie de 300 $ à "
    "600 $, plus les frais, et entraîne cinq points d'inaptitude. Le service rappelle que la "
    "distraction demeure l'une des principales causes de collisions sur les routes du Québec "
    "et poursuivra ses interventions tout au long de l'année."
)


# --- Titles and texts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("EN DIRECT - Namur : une patrouille à vélo | RTBF", "namur une patrouille a velo"),
        (
            "VIDÉO. Ixelles : des commerçants formés – De Standaard",
            "ixelles des commercants formes",
        ),
        ("[VIDÉO] Liège : contrôle - Le Journal de Montréal", "liege controle"),
        ("DIRECT : Namur sous la neige", "namur sous la neige"),
        ("LIVE | Explosie in Deurne - hln.be", "explosie in deurne"),
        ("FOTO'S - Kerstmarkt Gent: politie waarschuwt", "kerstmarkt gent politie waarschuwt"),
        ("UPDATE: LIVE: Police appeal – The Irish Times", "police appeal"),
        ("PHOTOS - Carnaval de Binche", "carnaval de binche"),
        ("INTERVIEW | Le chef de corps répond", "le chef de corps repond"),
        (
            "Video: Police Scotland counters to close | BBC News",
            "police scotland counters to close",
        ),
        ("Contrôle de police - Namur - Le Soir", "controle de police"),
        # Not markers or outlets: kept.
        ("Faux policiers - deux suspects arrêtés", "faux policiers deux suspects arretes"),
        ("Direct debit fraud warning", "direct debit fraud warning"),
        ("Live music licence refused after fights", "live music licence refused after fights"),
        ("Œuvre d’art volée à l'hôtel de ville", "oeuvre d art volee a l hotel de ville"),
        ("  Police   appeal!!  ", "police appeal"),
        ("", ""),
        (None, ""),
    ],
)
def test_it_normalises_titles(title: str | None, expected: str) -> None:
    assert normalise_title(title) == expected


def test_copies_of_one_title_normalise_alike() -> None:
    copies = [
        "Liège : 14 conducteurs sous influence",
        "EN DIRECT | Liège: 14 conducteurs sous influence - La Libre",
        "VIDÉO - LIÈGE : 14 CONDUCTEURS SOUS INFLUENCE | RTBF",
    ]
    assert len({normalise_title(title) for title in copies}) == 1


def test_it_normalises_texts() -> None:
    text = "Sur 1.100 riverains, 1 100 et 1,100 — l’été à Liège; 2,0 % en 2024 !"
    assert normalise_text(text) == "sur 1100 riverains 1100 et 1100 l ete a liege 2 0 en 2024"
    assert normalise_text(None) == ""


M64 = 2**64


def _fmix(value: int) -> int:
    """MurmurHash3's 64-bit finaliser in plain integers: the definition the NumPy code follows."""
    value ^= value >> 33
    value = value * FMIX_1 % M64
    value ^= value >> 33
    value = value * FMIX_2 % M64
    return value ^ value >> 33


def _reference_shingle_hashes(normalised: str, size: int = 3) -> set[int]:
    words = normalised.split()
    runs = [words[i : i + size] for i in range(max(len(words) - size + 1, 1))] if words else []
    return {
        _fmix(sum(stable_hash(w) * m for w, m in zip(run, SHINGLE_MULTIPLIERS, strict=False)) % M64)
        for run in runs
    }


def _reference_simhash(hashes: set[int]) -> int:
    return sum(1 << bit for bit in range(64) if 2 * sum(h >> bit & 1 for h in hashes) > len(hashes))


def _reference_minhash(hashes: set[int]) -> list[int]:
    return [min((a * h + b) % M64 for h in hashes) for a, b in MINHASH_PERMUTATIONS]


def _reference_overlap_keys(text: str) -> list[int]:
    values = _reference_minhash(_reference_shingle_hashes(normalise_text(text)))
    keys = []
    for band in range(MINHASH_BANDS):
        rows = values[band * MINHASH_ROWS : (band + 1) * MINHASH_ROWS]
        mixed = sum(v * m for v, m in zip(rows, ROW_MULTIPLIERS, strict=True))
        mixed = _fmix((mixed + (band + 1) * BAND_NUMBER_MULTIPLIER) % M64)
        keys.append(MINHASH_TAG | (mixed & (MINHASH_TAG - 1)))
    return keys


def test_shingles_are_hashed_from_their_words_in_order() -> None:
    two = shingle_hashes("un deux trois quatre", size=3)
    assert set(two.tolist()) == _reference_shingle_hashes("un deux trois quatre")
    assert set(two.tolist()) == set(shingle_hashes("un deux trois").tolist()) | set(
        shingle_hashes("deux trois quatre").tolist()
    )
    assert len(shingle_hashes("un deux")) == 1  # shorter than a shingle: one of all its words
    assert len(shingle_hashes("")) == 0
    assert shingle_hashes("a b c").tolist() != shingle_hashes("c b a").tolist()  # order counts
    assert len(shingle_hashes("a b c a b c")) == 3  # abc, bca, cab: each once
    story = normalise_text(STORY)
    assert len(shingle_hashes(story, size=1)) < len(shingle_hashes(story, size=3))
    assert list(shingle_hashes(story)) == sorted(_reference_shingle_hashes(story))
    with pytest.raises(ValueError, match="shingle size"):
        shingle_hashes(story, size=9)


def test_remembered_word_hashes_are_forgotten_beyond_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dedup_module._WordHashes, "LIMIT", 5)
    words = dedup_module._WORD_HASHES
    words.clear()
    text = "la zone de police de namur patrouille a velo dans salzinnes"
    assert set(shingle_hashes(text).tolist()) == _reference_shingle_hashes(text)
    assert len(words) <= 5


# --- Signatures ----------------------------------------------------------------------------


def test_signatures_are_stable_64_bit_values() -> None:
    # Stored in the database: a change of normalisation or hashing must be deliberate (and
    # comes with a migration that computes the stored keys again, like 0007).
    signature = text_signature(STORY)
    assert 0 <= signature < 2**64
    assert signature == _reference_simhash(_reference_shingle_hashes(normalise_text(STORY)))
    assert text_signature("La police de Namur patrouille à vélo dans Salzinnes.") == (
        text_signature("LA POLICE DE NAMUR PATROUILLE A VELO DANS SALZINNES")
    )
    assert simhash([]) == 0
    assert simhash([0xDEADBEEF12345678]) == 0xDEADBEEF12345678
    assert overlap_keys(STORY) == _reference_overlap_keys(STORY)


def test_vectorised_hashing_gives_the_values_of_the_definitions() -> None:
    # Stored band keys must not change with the implementation: the NumPy SimHash and MinHash
    # (arithmetic wrapping at 2^64) equal the plain big-integer formulas.
    rng = random.Random(7)
    sets = [{rng.getrandbits(64) for _ in range(rng.randint(1, 400))} for _ in range(60)]
    sets += [{0}, {M64 - 1, 1}, set(shingle_hashes(normalise_text(STORY)).tolist())]
    for hashes in sets:
        assert simhash(hashes) == _reference_simhash(hashes)
        assert minhash(hashes) == _reference_minhash(hashes)
    assert minhash([]) == []
    with pytest.raises(ValueError, match="permutations"):
        minhash([1], permutations=33)


def test_minhash_values_agree_as_often_as_the_sets_overlap() -> None:
    # What the LSH keys rely on: two sets share a MinHash value with probability equal to
    # their Jaccard similarity, for each of the 32 permutations.
    rng = random.Random(11)
    for jaccard in (0.1, 0.3, 0.5, 0.8):
        agreements = trials = 0
        for _ in range(150):
            shared = [rng.getrandbits(64) for _ in range(round(300 * jaccard))]
            rest = 300 - len(shared)
            a = shared + [rng.getrandbits(64) for _ in range(rest // 2)]
            b = shared + [rng.getrandbits(64) for _ in range(rest - rest // 2)]
            values_a, values_b = minhash(a), minhash(b)
            agreements += sum(x == y for x, y in zip(values_a, values_b, strict=True))
            trials += len(values_a)
        assert abs(agreements / trials - jaccard) < 0.03, jaccard


def test_near_copies_have_close_signatures_and_other_stories_far_ones() -> None:
    original = text_signature(STORY)
    assert hamming(original, text_signature(NEAR_COPY)) <= Thresholds().max_distance
    assert hamming(original, text_signature(OTHER_STORY)) >= 16
    # An edited copy is further than the index radius: MinHash keys find it instead.
    assert hamming(original, text_signature(EDITED_COPY)) > Thresholds().max_distance
    assert set(overlap_keys(STORY)) & set(overlap_keys(EDITED_COPY))
    assert not set(overlap_keys(STORY)) & set(overlap_keys(OTHER_STORY))


@pytest.mark.parametrize("distance", [1, 3, 4, 7, 15])
def test_bands_split_the_64_bits(distance: int) -> None:
    layout = bands(distance)
    assert len(layout) == distance + 1
    assert sum(width for _, width in layout) == 64
    assert [shift for shift, _ in layout] == sorted({shift for shift, _ in layout})


def test_band_keys_are_shared_within_the_distance() -> None:
    rng = random.Random(3)
    for _ in range(200):
        signature = rng.getrandbits(64)
        flipped = signature
        for bit in rng.sample(range(64), 4):
            flipped ^= 1 << bit
        assert set(band_keys(signature, 4)) & set(band_keys(flipped, 4))
        assert all(0 <= key < 2**54 for key in band_keys(signature, 4))
    with pytest.raises(ValueError, match="max_distance"):
        band_keys(1, 0)


def test_candidate_keys_combine_both_kinds_without_collisions() -> None:
    keys = candidate_keys(STORY)
    assert len(keys) == 5 + 16
    simhash_keys, minhash_keys = keys[:5], keys[5:]
    assert all(key < 2**54 for key in simhash_keys)
    assert all(2**62 <= key < 2**63 for key in minhash_keys)
    assert overlap_keys("") == []


# --- Index ---------------------------------------------------------------------------------


def test_index_finds_near_copies_and_not_far_ones() -> None:
    rng = random.Random(7)
    index: NearDuplicateIndex[str] = NearDuplicateIndex(max_distance=4)
    for number in range(5000):
        index.add(f"noise-{number}", rng.getrandbits(64))
    original = text_signature(STORY)
    index.add("original", original)
    index.add("republished", original)  # two articles, one signature
    index.add("other", text_signature(OTHER_STORY))

    found = index.query(text_signature(NEAR_COPY))
    assert {key for key, _ in found} >= {"original", "republished"}
    assert "other" not in {key for key, _ in found}
    assert all(distance <= 4 for _, distance in found)
    assert [distance for _, distance in found] == sorted(distance for _, distance in found)
    assert index.query(original)[0][1] == 0
    assert len(index) == 5003


def test_index_agrees_with_brute_force() -> None:
    rng = random.Random(11)
    centres = [rng.getrandbits(64) for _ in range(40)]
    stored = []
    for number in range(3000):
        signature = rng.choice(centres)
        for bit in rng.sample(range(64), rng.randint(0, 8)):
            signature ^= 1 << bit
        stored.append((number, signature))
    index: NearDuplicateIndex[int] = NearDuplicateIndex(max_distance=3)
    for key, signature in stored:
        index.add(key, signature)
    for probe in centres[:10] + [rng.getrandbits(64) for _ in range(10)]:
        expected = {(key, hamming(probe, s)) for key, s in stored if hamming(probe, s) <= 3}
        assert set(index.query(probe)) == expected


# --- Rules ---------------------------------------------------------------------------------


def test_same_canonical_url_is_the_same_story() -> None:
    a = Document("Namur : patrouille à vélo", STORY, "https://www.lesoir.be/123/article/velo")
    b = Document(
        "EN DIRECT - Namur : mise à jour", NEAR_COPY + "\n\nMise à jour à 14 heures.",
        "http://m.lesoir.be/123/article/velo/?utm_source=rss&utm_medium=feed#comments",
    )  # fmt: skip
    decision = compare(a, b)
    assert decision == Decision(True, decision.similarity, "same-url")
    # Without text the URL alone decides.
    assert compare(Document(url=a.url), Document(url=b.url)).reason == "same-url"


def test_a_shared_list_page_url_does_not_merge_unrelated_stories() -> None:
    page = "https://www.police.be/5303/fr/actualites"
    decision = compare(Document("", STORY, page), Document("", OTHER_STORY, page + "?xtor=RSS-1"))
    assert not decision.duplicate


def test_same_title_needs_similar_text() -> None:
    same = compare(
        Document("Contrôle de police - Le Soir", STORY),
        Document("VIDÉO - Contrôle de police | RTBF", EDITED_COPY),
    )
    assert (same.duplicate, same.reason) == (True, "same-title")
    generic = compare(
        Document("Contrôle de police", STORY), Document("Contrôle de police", OTHER_STORY)
    )
    assert (generic.duplicate, generic.reason) == (False, "different")


def test_near_and_edited_copies_without_title_or_url() -> None:
    near = compare(Document(text=STORY), Document(text=NEAR_COPY))
    assert (near.duplicate, near.reason) == (True, "near-copy")
    assert near.similarity > 0.9
    edited = compare(Document("Namur : vélo", STORY), Document("Salzinnes à vélo", EDITED_COPY))
    assert (edited.duplicate, edited.reason) == (True, "overlap")
    assert compare(Document(text=STORY), Document(text=OTHER_STORY)).reason == "different"


def test_one_template_about_two_zones_is_two_stories() -> None:
    laval = TEMPLATE.format(city="Laval", start=4, end=10, n="1.187")
    quebec = TEMPLATE.format(city="Québec", start=4, end=10, n="1.312")
    assert figures_differ(normalise_text(laval), normalise_text(quebec))
    decision = compare(Document(text=laval), Document(text=quebec))
    assert (decision.duplicate, decision.reason) == (False, "figures-differ")
    assert decision.similarity > Thresholds().min_overlap
    # Without the figure rule the template would pass for a copy.
    assert compare(Document(text=laval), Document(text=quebec), Thresholds(check_figures=False))
    # The same release republished, with its figures written another way, is one story.
    republished = laval.replace("1.187", "1 187") + "\n\nAvec La Presse Canadienne"
    assert compare(Document(text=laval), Document(text=republished)).duplicate


def test_dated_items_far_apart_are_different_stories() -> None:
    day = datetime(2025, 10, 1, tzinfo=UTC)
    a = Document(text=STORY, published=day)
    b = Document(text=NEAR_COPY, published=day + timedelta(days=30))
    assert compare(a, b).reason == "outside-window"
    assert compare(a, b, Thresholds(window=timedelta(days=60))).duplicate


def test_short_identical_teasers_are_not_enough() -> None:
    teaser = "Plus d'informations sur notre site."
    assert not compare(Document("Namur", teaser), Document("Liège", teaser)).duplicate


# --- Evaluation ----------------------------------------------------------------------------


def _line(label: str, a_text: str, b_text: str, **extra: object) -> str:
    return json.dumps({"a_text": a_text, "b_text": b_text, "label": label, **extra})


def test_evaluation_reports_each_pair_then_the_scores() -> None:
    lines = [
        _line("duplicate", STORY, NEAR_COPY, a_title=None, b_url=None),
        "",
        _line("duplicate", STORY, EDITED_COPY, a_title="Vélo", b_title="Vélo à Namur"),
        _line("distinct", STORY, OTHER_STORY, a_url="https://lesoir.be/1"),
        _line("duplicate", STORY, OTHER_STORY),  # a miss, on purpose
    ]
    output = [json.loads(line) for line in evaluate(lines, Thresholds())]
    pairs, summary = output[:-1], output[-1]
    assert [pair["index"] for pair in pairs] == [1, 3, 4, 5]  # line numbers, blank skipped
    assert set(pairs[0]) == {"index", "label", "decision", "similarity", "reason"}
    assert [pair["decision"] for pair in pairs] == [
        "duplicate",
        "duplicate",
        "distinct",
        "distinct",
    ]
    assert all(isinstance(pair["similarity"], float) for pair in pairs)
    assert summary["counts"] == {"tp": 2, "fp": 0, "fn": 1, "tn": 1}
    assert summary["precision"] == 1.0
    assert summary["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["f1"] == pytest.approx(0.8, abs=1e-3)
    assert summary["pairs"] == 4


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"line 2: invalid JSON"),
        ('["a", "b"]', r"line 2: expected a JSON object"),
        ('{"a_text": "x", "b_text": "y"}', r"line 2: missing label"),
        ('{"a_text": "x", "b_text": "y", "label": "same"}', r"line 2: label must be"),
        ('{"a_text": "x", "b_text": "y", "label": null}', r"line 2: label must be"),
        ('{"a_text": "x", "label": "distinct"}', r"line 2: missing b_text"),
        ('{"a_text": "x", "b_text": "y", "a_title": 3, "label": "distinct"}', r"line 2: a_title"),
    ],
)
def test_evaluation_rejects_bad_lines_with_their_number(line: str, message: str) -> None:
    good = _line("distinct", STORY, OTHER_STORY)
    with pytest.raises(ValueError, match=message):
        list(evaluate([good, line], Thresholds()))


# --- The labelled set (regression guard) ---------------------------------------------------


def test_labelled_set_is_well_formed() -> None:
    records = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 240
    labels = Counter(record["label"] for record in records)
    assert set(labels) == {"duplicate", "distinct"}
    assert 0.4 <= labels["duplicate"] / len(records) <= 0.6
    languages = Counter(record["lang"] for record in records)
    assert all(0.25 <= languages[code] / len(records) <= 0.4 for code in ("fr", "nl", "en"))
    for record in records:
        for side in "ab":
            assert 80 <= len(record[f"{side}_text"].split()) <= 250


def test_labelled_set_reaches_the_targets_with_default_thresholds() -> None:
    with LABELLED.open(encoding="utf-8") as lines:
        summary = json.loads(list(evaluate(lines, Thresholds()))[-1])
    assert summary["precision"] >= 0.95, summary
    assert summary["recall"] >= 0.90, summary


def test_folding_equals_decomposition_without_combining_marks() -> None:
    # Stored titles and search terms depend on it: the fast folds (regular expressions pick
    # the characters that need Python) must equal the plain definitions, character for
    # character, on every script.
    import unicodedata

    from intersection.mediawatch.pipeline import dedup, stemming

    def plain(text: str, lower: Callable[[str], str], table: dict[int, str]) -> str:
        decomposed = unicodedata.normalize("NFKD", lower(text).translate(table))
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    rng = random.Random(11)
    ranges = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x2FFF), (0xFB00, 0xFFEF)]
    texts = [STORY, "Œuvre ÆSØP Đakovo Łódź ıi Ǿ straße ﬁn Ⅻ ①", ""]
    texts += ["".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(60)) for _ in range(400)]
    texts += ["1.100 agents, 1 100 agents ou 1,100 agents_ici : 12 345 678 — fin"]
    for text in texts:
        assert dedup.fold(text) == plain(text, str.casefold, dedup.FOLDED)
        assert stemming.fold(text) == plain(text, str.lower, {})
        # normalise_text keeps the runs of letters and digits: NOT_WORD's complement.
        folded = dedup.fold(unicodedata.normalize("NFKC", text))
        joined = dedup.THOUSANDS.sub(lambda m: re.sub(r"[ .,]", "", m.group(0)), folded)
        assert dedup.normalise_text(text) == " ".join(dedup.NOT_WORD.sub(" ", joined).split())


def test_the_keys_bring_the_labelled_duplicates_together() -> None:
    # The store compares only the articles that share a key with the incoming one (or its URL
    # or title): the keys must find the labelled duplicates, and few of the distinct pairs.
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    sharing = Counter(
        row["label"]
        for row in rows
        if set(candidate_keys(row["a_text"])) & set(candidate_keys(row["b_text"]))
    )
    labels = Counter(row["label"] for row in rows)
    assert sharing["duplicate"] / labels["duplicate"] >= 0.93
    assert sharing["distinct"] / labels["distinct"] <= 0.25


def test_thousands_are_found_as_the_plain_definition_finds_them() -> None:
    # THOUSANDS puts its look-behind after the first digit for speed; the plain definition:
    # digits in groups of three after one to three, not preceded by a digit, point or comma.
    plain = re.compile(r"(?<![\d.,])\d{1,3}(?:[ .,]\d{3})+(?!\d)")
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    texts = [row[f"{side}_text"] for row in rows for side in "ab"]
    texts += ["1.100", "x 1 100 y", "12,345,678", "1.1000", "2.100.5", ",123 456", "9 999 9"]
    rng = random.Random(5)
    texts += ["".join(rng.choice("0123456789 .,a") for _ in range(60)) for _ in range(500)]
    for text in texts:
        assert [m.span() for m in dedup_module.THOUSANDS.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ], text
