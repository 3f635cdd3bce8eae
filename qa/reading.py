"""Combine the reader's view of the best candidate sentences with the ranker's: a small logistic
model over the ranker's logit and the reader's relevance logit re-scores the sentences the
reader read, and the reader's confidence in its answer span decides whether a short answer is
shown. Its numbers are fitted with the reader (`python -m eval.train`) on out-of-fold readings."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from qa.evidence import Scored
from qa.ranker import RankerModel
from qa.reader import Reading

__all__ = ["Combination", "reader_signals", "NO_SPAN"]

NO_SPAN = -10.0   # the span margin reported when the reader found no span at all


@dataclass(frozen=True)
class Combination:
    """p(answer) = sigmoid(bias + ranker * ranker_logit + relevance * reader_logit) for the
    `read_top` best candidates; a short answer is shown when its span margin >= `short_threshold`."""

    ranker: float = 1.0
    relevance: float = 0.0
    bias: float = 0.0
    read_top: int = 3
    short_threshold: float = math.inf
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

    def short_answer(self, s: Scored) -> tuple[int, int] | None:
        if s.reading is None or s.reading.span is None or s.reading.span_margin < self.short_threshold:
            return None
        return s.reading.span

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def reader_signals(scored: list[Scored]) -> dict[str, float]:
    """What the abstention model reads from the reader: its best relevance among the sentences
    it read, and how sure it is of an answer span in the best sentence."""
    read = [s.reading for s in scored if s.reading is not None]
    first = scored[0].reading if scored and scored[0].reading is not None else None
    return {"reader_best": max((r.relevance for r in read), default=NO_SPAN),
            "span_margin": first.span_margin if first is not None and first.span is not None else NO_SPAN}
