"""Write an index into its staging folder as batches of articles arrive: rows appended to the
SQLite file, vectors written in place into float16 `.npy` files of known size (memory-mapped, so
the build's memory does not grow with the archive)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

from index.chunking import Chunk
from index.documents import Document
from index.rows import FILE as ROWS, RowWriter
from index.sentences import Sentence
from index.storage import CHUNK_VECTORS, SENTENCE_VECTORS

__all__ = ["StagedWriter"]


class StagedWriter:
    def __init__(self, folder: Path, dimension: int, chunks: int, sentences: int) -> None:
        self.folder = folder
        self._rows = RowWriter(folder / ROWS)
        self._chunks = open_memmap(folder / CHUNK_VECTORS, mode="w+", dtype=np.float16, shape=(chunks, dimension))
        self._sentences = open_memmap(folder / SENTENCE_VECTORS, mode="w+", dtype=np.float16,
                                      shape=(sentences, dimension))

    def add(self, doc: Document, chunks: Sequence[Chunk], sentences: Sequence[Sentence],
            chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, body: bool = True) -> None:
        """One article, its rows after the previous article's."""
        c, s = self._rows.chunks, self._rows.sentences
        self._chunks[c : c + len(chunks)] = chunk_vectors
        self._sentences[s : s + len(sentences)] = sentence_vectors
        self._rows.add(doc, chunks, sentences, body)

    @property
    def sentences(self) -> int:
        return self._rows.sentences

    def close(self) -> np.ndarray:
        """Flush everything; the chunk vectors, memory-mapped read-only, for the vector store."""
        if self._rows.chunks != len(self._chunks) or self._rows.sentences != len(self._sentences):
            raise ValueError(f"{self._rows.chunks} chunks and {self._rows.sentences} sentences were written, "
                             f"{len(self._chunks)} and {len(self._sentences)} expected")
        self._rows.close()
        for vectors in (self._chunks, self._sentences):
            vectors.flush()
        del self._chunks, self._sentences
        return np.load(self.folder / CHUNK_VECTORS, mmap_mode="r", allow_pickle=False)
