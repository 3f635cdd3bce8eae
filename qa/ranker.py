"""The learned sentence ranker: a logistic model over features of each candidate sentence,
giving the probability that it holds the answer.

Features are relative where a raw value would not transfer between corpora (a cosine minus the
best cosine among the candidates, a passage's fused score minus the best one). The weights are
fitted on the dev set's tune half plus the seed questions by `python -m eval.train ranker` and
shipped in `ranker.json` beside this module, with the figures that chose them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RANKER_FEATURES", "RankerModel", "candidate_features"]

RANKER_FEATURES = ("dense", "dense_gap", "lexical", "lexical_gap", "passage_gap", "passage_rank", "kind",
                   "kind_absent", "heading", "cross", "length", "neighbour", "word_matches")
RANKER_FILE = Path(__file__).with_name("ranker.json")


def candidate_features(dense: float, best_dense: float, lexical: float, best_lexical: float,
                       passage_gap: float, passage_rank: int, kind: bool, typed: bool, heading: bool,
                       cross: bool, chars: int, neighbour: float, word_matches: float = 0.0) -> tuple[float, ...]:
    """One row of `RANKER_FEATURES`. `neighbour`: the best cosine of the sentences just before
    and after it minus its own (answers often sit next to the sentence that echoes the question);
    `word_matches`: the share of the question's words with a close word in it (any language)."""
    return (dense, dense - best_dense, lexical, lexical - best_lexical, passage_gap, math.log1p(passage_rank),
            float(kind), float(typed and not kind), float(heading), float(cross), math.log1p(chars), neighbour,
            word_matches)


@dataclass(frozen=True)
class RankerModel:
    """logit = bias + weights . features; `margin` and `floor` choose extra cited sentences: one is
    added when its probability is at least `floor` and within `margin` of the best one's."""

    weights: tuple[float, ...] = (6.0, 8.0, 1.5, 1.0, 4.0, -0.3, 0.4, -0.3, -1.0, 0.0, 0.2, 0.0, 1.0)
    bias: float = -6.0
    margin: float = 0.15
    floor: float = 0.3
    evidence: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.weights) != len(RANKER_FEATURES):
            raise ValueError(f"The ranker needs {len(RANKER_FEATURES)} weights, one per feature of {RANKER_FEATURES}.")

    @classmethod
    def shipped(cls) -> RankerModel:
        """The fitted model in `ranker.json`, or hand-set defaults when it is absent."""
        if not RANKER_FILE.is_file():
            return cls()
        data = json.loads(RANKER_FILE.read_text(encoding="utf-8"))
        if tuple(data["features"]) != RANKER_FEATURES:
            raise ValueError(f"{RANKER_FILE} was fitted on other features; refit it with `python -m eval.train ranker`.")
        return cls(tuple(float(data["weights"][f]) for f in RANKER_FEATURES), float(data["bias"]),
                   float(data["margin"]), float(data["floor"]), data.get("evidence", {}))

    def logit(self, features: tuple[float, ...]) -> float:
        return self.bias + sum(w * x for w, x in zip(self.weights, features))

    def probability(self, features: tuple[float, ...]) -> float:
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, self.logit(features)))))

    def to_json(self) -> str:
        return json.dumps({"features": list(RANKER_FEATURES), "weights": dict(zip(RANKER_FEATURES, self.weights)),
                           "bias": self.bias, "margin": self.margin, "floor": self.floor, "evidence": self.evidence},
                          ensure_ascii=False, indent=2) + "\n"
