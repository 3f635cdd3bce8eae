"""Fitting helpers: L2-regularised logistic regression, the sentence ranker and the abstention
model. Pure functions over arrays and signal dicts; `eval.train` feeds them.

The abstention threshold is chosen on leave-one-out predictions, so the F1 it reports is what
the model does on questions it was not fitted on."""

from __future__ import annotations

import numpy as np

from eval.metrics import abstention_prf
from qa import AbstainConfig
from qa.abstain import FEATURES

__all__ = ["fit_logistic", "fit_abstention", "out_of_fold"]

_STEPS = 50
_VETOES = (0.6, 0.8, 1.01)


def _newton(x: np.ndarray, y: np.ndarray, l2: float, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Weights of a logistic regression by Newton's method; x has a leading column of ones."""
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    w = np.zeros(x.shape[1])
    reg = np.eye(x.shape[1]) * l2
    reg[0, 0] = 0.0
    for _ in range(_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60, 60)))
        grad = x.T @ (sw * (p - y)) + reg @ w
        hess = x.T @ (x * (sw * p * (1 - p))[:, None]) + reg + np.eye(len(w)) * 1e-9
        w -= np.linalg.solve(hess, grad)
    return w


def fit_logistic(raw: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """(weights, bias) on the raw features; fitted on standardised ones, so `l2` shrinks every
    feature alike whatever its scale."""
    mean, std = raw.mean(axis=0), raw.std(axis=0) + 1e-9
    x = np.hstack([np.ones((len(raw), 1)), (raw - mean) / std])
    w = _newton(x, y.astype(float), l2, sample_weight)
    return w[1:] / std, float(w[0] - (w[1:] * mean / std).sum())


def out_of_fold(raw: np.ndarray, y: np.ndarray, l2: float, folds: int = 10) -> np.ndarray:
    """Out-of-fold probabilities (k folds drawn with a fixed seed)."""
    out = np.zeros(len(y))
    fold = np.random.default_rng(0).permutation(len(y)) % folds
    for k in range(folds):
        test = fold == k
        weights, bias = fit_logistic(raw[~test], y[~test], l2)
        out[test] = 1.0 / (1.0 + np.exp(-np.clip(raw[test] @ weights + bias, -60, 60)))
    return out


def _best_rule(prob: np.ndarray, lexical: np.ndarray, y: np.ndarray, max_false: float
               ) -> tuple[float, float, tuple[float, float, float]]:
    """(threshold, lexical veto, (P, R, F1)) with the best F1 among rules that refuse at most
    `max_false` of the answerable questions; ties go to abstaining less."""
    best: tuple[float, float, tuple[float, float, float]] = (1.0, 1.01, (0.0, 0.0, 0.0))
    answerable = ~y.astype(bool)
    for veto in _VETOES:
        for t in sorted(set(np.round(prob, 4)), reverse=True):
            abstain = (prob >= t) & (lexical < veto)
            if abstain[answerable].mean() > max_false:
                continue
            prf = abstention_prf(list(abstain), list(y.astype(bool)))
            if prf[2] > best[2][2] + 1e-9:
                best = (float(t), veto, prf)
    return best


def fit_abstention(signals: list[dict[str, float]], unanswerable: list[bool], max_false: float = 0.08,
                   l2: float = 3.0, features: tuple[str, ...] = FEATURES) -> AbstainConfig:
    """Fit on all questions; choose the threshold on out-of-fold probabilities, refusing at most
    `max_false` of the answerable ones."""
    raw = np.array([[s[f] for f in features] for s in signals], dtype=float)
    y = np.array(unanswerable, dtype=float)
    oof = out_of_fold(raw, y, l2)
    lexical = raw[:, features.index("lexical")]
    threshold, veto, (precision, recall, f1) = _best_rule(oof, lexical, y, max_false)
    weights, bias = fit_logistic(raw, y, l2)
    refused = float(((oof >= threshold) & (lexical < veto))[y == 0].mean()) if (y == 0).any() else 0.0
    evidence = {"questions": len(y), "unanswerable": int(y.sum()), "oof_precision": round(float(precision), 4),
                "oof_recall": round(float(recall), 4), "oof_f1": round(float(f1), 4),
                "oof_false_abstention": round(refused, 4)}
    return AbstainConfig(tuple(round(float(v), 4) for v in weights), round(bias, 4), round(threshold, 4), veto,
                         features, evidence)
