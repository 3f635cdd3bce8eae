"""Score the sentences of the best passages against the question and pick the evidence.

A sentence's score mixes its embedding similarity to the question, the share of the
question's (IDF-weighted) terms it contains, the rank of its passage, and whether it holds
the kind of thing asked for (a number for "how many", a date for "when"...)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index import IndexData
from index.analyzer import STOP_WORDS, analyze, analyze_query, fold
from qa.abstain import signals
from qa.question import Kind, Question
from qa.short_answer import find_short_answer

__all__ = ["EvidenceConfig", "Scored", "SentenceScorer"]


_QUANTIFIERS = {"plus", "pres", "moins", "envir", "quelq", "more", "nearl", "about", "over", "some", "milli",
               "centa", "dizai", "thous", "hundr"}


_PREFIX = 6
_CLOSING = tuple(".!?…»\"”)’")


def cognate_prefixes(text: str) -> list[str]:
    """First letters of the long non-stop words, accent-folded, in order, without repeats."""
    words = re.findall(r"[^\W\d_]{5,}", fold(text))
    return list(dict.fromkeys(w[:_PREFIX] for w in words if w not in STOP_WORDS))


def _idf(term_sets: list[set[str]]) -> dict[str, float]:
    df: dict[str, int] = {}
    for terms in term_sets:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    total = max(1, len(term_sets))
    return {t: math.log(1 + total / n) for t, n in df.items()}


@dataclass(frozen=True)
class EvidenceConfig:
    passages: int = 6          # top passages whose sentences are candidates
    weight_dense: float = 1.0
    weight_lexical: float = 0.35
    weight_passage: float = 0.08
    weight_kind: float = 0.05
    heading_penalty: float = 0.1  # lines without closing punctuation (headings, captions, list items)
    max_sentences: int = 3
    margin: float = 0.04       # extra sentences must score within this of the best
    duplicate_cosine: float = 0.93
    min_chars: int = 25        # shorter sentences (headings, credits) are context, not evidence
    multi_margin: float = 0.2   # how far a sentence may trail when it gives another figure for
                                # the same thing asked "how many" about


@dataclass(frozen=True)
class Scored:
    index: int                 # row in IndexData.sentences
    score: float
    dense: float
    lexical: float
    passage: float
    answer: tuple[int, int] | None  # short answer, offsets relative to the sentence
    heading: bool = False      # no closing punctuation: a heading, caption or list item


class SentenceScorer:
    """Precomputes per-sentence terms and the chunk -> sentences map once per index."""

    def __init__(self, data: IndexData, config: EvidenceConfig) -> None:
        self._data = data
        self.config = config
        langs = {d: doc.lang for d, doc in data.documents.items()}
        self._sentence_lang = [langs[s.doc_id] for s in data.sentences]
        self._terms = [set(analyze(s.text, lang)) for s, lang in zip(data.sentences, self._sentence_lang)]
        self._prefixes = [set(cognate_prefixes(s.text)) for s in data.sentences]
        self._idf = _idf(self._terms + self._prefixes)
        self._default_idf = math.log(1 + len(self._terms))
        self._langs = tuple(sorted(set(langs.values())))
        self._by_chunk = self._map_chunks()

    def _map_chunks(self) -> list[list[int]]:
        by_doc: dict[str, list[int]] = {}
        for i, s in enumerate(self._data.sentences):
            by_doc.setdefault(s.doc_id, []).append(i)
        sentences = self._data.sentences
        return [[i for i in by_doc.get(c.doc_id, []) if sentences[i].start < c.end and sentences[i].end > c.start]
                for c in self._data.chunks]

    def _lexical(self, question: Question, query_terms: list[str], query_prefixes: list[str], i: int) -> float:
        """IDF-weighted share of the question's terms in the sentence; across languages, of its
        long words' first letters (cognates and names: "artillery"/"artillerie", "Poutine")."""
        cross = self._sentence_lang[i] != question.lang
        terms, present = (query_prefixes, self._prefixes[i]) if cross else (query_terms, self._terms[i])
        if not terms:
            return 0.0
        weights = [self._idf.get(t, self._default_idf) for t in terms]
        return sum(w for t, w in zip(terms, weights) if t in present) / sum(weights)

    def score(self, question: Question, query_vector: np.ndarray, rows: np.ndarray,
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
        query_prefixes = cognate_prefixes(question.text)
        found = []
        for i, passage in passage_of.items():
            sentence = self._data.sentences[i]
            if len(sentence.text) < cfg.min_chars or sentence.text.rstrip("»”\"' ").endswith("?"):
                continue
            dense = float(self._data.sentence_vectors[i] @ query_vector)
            lexical = self._lexical(question, query_terms, query_prefixes, i)
            answer = find_short_answer(sentence.text, question.kind, question.text)
            kind = 1.0 if answer is not None and question.kind != Kind.OTHER else 0.0
            heading = not sentence.text.rstrip().endswith(_CLOSING)
            total = (cfg.weight_dense * dense + cfg.weight_lexical * lexical
                     + cfg.weight_passage * passage + cfg.weight_kind * kind - cfg.heading_penalty * heading)
            found.append(Scored(i, total, dense, lexical, passage, answer, heading))
        return sorted(found, key=lambda s: (-s.score, s.index))

    def select(self, question: Question, scored: list[Scored]) -> list[Scored]:
        """The best sentence, plus up to two more close to it that add something new:
        preferably from other articles, which is how disagreeing figures get shown."""
        if not scored:
            return []
        cfg = self.config
        best = scored[0].score
        counting = question.kind == Kind.HOW_MANY
        close = [s for s in scored[1:] if not s.heading and s.score >= best - cfg.margin
                 or (counting and not s.heading and s.score >= best - cfg.multi_margin and self._another_figure(scored[0], s))]
        chosen = [scored[0]]
        close.sort(key=lambda s: (self._same_doc(s, chosen), -s.score))
        for cand in close:
            if len(chosen) >= cfg.max_sentences:
                break
            if not self._duplicate(cand, chosen):
                chosen.append(cand)
        return chosen

    def _answer_text(self, s: Scored) -> str:
        return fold(self._data.sentences[s.index].text[s.answer[0] : s.answer[1]]) if s.answer else ""

    def _another_figure(self, best: Scored, other: Scored) -> bool:
        """Both sentences hold a different figure for the same thing ("1 000 conteneurs",
        "7 000 conteneurs"), so that each source's figure is shown side by side."""
        if best.answer is None or other.answer is None or self._answer_text(best) == self._answer_text(other):
            return False

        def units(s: Scored) -> set[str]:
            return {w[:5] for w in re.findall(r"[^\W\d_]{3,}", self._answer_text(s))} - _QUANTIFIERS

        return bool(units(best) & units(other))

    def _duplicate(self, cand: Scored, chosen: list[Scored]) -> bool:
        vectors = self._data.sentence_vectors
        return max(float(vectors[cand.index] @ vectors[c.index]) for c in chosen) >= self.config.duplicate_cosine

    def signals(self, question: Question, scored: list[Scored], query_vector: np.ndarray) -> dict[str, float]:
        """What the abstention model reads (see qa.abstain)."""
        top = scored[:3]
        best_doc = self._data.sentences[scored[0].index].doc_id if scored else None
        return signals(
            best_dense=max((s.dense for s in scored), default=0.0),
            all_dense=self._data.sentence_vectors @ query_vector,
            lexical=max((s.lexical for s in top), default=0.0),
            kind_missing=question.kind != Kind.OTHER and all(s.answer is None for s in top),
            cross_lingual=best_doc is not None and self._data.documents[best_doc].lang != question.lang,
        )

    def _same_doc(self, cand: Scored, chosen: list[Scored]) -> bool:
        doc = self._data.sentences[cand.index].doc_id
        return any(self._data.sentences[c.index].doc_id == doc for c in chosen)
