"""The index folder's self-description, and the checks made when it is loaded."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from index.sources import ArticleError, list_articles, read_article

__all__ = ["FORMAT_VERSION", "Manifest", "IndexNotReady", "StaleIndex", "library_versions", "seed_hashes"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
FILE = "manifest.json"
REBUILD = "python -m index build"
SKIPPED, UNREADABLE = "skipped", "unreadable"
_LIBRARIES = ("sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s",
              "langchain-text-splitters", "lingua-language-detector")


class IndexNotReady(RuntimeError):
    """The index cannot be used as it is; the message says how to fix it."""


class StaleIndex(IndexNotReady):
    """The articles changed since the index was built."""


def _short(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:12]


def library_versions() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def seed_hashes(folder: Path) -> dict[str, str]:
    """sha256 of each article file's bytes, by file name, over the entries a build lists:
    `SKIPPED` for those it leaves out unread (not a .txt file, a folder, a FIFO, a link outside
    the folder...) and `UNREADABLE` for files that cannot be read now."""
    listing = list_articles(folder)
    found = {s.doc_id: SKIPPED for s in listing.skipped}
    for path in listing.files:
        try:
            found[path.name] = hashlib.sha256(read_article(path)).hexdigest()
        except ArticleError:
            found[path.name] = UNREADABLE
    return found


@dataclass(frozen=True)
class Manifest:
    model_id: str
    model_fingerprint: str
    dimension: int
    prompts: dict[str, str]
    chunking: dict[str, int]
    documents: dict[str, dict[str, object]]
    seeds_dir: str
    counts: dict[str, int]
    skipped: dict[str, str] = field(default_factory=dict)
    store: dict[str, object] = field(default_factory=dict)
    analyzer: str = "fold+elision+digits+stop+snowball/1"
    format_version: int = FORMAT_VERSION
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    libraries: dict[str, str] = field(default_factory=library_versions)

    def save(self, folder: Path) -> None:
        text = json.dumps(asdict(self), ensure_ascii=False, indent=2)
        (folder / FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / FILE
        if not path.is_file():
            raise IndexNotReady(f"No index in {folder}; build it with `{REBUILD} --index-dir {folder}`.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise IndexNotReady(f"{path} is unreadable ({err}); rebuild it with `{REBUILD}`.") from None
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexNotReady(
                f"The index in {folder} has format {data.get('format_version')}, this version reads "
                f"format {FORMAT_VERSION}; rebuild it with `{REBUILD}`."
            )
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            raise IndexNotReady(f"{path} lacks required fields; rebuild it with `{REBUILD}`.") from None

    def sha256_by_doc(self) -> dict[str, str]:
        return {doc_id: str(info["sha256"]) for doc_id, info in self.documents.items()}

    def check_model(self, model_id: str, fingerprint: str, dimension: int) -> None:
        if (model_id, fingerprint, dimension) != (self.model_id, self.model_fingerprint, self.dimension):
            raise IndexNotReady(
                f"The index was built with model {self.model_id!r} ({self.dimension} dimensions, weights "
                f"{_short(self.model_fingerprint)}), not with {model_id!r} ({dimension}, {_short(fingerprint)}); "
                f"rebuild it with `{REBUILD} --model {model_id}`."
            )

    def check_seeds(self, folder: Path) -> None:
        """Raise `StaleIndex` when the articles on disk differ from those indexed."""
        if not folder.is_dir():
            return
        try:
            now = seed_hashes(folder)
        except OSError as err:
            log.warning("cannot check whether the articles in %s changed: %s", folder, err.strerror)
            return
        then = {**self.sha256_by_doc(), **{d: SKIPPED for d in self.skipped}}
        changed = sorted(d for d in now.keys() & then.keys() if then[d] not in (now[d], SKIPPED))
        added, removed = sorted(now.keys() - then.keys()), sorted(then.keys() - now.keys())
        if changed or added or removed:
            parts = [f"{label}: {', '.join(names[:3])}{'…' if len(names) > 3 else ''}"
                     for label, names in (("changed", changed), ("added", added), ("removed", removed)) if names]
            raise StaleIndex(
                f"The articles in {folder} changed since the index was built ({'; '.join(parts)}); "
                f"update it with `{REBUILD} --seeds {folder}`."
            )
