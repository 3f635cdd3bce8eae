"""Find the short answer (a number, a date, a person, a place) inside an evidence sentence.

Only marked when it can be told reliably: candidates already named in the question are
ignored, and among several candidates one is chosen only when the words around it echo the
question; otherwise nothing is marked and the whole sentence stands as the answer."""

from __future__ import annotations

import re

from index.analyzer import fold
from qa.question import Kind

__all__ = ["find_short_answer", "candidate_pattern", "states_figure"]

_MONTHS = (r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|"
           r"décembre|decembre|january|february|march|april|may|june|july|august|september|october|"
           r"november|december")
_WEEKDAYS = r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = (r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|cent|"
                 r"two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|hundred|des|several|many")
_SCALE = r"millions?|milliards?|milliers|centaines|dizaines|million|billion|thousands?|hundreds?|tens"
_NUM = r"\d{1,3}(?:[ \u00a0\u202f,.]\d{3})+|\d+(?:[.,]\d+)?"

_PATTERNS = {
    Kind.HOW_MANY: re.compile(
        rf"(?:(?:plus de|près de|moins de|environ|quelque|more than|nearly|about|over|some)\s+)?"
        rf"(?:(?:{_NUM})(?:\s+(?:{_SCALE}))?|(?:{_NUMBER_WORDS})\s+(?:{_SCALE}))"
        rf"(?:\s+(?:de\s+|d['’]|of\s+)?[\w’'-]+)?",
        re.IGNORECASE),
    Kind.WHEN: re.compile(
        rf"\b(?:(?:(?:le|en|dès|depuis|on|in|since)\s+)?(?:(?:{_WEEKDAYS})\s+)?\d{{1,2}}(?:er)?\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
        rf"|(?:en|dès|depuis|in|since|jusqu['’]en)\s+(?:{_MONTHS})(?:\s+(?:dernier|\d{{4}}))?"
        rf"|(?:{_MONTHS})\s+(?:dernier|\d{{4}})"
        rf"|(?:en|in|since|depuis)\s+(?:19|20)\d{{2}}"
        rf"|(?:{_WEEKDAYS}))\b",
        re.IGNORECASE),
    Kind.WHO: re.compile(r"\b[A-ZÀ-Þ][\w’'-]+(?:\s+(?:de\s+|van\s+|von\s+)?[A-ZÀ-Þ][\w’'-]+)+"),
    Kind.WHERE: re.compile(r"(?:(?<=\bà )|(?<=\bau )|(?<=\baux )|(?<=\ben )|(?<=\bin )|(?<=\bat ))"
                           r"[A-ZÀ-Þ][\w’'-]+(?:[\s-][A-ZÀ-Þ][\w’'-]+)*"),
}
_STEM = 5


def candidate_pattern(kind: Kind) -> re.Pattern[str]:
    """What a short answer of `kind` looks like (a number with its unit, a date, a name...)."""
    return _PATTERNS[kind]


def _stems(text: str) -> set[str]:
    return {w[:_STEM] for w in re.findall(r"\w+", fold(text)) if len(w) > 2}


def _candidates(sentence: str, kind: Kind, question: str) -> list[re.Match[str]]:
    pattern = _PATTERNS.get(kind)
    if pattern is None:
        return []
    asked = fold(question)
    found = []
    for match in pattern.finditer(sentence):
        value = match.group(0).strip()
        if len(value) < 2 or fold(value) in asked:
            continue
        if kind == Kind.WHO and all(w[:_STEM] in _stems(question) for w in re.findall(r"\w+", fold(value))):
            continue
        found.append(match)
    return found


# what `states_figure` reads as a figure: a number (not a year, nor a day of a month) or a number word
_DIGITS = r"\d+(?:[.,\u00a0\u202f ]\d+)*"   # "7 000", "1,5", "19.3"
_FIGURE = re.compile(
    _DIGITS + r"|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    r"quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|mille|one|two|three|four|five|seven|eight|nine|ten|"
    r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundreds?|thousands?|millions?|milliards?|billions?|trillions?|milliers?|"
    r"(?:dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine|soixantaine|centaine)s?|dozens?|"
    r"moitié|half|quart|quarter|third|several|plusieurs|many|nombreux|nombreuses|none|zero|zéro|aucune?|"
    r"décennies?|decades?|siècles?|century|centuries)\b",
    re.IGNORECASE)
_YEAR = re.compile(r"(?:1[5-9]|20)\d\d")
_DAY_OF = re.compile(rf"^\s*(?:er\s+)?(?:{_MONTHS})\b", re.IGNORECASE)


def states_figure(sentence: str, question: str) -> bool:
    """Whether `sentence` states a figure (digits or a number word) that the question does not
    already give; a year, or a day before its month, is a date, not a figure."""
    asked = set(re.findall(r"\w+", fold(question)))
    asked_numbers = {re.sub(r"\D", "", n) for n in re.findall(_DIGITS, question)}
    for m in _FIGURE.finditer(sentence):
        value = m.group(0)
        if value[0].isdigit():
            digits = re.sub(r"\D", "", value)
            if _YEAR.fullmatch(value) or _DAY_OF.match(sentence[m.end():]) or digits in asked_numbers:
                continue
            return True
        if fold(value) not in asked:
            return True
    return False


def _echo(sentence: str, match: re.Match[str], question_stems: set[str]) -> int:
    """How many words next to the candidate also appear in the question."""
    window = sentence[max(0, match.start() - 40) : match.end() + 40]
    return len(_stems(window) & question_stems)


def find_short_answer(sentence: str, kind: Kind, question: str) -> tuple[int, int] | None:
    """`(start, end)` offsets of the short answer inside `sentence`, or None."""
    found = _candidates(sentence, kind, question)
    if not found:
        return None
    if len(found) > 1:
        stems = _stems(question)
        scored = sorted(((_echo(sentence, m, stems), -i, m) for i, m in enumerate(found)), key=lambda t: t[:2], reverse=True)
        if scored[0][0] == scored[1][0]:
            return None
        found = [scored[0][2]]
    match = found[0]
    value = match.group(0)
    start = match.start() + (len(value) - len(value.lstrip()))
    return start, match.start() + len(value.rstrip(" ,;:."))
