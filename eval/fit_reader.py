"""The reader's part of `python -m eval.train`: out-of-fold readings of every training question,
then what is fitted on them (how the reader's view combines with the ranker's, how many
sentences to cite, when a short answer is sure enough to show), then the reader that ships,
trained on all the questions."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.calibrate import fit_logistic, out_of_fold
from eval.metrics import token_f1
from eval.train import Probe, grid
from eval.cloze import cloze_pairs
from eval.train_reader import (FROZEN_LAYERS, MAX_LENGTH, Pair, fold_of, make_pairs, prepare, read_probes, train,
                               trainable)
from qa.reader import WEIGHTS, Reading, ReaderSpec
from qa.reading import Combination, short_features

__all__ = ["fit_reader", "save_reader", "READINGS"]

log = logging.getLogger("eval.train")

READ_TOP = 3
CLOZE_PER_SENTENCE = 2   # synthetic questions per sentence of the training articles (eval.cloze)
SHORT_PRECISION = 0.80   # a short answer is shown when, out of fold, answers at least as sure
                         # were right (token F1 >= 0.5) this often, at 90 % confidence
_Z90 = 1.2816            # one-sided 90 % normal quantile


def wilson_lower(hits: float, n: int, z: float = _Z90) -> float:
    """The Wilson score interval's lower bound for a rate of `hits` in `n`."""
    if n == 0:
        return 0.0
    rate = hits / n
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


READINGS = "reader-readings.json"   # the out-of-fold readings, kept in the cache folder for --refit


def _readings_key(probes: list[Probe], pairs: list) -> str:
    """What the out-of-fold readings depend on: the questions, their candidates, the pairs and
    the training settings."""
    digest = hashlib.sha256(repr((FROZEN_LAYERS, MAX_LENGTH, READ_TOP, CLOZE_PER_SENTENCE)).encode())
    for p in probes:
        digest.update(repr((p.question.id, [s.index for s in p.found.scored[:READ_TOP]])).encode())
    for pair in pairs:
        digest.update(repr((pair.question, pair.sentence, pair.span, pair.relevant)).encode())
    return digest.hexdigest()[:16]


def _save_readings(path: Path, key: str, readings: list[list[Reading]]) -> None:
    rows = [[[float(r.relevance), [int(x) for x in r.span] if r.span else None, float(r.span_margin)] for r in found]
            for found in readings]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key, "readings": rows}), encoding="utf-8")


def _load_readings(path: Path, key: str) -> list[list[Reading]] | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("key") != key:
        log.warning("the cached readings in %s were made for other questions, candidates or settings", path)
        return None
    return [[Reading(rel, tuple(span) if span else None, margin) for rel, span, margin in found]
            for found in data["readings"]]


def _out_of_fold(probes: list[Probe], pairs, prepared) -> list[list]:
    readings: list[list] = [[] for _ in probes]
    for fold in (0, 1):
        net = train(prepared, [n for n, p in enumerate(pairs) if p.fold != fold])
        held = [n for n, p in enumerate(probes) if fold_of(p.question) == fold]
        for n, found in zip(held, read_probes(net, [probes[n] for n in held], READ_TOP)):
            readings[n] = found
    return readings


def _span_right(probes: list[Probe], readings: list[list]) -> str:
    right, n = 0, 0
    for p, found in zip(probes, readings):
        for s, reading, label in zip(p.found.scored, found, p.labels):
            if label and p.question.gold.answerable:
                text = p.pipeline.data.sentences[s.index].text
                span = text[reading.span[0] : reading.span[1]] if reading.span else ""
                right += token_f1(span, p.question.gold.answers) >= 0.5
                n += 1
    return f"{right / max(n, 1):.3f} of {n}"


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


