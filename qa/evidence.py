"""Score the sentences of the best passages against the question and pick the evidence.

A sentence's score is the learned ranker's probability that it holds the answer (qa.ranker),
from its embedding similarity to the question, the share of the question's (IDF-weighted)
terms it contains, its passage's fused score and rank, whether it holds the kind of thing asked
for (a number for "how many", a date for "when"...), and its neighbours' similarity."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np

from index import IndexData
from index.analyzer import STOP_WORDS, analyze, analyze_query, fold
from qa.abstain import Retrieved, signals
from qa.question import Kind, Question
from qa.ranker import RankerModel, candidate_features
from qa.reader import Reading
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


def capitalised_names(text: str) -> list[str]:
    """The first letters (as `cognate_prefixes`) of the question's capitalised long words after
    its first: the names it asks about."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)[1:]
    return list(dict.fromkeys(fold(w)[:_PREFIX] for w in words if w[0].isupper() and len(w) >= 5))


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
    max_sentences: int = 3
    duplicate_cosine: float = 0.93
    min_chars: int = 25        # shorter sentences (headings, credits) are context, not evidence
    multi_floor: float = 0.1   # a sentence giving another figure for the same thing asked "how
                               # many" about is shown when the ranker gives it at least this
    ranker: RankerModel = field(default_factory=RankerModel.shipped)


@dataclass(frozen=True)
class Scored:
    index: int                 # row in IndexData.sentences
    score: float               # the ranker's probability that the sentence holds the answer
    dense: float
    lexical: float
    passage: float             # the passage's fused score minus the best passage's
    answer: tuple[int, int] | None  # short answer, offsets relative to the sentence
    heading: bool = False      # no closing punctuation: a heading, caption or list item
    features: tuple[float, ...] = ()
    reading: Reading | None = None  # the reader's view, for the few best candidates it read


