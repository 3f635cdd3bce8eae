"""The index folder's self-description, and the checks made when it is loaded."""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from index.sources import ArticleError, kind_of, list_articles, read_article

__all__ = ["FORMAT_VERSION", "Manifest", "IndexNotReady", "IndexMissing", "IndexDamaged", "StaleIndex",
           "build_command", "first_names", "library_versions", "not_a_folder", "seed_hashes"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 4  # 2: checksums of every file; 3: rows in SQLite, float16 vectors memory-mapped;
                    # 4: the corpus's words and their vectors (vocabulary.npz)
FILE = "manifest.json"
REBUILD = "python -m index build"
DEFAULT_INDEX_DIR = Path("var/index")
DEFAULT_SEEDS_DIR = Path("seeds")
SKIPPED, UNREADABLE = "skipped", "unreadable"
_LIBRARIES = ("sentence-transformers", "transformers", "torch", "openvino", "faiss-cpu", "bm25s",
              "langchain-text-splitters", "lingua-language-detector")


class IndexNotReady(RuntimeError):
    """The index cannot be used as it is; the message says how to fix it, `problem` what is
    wrong (the message without its fix), for a caller that fixes it itself."""

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message


class IndexMissing(IndexNotReady):
    """There is no index in the folder (yet)."""


def not_a_folder(folder: Path) -> IndexMissing:
    """The error for an index folder given as a file (reading it, or building into it)."""
    return IndexMissing(f"{folder} is a file, not an index folder; pass --index-dir a folder (`python -m index "
                        "build --index-dir DIR` makes one).")


class IndexDamaged(IndexNotReady):
    """A file of the index is missing, truncated, altered or does not fit the others."""

    @classmethod
    def at(cls, folder: Path, detail: str, seeds_dir: str | Path | None = None,
           seeds_known: bool = True) -> IndexDamaged:
        """`seeds_known` False: the articles' folder is not known (the manifest that names it is
        the damaged file), so the command asks for it rather than rebuild from the default one."""
        problem = f"The index in {folder} is damaged ({detail})"
        command = build_command(folder, seeds_dir) + ("" if seeds_known else " --seeds ARTICLES_DIR")
        where = "" if seeds_known else ", ARTICLES_DIR being the folder of its articles"
        return cls(f"{problem}; rebuild it with `{command}`{where}.", problem)


class StaleIndex(IndexNotReady):
    """The articles changed since the index was built: `changes` names the files by what
    happened to them ("changed", "added", "removed"), `command` updates the index."""

    def __init__(self, message: str, changes: tuple[tuple[str, tuple[str, ...]], ...] = (),
                 command: str = "") -> None:
        super().__init__(message)
        self.changes, self.command = changes, command


def first_names(names: Sequence[str], shown: int = 3) -> str:
    """"a.txt, b.txt, c.txt…": the first `shown` names, and an ellipsis when there are more."""
    return ", ".join(names[:shown]) + ("…" if len(names) > shown else "")


def _differs(path: str | Path | None, default: Path) -> bool:
    return path is not None and Path(path).resolve() != default.resolve()


def build_command(index_dir: str | Path | None = None, seeds_dir: str | Path | None = None,
                  model: str | None = None) -> str:
    """The `python -m index build` command line for this folder, naming every folder that is not
    the default, so that it rebuilds this index, from these articles, when run as written."""
    parts = [REBUILD]
    if _differs(seeds_dir, DEFAULT_SEEDS_DIR):
        parts.append(f"--seeds {shlex.quote(str(seeds_dir))}")
    if _differs(index_dir, DEFAULT_INDEX_DIR):
        parts.append(f"--index-dir {shlex.quote(str(index_dir))}")
    if model:
        parts.append(f"--model {shlex.quote(model)}")
    return " ".join(parts)


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
    `SKIPPED` for those it leaves out unread (not an article file, a folder, a FIFO, a link outside
    the folder...) and `UNREADABLE` for files that cannot be read now."""
    listing = list_articles(folder)
    found = {s.doc_id: SKIPPED for s in listing.skipped}
    for path in listing.files:
        try:
            found[path.name] = hashlib.sha256(read_article(path)).hexdigest()
        except ArticleError:
            found[path.name] = UNREADABLE
    return found


def _file_of(doc_id: str) -> str:
    """The file an article id names: an export row's id is "FILE#KEY"."""
    name = doc_id.split("#", 1)[0]
    return name if kind_of(name) in ("jsonl", "csv") else doc_id


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
    files: dict[str, dict[str, object]] = field(default_factory=dict)  # path -> size, sha256
    analyzer: str = "fold+elision+digits+stop+snowball/1"
    # which code embedded the vectors: {"path": "openvino"|"sentence-transformers", "runtime", "precision"};
    # empty for indexes built before the compiled path existed (sentence-transformers)
    embedding: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # index.formats.Fields the exports were read with
    format_version: int = FORMAT_VERSION
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    libraries: dict[str, str] = field(default_factory=library_versions)

    def save(self, folder: Path) -> None:
        text = json.dumps(asdict(self), ensure_ascii=False, indent=2)
        (folder / FILE).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / FILE
        if folder.exists() and not folder.is_dir():
            raise not_a_folder(folder)
        if not path.is_file():
            raise IndexMissing(f"No index in {folder}; build it with `{build_command(folder)}`.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise IndexDamaged.at(folder, f"{FILE} is unreadable: {err}", seeds_known=False) from None
        if not isinstance(data, dict):
            raise IndexDamaged.at(folder, f"{FILE} holds no manifest", seeds_known=False)
        seeds = data.get("seeds_dir")
        if data.get("format_version") != FORMAT_VERSION:
            problem = (f"The index in {folder} has format {data.get('format_version')}, this version reads "
                       f"format {FORMAT_VERSION}")
            raise IndexNotReady(f"{problem}; rebuild it with `{build_command(folder, seeds)}`.", problem)
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            raise IndexDamaged.at(folder, f"{FILE} lacks required fields", seeds) from None

    @property
    def embedding_path(self) -> str:
        return self.embedding.get("path", "sentence-transformers")

    @property
    def embedding_weights(self) -> str:
        """How the embedding weights were stored; indexes made before this was recorded were
        embedded with float16 weights on the compiled path and fp32 on PyTorch."""
        default = "fp32" if self.embedding_path == "sentence-transformers" else "fp16"
        return str(self.embedding.get("weights", default))

    def source_hashes(self) -> dict[str, str]:
        """sha256 of each article file's bytes as indexed, by file name (`seed_hashes` on disk):
        an export's rows are articles of their own, all from one file."""
        found = {_file_of(doc_id): SKIPPED for doc_id in self.skipped}
        for doc_id, info in self.documents.items():
            source = info.get("source")
            found[str(source or doc_id)] = str(info["source_sha256"] if source else info["sha256"])
        return found

    def check_model(self, model_id: str, fingerprint: str, dimension: int, index_dir: Path | None = None) -> None:
        if (model_id, fingerprint, dimension) != (self.model_id, self.model_fingerprint, self.dimension):
            raise IndexNotReady(
                f"The index was built with model {self.model_id!r} ({self.dimension} dimensions, weights "
                f"{_short(self.model_fingerprint)}), not with {model_id!r} ({dimension}, {_short(fingerprint)}); "
                f"rebuild it with `{build_command(index_dir, self.seeds_dir, model_id)}`."
            )

    def check_seeds(self, folder: Path, index_dir: Path | None = None) -> None:
        """Raise `StaleIndex` when the articles on disk differ from those indexed."""
        if not folder.is_dir():
            return
        try:
            now = seed_hashes(folder)
        except ArticleError as err:
            log.warning("cannot check whether the articles changed: %s", err)
            return
        then = self.source_hashes()
        changed = sorted(d for d in now.keys() & then.keys() if then[d] not in (now[d], SKIPPED))
        # a file no build reads (notes, an editor's backup) comes and goes without changing the index
        added = sorted(d for d in now.keys() - then.keys() if now[d] != SKIPPED)
        removed = sorted(d for d in then.keys() - now.keys() if then[d] != SKIPPED)
        if changed or added or removed:
            changes = tuple((label, tuple(names)) for label, names in (
                ("changed", changed), ("added", added), ("removed", removed)) if names)
            parts = [f"{label}: {first_names(names)}" for label, names in changes]
            command = build_command(index_dir, folder)
            raise StaleIndex(f"The articles in {folder} changed since the index was built ({'; '.join(parts)}); "
                             f"update it with `{command}`.", changes, command)
