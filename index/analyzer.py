"""Lexical analysis for BM25 in French and English: accents folded, elisions split, digit
groups joined ("1 000", "7,000" -> "1000", "7000"), stop words dropped, Snowball stems."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

__all__ = ["analyze", "analyze_query", "cognate_prefixes", "fold", "STEMMERS", "PREFIX"]

STEMMERS = {"fr": "french", "en": "english", "de": "german", "es": "spanish", "it": "italian",
            "pt": "portuguese", "nl": "dutch", "ru": "russian"}

_DIGIT_GROUPS = re.compile(r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f\u2009.,]\d{3})+)(?![\d])")
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)", re.IGNORECASE)
_TOKEN = re.compile(r"\w+", re.UNICODE)

_STOP_FR = set("""
a au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les leur leurs
lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur
ta te tes toi ton tu un une vos votre vous y ete etre avoir ont est sont etait etaient a ai as avait
avaient aussi comme donc dont ou plus tres tout tous toute toutes quel quelle quels quelles quand
combien comment pourquoi lequel laquelle lesquels cela ca ceci celui celle ceux celles si sans sous
entre vers chez apres avant depuis pendant selon fait faire
""".split())
_STOP_EN = set("""
a an and are as at be been being but by can could did do does doing for from had has have having he
her hers him his how i if in into is it its itself me my of on or our ours she so than that the their
theirs them then there these they this those to too us was we were what when where which while who
whom whose why will with would you your yours about after before during against between also any
many much more most other some such only own same just not no nor very according
""".split())
STOP_WORDS = _STOP_FR | _STOP_EN


def fold(text: str) -> str:
    """Lower case without accents: "Élysée" -> "elysee"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _join_digits(text: str) -> str:
    return _DIGIT_GROUPS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), text)


@lru_cache(maxsize=16)
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = STEMMERS.get(lang)
    return Stemmer.Stemmer(name) if name else None


def _words(text: str) -> list[str]:
    text = _ELISION.sub(" ", _join_digits(text))
    return [w for w in _TOKEN.findall(fold(text)) if w not in STOP_WORDS and w != "_"]


def analyze(text: str, lang: str) -> list[str]:
    """Index terms of a passage written in `lang`."""
    stemmer = _stemmer(lang)
    words = _words(text)
    return stemmer.stemWords(words) if stemmer else words


def analyze_query(text: str, langs: tuple[str, ...]) -> list[str]:
    """Query terms stemmed for each language the index holds, so a word in the question meets
    its stem in any article; duplicates removed, order kept."""
    terms: list[str] = []
    for lang in langs or ("en",):
        terms.extend(analyze(text, lang))
    return list(dict.fromkeys(terms))


PREFIX = 6   # letters kept of a long word by `cognate_prefixes`


def cognate_prefixes(text: str) -> list[str]:
    """First letters of the long non-stop words, accent-folded, in order, without repeats: they
    match across languages where stems do not ("artillery"/"artillerie", "Poutine"/"Putin" no)."""
    words = re.findall(r"[^\W\d_]{5,}", fold(text))
    return list(dict.fromkeys(w[:PREFIX] for w in words if w not in STOP_WORDS))
