"""Offline language identification for articles and questions (lingua, no network)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["detect_language", "SUPPORTED"]

SUPPORTED = (
    Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH, Language.ITALIAN,
    Language.PORTUGUESE, Language.DUTCH, Language.RUSSIAN, Language.UKRAINIAN, Language.CHINESE,
    Language.JAPANESE, Language.KOREAN, Language.ARABIC,
)
_SAMPLE_CHARS = 4000


@lru_cache(maxsize=4)
def _detector(languages: tuple[Language, ...]) -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _languages(among: Iterable[str] | None) -> tuple[Language, ...]:
    if among is None:
        return SUPPORTED
    codes = {code.lower() for code in among}
    chosen = tuple(lang for lang in SUPPORTED if lang.iso_code_639_1.name.lower() in codes)
    return chosen if len(chosen) >= 2 else SUPPORTED


def detect_language(text: str, default: str = "en", among: Iterable[str] | None = None) -> str:
    """ISO 639-1 code of `text` (e.g. "fr"), or `default` when it cannot be told. `among`: the
    codes to choose from (a question: the app's languages and its corpus's), every SUPPORTED
    language by default (an article). Fewer candidates load faster (0.05 s for two against 1 s
    for all) and tell short questions apart better ("Où vivent les Criollos ?" is not Spanish)."""
    sample = text[:_SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return default
    found = _detector(_languages(among)).detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else default
