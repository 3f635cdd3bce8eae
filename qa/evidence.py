"""Score the sentences of the best passages against the question and pick the evidence.

A sentence's score is the learned ranker's probability that it holds the answer (qa.ranker),
from its embedding similarity to the question, the share of the question's (IDF-weighted)
terms it contains, its passage's fused score and rank, whether it holds the kind of thing asked
for (a number for "how many", a date for "when"...), and its neighbours' similarity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from index import IndexData
from index.analyzer import PREFIX, analyze_query, cognate_prefixes, fold
from index.corpus_stats import sentence_terms
from index.sentences import is_closed
from index.vocabulary import content_words
from qa.abstain import Retrieved, signals
from qa.antecedent import with_antecedent
from qa.question import Kind, Question
from qa.ranker import RankerModel, candidate_features
from qa.reader import Reading
from qa.short_answer import find_short_answer

__all__ = ["EvidenceConfig", "Scored", "SentenceScorer"]


_QUANTIFIERS = {"plus", "pres", "moins", "envir", "quelq", "more", "nearl", "about", "over", "some", "milli",
               "centa", "dizai", "thous", "hundr"}


_ANALYSED = 65536   # candidate sentences whose analysis is kept


def capitalised_names(text: str) -> list[str]:
    """The first letters (as `cognate_prefixes`) of the question's capitalised long words after
    its first: the names it asks about."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)[1:]
    return list(dict.fromkeys(fold(w)[:PREFIX] for w in words if w[0].isupper() and len(w) >= 5))


