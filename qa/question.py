"""Clean a raw question, tell its language and what kind of answer it wants."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from index.analyzer import fold
from index.lang import detect_language

__all__ = ["QuestionError", "Kind", "Question", "check_question", "prepare_question", "MAX_QUESTION_CHARS",
           "ANSWER_LANGS"]

MAX_QUESTION_CHARS = 1000
ANSWER_LANGS = ("en", "fr")   # what the app answers in (another language is answered in English)
_TAG = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>|<[^>]{0,500}>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


class QuestionError(ValueError):
    """The question cannot be asked as it is; the message says what to do."""


class Kind(str, Enum):
    HOW_MANY = "how_many"
    WHEN = "when"
    WHO = "who"
    WHERE = "where"
    OTHER = "other"


_KIND_PATTERNS = (
    (Kind.HOW_MANY, r"\b(how many|how much|how old|quel age|combien|quel(le)?s? (est le )?(nombre|quantite|montant)|"
                    r"what (is the )?(number|amount|figure))\b"),
    (Kind.WHEN, r"^(when|quand)\b|\b(since when|depuis quand|what (year|date|day|month)|which (year|month|day)|"
                r"en quelle (annee|mois)|quel(le)? (jour|date|annee|mois)|a quelle (date|epoque|periode)|"
                r"in what (year|month))\b"),
    (Kind.WHO, r"^((a|de|par|avec|pour|to|by|with|for) )?(qui|who|whom|whose)\b|\b(name of|nom d[eu]?|s'appelle|called|named|"
               r"quel(le)? (personne|responsable|dirigeant|ministre|expert|analyste|porte-parole)|"
               r"which (person|official|minister|expert|analyst|leader|spokes\w+))\b"),
    (Kind.WHERE, r"^(d')?(ou|where)\b|\b(dans quel(le)? (pays|ville|lieu|region)|"
                 r"in (which|what) (country|city|place|region)|(what|which) (country|city|place))\b"),
)


@dataclass(frozen=True)
class Question:
    raw: str
    text: str
    lang: str
    kind: Kind
    notices: tuple[str, ...] = ()


def question_kind(text: str) -> Kind:
    folded = fold(text)
    for kind, pattern in _KIND_PATTERNS:
        if re.search(pattern, folded):
            return kind
    return Kind.OTHER


def _clean(raw: str) -> tuple[str, list[str]]:
    notices = []
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in raw)
    without_tags = _TAG.sub(" ", text)
    if without_tags != text:
        notices.append("HTML tags were removed from the question.")
    text = _SPACE.sub(" ", html.unescape(without_tags)).strip()
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
        notices.append(f"The question was shortened to its first {len(text)} characters.")
    return text, notices


def check_question(raw: str) -> tuple[str, list[str]]:
    """The cleaned question and its notices; raises `QuestionError` when nothing answerable is
    left (what `prepare_question` checks, without detecting the language: a CLI fails fast)."""
    if not isinstance(raw, str):
        raise QuestionError("The question must be text; type a question in French or English.")
    text, notices = _clean(raw)
    if not any(c.isalnum() for c in text):
        raise QuestionError("The question is empty; type a question in French or English.")
    return text, notices


def prepare_question(raw: str, langs: Iterable[str] = ANSWER_LANGS) -> Question:
    """Raises `QuestionError` when nothing answerable is left once the question is cleaned. Its
    language is told among `langs`: the languages the app answers in and its articles' own."""
    text, notices = check_question(raw)
    return Question(raw=raw, text=text, lang=detect_language(text, among=langs), kind=question_kind(text),
                    notices=tuple(notices))
