"""BM25 over the chunks (bm25s), analysed per chunk language; saved as JSON + .npy, no pickle,
and loaded memory-mapped (the score matrix is read from disk as queries touch it)."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from index.analyzer import analyze, analyze_query

__all__ = ["LexicalIndex"]

log = logging.getLogger(__name__)


class LexicalIndex:
    """Scores every chunk for a query; row i is chunk i, as in the vector store. `row_langs`:
    each chunk's language, as its position in `langs` (what `top(..., other_than=)` reads)."""

    FOLDER = "bm25"

    def __init__(self, retriever: bm25s.BM25, langs: tuple[str, ...], row_langs: np.ndarray) -> None:
        self._retriever = retriever
        self.langs = langs
        self.rows = len(row_langs)
        self._row_langs = row_langs

    @classmethod
    def build(cls, texts: list[str], langs: list[str]) -> LexicalIndex:
        return cls.from_tokens([analyze(text, lang) for text, lang in zip(texts, langs)], langs)

    @classmethod
    def from_tokens(cls, tokens: list[list[str]], langs: list[str]) -> LexicalIndex:
        """From already analysed chunks (`analyze(text, lang)` of each, in row order)."""
        # bm25s sets its own logger to DEBUG when imported: every build printed "Building index from tokens"
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever = bm25s.BM25()
        retriever.index([t or ["_empty_"] for t in tokens], show_progress=False)
        codes = {lang: n for n, lang in enumerate(sorted(set(langs)))}
        return cls(retriever, tuple(codes), np.array([codes[lang] for lang in langs], dtype=np.uint16))

    @property
    def retriever(self) -> bm25s.BM25:
        return self._retriever

    def query_terms(self, query: str) -> list[str]:
        """The query's analysed terms that the index holds (repeats kept: each counts)."""
        vocab = self._retriever.vocab_dict
        return [t for t in analyze_query(query, self.langs) if t in vocab]

    def top(self, query: str, k: int, allowed: np.ndarray | None = None, other_than: str | None = None
            ) -> dict[int, float]:
        """The `k` best-scoring chunk rows (among `allowed`, and not written in `other_than`),
        best first, ties by row; only rows that hold a query term."""
        scores = self.scores(query)
        if allowed is not None:
            mask = np.zeros_like(scores, dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        if other_than in self.langs:
            scores = np.where(self._row_langs != self.langs.index(other_than), scores, 0.0)
        depth = min(k, len(scores))
        if depth == 0:
            return {}
        top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by row (as a stable sort)
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of each chunk (zeros when no query term is in the index)."""
        terms = self.query_terms(query)
        if not terms or self.rows == 0:
            return np.zeros(self.rows, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder / self.FOLDER), show_progress=False)

    @classmethod
    def load(cls, folder: Path, langs: tuple[str, ...], row_langs: np.ndarray) -> LexicalIndex:
        """The saved index of chunks in `row_langs` (positions in `langs`); raises `ValueError`
        when its arrays do not fit together (a damaged file would otherwise fail, or score
        wrongly, only when a query reaches it)."""
        retriever = bm25s.BM25.load(str(folder / cls.FOLDER), mmap=True, show_progress=False, verbosity=0)
        _check_arrays(retriever, len(row_langs))
        return cls(retriever, langs, row_langs)


_FULL_CHECK_ENTRIES = 20_000_000  # larger matrices: their row ids are checked by `index verify`'s hashes


def _check_arrays(retriever: bm25s.BM25, rows: int) -> None:
    """The sparse score matrix (one column per term, one row per chunk) is well formed (the
    row ids and scores themselves only when there are few enough to read at every load)."""
    scores = retriever.scores
    data, indices, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
    well_formed = (
        scores.get("num_docs") == rows and 0 < len(indptr) <= len(retriever.vocab_dict) + 1
        and indptr[0] == 0 and int(indptr[-1]) == len(indices) == len(data)
        and bool(np.all(np.diff(indptr) >= 0))
    )
    if well_formed and len(indices) <= _FULL_CHECK_ENTRIES:
        well_formed = ((len(indices) == 0 or (int(indices.min()) >= 0 and int(indices.max()) < rows))
                       and bool(np.all(np.isfinite(data))))
    if not well_formed:
        raise ValueError("its arrays do not fit together")
