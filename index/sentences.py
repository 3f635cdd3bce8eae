"""Split body text into sentences with exact offsets (French and English punctuation)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.documents import Document

__all__ = ["Sentence", "split_sentences", "document_sentences"]

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before a space and
# something that can start a sentence; line breaks always end one.
_END = re.compile(r"""[.!?…]+["»”’)\]]*(?=\s+["«“‘(\[\-–—]?\s*[A-ZÀ-ÖØ-Þ0-9])|\n+""")
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "mr", "mrs", "ms", "prof", "gen", "gén",
    "col", "lt", "sgt", "capt", "jr", "sr", "inc", "ltd", "co", "corp", "no", "vol", "etc", "cf", "p",
    "av", "bd", "ap", "j.-c", "vs", "u.s", "u.k", "u.n", "e.g", "i.e", "jan", "feb", "fév", "mar",
    "apr", "avr", "jun", "jul", "juil", "aug", "sep", "sept", "oct", "nov", "dec", "déc",
}
_MIN_LEN = 2


@dataclass(frozen=True)
class Sentence:
    """`raw[start:end] == text` for the raw text of document `doc_id`."""

    doc_id: str
    start: int
    end: int
    text: str


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial ("M.", "J. Biden")."""
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.-]+)$", text[:dot])
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence of `text[start:end]`, trimmed, in order."""
    end = len(text) if end is None else end
    found, cursor = [], start
    for match in _END.finditer(text, start, end):
        if _is_abbreviation(text, match.start()):
            continue
        s, e = _trimmed(text, cursor, match.end())
        if e - s >= _MIN_LEN:
            found.append((s, e))
        cursor = match.end()
    s, e = _trimmed(text, cursor, end)
    if e - s >= _MIN_LEN:
        found.append((s, e))
    return found


def document_sentences(doc: Document) -> list[Sentence]:
    """The sentences of every body span (never across an excluded range)."""
    return [
        Sentence(doc.doc_id, s, e, doc.text[s:e])
        for span in doc.body
        for s, e in split_sentences(doc.text, span.start, span.end)
    ]
