"""Read a folder of `.txt` articles into `Document`s whose every span indexes the raw text."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from index.cleaning import Exclusion, find_exclusions, parse_metadata_date, split_lines
from index.lang import detect_language

__all__ = ["Span", "Document", "Skipped", "Corpus", "ArticleError", "read_document", "read_corpus"]

log = logging.getLogger(__name__)

MAX_ARTICLE_BYTES = 2_000_000
_TITLE_MAX_LEN = 200
_TITLE_FALLBACK_LEN = 90


class ArticleError(ValueError):
    """An article file that cannot be indexed; the message names the file and the fix."""


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
class Skipped:
    doc_id: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = field(default=())


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; its size is checked first, so a huge file is never read into memory."""
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{path.name} is {size:,} bytes, over the {MAX_ARTICLE_BYTES:,}-byte limit for one "
            "article; split it into articles or remove it."
        )
    return path.read_bytes()


def _decode(path: Path, data: bytes) -> str:
    name = path.name
    if not data.strip():
        raise ArticleError(f"{name} is empty; add the article text or remove the file.")
    if b"\x00" in data:
        raise ArticleError(f"{name} looks binary (it contains NUL bytes); only UTF-8 text articles can be indexed.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(
            f"{name} is not valid UTF-8 (byte {err.start}); re-save it as UTF-8 text."
        ) from None
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
    data = _read_bytes(path)
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
    """Every `*.txt` in `folder`, sorted by name. Bad files and duplicates are skipped with a
    reason; a folder with no usable article raises `ArticleError`."""
    if not folder.is_dir():
        raise ArticleError(f"Articles folder {folder} does not exist; pass --seeds with a folder of .txt files.")
    docs: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.txt")):
        try:
            doc = read_document(path)
        except (ArticleError, OSError) as err:
            skipped.append(Skipped(path.name, str(err)))
            log.warning("skipped %s", err)
            continue
        words = " ".join(doc.span_text(s) for s in doc.body).split()  # line endings and spacing aside
        key = hashlib.sha256(" ".join(words).encode()).hexdigest()
        if key in seen:
            reason = f"{path.name} duplicates {seen[key]}; it was left out (remove one of the two)."
            skipped.append(Skipped(path.name, reason))
            log.warning("skipped %s", reason)
            continue
        seen[key] = path.name
        docs.append(doc)
    if not docs:
        detail = "; ".join(s.reason for s in skipped) or "it holds no .txt files"
        raise ArticleError(f"No article to index in {folder}: {detail}")
    return Corpus(tuple(docs), tuple(skipped))
