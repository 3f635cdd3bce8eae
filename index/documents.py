"""Read a folder of `.txt` articles into `Document`s whose every span indexes the raw text."""

from __future__ import annotations

import codecs
import hashlib
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from index.cleaning import Exclusion, find_exclusions, parse_metadata_date, split_lines
from index.lang import detect_language
from index.sources import MAX_ARTICLE_BYTES, ArticleError, Skipped, list_articles, read_article

__all__ = ["Span", "Document", "Skipped", "Corpus", "ArticleError", "MAX_ARTICLE_BYTES", "read_document",
           "read_corpus"]

log = logging.getLogger(__name__)

_TITLE_MAX_LEN = 200
_TITLE_FALLBACK_LEN = 90
# UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Span:
    """`[start, end)` character offsets into a document's raw text."""

    start: int
    end: int


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    date: str | None
    lang: str
    sha256: str
    text: str
    body: tuple[Span, ...]
    excluded: tuple[Exclusion, ...] = ()
    title_span: Span | None = None

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = field(default=())


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: the NUL bytes of Latin text all on one side of each pair."""
    pairs = len(data) // 2
    high, low = data[0::2].count(0), data[1::2].count(0)
    return pairs > 0 and max(high, low) > 0.3 * pairs and min(high, low) < 0.02 * pairs


def _decode_marked(name: str, data: bytes) -> str | None:
    """The text of a file that starts with a UTF-16 or UTF-32 byte-order mark, or None."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as err:
                raise ArticleError(f"{name} starts with a {codec.upper()} byte-order mark but is not valid "
                                   f"{codec.upper()} (byte {err.start}); re-save it as UTF-8 text.") from None
    return None


def _decode(path: Path, data: bytes) -> str:
    name = path.name
    text = _decode_marked(name, data)
    if text is None:
        if not data.strip():
            raise ArticleError(f"{name} is empty; add the article text or remove the file.")
        if b"\x00" in data and _looks_utf16(data):
            raise ArticleError(f"{name} looks like UTF-16 text without a byte-order mark; re-save it as UTF-8 text.")
        if b"\x00" in data:
            raise ArticleError(f"{name} looks binary (it contains NUL bytes); only UTF-8 text articles can be indexed.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise ArticleError(
                f"{name} is not valid UTF-8 (byte {err.start}); re-save it as UTF-8 text."
            ) from None
    if not text.strip():
        raise ArticleError(f"{name} is empty; add the article text or remove the file.")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if controls > max(10, len(text) // 100):
        raise ArticleError(f"{name} looks binary ({controls} control characters); only text articles can be indexed.")
    return text


def _body_spans(text: str, excluded: list[Exclusion]) -> tuple[Span, ...]:
    """The complement of the exclusions, trimmed of surrounding whitespace."""
    spans, pos = [], 0
    for gap in excluded + [Exclusion(len(text), len(text), "end")]:
        start, end = pos, gap.start
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append(Span(start, end))
        pos = max(pos, gap.end)
    return tuple(spans)


def _title(text: str, body: tuple[Span, ...]) -> tuple[str, Span | None]:
    """The first body line when it reads like a headline, else the start of the first sentence."""
    if not body:
        return "", None
    first = body[0]
    line = next(ln for ln in split_lines(text[first.start : first.end]) if not ln.blank)
    start = first.start + line.start + (len(line.text) - len(line.text.lstrip()))
    headline = line.text.strip()
    more_text = first.start + line.end < first.end or len(body) > 1
    is_headline = len(headline) <= _TITLE_MAX_LEN and more_text
    if is_headline and not headline.endswith("."):
        return headline, Span(start, start + len(headline))
    words = headline[:_TITLE_FALLBACK_LEN].rsplit(" ", 1)[0]
    return (words + "…" if len(headline) > _TITLE_FALLBACK_LEN else headline), None


def read_document(path: Path) -> Document:
    """Read and clean one article; raises `ArticleError` naming the file when it cannot."""
    data = read_article(path, MAX_ARTICLE_BYTES)
    text = _decode(path, data)
    excluded = find_exclusions(text)
    body = _body_spans(text, excluded)
    if not body:
        raise ArticleError(f"{path.name} has no article text left once navigation and teasers are removed.")
    first = next(ln for ln in split_lines(text) if not ln.blank)
    meta = parse_metadata_date(first.text)
    title, title_span = _title(text, body)
    body_text = " ".join(text[s.start : s.end] for s in body)
    return Document(
        doc_id=path.name,
        title=title,
        date=meta[0] if meta else None,
        lang=detect_language(body_text),
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        body=body,
        excluded=tuple(excluded),
        title_span=title_span,
    )


def read_corpus(folder: Path) -> Corpus:
    """Every `.txt` file in `folder` (any case), sorted by name. Other entries, bad files and
    duplicates are skipped with a reason; a folder with no usable article raises `ArticleError`."""
    if not folder.is_dir():
        raise ArticleError(f"Articles folder {folder} does not exist; pass --seeds with a folder of .txt files.")
    listing = list_articles(folder)
    docs: list[Document] = []
    skipped: list[Skipped] = list(listing.skipped)
    seen: dict[str, str] = {}
    for path in listing.files:
        try:
            doc = read_document(path)
        except ArticleError as err:
            skipped.append(Skipped(path.name, str(err)))
            continue
        words = " ".join(doc.span_text(s) for s in doc.body).split()  # line endings and spacing aside
        key = hashlib.sha256(" ".join(words).encode()).hexdigest()
        if key in seen:
            reason = f"{path.name} duplicates {seen[key]}; it was left out (remove one of the two)."
            skipped.append(Skipped(path.name, reason))
            continue
        seen[key] = path.name
        docs.append(doc)
    skipped.sort(key=lambda s: s.doc_id)
    for entry in skipped:
        log.warning("skipped %s", entry.reason)
    if not docs:
        detail = "; ".join(s.reason.rstrip(".") for s in skipped) or "it holds no .txt files"
        raise ArticleError(f"No article to index in {folder}: {detail}")
    return Corpus(tuple(docs), tuple(skipped))
