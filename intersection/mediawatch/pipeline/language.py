"""Language of an article: what the page or feed declares, else lingua's detection."""

from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

DEFAULT_LANGUAGES = ("fr", "nl", "en", "de")
# lingua reads this much of the text: 1,000 characters (about 150 words) told the language of
# 150 of 150 generated articles, as 2,000 did, in half the time (bench/mediawatch.py texts).
SAMPLE_CHARS = 1000


@dataclass(frozen=True)
class DetectedLanguage:
    code: str
    confidence: float
    declared: bool


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def detect_language(
    text: str, declared: str = "", languages: tuple[str, ...] = DEFAULT_LANGUAGES
) -> DetectedLanguage:
    """A declared language among the configured ones wins; otherwise lingua decides."""
    code = (declared or "").split("-")[0].lower()
    if code in languages:
        return DetectedLanguage(code, 1.0, True)
    sample = text[:SAMPLE_CHARS]
    if not sample.strip():
        return DetectedLanguage("", 0.0, False)
    values = _detector(languages).compute_language_confidence_values(sample)
    if not values:
        return DetectedLanguage("", 0.0, False)
    best = values[0]
    return DetectedLanguage(best.language.iso_code_639_1.name.lower(), best.value, False)
