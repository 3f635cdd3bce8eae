"""Combine the reader's view of the best candidate sentences with the ranker's: a small logistic
model over the ranker's logit and the reader's relevance logit re-scores the sentences the
reader read, and the reader's confidence in its answer span decides whether a short answer is
shown: a small logistic model over the reader's span margin and relevance, the sentence's score,
whether the span is the kind of thing asked (a number for "how many"...), its length and how
much of it the question already says. Its numbers are fitted with the reader (`python -m
eval.train`) on out-of-fold readings."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, replace

from index.analyzer import fold
from qa.evidence import Scored
from qa.question import Kind, Question
from qa.ranker import RankerModel
from qa.reader import Reading
from qa.short_answer import candidate_pattern

__all__ = ["Combination", "short_features", "SHORT_FEATURES"]

SHORT_FEATURES = ("span_margin", "relevance", "sentence_score", "pattern_agrees", "typed_question", "words", "echo")


@dataclass(frozen=True)
class Combination:
    """p(answer) = sigmoid(bias + ranker * ranker_logit + relevance * reader_logit) for the
    `read_top` best candidates; a short answer is shown when its confidence (a logistic model
    over SHORT_FEATURES) is at least `short_threshold`."""

    ranker: float = 1.0
    relevance: float = 0.0
    bias: float = 0.0
    read_top: int = 3
    short_weights: tuple[float, ...] = ()   # the short answer's confidence model, over SHORT_FEATURES
    short_bias: float = 0.0
    short_threshold: float = math.inf        # shown when its confidence is at least this
    margin: float = 0.15       # extra cited sentences, as RankerModel's margin and floor, on
    floor: float = 0.3         # the combined probabilities

    def selection(self, ranker: RankerModel) -> RankerModel:
        return replace(ranker, margin=self.margin, floor=self.floor)

    def apply(self, scored: list[Scored], readings: list[Reading], ranker: RankerModel) -> list[Scored]:
        """The candidates re-scored, best first; the read ones carry their `Reading`."""
        read = []
        for s, reading in zip(scored, readings):
            z = self.bias + self.ranker * ranker.logit(s.features) + self.relevance * reading.relevance
            read.append(replace(s, score=1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))), reading=reading))
        rest = scored[len(read):]
        return sorted(read + rest, key=lambda s: (-s.score, s.index))

    def short_confidence(self, s: Scored, question: Question, sentence: str) -> float:
        """How likely the reader's span in `sentence` is the right short answer (0 without one)."""
        if s.reading is None or s.reading.span is None or len(self.short_weights) != len(SHORT_FEATURES):
            return 0.0
        z = self.short_bias + sum(w * x for w, x in zip(self.short_weights, short_features(s, question, sentence)))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def short_answer(self, s: Scored, question: Question, sentence: str) -> tuple[int, int] | None:
        if self.short_confidence(s, question, sentence) < self.short_threshold:
            return None
        return s.reading.span

    @classmethod
    def from_dict(cls, data: dict) -> Combination:
        return cls(**{**data, "short_weights": tuple(data.get("short_weights", ()))})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def short_features(s: Scored, question: Question, sentence: str) -> tuple[float, ...]:
    """One row of SHORT_FEATURES for the reader's span in a candidate sentence."""
    start, end = s.reading.span
    typed = question.kind != Kind.OTHER
    agrees = typed and any(m.start() < end and start < m.end() for m in candidate_pattern(question.kind).finditer(sentence))
    words = re.findall(r"\w+", fold(sentence[start:end]))
    asked = set(re.findall(r"\w+", fold(question.text)))
    echo = sum(w in asked for w in words) / len(words) if words else 1.0
    return (s.reading.span_margin, s.reading.relevance, s.score, float(agrees), float(typed),
            math.log1p(len(words)), echo)
