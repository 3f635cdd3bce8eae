"""Articles from saved web pages and CMS exports, as the plain texts the index keeps.

A `.html`/`.htm` file is one saved news page: trafilatura extracts its main text (menus, teasers,
comments, cookie banners and footers left out), title, date, author and canonical URL. A `.jsonl`
or `.csv` file is an export, one article per row: `text` plus optional `id`, `title`, `date`,
`url`, `lang`, under names that `Fields` maps (`text=body,date=published_at`). What comes out is
an `Extracted` record per article; `index.documents` turns it into a `Document` whose text is
exactly the extracted text, so every citation's offsets index what the page shows."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, fields, replace

from index.sources import ArticleError

__all__ = ["Fields", "Extracted", "extract_html", "extract_rows"]

log = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
_LANG = re.compile(r"^[a-z]{2}\b")
_BLANKS = re.compile(r"\n{3,}")
_MARKUP = re.compile(r"<(?:html|body|head|p|div|article)\b", re.IGNORECASE)
_MIN_PAGE_WORDS = 5   # fewer, and what trafilatura found is a link or a label, not an article


@dataclass(frozen=True)
class Fields:
    """Which column or key of an export holds each part of an article: one name, or several
    separated by "|" (the first a row has is read), the part's own name always last."""

    text: str = "text"
    id: str = "id"
    title: str = "title"
    date: str = "date"
    url: str = "url"
    lang: str = "lang"

    @classmethod
    def parse(cls, spec: str | None) -> Fields:
        """`"text=body,date=published_at"`: our name = the export's name, comma-separated."""
        if not spec:
            return cls()
        known = {f.name for f in fields(cls)}
        mapping = {}
        for part in spec.split(","):
            ours, sep, theirs = part.partition("=")
            ours, theirs = ours.strip(), theirs.strip()
            if not sep or ours not in known or not theirs:
                raise ValueError(f"--fields {spec!r} is not understood at {part.strip()!r}; write NAME=COLUMN pairs "
                                 f"separated by commas, NAME among {', '.join(sorted(known))}.")
            mapping[ours] = theirs
        return replace(cls(), **mapping)

    def merged(self, other: Fields) -> Fields:
        """Both mappings' names for each part, this one's first: exports of either kind read."""
        def union(a: str, b: str) -> str:
            return "|".join(dict.fromkeys(n for n in a.split("|") + b.split("|") if n))
        return replace(self, **{f.name: union(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)})

    def get(self, row: dict, part: str) -> object:
        """The value of `part` in `row` under the first of its names the row has."""
        for name in getattr(self, part).split("|") + [part]:
            value = row.get(name)
            if value not in (None, ""):
                return value
        return None

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> Fields:
        """The mapping a manifest recorded (unknown names ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Extracted:
    """One article out of a page or an export row; `key` names it inside its file."""

    key: str | None
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    lang: str | None = None
    author: str | None = None


def _iso_date(value: object) -> str | None:
    found = _ISO_DATE.match(str(value)) if value not in (None, "") else None
    return found.group(1) if found else None


def _lang(value: object) -> str | None:
    found = _LANG.match(str(value or "").strip().lower())
    return found.group(0) if found else None


def _tidy(text: str) -> str:
    """Line endings unified, trailing spaces dropped, runs of blank lines cut to one."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def extract_html(name: str, html: str) -> Extracted:
    """The main text and metadata of a saved news page."""
    import trafilatura  # imported here: only builds that read web pages need it

    if not _MARKUP.search(html[:100_000]):
        raise ArticleError(f"{name} does not look like a web page (no HTML tags); rename it to .txt if it is "
                           "plain text.")
    found = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=True,
                                        favor_precision=True, deduplicate=False)
    text = _tidy(getattr(found, "text", None) or "") if found is not None else ""
    if len(text.split()) < _MIN_PAGE_WORDS:   # a menu's "Accueil" is what is left of a page with no article
        raise ArticleError(f"{name} holds no article text that could be told from the page around it; save the "
                          "article's own page, or paste its text into a .txt file.")
    # trafilatura sets paragraphs apart with one line break; a blank line is what the chunker reads
    text = re.sub(r"(?<!\n)\n(?!\n)", "\n\n", text)
    return Extracted(None, text, found.title or None, _iso_date(found.date), found.url or None, None,
                     found.author or None)


def _rows(name: str, kind: str, text: str) -> list[dict]:
    if kind == "csv":
        # spreadsheets in French locales export with ";", some tools with tabs: the header line tells
        header = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=lambda d: (header.count(d), d == ","))
        try:
            return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as err:
            raise ArticleError(f"{name} is not a readable CSV file ({err}); export it again as CSV with a header "
                              "row.") from None
    rows = []
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines: JSON strings may hold U+2028
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise ArticleError(f"{name} line {number} is not JSON; a .jsonl export holds one JSON object per "
                              "line.") from None
        if not isinstance(row, dict):
            raise ArticleError(f"{name} line {number} is not a JSON object; a .jsonl export holds one object "
                              "per line.")
        rows.append(row)
    return rows


def extract_rows(name: str, kind: str, text: str, mapping: Fields) -> tuple[list[Extracted], list[tuple[str, str]]]:
    """The articles of a `.jsonl` or `.csv` export, and the rows left out with their reason."""
    rows = _rows(name, kind, text)
    if not rows:
        raise ArticleError(f"{name} holds no rows; export at least one article.")
    if not any(mapping.get(row, "text") is not None for row in rows):
        columns = ", ".join(sorted({str(k) for row in rows[:20] for k in row}))[:200]
        raise ArticleError(f"{name} has no {mapping.text!r} field (it has: {columns}); name the text's field "
                           f"with --fields text=NAME.")
    articles: list[Extracted] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        key = str(mapping.get(row, "id") or number).strip()
        body = mapping.get(row, "text")
        text = _tidy(body) if isinstance(body, str) else ""
        if key in seen:
            skipped.append((key, f"{name} row {number} repeats the id {key!r}; it was left out (give each row its "
                                 "own id)."))
        elif not text:
            skipped.append((key, f"{name} row {number} has no text in {mapping.text!r}; it was left out."))
        else:
            seen.add(key)
            title = str(mapping.get(row, "title") or "").strip()
            articles.append(Extracted(key, text, title or None, _iso_date(mapping.get(row, "date")),
                                      str(mapping.get(row, "url") or "").strip() or None,
                                      _lang(mapping.get(row, "lang"))))
    return articles, skipped
