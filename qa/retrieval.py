"""Dense (FAISS) and lexical (BM25) retrieval over chunks, fused by score: a chunk's cosine to the
question plus a small bonus for its BM25 score relative to the best BM25 score of that question.

The fusion is language-blind on purpose. Rank fusion that trusted BM25 more when question and
chunk shared a language let same-language distractors outrank the other-language article that
answers, as soon as a corpus mixed languages (docs/EVALUATION.md has the sweep: score fusion is
the only method at least as good as both dense and BM25 for every language pair). What crosses
languages lexically is the query: in hybrid mode the question's words bring their closest corpus
words (mostly their translations) to BM25 over the articles in other languages (`_bm25`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from index import IndexData
from qa.abstain import Retrieved
from qa.types import Filters, Hit, Mode

__all__ = ["RetrievalConfig", "Retriever", "Ranked"]


@dataclass(frozen=True)
class RetrievalConfig:
    depth: int = 50
    fusion: Literal["score", "rrf"] = "score"
    bm25_boost: float = 0.04        # score fusion: cosine + boost * bm25 / best bm25 (tune-half sweep)
    rrf_k: int = 60                 # rank fusion (kept for comparison): weight / (rrf_k + rank)
    bm25_weight_same_lang: float = 1.0
    bm25_weight_cross_lang: float = 0.5
    translations: bool = True       # hybrid: the question words' corpus neighbours also query BM25,
    translation_cosine: float = 0.9  # over the articles in other languages (tune-half sweep)


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
        self._other: dict[str, bool] = {}

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """The chunk rows of the articles `filters` allows (from the article table's ids, dates
        and row ranges: no chunk is read), or None for no restriction."""
        if filters is None or filters == Filters():
            return None
        docs = self._data.documents
        named = [d for d in filters.doc_ids if d in docs] if filters.doc_ids else list(docs)
        return docs.chunk_ids(d for d in named if filters.allows(d, docs.date(d)))

    def _dense(self, query_vector: np.ndarray, allowed: np.ndarray | None) -> dict[int, float]:
        scores, rows = self._data.store.search(query_vector, self.config.depth, allowed)
        return {int(r): float(s) for r, s in zip(rows, scores)}

    def other_langs(self, lang: str) -> bool:
        """Whether some article is not written in `lang` (kept per language; two threads may
        both compute one, with the same result)."""
        if lang not in self._other:
            docs = self._data.documents
            self._other[lang] = any(docs.lang(d) != lang for d in docs)
        return self._other[lang]

    def _bm25(self, question: str, allowed: np.ndarray | None, lang: str, translations: tuple[str, ...]
              ) -> dict[int, float]:
        """BM25 of the question; with `translations` (words of the corpus close to the question's),
        the articles in other languages also score on those words: an English question meets a
        French article through "guerre" as well as through the names they share. Each list is
        the best `depth` before they are added (a chunk outside the question's own list gets only
        its translated score): what the sweep in docs/EVALUATION.md measured. The restriction to
        other languages is the lexical index's own (`other_than`): a Qdrant store filters on the
        chunks' language instead of receiving the ids of every chunk in other languages."""
        lexical, depth = self._data.lexical, self.config.depth
        found = lexical.top(question, depth, allowed)
        if not translations or not self.other_langs(lang):
            return found
        for row, score in lexical.top(" ".join(translations), depth, allowed, other_than=lang).items():
            found[row] = found.get(row, 0.0) + score
        return dict(sorted(found.items(), key=lambda rs: (-rs[1], rs[0]))[:depth])

    def rank(self, question: str, query_vector: np.ndarray | None, lang: str, mode: Mode,
             filters: Filters | None = None, translations: tuple[str, ...] = ()) -> Ranked:
        """The fused ranking; `translations` count in hybrid mode only (see `_bm25`). In BM25 mode
        a given `query_vector` still yields the dense cosines, which the abstention model reads,
        but they do not rank."""
        allowed = self.allowed_rows(filters)
        if allowed is not None and len(allowed) == 0:
            return Ranked(np.zeros(0, dtype=np.int64), np.zeros(0), {}, {})
        dense = self._dense(query_vector, allowed) if query_vector is not None else {}
        translations = translations if mode == Mode.HYBRID and self.config.translations else ()
        bm25 = self._bm25(question, allowed, lang, translations) if mode != Mode.DENSE else {}
        ranking = {} if mode == Mode.BM25 else dense
        fused = self._rrf(ranking, bm25, lang, mode) if self.config.fusion == "rrf" else self._score(ranking, bm25)
        order = sorted(fused, key=lambda r: (-fused[r], r))
        return Ranked(np.array(order, dtype=np.int64), np.array([fused[r] for r in order]), dense, bm25)

    def _score(self, dense: dict[int, float], bm25: dict[int, float]) -> dict[int, float]:
        """Cosine plus the relative BM25 bonus; a chunk only BM25 found starts just below the
        last dense candidate. With one signal only, its own scores (BM25 relative to the best)."""
        best = max(bm25.values(), default=0.0) or 1.0
        if not dense:
            return {row: score / best for row, score in bm25.items()}
        fused = dict(dense)
        floor = min(dense.values()) - 0.02
        for row, score in bm25.items():
            fused[row] = fused.get(row, floor) + self.config.bm25_boost * score / best
        return fused

    def _rrf(self, dense: dict[int, float], bm25: dict[int, float], lang: str, mode: Mode) -> dict[int, float]:
        """Reciprocal rank fusion, BM25 weighted by whether question and chunk share a language."""
        cfg = self.config
        fused: dict[int, float] = {}
        for rank, row in enumerate(dense):
            fused[row] = fused.get(row, 0.0) + 1.0 / (cfg.rrf_k + rank + 1)
        for rank, row in enumerate(bm25):
            same = self._data.chunks[row].lang == lang
            weight = cfg.bm25_weight_same_lang if same or mode == Mode.BM25 else cfg.bm25_weight_cross_lang
            fused[row] = fused.get(row, 0.0) + weight / (cfg.rrf_k + rank + 1)
        return fused

    def retrieved(self, ranked: Ranked) -> Retrieved:
        """What the abstention model reads from the ranking (see qa.abstain)."""
        chunks = self._data.chunks
        docs = [chunks[int(r)].doc_id for r in ranked.rows[:5]]
        firsts = [chunks[max(scores, key=lambda r: (scores[r], -r))].doc_id for scores in (ranked.dense, ranked.bm25)
                  if scores]
        return Retrieved(tuple(sorted(ranked.dense.values(), reverse=True)),
                         docs.count(docs[0]) / len(docs) if docs else 0.0, len(set(firsts)) <= 1)

    def hits(self, ranked: Ranked, k: int) -> list[Hit]:
        chunks = self._data.chunks
        return [
            Hit(rank=i + 1, doc_id=chunks[r].doc_id, start=chunks[r].start, end=chunks[r].end,
                text=chunks[r].text, score=float(ranked.fused[i]),
                dense=ranked.dense.get(int(r)), bm25=ranked.bm25.get(int(r)))
            for i, r in enumerate(ranked.rows[:k])
        ]
