"""Read a folder of articles (`.txt`, saved `.html` pages, `.jsonl`/`.csv` exports) into
`Document`s whose every span indexes the text the index keeps: a `.txt` file's own text, or the
text extracted from a page or an export row (`index.formats`)."""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.cleaning import Exclusion, find_exclusions, parse_metadata_date, split_lines
from index.formats import Extracted, Fields, extract_html, extract_rows
from index.lang import detect_language
from index.sources import (ARTICLE_KINDS, MAX_ARTICLE_BYTES, MAX_EXPORT_BYTES, ArticleError, Skipped, kind_of,
                           list_articles, read_article)

__all__ = ["Span", "Document", "Skipped", "Corpus", "ArticleError", "MAX_ARTICLE_BYTES", "read_document",
           "read_documents", "read_corpus", "Fields", "content_key"]

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
    url: str | None = None       # the page's canonical address, when the source says it
    author: str | None = None
    source: str | None = None    # the export file a row came from (None: the file is `doc_id`)

    @property
    def source_file(self) -> str:
        return self.source or self.doc_id

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = field(default=())
    exports: dict[str, str] = field(default_factory=dict)  # sha256 of each export file's bytes, by name


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


def _looks_cp1252(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Windows-1252 (Latin-1) with accented letters (a
    French Windows export), so that the fix can name the conversion."""
    try:
        return any("\u00c0" <= c <= "\u00ff" for c in data.decode("cp1252"))
    except UnicodeDecodeError:
        return False


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
            fix = (f" and looks like Windows-1252 (Latin-1) text; re-save it as UTF-8, e.g. `iconv -f WINDOWS-1252 -t "
                   f"UTF-8 {name} > utf8-{name}`." if _looks_cp1252(data) else "; re-save it as UTF-8 text.")
            raise ArticleError(f"{name} is not valid UTF-8 (byte {err.start}){fix}") from None
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
    """Read and clean one `.txt` article; raises `ArticleError` naming the file when it cannot."""
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


def _extracted_document(doc_id: str, item: Extracted, sha256: str, source: str | None) -> Document:
    """A page's or an export row's extracted text, cleaned like a `.txt` article's (inline
    "read also" links, teasers and menus the extraction kept are left out by offsets)."""
    excluded = find_exclusions(item.text)
    body = _body_spans(item.text, excluded)
    if not body:
        raise ArticleError(f"{doc_id} has no article text left once navigation and teasers are removed.")
    title, title_span = (item.title, None) if item.title else _title(item.text, body)
    body_text = " ".join(item.text[s.start : s.end] for s in body)
    return Document(doc_id=doc_id, title=title, date=item.date, lang=item.lang or detect_language(body_text),
                    sha256=sha256, text=item.text, body=body, excluded=tuple(excluded), title_span=title_span, url=item.url,
                    author=item.author, source=source)


def read_documents(path: Path, mapping: Fields = Fields()) -> tuple[list[Document], list[Skipped], str]:
    """The articles of one file of any supported kind, the export rows left out, and the
    sha256 of the file's bytes."""
    kind = kind_of(path.name)
    if kind == "text":
        doc = read_document(path)
        return [doc], [], doc.sha256
    data = read_article(path, MAX_ARTICLE_BYTES * 5 if kind == "html" else MAX_EXPORT_BYTES)
    text, sha256 = _decode(path, data), hashlib.sha256(data).hexdigest()
    if kind == "html":
        return [_extracted_document(path.name, extract_html(path.name, text), sha256, None)], [], sha256
    items, left = extract_rows(path.name, str(kind), text, mapping)
    docs = [_extracted_document(f"{path.name}#{item.key}", item, _row_hash(item), path.name) for item in items]
    return docs, [Skipped(f"{path.name}#{key}", reason) for key, reason in left], sha256


def _row_hash(item: Extracted) -> str:
    return hashlib.sha256(json.dumps(asdict(item), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def content_key(doc: Document) -> str:
    """What two copies of one article share, line endings and spacing aside."""
    words = " ".join(doc.span_text(s) for s in doc.body).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def read_corpus(folder: Path, mapping: Fields = Fields()) -> Corpus:
    """Every article file in `folder` (`.txt`, `.html`, `.htm`, `.jsonl`, `.csv`, any case), sorted
    by name. Other entries, bad files and rows, and duplicates are skipped with a reason; a folder
    with no usable article raises `ArticleError`."""
    if folder.is_file():
        raise ArticleError(f"{folder} is a file, not a folder of articles; pass --seeds with the folder that holds it "
                           "(or add it to an index with `python -m index add`).")
    if not folder.is_dir():
        raise ArticleError(f"Articles folder {folder} does not exist; pass --seeds with a folder of articles.")
    listing = list_articles(folder)
    docs: list[Document] = []
    skipped: list[Skipped] = list(listing.skipped)
    seen: dict[str, str] = {}
    exports: dict[str, str] = {}
    for path in listing.files:
        try:
            found, left, sha256 = read_documents(path, mapping)
        except ArticleError as err:
            skipped.append(Skipped(path.name, str(err)))
            continue
        skipped.extend(left)
        if kind_of(path.name) in ("jsonl", "csv"):
            exports[path.name] = sha256
        for doc in found:
            key = content_key(doc)
            if key in seen:
                reason = f"{doc.doc_id} duplicates {seen[key]}; it was left out (remove one of the two)."
                skipped.append(Skipped(doc.doc_id, reason))
                continue
            seen[key] = doc.doc_id
            docs.append(doc)
    skipped.sort(key=lambda s: s.doc_id)
    for entry in skipped:
        log.warning("skipped %s", entry.reason)
    if not docs:
        detail = "; ".join(s.reason.rstrip(".") for s in skipped) or (
            f"it holds no article files ({', '.join(ARTICLE_KINDS)}); put articles there or pass --seeds the "
            "folder that holds them")
        raise ArticleError(f"No article to index in {folder}: {detail}.")
    return Corpus(tuple(docs), tuple(skipped), exports)
