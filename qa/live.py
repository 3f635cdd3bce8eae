"""A `Pipeline` that follows its index folder, for a process that serves it for long (the page).

When a build swaps a new index in, the next `current()` loads it (sharing the model); when the
articles change and no build has run yet, `current()` says so in one sentence rather than serving
the old text without a word. Both are noticed from `stat` calls, at most every `check_every_s`."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from index import IndexNotReady, StaleIndex
from index.manifest import FILE as MANIFEST_FILE, first_names
from qa.pipeline import Pipeline

__all__ = ["IndexNotice", "Served", "LivePipeline"]

log = logging.getLogger(__name__)

Stamp = tuple[object, ...] | None


_CHANGE_FR = {"changed": "modifiés", "added": "ajoutés", "removed": "retirés"}
_COMMAND = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class IndexNotice:
    """What the reader should know about the index served: `kind` "stale" (the articles changed
    since it was built: `changes` names them) or "unloadable" (a new index could not be loaded:
    `problem`, whose file names and causes stay in English); `command` fixes either."""

    kind: str
    message: str                 # the error's own (English) message, without its final period
    problem: str = ""
    command: str = ""
    folder: str = ""
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, err: IndexNotReady, folder: Path) -> IndexNotice:
        if isinstance(err, StaleIndex):
            return cls("stale", str(err).rstrip("."), command=err.command, folder=str(folder), changes=err.changes)
        found = _COMMAND.search(str(err))
        return cls("unloadable", str(err).rstrip("."), problem=err.problem.rstrip("."),
                   command=found.group(1) if found else "")

    def text(self, lang: str) -> str:
        if lang != "fr":
            return self.message + (", and until then answers quote them as they were." if self.kind == "stale"
                                   else ", and until then answers come from the index loaded before.")
        if self.kind == "stale":
            parts = " ; ".join(f"{_CHANGE_FR.get(label, label)} : {first_names(names)}"
                               for label, names in self.changes)
            fix = f" ; mettez-le à jour avec `{self.command}`" if self.command else ""
            return (f"Les articles de {self.folder} ont changé depuis la construction de l’index ({parts}){fix} ; "
                    "d’ici là, les réponses les citent tels qu’ils étaient.")
        fix = f" ; reconstruisez-le avec `{self.command}`" if self.command else ""
        return (f"Le nouvel index n’a pas pu être chargé ({self.problem}){fix} ; d’ici là, les réponses viennent "
                "de l’index chargé avant.")

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class Served:
    """The pipeline to answer with now, and what the reader should know about it."""

    pipeline: Pipeline
    notices: tuple[IndexNotice, ...] = ()


def _file_stamp(path: Path) -> Stamp:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size


def _folder_stamp(folder: Path) -> Stamp:
    """Names, sizes and times of a folder's entries: changes when an article is edited, added,
    removed or renamed (without reading any)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return None
    return tuple((e.name, _file_stamp(Path(e.path))) for e in entries)


class LivePipeline:
    """Thread-safe; `current()` is cheap (two `stat`s and a folder listing at most every
    `check_every_s` seconds; the articles are hashed only when their listing changed)."""

    def __init__(self, pipeline: Pipeline, index_dir: Path, check_every_s: float = 2.0) -> None:
        self._pipeline = pipeline
        self._index_dir = index_dir
        self._every = check_every_s
        self._lock = threading.Lock()
        self._index_stamp = self._failed_stamp = _file_stamp(index_dir / MANIFEST_FILE)
        self._seeds_stamp = _folder_stamp(self._seeds_dir())
        self._checked = time.monotonic()
        self._stale: IndexNotice | None = None
        self._unloadable: IndexNotice | None = None

    def _seeds_dir(self) -> Path:
        return Path(self._pipeline.data.manifest.seeds_dir)

    def check_now(self) -> None:
        """Look at the index folder at the next `current()`, whenever the last look was."""
        with self._lock:
            self._checked = -float("inf")

    def current(self) -> Served:
        with self._lock:
            if time.monotonic() - self._checked >= self._every:
                self._refresh()
                self._checked = time.monotonic()
            return Served(self._pipeline, tuple(n for n in (self._unloadable, self._stale) if n))

    def _refresh(self) -> None:
        stamp = _file_stamp(self._index_dir / MANIFEST_FILE)
        reloaded = stamp not in (self._index_stamp, self._failed_stamp) and self._reload(stamp)
        seeds = _folder_stamp(self._seeds_dir())
        if reloaded or seeds != self._seeds_stamp:
            self._seeds_stamp = seeds
            self._stale = self._staleness()

    def _reload(self, stamp: Stamp) -> bool:
        """Load the index a build swapped in; on failure keep serving the one loaded before."""
        old = self._pipeline
        try:
            self._pipeline = Pipeline.load(self._index_dir, old.config, check_seeds=False, embedder=old.embedder,
                                           reader=old.reader)
        except IndexNotReady as err:
            self._failed_stamp = stamp
            self._unloadable = IndexNotice.of(err, self._seeds_dir())
            log.warning("%s", self._unloadable)
            return False
        self._index_stamp, self._unloadable = stamp, None
        log.info("loaded the index that a build swapped into %s", self._index_dir)
        return True

    def _staleness(self) -> IndexNotice | None:
        try:
            self._pipeline.data.manifest.check_seeds(self._seeds_dir(), self._index_dir)
        except StaleIndex as err:
            return IndexNotice.of(err, self._seeds_dir())
        return None