class SentenceScorer:
    """Precomputes per-sentence terms and the chunk -> sentences map once per index."""

    def __init__(self, data: IndexData, config: EvidenceConfig) -> None:
        self._data = data
        self.config = config
        langs = {d: doc.lang for d, doc in data.documents.items()}
        self._sentence_lang = [langs[s.doc_id] for s in data.sentences]
        self._terms = [set(analyze(s.text, lang)) for s, lang in zip(data.sentences, self._sentence_lang)]
        self._prefixes = [set(cognate_prefixes(s.text)) for s in data.sentences]
        self._corpus_prefixes = set().union(*self._prefixes)
        self._idf = _idf(self._terms + self._prefixes)
        self._default_idf = math.log(1 + len(self._terms))
        self.langs = tuple(sorted(set(langs.values())))   # the articles' languages
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

    def _neighbour(self, i: int, dense: float, query_vector: np.ndarray) -> float:
        sentences, doc = self._data.sentences, self._data.sentences[i].doc_id
        around = [j for j in (i - 1, i + 1) if 0 <= j < len(sentences) and sentences[j].doc_id == doc]
        if not around:
            return 0.0
        return max(float(self._data.sentence_vectors[j] @ query_vector) for j in around) - dense

    def has_content(self, question: Question) -> bool:
        """Whether the question holds a word that is not a stop word ("a", "the", "[a]" do not)."""
        return bool(analyze_query(question.text, self.langs))

    def rescore(self, scored: list[Scored], ranker: RankerModel) -> list[Scored]:
        """The same candidates scored by another ranker, best first."""
        rescored = [replace(s, score=ranker.probability(s.features)) for s in scored]
        return sorted(rescored, key=lambda s: (-s.score, s.index))

    def score(self, question: Question, query_vector: np.ndarray, rows: np.ndarray,
              fused: np.ndarray) -> list[Scored]:
        """Candidate sentences of the top passages, best first."""
        cfg = self.config
        passage_of: dict[int, tuple[int, float]] = {}
        for rank, row in enumerate(rows[: cfg.passages]):
            for i in self._by_chunk[int(row)]:
                passage_of.setdefault(i, (rank, float(fused[rank] - fused[0])))
        query_terms = analyze_query(question.text, self.langs)
        query_prefixes = cognate_prefixes(question.text)
        raw = []
        for i, (rank, gap) in passage_of.items():
            sentence = self._data.sentences[i]
            if len(sentence.text) < cfg.min_chars or sentence.text.rstrip("»”\"' ").endswith("?"):
                continue
            dense = float(self._data.sentence_vectors[i] @ query_vector)
            lexical = self._lexical(question, query_terms, query_prefixes, i)
            answer = find_short_answer(sentence.text, question.kind, question.text)
            heading = not sentence.text.rstrip().endswith(_CLOSING)
            raw.append((i, rank, gap, dense, lexical, answer, heading))
        best_dense = max((r[3] for r in raw), default=0.0)
        best_lexical = max((r[4] for r in raw), default=0.0)
        typed = question.kind != Kind.OTHER
        found = []
        for i, rank, gap, dense, lexical, answer, heading in raw:
            features = candidate_features(
                dense, best_dense, lexical, best_lexical, gap, rank, typed and answer is not None, typed, heading,
                self._sentence_lang[i] != question.lang, len(self._data.sentences[i].text),
                self._neighbour(i, dense, query_vector))
            found.append(Scored(i, cfg.ranker.probability(features), dense, lexical, gap, answer, heading, features))
        return sorted(found, key=lambda s: (-s.score, s.index))

    def select(self, question: Question, scored: list[Scored], ranker: RankerModel | None = None) -> list[Scored]:
        """The best sentence, plus up to two more that the ranker finds nearly as likely and
        that add something new: preferably from other articles, which is how disagreeing
        figures get shown (for "how many", another figure for the same thing may trail far more)."""
        if not scored:
            return []
        cfg, ranker = self.config, ranker or self.config.ranker
        best = scored[0].score
        floor = max(ranker.floor, best - ranker.margin)
        counting = question.kind == Kind.HOW_MANY
        close = [s for s in scored[1:] if not s.heading and (s.score >= floor or (
            counting and s.score >= cfg.multi_floor and self._another_figure(scored[0], s)))]
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

    def signals(self, question: Question, scored: list[Scored], query_vector: np.ndarray,
                retrieved: Retrieved) -> dict[str, float]:
        """What the abstention model reads (see qa.abstain)."""
        top = scored[:3]
        best_doc = self._data.sentences[scored[0].index].doc_id if scored else None
        asked = cognate_prefixes(question.text)
        unseen = sum(p not in self._corpus_prefixes for p in asked)
        terms = analyze_query(question.text, self.langs)
        return signals(
            unseen=unseen, coverage=1.0 - unseen / len(asked) if asked else 1.0,
            best_prob=scored[0].score if scored else 0.0,
            best_dense=max((s.dense for s in scored), default=0.0),
            all_dense=self._data.sentence_vectors @ query_vector,
            lexical=max((s.lexical for s in top), default=0.0),
            kind_missing=question.kind != Kind.OTHER and all(s.answer is None for s in top),
            cross_lingual=best_doc is not None and self._data.documents[best_doc].lang != question.lang,
            retrieved=retrieved, doc_lexical=self._doc_lexical(question, best_doc, terms, asked),
            corpus_cov=sum(t in self._idf for t in terms) / len(terms) if terms else 1.0,
            name_unseen=sum(n not in self._corpus_prefixes for n in capitalised_names(question.text)),
        )

    def _doc_lexical(self, question: Question, doc_id: str | None, terms: list[str], prefixes: list[str]) -> float:
        """IDF-weighted share of the question's terms (across languages, of its long words' first
        letters) that the article holds somewhere."""
        if doc_id is None:
            return 0.0
        cross = self._data.documents[doc_id].lang != question.lang
        asked, held = (prefixes, self._prefixes) if cross else (terms, self._terms)
        if not asked:
            return 0.0
        present = set().union(*(held[i] for i in self._data.documents.row_ranges(doc_id)[1]))
        weights = [self._idf.get(t, self._default_idf) for t in asked]
        return sum(w for t, w in zip(asked, weights) if t in present) / sum(weights)

    def _same_doc(self, cand: Scored, chosen: list[Scored]) -> bool:
        doc = self._data.sentences[cand.index].doc_id
        return any(self._data.sentences[c.index].doc_id == doc for c in chosen)
