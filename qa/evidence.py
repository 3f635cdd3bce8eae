"""Score the sentences of the best passages against the question and pick the evidence.

A sentence's score mixes its embedding similarity to the question, the share of the
question's (IDF-weighted) terms it contains, the rank of its passage, and whether it holds
the kind of thing asked for (a number for "how many", a date for "when"...)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index import IndexData
from index.analyzer import analyze, analyze_query
from qa.question import Kind, Question
from qa.short_answer import find_short_answer

__all__ = ["EvidenceConfig", "Scored", "SentenceScorer"]


@dataclass(frozen=True)
class EvidenceConfig:
    passages: int = 6          # top passages whose sentences are candidates
    weight_dense: float = 1.0
    weight_lexical: float = 0.35
    weight_passage: float = 0.08
    weight_kind: float = 0.05
    max_sentences: int = 3
    margin: float = 0.04       # extra sentences must score within this of the best
    duplicate_cosine: float = 0.93
    min_chars: int = 25        # shorter sentences (headings, credits) are context, not evidence


@dataclass(frozen=True)
class Scored:
    index: int                 # row in IndexData.sentences
    score: float
    dense: float
    lexical: float
    passage: float
    answer: tuple[int, int] | None  # short answer, offsets relative to the sentence


class SentenceScorer:
    """Precomputes per-sentence terms and the chunk -> sentences map once per index."""

    def __init__(self, data: IndexData, config: EvidenceConfig) -> None:
        self._data = data
        self.config = config
        langs = {d: doc.lang for d, doc in data.documents.items()}
        self._terms = [set(analyze(s.text, langs[s.doc_id])) for s in data.sentences]
        df: dict[str, int] = {}
        for terms in self._terms:
            for t in terms:
                df[t] = df.get(t, 0) + 1
        total = max(1, len(self._terms))
        self._idf = {t: math.log(1 + total / n) for t, n in df.items()}
        self._default_idf = math.log(1 + total)
        self._langs = tuple(sorted(set(langs.values())))
        self._by_chunk = self._map_chunks()

    def _map_chunks(self) -> list[list[int]]:
        by_doc: dict[str, list[int]] = {}
        for i, s in enumerate(self._data.sentences):
            by_doc.setdefault(s.doc_id, []).append(i)
        sentences = self._data.sentences
        return [[i for i in by_doc.get(c.doc_id, []) if sentences[i].start < c.end and sentences[i].end > c.start]
                for c in self._data.chunks]

    def _lexical(self, query_terms: list[str], i: int) -> float:
        if not query_terms:
            return 0.0
        weights = [self._idf.get(t, self._default_idf) for t in query_terms]
        hit = sum(w for t, w in zip(query_terms, weights) if t in self._terms[i])
        return hit / sum(weights)

    def score(self, question: Question, query_vector: np.ndarray | None, rows: np.ndarray,
              fused: np.ndarray) -> list[Scored]:
        """Candidate sentences of the top passages, best first."""
        cfg = self.config
        top = rows[: cfg.passages]
        best_fused = float(fused[0]) if len(fused) else 1.0
        passage_of: dict[int, float] = {}
        for rank, row in enumerate(top):
            for i in self._by_chunk[int(row)]:
                passage_of.setdefault(i, float(fused[rank]) / best_fused)
        query_terms = analyze_query(question.text, self._langs)
        found = []
        for i, passage in passage_of.items():
            sentence = self._data.sentences[i]
            if len(sentence.text) < cfg.min_chars:
                continue
            dense = float(self._data.sentence_vectors[i] @ query_vector) if query_vector is not None else 0.0
            lexical = self._lexical(query_terms, i)
            answer = find_short_answer(sentence.text, question.kind, question.text)
            kind = 1.0 if answer is not None and question.kind != Kind.OTHER else 0.0
            total = (cfg.weight_dense * dense + cfg.weight_lexical * lexical
                     + cfg.weight_passage * passage + cfg.weight_kind * kind)
            found.append(Scored(i, total, dense, lexical, passage, answer))
        return sorted(found, key=lambda s: (-s.score, s.index))

    def select(self, scored: list[Scored]) -> list[Scored]:
        """The best sentence, plus up to two more close to it that add something new:
        preferably from other articles, which is how disagreeing figures get shown."""
        if not scored:
            return []
        cfg = self.config
        vectors = self._data.sentence_vectors
        chosen = [scored[0]]
        close = [s for s in scored[1:] if s.score >= scored[0].score - cfg.margin]
        close.sort(key=lambda s: (self._same_doc(s, chosen), -s.score))
        for cand in close:
            if len(chosen) >= cfg.max_sentences:
                break
            if max(float(vectors[cand.index] @ vectors[c.index]) for c in chosen) >= cfg.duplicate_cosine:
                continue
            chosen.append(cand)
        return chosen

    def _same_doc(self, cand: Scored, chosen: list[Scored]) -> bool:
        doc = self._data.sentences[cand.index].doc_id
        return any(self._data.sentences[c.index].doc_id == doc for c in chosen)
