"""Read and write the index folder: rows (SQLite), chunk and sentence vectors (float16 `.npy`,
memory-mapped), the vector store, BM25 (memory-mapped) and the manifest, which records every
file's checksum; loading checks them, then that the parts agree. Writes go to a staging folder
that `index.swap` swaps in. Loading parses no row: rows are fetched when asked for."""

from __future__ import annotations

import logging
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from index.bm25 import LexicalIndex
from index.chunking import Chunk
from index.corpus_stats import FILE as STATS, CorpusStats
from index.integrity import damaged_file, file_checksums
from index.manifest import FILE as MANIFEST, IndexDamaged, IndexNotReady, Manifest, not_a_folder
from index.rows import FILE as ROWS, DocumentTable, RowReader, Rows, chunk_rows, sentence_rows
from index.sentences import Sentence
from index.store import IVFStore, VectorStore, open_store
from index.swap import recover
from index.vocabulary import FILE as VOCABULARY, Vocabulary

__all__ = ["IndexData", "load_index", "finish_index", "check_target", "ROWS", "CHUNK_VECTORS", "SENTENCE_VECTORS"]

log = logging.getLogger(__name__)

CHUNK_VECTORS = "chunks.f16.npy"
SENTENCE_VECTORS = "sentences.f16.npy"
# Files of earlier formats: a folder holding them is an index folder too (a build replaces it).
_OLD_PARTS = {"documents.jsonl", "chunks.jsonl", "sentences.jsonl", "sentences.npy", "faiss.index"}
# What reading a damaged file can raise: numpy (EOFError, ValueError; BadZipFile for an .npz), faiss
# (RuntimeError), sqlite, bm25s.
_READ_ERRORS = (sqlite3.Error, OSError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError,
                RuntimeError, zipfile.BadZipFile)


@dataclass(frozen=True)
class IndexData:
    """Everything the read side needs; `chunks[i]` is row i of `store` and `lexical`,
    `sentences[i]` row i of `sentence_vectors` (float16, memory-mapped)."""

    folder: Path
    manifest: Manifest
    documents: DocumentTable
    chunks: Rows[Chunk]
    store: VectorStore
    lexical: LexicalIndex
    sentences: Rows[Sentence]
    sentence_vectors: np.ndarray
    stats: CorpusStats
    vocabulary: Vocabulary | None = None    # the corpus's words and their vectors (None: none kept)


def _corpus_stats(reader: RowReader, vectors: np.ndarray) -> CorpusStats:
    """Every sentence read once, in its article's language, with the sentence vectors."""
    langs = dict(reader.query("SELECT doc_id, lang FROM documents"))
    texts = ((text, langs[doc_id]) for doc_id, text in reader.stream("SELECT doc_id, text FROM sentences ORDER BY id"))
    return CorpusStats.compute(texts, vectors)


def finish_index(folder: Path, manifest: Manifest, store: VectorStore, lexical: LexicalIndex,
                 vocabulary: Vocabulary | None = None) -> None:
    """Write the store, BM25, the vocabulary and, last, the manifest with the checksum of every
    file: a folder with a manifest is complete. The rows and vectors are already in `folder` (a
    staging folder)."""
    store.save(folder)  # type: ignore[attr-defined]
    lexical.save(folder)
    if vocabulary is not None:
        vocabulary.save(folder)
    reader = RowReader(folder / ROWS)
    try:
        _corpus_stats(reader, _vectors(folder / SENTENCE_VECTORS)).save(folder)
    finally:
        reader.close()
    replace(manifest, files=file_checksums(folder, leave_out=MANIFEST)).save(folder)


def check_target(folder: Path) -> None:
    """Refuse to replace a folder that holds files but none of an index's (a build swaps the
    whole folder out: `--index-dir ~/Documents` must not delete the documents)."""
    parts = {MANIFEST, ROWS, CHUNK_VECTORS, SENTENCE_VECTORS, IVFStore.FILE, LexicalIndex.FOLDER} | _OLD_PARTS
    if folder.exists() and not folder.is_dir():
        raise not_a_folder(folder)
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


def _vectors(path: Path) -> np.ndarray:
    vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    if vectors.dtype != np.float16 or vectors.ndim != 2:
        raise ValueError(f"it holds {vectors.dtype} vectors of {vectors.ndim} dimensions, not float16 rows")
    return vectors


