"""Choose settings from the numbers: the abstention model and the cross-language BM25 weight.

The abstention model is a logistic regression over the signals each answer reports (see
qa.abstain), fitted on a run that never abstains. Its threshold is chosen on leave-one-out
predictions, so the F1 reported is what the model does on questions it was not fitted on."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from eval.dataset import EvalQuestion
from eval.metrics import abstention_prf
from eval.runner import QuestionResult, Variant, never_abstain, run_variant, summarize
from qa import AbstainConfig, Pipeline, QAConfig
from qa.abstain import FEATURES

__all__ = ["fit_abstention", "sweep_cross_weight"]

_L2 = 3.0  # standardised features; stronger shrinkage generalised better to other corpora
_STEPS = 50


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; x has a leading column of ones."""
    w = np.zeros(x.shape[1])
    reg = np.eye(x.shape[1]) * _L2
    reg[0, 0] = 0.0
    for _ in range(_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60, 60)))
        grad = x.T @ (p - y) + reg @ w
        hess = x.T @ (x * (p * (1 - p))[:, None]) + reg + np.eye(len(w)) * 1e-9
        w -= np.linalg.solve(hess, grad)
    return w


def _design(results: list[QuestionResult], mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    raw = np.array([[r.signals[f] for f in FEATURES] for r in results], dtype=float)
    return np.hstack([np.ones((len(results), 1)), (raw - mean) / std])


_VETOES = (0.5, 0.6, 0.7, 0.8, 1.01)


def _best_rule(prob: np.ndarray, lexical: np.ndarray, y: np.ndarray) -> tuple[float, float, tuple[float, float, float]]:
    """(threshold, lexical veto, (P, R, F1)) with the best F1; ties go to abstaining less."""
    best: tuple[float, float, tuple[float, float, float]] = (1.0, _VETOES[0], (0.0, 0.0, 0.0))
    for veto in _VETOES:
        for t in sorted(set(np.round(prob, 4)), reverse=True):
            prf = abstention_prf(list((prob >= t) & (lexical < veto)), list(y.astype(bool)))
            if prf[2] > best[2][2] + 1e-9:
                best = (float(t), veto, prf)
    return best


def fit_abstention(results: list[QuestionResult]) -> AbstainConfig:
    """Fit on all questions; choose the threshold on leave-one-out probabilities."""
    raw = np.array([[r.signals[f] for f in FEATURES] for r in results], dtype=float)
    mean, std = raw.mean(axis=0), raw.std(axis=0) + 1e-9
    x, y = _design(results, mean, std), np.array([not r.answerable for r in results], dtype=float)
    loo = np.array([1.0 / (1.0 + math.exp(-float(x[i] @ _fit(np.delete(x, i, 0), np.delete(y, i)))))
                    for i in range(len(y))])
    lexical = np.array([r.signals["lexical"] for r in results])
    threshold, veto, (precision, recall, f1) = _best_rule(loo, lexical, y)
    w = _fit(x, y)
    weights = w[1:] / std
    bias = float(w[0] - (w[1:] * mean / std).sum())
    evidence = {"questions": len(results), "unanswerable": int(y.sum()), "loo_precision": round(float(precision), 4),
                "loo_recall": round(float(recall), 4), "loo_f1": round(float(f1), 4)}
    return AbstainConfig(tuple(round(float(v), 4) for v in weights), round(bias, 4), round(threshold, 4), veto, evidence)


def sweep_cross_weight(pipeline: Pipeline, questions: list[EvalQuestion], base: QAConfig,
                       weights: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0)) -> list[tuple[float, dict[str, float]]]:
    """Hybrid retrieval quality for several BM25 weights across languages."""
    rows = []
    for weight in weights:
        config = never_abstain(replace(base, retrieval=replace(base.retrieval, bm25_weight_cross_lang=weight)))
        results = run_variant(pipeline, questions, Variant(f"cross={weight}", config), progress=False)
        rows.append((weight, summarize(results)))
    return rows
