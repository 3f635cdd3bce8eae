"""Find the parts of a news article that are not its story: metadata, navigation, teasers, tags.

Cleaning never rewrites text. It classifies *lines* of the raw file and returns the ranges to
exclude, as character offsets, so every later span still indexes the raw text exactly.
The rules are about the shape of web-article noise in general, not about particular files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Line", "Exclusion", "split_lines", "find_exclusions", "parse_metadata_date"]

_SENTENCE_END = tuple(".!?:;»\"”)’'")
_ELLIPSIS = ("…", "...")
_BULLET = re.compile(r"^\s*(?:[-–•*·]|\d+[.)])\s+")
_DATE_LINE = re.compile(
    r"^\s*(?:date|published|publié(?:\s+le)?|mis à jour|updated)\s*:?\s*"
    r"(\d{4}-\d{2}(?:-\d{2})?)\b\s*",
    re.IGNORECASE,
)
_RELATED = re.compile(
    r"^(?:et aussi|à lire aussi|a lire aussi|lire aussi|voir aussi|sur le même sujet|"
    r"read more|read also|see also|related(?: articles| stories)?|more on this)\s*:?$",
    re.IGNORECASE,
)
# an inline link to another story: "Lire aussi : <its headline>", "Related: <headline>"
_READ_ALSO = re.compile(
    r"^(?:et aussi|à lire aussi|a lire aussi|lire aussi|voir aussi|read more|read also|see also|related|"
    r"more on this)\s*:\s*\S",
    re.IGNORECASE,
)
_READ_ALSO_MAX_LEN = 200
_SLUG = re.compile(r"^[\w]+(?:[-_][\w]+)+$")
_NAV_MIN_LINES = 4
_NAV_MAX_LEN = 90
_TAIL_MAX_LEN = 40


@dataclass(frozen=True)
class Line:
    """One line of the raw text: [start, end) excludes the line break."""

    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Exclusion:
    """A range of the raw text left out of the index, and why."""

    start: int
    end: int
    reason: str


def split_lines(text: str) -> list[Line]:
    """Lines with their offsets; `text[line.start:line.end] == line.text`."""
    lines, pos = [], 0
    for piece in text.splitlines(keepends=True):
        body = piece.rstrip("\r\n")
        lines.append(Line(pos, pos + len(body), body))
        pos += len(piece)
    return lines


def parse_metadata_date(line: str) -> tuple[str, int] | None:
    """`(date, length of the metadata prefix)` when a line starts with a date field."""
    match = _DATE_LINE.match(line)
    return (match.group(1), match.end()) if match else None


def _is_heading_like(line: Line) -> bool:
    text = line.text.strip()
    return (
        0 < len(text) <= _NAV_MAX_LEN
        and not text.endswith(_SENTENCE_END)
        and not text.endswith(_ELLIPSIS)
        and not _BULLET.match(text)
    )


def _is_teaser(line: Line) -> bool:
    return line.text.rstrip().endswith(_ELLIPSIS)


def _is_tail_noise(line: Line) -> bool:
    text = line.text.strip()
    if not text or len(text) > _TAIL_MAX_LEN:
        return False
    return bool(_RELATED.match(text) or (_SLUG.match(text) and any(c.isdigit() for c in text)))


def _navigation_blocks(lines: list[Line]) -> list[Exclusion]:
    """Runs of several short heading-like lines with no blank line between them: a table of
    contents or a menu. Real headings stand alone between paragraphs."""
    found, run = [], []
    for line in lines + [Line(-1, -1, "")]:
        if not line.blank and _is_heading_like(line):
            run.append(line)
            continue
        if len(run) >= _NAV_MIN_LINES:
            found.append(Exclusion(run[0].start, run[-1].end, "navigation"))
        run = []
    return found


def _read_also(lines: list[Line]) -> list[Exclusion]:
    """Single "Lire aussi : headline" lines anywhere in the article: links, not its story."""
    return [Exclusion(line.start, line.end, "read-also") for line in lines
            if len(line.text.strip()) <= _READ_ALSO_MAX_LEN and _READ_ALSO.match(line.text.strip())]


def _teaser_runs(lines: list[Line]) -> list[Exclusion]:
    """Lines cut off with an ellipsis: links to other stories. Two or more in a row anywhere,
    or any at the very end of the article."""
    content = [line for line in lines if not line.blank]
    found, run = [], []
    for i, line in enumerate(content + [Line(-1, -1, "x")]):
        if i < len(content) and _is_teaser(line):
            run.append(line)
            continue
        if len(run) >= 2 or (run and i == len(content)):
            found.append(Exclusion(run[0].start, run[-1].end, "teasers"))
        run = []
    return found


def _tail_noise(lines: list[Line], teasers: list[Exclusion]) -> list[Exclusion]:
    """Site tags and "read also" stubs at the end of the article, before, among or after its
    final teasers."""
    found = []
    for line in reversed([line for line in lines if not line.blank]):
        if any(t.start <= line.start and line.end <= t.end for t in teasers):
            continue
        if not _is_tail_noise(line):
            break
        found.append(Exclusion(line.start, line.end, "trailer"))
    return found


def find_exclusions(text: str) -> list[Exclusion]:
    """All ranges to leave out of the index, sorted and non-overlapping."""
    lines = split_lines(text)
    found: list[Exclusion] = []
    first = next((line for line in lines if not line.blank), None)
    if first is not None:
        meta = parse_metadata_date(first.text)
        if meta is not None:
            found.append(Exclusion(first.start, first.start + meta[1], "metadata"))
    found += _navigation_blocks(lines)
    found += _read_also(lines)
    teasers = _teaser_runs(lines)
    found += teasers
    found += _tail_noise(lines, teasers)
    return _merge(found)


def _merge(found: list[Exclusion]) -> list[Exclusion]:
    merged: list[Exclusion] = []
    for item in sorted(found, key=lambda e: (e.start, e.end)):
        if merged and item.start <= merged[-1].end:
            last = merged.pop()
            item = Exclusion(last.start, max(last.end, item.end), last.reason)
        merged.append(item)
    return merged