def _chunk_langs(documents: DocumentTable, rows: int, langs: tuple[str, ...]) -> np.ndarray:
    """Each chunk row's language as its position in `langs`, from the article table's row ranges
    (no chunk is read); `len(langs)` for a row no article covers (the load's integrity check
    then refuses the index, naming what is missing)."""
    codes = np.full(rows, len(langs), dtype=np.uint16)
    for doc_id in documents:
        lang = documents.lang(doc_id)
        if lang not in langs:
            raise ValueError(f"article {doc_id} is in '{lang}', which the manifest does not list")
        chunks, _ = documents.row_ranges(doc_id)
        codes[chunks.start : chunks.stop] = langs.index(lang)
    return codes


def _read(folder: Path, manifest: Manifest) -> IndexData:
    reader = _part(folder, manifest, ROWS, lambda: RowReader(folder / ROWS))
    documents = DocumentTable(reader)
    chunks = _part(folder, manifest, ROWS, lambda: chunk_rows(reader))
    sentences = _part(folder, manifest, ROWS, lambda: sentence_rows(reader))
    chunk_vectors = _part(folder, manifest, CHUNK_VECTORS, lambda: _vectors(folder / CHUNK_VECTORS))
    store = _part(folder, manifest, f"the vector store ({manifest.store.get('kind')})",
                  lambda: open_store(folder, chunk_vectors, manifest.store))
    langs = tuple(sorted({str(info["lang"]) for info in manifest.documents.values()}))
    chunk_langs = _part(folder, manifest, ROWS, lambda: _chunk_langs(documents, len(chunks), langs))
    lexical = _part(folder, manifest, f"the BM25 index ({LexicalIndex.FOLDER}/)",
                    lambda: LexicalIndex.load(folder, langs, chunk_langs))
    vectors = _part(folder, manifest, SENTENCE_VECTORS, lambda: _vectors(folder / SENTENCE_VECTORS))
    stats = _part(folder, manifest, STATS, lambda: CorpusStats.load(folder))
    if stats is None:
        log.info("%s was written before builds kept the corpus statistics: reading every sentence for them "
                 "(the next build keeps them)", folder)
        stats = _corpus_stats(reader, vectors)
    vocabulary = _part(folder, manifest, VOCABULARY, lambda: Vocabulary.load(folder))
    return IndexData(folder, manifest, documents, chunks, store, lexical, sentences, vectors, stats, vocabulary)


def _mismatched_text(data: IndexData, full: bool) -> str | None:
    """The first chunk or sentence whose text is not its article's at its offsets (all rows
    with `full`, else the first and last of each table)."""
    for name, rows in (("chunks", data.chunks), ("sentences", data.sentences)):
        picked = rows if full else [rows[i] for i in sorted({0, len(rows) - 1}) if len(rows)]
        for row in picked:
            doc = data.documents.get(row.doc_id)
            if doc is None or doc.text[row.start:row.end] != row.text:
                return f"the {name} of {ROWS} do not match the text of {row.doc_id}"
    return None


def _disagreement(data: IndexData, full: bool) -> str | None:
    """How the parts of a loaded index contradict each other or the manifest, or None."""
    manifest, counts = data.manifest, data.manifest.counts
    listed = set(data.documents) == set(manifest.documents) if full else data.documents.count() == len(manifest.documents)
    if not listed:
        return f"{ROWS} does not hold the articles the manifest lists"
    if not len(data.store) == len(data.chunks) == counts.get("chunks") == data.lexical.rows:
        return f"{CHUNK_VECTORS}, the chunks of {ROWS} and the manifest count different passages"
    vectors = data.sentence_vectors
    if not (len(vectors) == len(data.sentences) == counts.get("sentences")
            and vectors.shape[1] == data.store.dimension == manifest.dimension):
        return f"{SENTENCE_VECTORS}, the sentences of {ROWS} and the manifest count different sentences or dimensions"
    return _mismatched_text(data, full)


def load_index(folder: Path, full_check: bool = False) -> IndexData:
    """Load and check an index folder: the size of every file against the manifest, the content
    of small files (of all, with `full_check`), then that its parts agree. Raises `IndexNotReady`
    (`IndexDamaged` when a file is damaged) with the command that fixes it."""
    recover(folder)
    manifest = Manifest.load(folder)
    problem = damaged_file(folder, manifest.files, full=full_check)
    if problem is None:
        data = _read(folder, manifest)
        problem = _part(folder, manifest, ROWS, lambda: _disagreement(data, full_check))
    if problem is not None:
        raise IndexDamaged.at(folder, problem, manifest.seeds_dir)
    return data
