"""Decide whether the evidence answers the question: a small logistic model over general
signals (how similar the best sentence is, how much it stands out from the rest of the corpus,
how many of the question's words it holds, whether a typed question finds its kind of answer,
and whether question and evidence are in different languages).

Its weights are fitted on the evaluation set by `python -m eval --calibrate` and shipped in
`abstain.json` beside this module, with the figures that justified them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FEATURES", "AbstainConfig", "signals", "probability_unanswerable"]

FEATURES = ("best_dense", "peak", "lexical", "kind_missing", "cross_lingual")
CALIBRATION_FILE = Path(__file__).with_name("abstain.json")
_PEAK_NEIGHBOURS = 5


@dataclass(frozen=True)
class AbstainConfig:
    """p(unanswerable) = sigmoid(bias + sum(weights * signals)); abstain when p >= threshold,
    unless the evidence holds at least `lexical_veto` of the question's (IDF-weighted) terms:
    then the articles visibly speak to the question, whatever the similarity scale of a corpus."""

    weights: tuple[float, ...] = (-20.0, -10.0, -2.0, 1.0, -1.5)
    bias: float = 17.0
    threshold: float = 0.5
    lexical_veto: float = 0.6
    evidence: dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def shipped(cls) -> AbstainConfig:
        """The calibrated model in `abstain.json`, or the defaults when it is absent."""
        if not CALIBRATION_FILE.is_file():
            return cls()
        data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
        weights = tuple(float(data["weights"][name]) for name in FEATURES)
        return cls(weights, float(data["bias"]), float(data["threshold"]), float(data["lexical_veto"]),
                   data.get("evidence", {}))

    def never(self) -> AbstainConfig:
        """The same model with a threshold that never abstains (for calibration runs)."""
        return AbstainConfig(self.weights, self.bias, math.inf, self.lexical_veto, self.evidence)

    def abstains(self, values: dict[str, float]) -> bool:
        return probability_unanswerable(values, self) >= self.threshold and values["lexical"] < self.lexical_veto

    def to_json(self) -> str:
        return json.dumps({"features": list(FEATURES), "weights": dict(zip(FEATURES, self.weights)),
                           "bias": self.bias, "threshold": self.threshold, "lexical_veto": self.lexical_veto,
                           "evidence": self.evidence}, ensure_ascii=False, indent=2) + "\n"


def signals(best_dense: float, all_dense: np.ndarray, lexical: float, kind_missing: bool,
            cross_lingual: bool) -> dict[str, float]:
    """`all_dense`: the question's cosine with every sentence of the index."""
    top = np.sort(all_dense)[::-1][: _PEAK_NEIGHBOURS + 1] if len(all_dense) else np.zeros(1)
    peak = float(top[0] - top[1:].mean()) if len(top) > 1 else 0.0
    return {"best_dense": best_dense, "peak": peak, "lexical": lexical,
            "kind_missing": float(kind_missing), "cross_lingual": float(cross_lingual)}


def probability_unanswerable(values: dict[str, float], config: AbstainConfig) -> float:
    z = config.bias + sum(w * values[name] for name, w in zip(FEATURES, config.weights))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
