"""Read and write the index folder: documents, chunks, vectors, BM25 and the manifest (which
records every file's checksum; loading checks them, then that the parts agree). Writes go to a
staging folder that `index.swap` swaps in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from index.bm25 import LexicalIndex
from index.chunking import Chunk
from index.cleaning import Exclusion
from index.documents import Document, Span
from index.integrity import damaged_file, file_checksums
from index.manifest import FILE as MANIFEST, IndexDamaged, IndexNotReady, Manifest
from index.sentences import Sentence
from index.store import FlatFaissStore
from index.swap import recover

__all__ = ["IndexData", "load_index", "write_index", "check_target"]

log = logging.getLogger(__name__)

DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
SENTENCES = "sentences.jsonl"
SENTENCE_VECTORS = "sentences.npy"
# What reading a damaged file can raise: numpy (EOFError, ValueError), faiss (RuntimeError), json, bm25s.
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError)


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
    # Last, with the checksum of every file above: a folder with a manifest is complete.
    replace(data.manifest, files=file_checksums(folder, leave_out=MANIFEST)).save(folder)


def check_target(folder: Path) -> None:
    """Refuse to replace a folder that holds files but none of an index's (a build swaps the
    whole folder out: `--index-dir ~/Documents` must not delete the documents)."""
    parts = {MANIFEST, DOCUMENTS, CHUNKS, SENTENCES, SENTENCE_VECTORS, FlatFaissStore.FILE, LexicalIndex.FOLDER}
    if folder.exists() and not folder.is_dir():
        raise IndexNotReady(f"{folder} is a file, not an index folder; pass another --index-dir.")
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if names and not parts & set(names):
        raise IndexNotReady(f"{folder} is not an index folder (it holds {', '.join(names[:3])}"
                            f"{'…' if len(names) > 3 else ''}) and a build would replace it; pass a new or "
                            "empty folder to --index-dir.")


T = TypeVar("T")


def _part(folder: Path, manifest: Manifest, name: str, read: Callable[[], T]) -> T:
    """`read()` of the file `name`; what a damaged file makes the reader raise becomes `IndexDamaged`."""
    try:
        return read()
    except _READ_ERRORS as err:
        detail = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise IndexDamaged.at(folder, f"{name} cannot be read: {detail}", manifest.seeds_dir) from None


def _read(folder: Path, manifest: Manifest) -> IndexData:
    documents = _part(folder, manifest, DOCUMENTS, lambda: {
        row["doc_id"]: _document_from(row) for row in _read_jsonl(folder / DOCUMENTS)})
    chunks = _part(folder, manifest, CHUNKS, lambda: tuple(
        Chunk(**{k: v for k, v in row.items() if k != "id"}) for row in _read_jsonl(folder / CHUNKS)))
    store = _part(folder, manifest, FlatFaissStore.FILE, lambda: FlatFaissStore.load(folder))
    langs = tuple(sorted({d.lang for d in documents.values()}))
    lexical = _part(folder, manifest, f"the BM25 index ({LexicalIndex.FOLDER}/)",
                    lambda: LexicalIndex.load(folder, langs, len(chunks)))
    sentences = _part(folder, manifest, SENTENCES, lambda: tuple(
        Sentence(**row) for row in _read_jsonl(folder / SENTENCES)))
    vectors = _part(folder, manifest, SENTENCE_VECTORS,
                    lambda: np.load(folder / SENTENCE_VECTORS, allow_pickle=False))
    return IndexData(folder, manifest, documents, chunks, store, lexical, sentences, vectors)


def _disagreement(data: IndexData) -> str | None:
    """How the parts of a loaded index contradict each other or the manifest, or None."""
    manifest, counts = data.manifest, data.manifest.counts
    if set(data.documents) != set(manifest.documents):
        return f"{DOCUMENTS} does not hold the articles the manifest lists"
    if not len(data.store) == len(data.chunks) == counts.get("chunks") == data.lexical.rows:
        return f"{FlatFaissStore.FILE}, {CHUNKS} and the manifest count different passages"
    vectors = data.sentence_vectors
    if not (vectors.ndim == 2 and len(vectors) == len(data.sentences) == counts.get("sentences")
            and vectors.shape[1] == data.store.dimension == manifest.dimension):
        return f"{SENTENCE_VECTORS}, {SENTENCES} and the manifest count different sentences or dimensions"
    for name, rows in ((CHUNKS, data.chunks), (SENTENCES, data.sentences)):
        for row in rows:
            doc = data.documents.get(row.doc_id)
            if doc is None or doc.text[row.start:row.end] != row.text:
                return f"{name} does not match the text of {row.doc_id} in {DOCUMENTS}"
    return None


def load_index(folder: Path, full_check: bool = False) -> IndexData:
    """Load and check an index folder: the size of every file against the manifest, the content
    of small files (of all, with `full_check`), then that its parts agree. Raises `IndexNotReady`
    (`IndexDamaged` when a file is damaged) with the command that fixes it."""
    recover(folder)
    manifest = Manifest.load(folder)
    problem = damaged_file(folder, manifest.files, full=full_check)
    if problem is None:
        data = _read(folder, manifest)
        problem = _disagreement(data)
    if problem is not None:
        raise IndexDamaged.at(folder, problem, manifest.seeds_dir)
    return data
