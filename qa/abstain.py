"""Decide whether the evidence answers the question: a small logistic model over general
signals, normalised against the corpus where a raw score would not transfer: the sentence
ranker's probability for the best sentence, how far that sentence's cosine stands above the
question's cosines with every sentence of the corpus (a z-score), how much it stands out from
its nearest rivals among the candidates (`peak`), how many of the question's words it holds,
how many of them the corpus holds at all, whether a typed question finds its kind of answer,
whether question and evidence are in different languages; from retrieval, the best passage's
cosine and how far it stands above the next nine, how many of the five best passages come from
one article, whether dense and BM25 retrieval put the same article first; how much of the
question the best sentence's whole article holds, and how many of the question's names the
corpus never mentions.

The signals are read from the ranker's view of the candidates, with or without the reader: out of
fold, the reader's relevance and span confidence added nothing (their weights came out with the
wrong sign) and the model over them refused more answerable questions on the report half. One
model is fitted by `python -m eval.train` and shipped in `abstain.json` beside this module, with
the figures that justified it."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FEATURES", "AbstainConfig", "Retrieved", "signals", "probability_unanswerable"]

FEATURES = ("best_prob", "dense_z", "peak", "lexical", "kind_missing", "cross_lingual", "unseen", "coverage",
            "dense_top", "dense_gap10", "concentration", "agree_doc", "doc_lexical", "corpus_cov", "name_unseen")
CALIBRATION_FILE = Path(__file__).with_name("abstain.json")
_PEAK_NEIGHBOURS = 5


@dataclass(frozen=True)
class AbstainConfig:
    """p(unanswerable) = sigmoid(bias + sum(weights * signals)); abstain when p >= threshold,
    unless the evidence holds at least `lexical_veto` of the question's (IDF-weighted) terms."""

    weights: tuple[float, ...] = (-4.0, -0.5, -10.0, -2.0, 1.0, -0.5, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    bias: float = 4.0
    threshold: float = 0.5
    lexical_veto: float = 0.6
    features: tuple[str, ...] = FEATURES
    evidence: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.features):
            raise ValueError(f"The abstention model needs one weight per signal of {self.features}.")

    @classmethod
    def shipped(cls) -> AbstainConfig:
        """The fitted model in `abstain.json`, or the defaults when it is absent."""
        if not CALIBRATION_FILE.is_file():
            return cls()
        model = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")).get("model", {})
        features = tuple(model.get("features", ()))
        if features != FEATURES:
            raise ValueError(f"{CALIBRATION_FILE} was fitted on other signals; refit it with `python -m eval.train`.")
        return cls(tuple(float(model["weights"][f]) for f in features), float(model["bias"]),
                   float(model["threshold"]), float(model["lexical_veto"]), features, model.get("evidence", {}))

    @classmethod
    def untrained(cls) -> AbstainConfig:
        """A model that never abstains (what `python -m eval.train` starts from)."""
        return cls((0.0,) * len(FEATURES), 0.0, math.inf, 0.0, FEATURES)

    def never(self) -> AbstainConfig:
        """The same model with a threshold that never abstains (for calibration runs)."""
        return AbstainConfig(self.weights, self.bias, math.inf, self.lexical_veto, self.features, self.evidence)

    def abstains(self, values: dict[str, float]) -> bool:
        return probability_unanswerable(values, self) >= self.threshold and values["lexical"] < self.lexical_veto

    def to_dict(self) -> dict[str, object]:
        return {"features": list(self.features), "weights": dict(zip(self.features, self.weights)),
                "bias": self.bias, "threshold": self.threshold, "lexical_veto": self.lexical_veto,
                "evidence": self.evidence}


def write_calibration(model: AbstainConfig, path: Path = CALIBRATION_FILE) -> None:
    path.write_text(json.dumps({"model": model.to_dict()}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Retrieved:
    """What retrieval says about a question, for `signals`."""

    passage_cosines: tuple[float, ...]   # the dense passages' cosines, best first
    concentration: float                 # share of the five best fused passages from the first one's article
    agree_doc: bool                      # dense and BM25 put the same article first (or only one ran)


def signals(best_prob: float, rivals: np.ndarray, cosine_moments: tuple[float, float], lexical: float,
            kind_missing: bool, cross_lingual: bool, unseen: int, coverage: float, retrieved: Retrieved,
            doc_lexical: float, corpus_cov: float, name_unseen: int) -> dict[str, float]:
    """`rivals`: the question's cosine with each candidate sentence; `cosine_moments`: the mean and
    standard deviation of its cosine with every sentence of the corpus; `unseen`: how many of
    the question's long words appear nowhere in the corpus (by their first letters, so that
    cognates and names count across languages), `coverage` the share that do appear;
    `doc_lexical`: the IDF-weighted share of the question's terms in the best sentence's article;
    `corpus_cov`: the share of its terms the corpus holds; `name_unseen`: its capitalised names
    the corpus never mentions."""
    cosines = retrieved.passage_cosines
    dense_top = cosines[0] if cosines else 0.0
    gap10 = dense_top - float(np.mean(cosines[1:10])) if len(cosines) > 2 else 0.0
    top = np.sort(rivals)[::-1][: _PEAK_NEIGHBOURS + 1] if len(rivals) else np.zeros(1)
    peak = float(top[0] - top[1:].mean()) if len(top) > 1 else 0.0
    mean, spread = cosine_moments
    dense_z = (float(top[0]) - mean) / spread if spread > 1e-6 and len(rivals) else 0.0
    return {"best_prob": best_prob, "dense_z": dense_z, "peak": peak, "lexical": lexical,
            "kind_missing": float(kind_missing), "cross_lingual": float(cross_lingual),
            "unseen": float(min(unseen, 3)), "coverage": coverage, "dense_top": dense_top, "dense_gap10": gap10,
            "concentration": retrieved.concentration, "agree_doc": float(retrieved.agree_doc),
            "doc_lexical": doc_lexical, "corpus_cov": corpus_cov, "name_unseen": float(min(name_unseen, 3))}


def probability_unanswerable(values: dict[str, float], config: AbstainConfig) -> float:
    z = config.bias + sum(w * values.get(name, 0.0) for name, w in zip(config.features, config.weights))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