def _short_model(probes: list[Probe], scored: list[list], combination: Combination) -> tuple[Combination, list[str]]:
    """The short answer's confidence model, and the lowest confidence at which, out of fold, the
    short answers shown were right (token F1 >= 0.5) SHORT_PRECISION of the time, with 90 %
    confidence (the Wilson bound: a level chosen where the 20 surest were right 80 % of the time
    was right for 72 % on the report half)."""
    rows, right = [], []
    for p, candidates in zip(probes, scored):
        if not p.question.gold.answerable:
            continue
        chosen = p.pipeline.scorer.select(p.found.question, candidates, combination.selection(
            p.pipeline.config.evidence.ranker))
        for s in chosen:
            if s.reading is not None and s.reading.span is not None:
                text = p.pipeline.data.sentences[s.index].text
                rows.append(short_features(s, p.found.question, text))
                right.append(token_f1(text[s.reading.span[0] : s.reading.span[1]], p.question.gold.answers) >= 0.5)
    x, y = np.array(rows, dtype=float), np.array(right, dtype=float)
    weights, bias = fit_logistic(x, y, l2=1.0)
    oof = out_of_fold(x, y, l2=1.0)
    order = np.argsort(-oof)
    answerable = sum(p.question.gold.answerable for p in probes)
    lines = ["| confidence ≥ | shown per answerable question | right when shown |", "|---|---|---|"]
    threshold, hits = float("inf"), 0
    for n, i in enumerate(order, start=1):
        hits += y[i]
        if n >= 20 and wilson_lower(hits, n) >= SHORT_PRECISION:
            threshold = float(oof[i])
        if n % max(1, len(order) // 12) == 0:
            lines.append(f"| {oof[i]:.2f} | {n / answerable:.3f} | {hits / n:.3f} |")
    fitted = replace(combination, short_weights=tuple(round(float(w), 4) for w in weights),
                     short_bias=round(bias, 4), short_threshold=round(threshold, 4))
    return fitted, lines


def save_reader(net, spec: ReaderSpec, folder: Path) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().half().contiguous() for k, v in net.state_dict().items() if trainable(k)}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / WEIGHTS))
    spec.save(folder)


def fit_reader(probes: list[Probe], folder: Path, cache: Path, refit: bool = False) -> None:
    """Trains, fits and ships the reader.
    With `refit`, the out-of-fold readings cached in `cache` by an earlier run and the reader
    weights already in `folder` are kept: only what is fitted on the readings is fitted again."""
    spec = probes[0].pipeline.embedder.spec
    pairs = make_pairs(probes)
    for pipeline in {id(p.pipeline): p.pipeline for p in probes}.values():
        docs = {d for p in probes if p.pipeline is pipeline for d in p.question.gold.docs}
        pairs += cloze_pairs(pipeline, docs, Pair, per_sentence=CLOZE_PER_SENTENCE)
    log.warning("reader: %d pairs from %d questions and their articles' cloze questions", len(pairs), len(probes))
    key = _readings_key(probes, pairs)
    readings = _load_readings(cache / READINGS, key) if refit else None
    if refit and (readings is None or not (folder / WEIGHTS).is_file()):
        raise ValueError(f"--refit needs the readings of an earlier full run in {cache / READINGS} and a reader in "
                         f"{folder}; run `python -m eval.train` without --refit first.")
    prepared = None
    if readings is None:
        prepared = prepare(pairs, spec.path)
        readings = _out_of_fold(probes, pairs, prepared)
        _save_readings(cache / READINGS, key, readings)
    print(f"span right (token F1 >= 0.5) where the sentence holds the answer, out of fold: {_span_right(probes, readings)}")
    combination = _combination(probes, readings)
    rescore = [p.pipeline.reread(p.found.question, p.found.scored, combination, r) for p, r in zip(probes, readings)]
    answerable = [n for n, p in enumerate(probes) if p.question.gold.answerable]
    (margin, floor, contained), lines = grid([probes[n] for n in answerable], probes[0].pipeline.config.evidence.ranker,
                                             [rescore[n] for n in answerable])
    print("Selection grid with the reader (out-of-fold):", *lines, sep="\n")
    combination = replace(combination, margin=margin, floor=floor)
    combination, lines = _short_model(probes, rescore, combination)
    print("Short answers (out-of-fold):", *lines, sep="\n")
    print(f"combination: {combination}")
    evidence = {"pairs": len(pairs), "questions": len(probes), "oof_containment": round(contained, 4)}
    shipped = ReaderSpec(spec.fingerprint, FROZEN_LAYERS, MAX_LENGTH, combination=combination.to_dict(),
                         evidence=evidence)
    if prepared is None:
        shipped.save(folder)
    else:
        save_reader(train(prepared, list(range(len(pairs)))), shipped, folder)