@dataclass(frozen=True)
class EvidenceConfig:
    passages: int = 6          # top passages whose sentences are candidates
    max_sentences: int = 3
    duplicate_cosine: float = 0.93
    min_chars: int = 25        # shorter sentences (headings, credits) are context, not evidence
    multi_floor: float = 0.1   # a sentence giving another figure for the same thing asked "how
                               # many" about is shown when the ranker gives it at least this
    word_cosine: float = 0.9   # a question word and a sentence word this close match (ranker feature)
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
    """Scores a question's candidate sentences. What it knows of the whole corpus (IDF weights,
    the words it holds, the spread of cosines) comes from the statistics the build kept
    (index.corpus_stats); a sentence is analysed when it first becomes a candidate, so that
    neither starting nor answering reads every sentence."""

    def __init__(self, data: IndexData, config: EvidenceConfig) -> None:
        self._data = data
        self.config = config
        self._stats = data.stats
        self.langs = data.lexical.langs   # the articles' languages
        # sentence i's analysed terms and long words' first letters, the most recent kept
        self._terms = lru_cache(maxsize=_ANALYSED)(self._analyse)
        # sentence i's content words as rows of the index's vocabulary, the most recent kept
        self._word_rows = lru_cache(maxsize=_ANALYSED)(self._vocabulary_rows)

    def _lang(self, i: int) -> str:
        return self._data.documents.lang(self._data.sentences[i].doc_id)

    def _analyse(self, i: int) -> tuple[frozenset[str], frozenset[str]]:
        return sentence_terms(self._data.sentences[i].text, self._lang(i))

    def _chunk_sentences(self, row: int) -> list[int]:
        """The sentences overlapping chunk `row`, from its article's contiguous sentence ids."""
        chunk = self._data.chunks[row]
        ids = self._data.documents.row_ranges(chunk.doc_id)[1]
        sentences = self._data.sentences.range(ids.start, ids.stop)
        return [i for i, s in zip(ids, sentences) if s.start < chunk.end and s.end > chunk.start]

    def _lexical(self, question: Question, query_terms: list[str], query_prefixes: list[str], i: int) -> float:
        """IDF-weighted share of the question's terms in the sentence; across languages, of its
        long words' first letters (cognates and names: "artillery"/"artillerie", "Poutine")."""
        cross = self._lang(i) != question.lang
        terms, prefixes = self._terms(i)
        asked, present = (query_prefixes, prefixes) if cross else (query_terms, terms)
        return self._weighted_share(asked, present)

    def _weighted_share(self, asked: list[str], present: set[str] | frozenset[str]) -> float:
        """The IDF-weighted share of the `asked` terms that are `present` (0 when none is asked)."""
        if not asked:
            return 0.0
        weights = [self._stats.idf(t) for t in asked]
        return sum(w for t, w in zip(asked, weights) if t in present) / sum(weights)

    def _neighbour(self, i: int, dense: float, query_vector: np.ndarray) -> float:
        sentences, doc = self._data.sentences, self._data.sentences[i].doc_id
        around = [j for j in (i - 1, i + 1) if 0 <= j < len(sentences) and sentences[j].doc_id == doc]
        if not around:
            return 0.0
        return max(float(self._data.sentence_vectors[j] @ query_vector) for j in around) - dense

    def _word_matches(self, i: int, question_words: np.ndarray | None) -> float:
        """The share of the question's content words with a word of the sentence at least
        `word_cosine` close (a translation, a synonym, the word itself), from the index's vocabulary."""
        vocabulary = self._data.vocabulary
        if vocabulary is None or question_words is None or not len(question_words):
            return 0.0
        rows = self._word_rows(i)
        if not len(rows):
            return 0.0
        words = np.asarray(vocabulary.vectors[rows], dtype=np.float32)
        return float(((question_words @ words.T).max(axis=1) >= self.config.word_cosine).mean())

    def _vocabulary_rows(self, i: int) -> np.ndarray:
        """Sentence i's content words as rows of the vocabulary (`_word_matches` has checked there is one)."""
        return self._data.vocabulary.rows(content_words(self._data.sentences[i].text))  # type: ignore[union-attr]

    def has_content(self, question: Question) -> bool:
        """Whether the question holds a word that is not a stop word ("a", "the", "[a]" do not)."""
        return bool(analyze_query(question.text, self.langs))

    def rescore(self, scored: list[Scored], ranker: RankerModel) -> list[Scored]:
        """The same candidates scored by another ranker, best first."""
        rescored = [replace(s, score=ranker.probability(s.features)) for s in scored]
        return sorted(rescored, key=lambda s: (-s.score, s.index))

    def score(self, question: Question, query_vector: np.ndarray, rows: np.ndarray,
              fused: np.ndarray, question_words: np.ndarray | None = None) -> list[Scored]:
        """Candidate sentences of the top passages, best first. `question_words`: the vectors of
        the question's content words (`Pipeline.question_words`)."""
        cfg = self.config
        passage_of: dict[int, tuple[int, float]] = {}
        for rank, row in enumerate(rows[: cfg.passages]):
            for i in self._chunk_sentences(int(row)):
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
            heading = not is_closed(sentence.text)
            raw.append((i, rank, gap, dense, lexical, answer, heading))
        best_dense = max((r[3] for r in raw), default=0.0)
        best_lexical = max((r[4] for r in raw), default=0.0)
        typed = question.kind != Kind.OTHER
        found = []
        for i, rank, gap, dense, lexical, answer, heading in raw:
            features = candidate_features(
                dense, best_dense, lexical, best_lexical, gap, rank, typed and answer is not None, typed, heading,
                self._lang(i) != question.lang, len(self._data.sentences[i].text),
                self._neighbour(i, dense, query_vector), self._word_matches(i, question_words))
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
        return with_antecedent(question, chosen, scored, self._data.sentences, cfg.max_sentences)

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
        stats = self._stats
        unseen = sum(p not in stats.prefixes for p in asked)
        terms = analyze_query(question.text, self.langs)
        return signals(
            unseen=unseen, coverage=1.0 - unseen / len(asked) if asked else 1.0,
            best_prob=scored[0].score if scored else 0.0,
            rivals=np.array([s.dense for s in scored]), cosine_moments=stats.cosine_moments(query_vector),
            lexical=max((s.lexical for s in top), default=0.0),
            kind_missing=question.kind != Kind.OTHER and all(s.answer is None for s in top),
            cross_lingual=best_doc is not None and self._data.documents.lang(best_doc) != question.lang,
            retrieved=retrieved, doc_lexical=self._doc_lexical(question, best_doc, terms, asked),
            corpus_cov=sum(t in stats.df for t in terms) / len(terms) if terms else 1.0,
            name_unseen=sum(n not in stats.prefixes for n in capitalised_names(question.text)),
        )

    def _doc_lexical(self, question: Question, doc_id: str | None, terms: list[str], prefixes: list[str]) -> float:
        """IDF-weighted share of the question's terms (across languages, of its long words' first
        letters) that the article holds somewhere."""
        if doc_id is None:
            return 0.0
        cross = self._data.documents.lang(doc_id) != question.lang
        asked = prefixes if cross else terms
        if not asked:
            return 0.0
        present = set().union(*(self._terms(i)[1 if cross else 0] for i in self._data.documents.row_ranges(doc_id)[1]))
        return self._weighted_share(asked, present)

    def _same_doc(self, cand: Scored, chosen: list[Scored]) -> bool:
        doc = self._data.sentences[cand.index].doc_id
        return any(self._data.sentences[c.index].doc_id == doc for c in chosen)
