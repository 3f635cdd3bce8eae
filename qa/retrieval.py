"""Dense (FAISS) and lexical (BM25) retrieval over chunks, fused by language-aware weighted
reciprocal rank fusion: BM25 counts fully when the question and the chunk share a language and
much less across languages, where word overlap is mostly names and numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index import IndexData
from qa.types import Filters, Hit, Mode

__all__ = ["RetrievalConfig", "Retriever", "Ranked"]


@dataclass(frozen=True)
class RetrievalConfig:
    rrf_k: int = 60
    depth: int = 50
    dense_weight: float = 1.0
    bm25_weight_same_lang: float = 1.0
    bm25_weight_cross_lang: float = 0.5   # eval sweep: best recall@5 and containment (docs/EVALUATION.md)


@dataclass(frozen=True)
class Ranked:
    """Fused ranking: chunk rows best first, with each signal's raw score per row."""

    rows: np.ndarray
    fused: np.ndarray
    dense: dict[int, float]
    bm25: dict[int, float]


class Retriever:
    def __init__(self, data: IndexData, config: RetrievalConfig) -> None:
        self._data = data
        self.config = config
        self._chunk_lang = np.array([c.lang for c in data.chunks])

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters == Filters():
            return None
        docs = self._data.documents
        ok = {d for d, doc in docs.items() if filters.allows(d, doc.date)}
        return np.array([i for i, c in enumerate(self._data.chunks) if c.doc_id in ok], dtype=np.int64)

    def _dense(self, query_vector: np.ndarray, allowed: np.ndarray | None) -> dict[int, float]:
        scores, rows = self._data.store.search(query_vector, self.config.depth, allowed)
        return {int(r): float(s) for r, s in zip(rows, scores)}

    def _bm25(self, question: str, allowed: np.ndarray | None) -> dict[int, float]:
        scores = self._data.lexical.scores(question)
        if allowed is not None:
            mask = np.zeros_like(scores, dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[: self.config.depth]
        return {int(r): float(scores[r]) for r in top if scores[r] > 0}

    def rank(self, question: str, query_vector: np.ndarray | None, lang: str, mode: Mode,
             filters: Filters | None = None) -> Ranked:
        allowed = self.allowed_rows(filters)
        if allowed is not None and len(allowed) == 0:
            return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), {}, {})
        dense = self._dense(query_vector, allowed) if mode != Mode.BM25 and query_vector is not None else {}
        bm25 = self._bm25(question, allowed) if mode != Mode.DENSE else {}
        fused: dict[int, float] = {}
        cfg = self.config
        for rank, row in enumerate(dense):
            fused[row] = fused.get(row, 0.0) + cfg.dense_weight / (cfg.rrf_k + rank + 1)
        for rank, row in enumerate(bm25):
            same = self._chunk_lang[row] == lang
            weight = cfg.bm25_weight_same_lang if same or mode == Mode.BM25 else cfg.bm25_weight_cross_lang
            fused[row] = fused.get(row, 0.0) + weight / (cfg.rrf_k + rank + 1)
        order = sorted(fused, key=lambda r: (-fused[r], r))
        return Ranked(np.array(order, dtype=np.int64), np.array([fused[r] for r in order]), dense, bm25)

    def hits(self, ranked: Ranked, k: int) -> list[Hit]:
        chunks = self._data.chunks
        return [
            Hit(rank=i + 1, doc_id=chunks[r].doc_id, start=chunks[r].start, end=chunks[r].end,
                text=chunks[r].text, score=float(ranked.fused[i]),
                dense=ranked.dense.get(int(r)), bm25=ranked.bm25.get(int(r)))
            for i, r in enumerate(ranked.rows[:k])
        ]
