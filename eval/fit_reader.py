"""The reader's part of `python -m eval.train`: out-of-fold readings of every training question,
then what is fitted on them (how the reader's view combines with the ranker's, how many
sentences to cite, when a short answer is sure enough to show, the abstention model with the
reader's signals), then the reader that ships, trained on all the questions."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from eval.calibrate import fit_abstention, fit_logistic
from eval.metrics import token_f1
from eval.train import Probe, grid
from eval.train_reader import FROZEN_LAYERS, MAX_LENGTH, fold_of, make_pairs, prepare, read_probes, train, trainable
from qa import AbstainConfig
from qa.abstain import READER_FEATURES
from qa.reader import WEIGHTS, ReaderSpec
from qa.reading import Combination

__all__ = ["fit_reader", "save_reader"]

log = logging.getLogger("eval.train")

READ_TOP = 3
SHORT_PRECISION = 0.85   # a short answer is shown when, on out-of-fold readings, answers at least
                         # as sure were right (token F1 >= 0.5) this often


def _out_of_fold(probes: list[Probe], pairs, prepared) -> list[list]:
    readings: list[list] = [[] for _ in probes]
    for fold in (0, 1):
        net = train(prepared, [n for n, p in enumerate(pairs) if p.fold != fold])
        held = [n for n, p in enumerate(probes) if fold_of(p.question) == fold]
        for n, found in zip(held, read_probes(net, [probes[n] for n in held], READ_TOP)):
            readings[n] = found
    return readings


def _combination(probes: list[Probe], readings: list[list]) -> Combination:
    rows, labels = [], []
    for p, found in zip(probes, readings):
        if not p.question.gold.answerable:
            continue
        ranker = p.pipeline.config.evidence.ranker
        for s, reading, label in zip(p.found.scored, found, p.labels):
            rows.append((ranker.logit(s.features), reading.relevance))
            labels.append(label)
    (w_ranker, w_relevance), bias = fit_logistic(np.array(rows), np.array(labels, dtype=float), l2=1.0)
    return Combination(round(float(w_ranker), 4), round(float(w_relevance), 4), round(bias, 4), READ_TOP)


def _short_threshold(probes: list[Probe], scored: list[list], combination: Combination) -> tuple[float, list[str]]:
    """The lowest span margin at which shown short answers are right SHORT_PRECISION of the time."""
    found = []
    for p, candidates in zip(probes, scored):
        if not p.question.gold.answerable:
            continue
        chosen = p.pipeline.scorer.select(p.found.question, candidates, combination.selection(
            p.pipeline.config.evidence.ranker))
        for s in chosen:
            if s.reading is not None and s.reading.span is not None:
                text = p.pipeline.data.sentences[s.index].text[s.reading.span[0] : s.reading.span[1]]
                found.append((s.reading.span_margin, token_f1(text, p.question.gold.answers) >= 0.5))
    found.sort(key=lambda t: -t[0])
    answerable = sum(p.question.gold.answerable for p in probes)
    lines = ["| span margin ≥ | shown per answerable question | right when shown |", "|---|---|---|"]
    threshold, right = float("inf"), 0
    for n, (margin, ok) in enumerate(found, start=1):
        right += ok
        if right / n >= SHORT_PRECISION:
            threshold = margin
        if n % max(1, len(found) // 12) == 0:
            lines.append(f"| {margin:.2f} | {n / answerable:.3f} | {right / n:.3f} |")
    return round(threshold, 4), lines


def save_reader(net, spec: ReaderSpec, folder: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().half().contiguous() for k, v in net.state_dict().items() if trainable(k)}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / WEIGHTS))
    spec.save(folder)


def fit_reader(probes: list[Probe], folder: Path) -> AbstainConfig:
    """Trains, fits and ships the reader; returns the abstention model that reads its signals."""
    spec = probes[0].pipeline.embedder.spec
    pairs = make_pairs(probes)
    log.warning("reader: %d pairs from %d questions", len(pairs), len(probes))
    prepared = prepare(pairs, spec.path)
    readings = _out_of_fold(probes, pairs, prepared)
    combination = _combination(probes, readings)
    rescore = [p.pipeline.reread(p.found.question, p.found.scored, combination, r) for p, r in zip(probes, readings)]
    answerable = [n for n, p in enumerate(probes) if p.question.gold.answerable]
    (margin, floor, contained), lines = grid([probes[n] for n in answerable], probes[0].pipeline.config.evidence.ranker,
                                             [rescore[n] for n in answerable])
    print("Selection grid with the reader (out-of-fold):", *lines, sep="\n")
    combination = Combination(**{**combination.to_dict(), "margin": margin, "floor": floor})
    threshold, lines = _short_threshold(probes, rescore, combination)
    print("Short answers (out-of-fold):", *lines, sep="\n")
    combination = Combination(**{**combination.to_dict(), "short_threshold": threshold})
    signals = [p.pipeline.signals(p.found.question, s, p.found.vector) for p, s in zip(probes, rescore)]
    abstain = fit_abstention(signals, [not p.question.gold.answerable for p in probes], features=READER_FEATURES)
    print(f"combination: {combination}; abstention with the reader: threshold {abstain.threshold}, {abstain.evidence}")
    net = train(prepared, list(range(len(pairs))))
    evidence = {"pairs": len(pairs), "questions": len(probes), "oof_containment": round(contained, 4)}
    save_reader(net, ReaderSpec(spec.fingerprint, FROZEN_LAYERS, MAX_LENGTH, combination=combination.to_dict(),
                                evidence=evidence), folder)
    return abstain
