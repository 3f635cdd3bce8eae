"""Split body text into sentences with exact offsets (French and English punctuation)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.documents import Document

__all__ = ["MAX_SENTENCE_CHARS", "CLOSING", "Sentence", "split_sentences", "document_sentences", "is_closed"]

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets and footnote marks such
# as "[12]" or "[citation needed]") before a space and something that can start a sentence; line
# breaks always end one. A period with no space after it ends one too when a lowercase word or a
# closing bracket comes before it and a word starting with a capital after it ("(États-Unis).Il
# abrite": text extraction losing the space; not before an elision, "cultures.I'm"); "St.Louis",
# "U.S.Army" and "Node.js" do not (a capitalised name after a period, "React.Component", is
# split). The run of marks is matched from its first mark and without backtracking, so that a
# long run of dots or spaces costs linear time.
_END = re.compile(r"""(?<![.!?…])[.!?…]++["»”’)\]]*+(?:\s?\[[^\]\n]{1,40}\])*+(?=\s++["«“‘(\[\-–—]?\s*+[A-ZÀ-ÖØ-Þ0-9])"""
                  r"""|\n+|(?:(?<=[a-zß-öø-ÿ]{2})|(?<=\)))\.(?=[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ])""")
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "mr", "mrs", "ms", "prof", "gen", "gén",
    "col", "lt", "sgt", "capt", "jr", "sr", "inc", "ltd", "co", "corp", "no", "vol", "etc", "cf", "p",
    "av", "bd", "ap", "j.-c", "vs", "u.s", "u.k", "u.n", "e.g", "i.e", "jan", "feb", "fév", "mar",
    "apr", "avr", "jun", "jul", "juil", "aug", "sep", "sept", "oct", "nov", "dec", "déc", "approx", "env",
}
# abbreviations only before a figure ("fig. 2"; but "He ate a fig. Then...")
_BEFORE_FIGURE = {"fig", "figs", "chap", "ca"}
_MIN_LEN = 2
CLOSING = tuple(".!?…»\"”)’")   # what ends a sentence (qa.claims closes generated ones by it too)
_FOOTNOTE_CHARS = 42   # "[" + up to 40 characters + "]"
_WORD_BEFORE = 40      # characters read back from a period for the word it ends
# Longer "sentences" (a run without punctuation, a 100 kB word) are cut into pieces of at most
# this many characters, at a space when there is one: a citation quotes a sentence, not a file.
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True)
class Sentence:
    """`raw[start:end] == text` for the raw text of document `doc_id`."""

    doc_id: str
    start: int
    end: int
    text: str


def is_closed(text: str) -> bool:
    """Whether `text` ends as a sentence does (closing punctuation, footnote marks such as "[12]"
    or "[citation needed]" aside); headings, captions and list items do not."""
    text = text.rstrip()
    while text.endswith("]"):
        start = text.rfind("[")
        if start < 0 or len(text) - start > _FOOTNOTE_CHARS or "\n" in text[start:]:
            break
        text = text[:start].rstrip()
    return text.endswith(CLOSING)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial ("M.", "J. Biden")."""
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.-]+)$", text[max(0, dot - _WORD_BEFORE) : dot])
    if word is None:
        return False
    token = word.group(1).lower()
    if token in _BEFORE_FIGURE:
        return bool(re.match(r"\s+\d", text[dot + 1 : dot + 3]))
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())



def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _bounded(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """`[start, end)` cut into trimmed pieces of at most `limit` characters, each ending at the
    last space of its window when that space lies in the window's second half."""
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit + 1)
        cut = cut if cut > start else start + limit
        s, e = _trimmed(text, start, cut)
        pieces.append((s, e))
        start, _ = _trimmed(text, cut, end)
    return pieces + [(start, end)]


def split_sentences(text: str, start: int = 0, end: int | None = None,
                    limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """`(start, end)` of each sentence of `text[start:end]`, trimmed, in order, none longer than
    `limit` characters."""
    end = len(text) if end is None else end
    found, cursor = [], start
    for match in _END.finditer(text, start, end):
        if _is_abbreviation(text, match.start()):
            continue
        s, e = _trimmed(text, cursor, match.end())
        if e - s >= _MIN_LEN:
            found.extend(_bounded(text, s, e, limit))
        cursor = match.end()
    s, e = _trimmed(text, cursor, end)
    if e - s >= _MIN_LEN:
        found.extend(_bounded(text, s, e, limit))
    return found


def document_sentences(doc: Document) -> list[Sentence]:
    """The sentences of every body span (never across an excluded range)."""
    return [
        Sentence(doc.doc_id, s, e, doc.text[s:e])
        for span in doc.body
        for s, e in split_sentences(doc.text, span.start, span.end)
    ]
