"""Offline language identification for articles and questions (lingua, no network)."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["detect_language", "SUPPORTED"]

SUPPORTED = (
    Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH, Language.ITALIAN,
    Language.PORTUGUESE, Language.DUTCH, Language.RUSSIAN, Language.UKRAINIAN, Language.CHINESE,
    Language.JAPANESE, Language.KOREAN, Language.ARABIC,
)
_SAMPLE_CHARS = 4000


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*SUPPORTED).build()


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code of `text` (e.g. "fr"), or `default` when it cannot be told."""
    sample = text[:_SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return default
    found = _detector().detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else default
