"""Which entries of an articles folder are articles, and their bytes, read without surprises.

Only regular files are ever opened: folders, FIFOs, devices and sockets are refused from their
`stat` (reading a FIFO would block forever), links are followed only to files inside the
folder, and a file is opened non-blocking and checked again once open (it may have been
replaced in between). The build (`read_corpus`) and the staleness check (`seed_hashes`) list a
folder with the same function, so an entry the build skipped can never break a later query."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ARTICLE_KINDS", "MAX_ARTICLE_BYTES", "MAX_EXPORT_BYTES", "kind_of", "ArticleError", "Skipped", "Listing", "list_articles",
           "read_article"]

log = logging.getLogger(__name__)

# by extension, compared case-insensitively: "NOTES.TXT" is an article too
ARTICLE_KINDS = {".txt": "text", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".csv": "csv"}
_NAMES = ", ".join(ARTICLE_KINDS)
MAX_ARTICLE_BYTES = 2_000_000    # one article (a saved page may be five times this)
MAX_EXPORT_BYTES = 200_000_000   # an export of many
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class ArticleError(ValueError):
    """An article file that cannot be indexed; the message names the file and the fix."""


@dataclass(frozen=True)
class Skipped:
    doc_id: str
    reason: str


@dataclass(frozen=True)
class Listing:
    """The article files of a folder, by name, and the entries left out with their reason."""

    files: tuple[Path, ...]
    skipped: tuple[Skipped, ...]


def kind_of(name: str) -> str | None:
    """"text", "html", "jsonl" or "csv" from the file name's extension (any case), else None."""
    dot = name.rfind(".")
    return ARTICLE_KINDS.get(name[dot:].lower()) if dot >= 0 else None


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _not_regular(name: str, mode: int) -> str:
    return f"{name} is {_kind(mode)}, not a regular file; only plain files can be indexed."


def _refusal(folder: Path, path: Path) -> str | None:
    """Why the entry `path` (named like an article) cannot be read as one, or None."""
    name = path.name
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.exists():
            return f"{name} is a link to {target}, which does not exist; remove the link or restore the file."
        if not target.is_relative_to(folder.resolve()):
            return (f"{name} is a link to {target}, outside {folder}; copy the article into the folder "
                    "instead of linking to it.")
    try:
        mode = path.stat().st_mode
    except OSError as err:
        return f"{name} cannot be read ({err.strerror}); check that it exists and is readable."
    return None if stat.S_ISREG(mode) else _not_regular(name, mode)


def list_articles(folder: Path) -> Listing:
    """The article files of `folder` (by extension, any case), sorted by name, and every other entry with the
    reason it is not read. Hidden entries (".name") and subfolders not named like articles are
    passed over silently."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as err:
        raise ArticleError(f"Articles folder {folder} cannot be listed ({err.strerror}); check its "
                           "permissions.") from None
    for path in entries:
        name = path.name
        if name.startswith("."):
            continue
        if kind_of(name) is None:
            if not path.is_dir():
                skipped.append(Skipped(name, f"{name} is not an article file ({_NAMES}); rename it to end in "
                                             ".txt if it is an article in plain text."))
            continue
        reason = _refusal(folder, path)
        if reason is None:
            files.append(path)
        else:
            skipped.append(Skipped(name, reason))
    return Listing(tuple(files), tuple(skipped))


def read_article(path: Path, limit: int = MAX_ARTICLE_BYTES) -> bytes:
    """The bytes of the regular file `path`; its type and size are checked on the open file
    first, so a FIFO never blocks and a huge file is never read into memory."""
    name = path.name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as err:
        raise ArticleError(f"{name} cannot be read ({err.strerror}); check that it exists and is readable.") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArticleError(_not_regular(name, info.st_mode))
        if info.st_size > limit:
            raise ArticleError(f"{name} is {info.st_size:,} bytes, over the {limit:,}-byte limit for one "
                               "article; split it into articles or remove it.")
        try:
            data = fh.read(limit + 1)
        except OSError as err:
            raise ArticleError(f"{name} cannot be read ({err.strerror}); check the disk and the file.") from None
    if len(data) > limit:
        raise ArticleError(f"{name} grew past the {limit:,}-byte limit while it was read; try again once it is "
                           "written.")
    return data
