"""Read and write the index folder: documents, chunks, vectors, BM25 and the manifest.

Writes go to a temporary sibling folder that is swapped in by renames; a crash leaves the
previous index in place, or as a backup that the next load restores."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from index.bm25 import LexicalIndex
from index.chunking import Chunk
from index.cleaning import Exclusion
from index.documents import Document, Span
from index.sentences import Sentence
from index.manifest import IndexNotReady, Manifest
from index.store import FlatFaissStore

__all__ = ["IndexData", "load_index", "write_index", "staging"]

log = logging.getLogger(__name__)

DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
SENTENCES = "sentences.jsonl"
SENTENCE_VECTORS = "sentences.npy"


@dataclass(frozen=True)
class IndexData:
    """Everything the read side needs; `chunks[i]` is row i of `store` and `lexical`."""

    folder: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: tuple[Chunk, ...]
    store: FlatFaissStore
    lexical: LexicalIndex
    sentences: tuple[Sentence, ...]
    sentence_vectors: np.ndarray


def _backup(folder: Path) -> Path:
    return folder.with_name(folder.name + ".previous")


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _document_from(row: dict) -> Document:
    return Document(
        doc_id=row["doc_id"], title=row["title"], date=row["date"], lang=row["lang"],
        sha256=row["sha256"], text=row["text"],
        body=tuple(Span(**s) for s in row["body"]),
        excluded=tuple(Exclusion(**e) for e in row["excluded"]),
        title_span=Span(**row["title_span"]) if row["title_span"] else None,
    )


def write_index(folder: Path, data: IndexData) -> None:
    """Write all files of `data` into `folder` (a fresh staging folder)."""
    _write_jsonl(folder / DOCUMENTS, [asdict(d) for d in data.documents.values()])
    _write_jsonl(folder / CHUNKS, [{"id": i, **asdict(c)} for i, c in enumerate(data.chunks)])
    _write_jsonl(folder / SENTENCES, [asdict(s) for s in data.sentences])
    np.save(folder / SENTENCE_VECTORS, data.sentence_vectors, allow_pickle=False)
    data.store.save(folder)
    data.lexical.save(folder)
    data.manifest.save(folder)  # last: a folder with a manifest is complete


@contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target`, swapped in when the block succeeds, removed if not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.building-*"):
        log.info("removing %s, left by an interrupted build", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        yield temp
        _swap(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _swap(temp: Path, target: Path) -> None:
    backup = _backup(target)
    shutil.rmtree(backup, ignore_errors=True)
    if target.exists():
        os.replace(target, backup)
    os.replace(temp, target)
    shutil.rmtree(backup, ignore_errors=True)


def _recover(folder: Path) -> None:
    """Finish a swap that was interrupted between its two renames."""
    backup = _backup(folder)
    if not folder.exists() and (backup / "manifest.json").is_file():
        log.warning("restoring the previous index from %s", backup)
        os.replace(backup, folder)


def load_index(folder: Path) -> IndexData:
    """Load and sanity-check an index folder; raises `IndexNotReady` with the fix."""
    _recover(folder)
    manifest = Manifest.load(folder)
    try:
        documents = {row["doc_id"]: _document_from(row) for row in _read_jsonl(folder / DOCUMENTS)}
        chunks = tuple(Chunk(**{k: v for k, v in row.items() if k != "id"}) for row in _read_jsonl(folder / CHUNKS))
        store = FlatFaissStore.load(folder)
        langs = tuple(sorted({d.lang for d in documents.values()}))
        lexical = LexicalIndex.load(folder, langs, len(chunks))
        sentences = tuple(Sentence(**row) for row in _read_jsonl(folder / SENTENCES))
        sentence_vectors = np.load(folder / SENTENCE_VECTORS, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        raise IndexNotReady(f"The index in {folder} is damaged ({err}); rebuild it with `python -m index build`.") from None
    if not (len(store) == len(chunks) == manifest.counts.get("chunks")
            and len(sentences) == len(sentence_vectors) == manifest.counts.get("sentences")):
        raise IndexNotReady(f"The index in {folder} is inconsistent (vectors and chunks differ); rebuild it with `python -m index build`.")
    return IndexData(folder, manifest, documents, chunks, store, lexical, sentences, sentence_vectors)
