"""`python -m eval.train`: fit what `qa` learns from data, on the dev set's tune half
(eval/devset_split.json) plus the seed question set, and write it beside the code that loads it:
the sentence ranker (qa/ranker.json), the reader and how its view combines with the ranker's
(qa/reader/), and the abstention model (qa/abstain.json). Deterministic; the report half is
never read. About 15 minutes on 2 cores, most of it training the reader."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.calibrate import fit_abstention, fit_logistic
from eval.dataset import DEFAULT_QUESTIONS, DatasetError, EvalQuestion, load_questions
from eval.devset import DEVSET_DIR, devset_questions, split_questions
from eval.metrics import Gold, contains_answer
from eval.runner import corpus_pipeline
from qa import AbstainConfig, Pipeline, QAConfig
from qa.abstain import CALIBRATION_FILE, write_calibration
from qa.pipeline import Candidates
from qa.ranker import RANKER_FEATURES, RANKER_FILE, RankerModel
from qa.reader import READER_DIR

__all__ = ["main", "Probe", "probe", "training_sets", "selection", "grid", "holds_answer"]

log = logging.getLogger("eval.train")

ROOT = Path(__file__).resolve().parents[1]
_MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
_FLOORS = (0.05, 0.1, 0.2, 0.3, 0.5)
MAX_CITED = 1.95  # the selection rule may cite at most this many sentences per answer on average (the issue: 2)


@dataclass(frozen=True)
class Probe:
    """One question's scored candidates, and which of them hold its answer."""

    pipeline: Pipeline
    question: EvalQuestion
    found: Candidates
    labels: tuple[bool, ...]


def holds_answer(doc_id: str, start: int, end: int, text: str, gold: Gold) -> bool:
    """Inside a gold answer's exact offsets, or (sets without them) inside a gold evidence
    span and quoting a gold answer."""
    if gold.answer_spans:
        return any(s.doc == doc_id and s.start >= start and s.end <= end for s in gold.answer_spans)
    in_span = any(s.doc == doc_id and s.start < end and start < s.end for s in gold.spans)
    return in_span and (contains_answer(text, gold.answers) or not gold.answers)


def probe(pipeline: Pipeline, questions: list[EvalQuestion], progress: bool = True) -> list[Probe]:
    found = []
    for q in tqdm(questions, desc="probe", disable=not progress, leave=False):
        candidates = pipeline.candidates(q.question)
        sentences = pipeline.data.sentences
        labels = tuple(holds_answer(sentences[s.index].doc_id, sentences[s.index].start, sentences[s.index].end,
                                    sentences[s.index].text, q.gold) for s in candidates.scored)
        found.append(Probe(pipeline, q, candidates, labels))
    return found


def training_sets(devset: Path, cache_dir: Path, progress: bool) -> list[tuple[Pipeline, list[EvalQuestion]]]:
    """(pipeline, questions) for the seeds and for the dev set's tune half; their abstention models
    are untrained (what is shipped may have been fitted on other signals: this is what refits it)."""
    config = QAConfig(abstain=AbstainConfig.untrained())
    seeds = corpus_pipeline(ROOT / "seeds", cache_dir, progress, config)
    dev = corpus_pipeline(devset / "corpus", cache_dir, progress, config)
    return [(seeds, load_questions(DEFAULT_QUESTIONS)), (dev, split_questions(devset_questions(devset), "tune"))]


def selection(probes: list[Probe], ranker: RankerModel, scored: list[list] | None = None) -> tuple[float, float]:
    """(containment, cited sentences per answer) of the evidence chosen under `ranker` (its
    margin and floor), from each probe's candidates rescored by it, or from `scored`."""
    contained, cited = [], []
    for n, p in enumerate(probes):
        scorer = p.pipeline.scorer
        candidates = scorer.rescore(p.found.scored, ranker) if scored is None else scored[n]
        chosen = scorer.select(p.found.question, candidates, ranker)
        text = " ".join(p.pipeline.data.sentences[s.index].text for s in chosen)
        contained.append(contains_answer(text, p.question.gold.answers))
        cited.append(len(chosen))
    return float(np.mean(contained)), float(np.mean(cited))


def grid(probes: list[Probe], ranker: RankerModel, scored: list[list] | None = None
         ) -> tuple[tuple[float, float, float], list[str]]:
    """The (margin, floor) with the best containment citing at most MAX_CITED sentences."""
    lines = ["| margin | floor | containment | cited per answer |", "|---|---|---|---|"]
    best = (ranker.margin, ranker.floor, -1.0)
    for margin in _MARGINS:
        for floor in _FLOORS:
            contained, cited = selection(probes, replace(ranker, margin=margin, floor=floor), scored)
            lines.append(f"| {margin} | {floor} | {contained:.3f} | {cited:.2f} |")
            if cited <= MAX_CITED and contained > best[2] + 1e-9:
                best = (margin, floor, contained)
    return best, lines


def fit_ranker(probes: list[Probe]) -> tuple[RankerModel, list[str]]:
    answerable = [p for p in probes if p.question.gold.answerable and p.found.scored]
    x = np.array([s.features for p in answerable for s in p.found.scored], dtype=float)
    y = np.array([label for p in answerable for label in p.labels], dtype=float)
    weights, bias = fit_logistic(x, y, l2=1.0)
    base = RankerModel(tuple(round(float(w), 4) for w in weights), round(bias, 4))
    (margin, floor, contained), lines = grid(answerable, base)
    top1 = float(np.mean([p.labels[0] for p in answerable]))
    evidence = {"questions": len(answerable), "candidates": len(y), "positives": int(y.sum()),
                "top1_holds_answer": round(top1, 4), "containment": round(contained, 4)}
    return replace(base, margin=margin, floor=floor, evidence=evidence), lines


def _plain(sets: list[tuple[Pipeline, list[EvalQuestion]]], ranker: RankerModel | None = None):
    """The pipelines without the reader (and with `ranker`, when given)."""
    out = []
    for pipeline, questions in sets:
        evidence = pipeline.config.evidence if ranker is None else replace(pipeline.config.evidence, ranker=ranker)
        out.append((pipeline.with_config(replace(pipeline.config, use_reader=False, evidence=evidence)), questions))
    return out


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    progress = not args.quiet
    sets = [(pipeline, questions[:: max(1, len(questions) // args.limit)] if args.limit else questions)
            for pipeline, questions in _plain(training_sets(args.devset, args.cache_dir, progress))]
    probes = [p for pipeline, questions in sets for p in probe(pipeline, questions, progress)]
    ranker, lines = fit_ranker(probes)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / RANKER_FILE.name).write_text(ranker.to_json(), encoding="utf-8")
    print("Ranker selection grid (tune half + seeds):", *lines, sep="\n")
    print(f"ranker: {dict(zip(RANKER_FEATURES, ranker.weights))} bias {ranker.bias}; margin {ranker.margin}, "
          f"floor {ranker.floor}; {ranker.evidence} -> {args.out / RANKER_FILE.name}")
    probes = [p for pipeline, questions in _plain(sets, ranker) for p in probe(pipeline, questions, progress)]
    plain = fit_abstention([p.found.signals for p in probes], [not p.question.gold.answerable for p in probes])
    write_calibration(plain, args.out / CALIBRATION_FILE.name)
    print(f"abstention: threshold {plain.threshold}, veto {plain.lexical_veto}, {plain.evidence} "
          f"-> {args.out / CALIBRATION_FILE.name}")
    if not args.skip_reader:
        from eval.fit_reader import fit_reader

        fit_reader(probes, args.out / READER_DIR.name, args.cache_dir, refit=args.refit)
    print(f"trained in {time.perf_counter() - started:.0f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m eval.train", description=__doc__)
    parser.add_argument("--skip-reader", action="store_true",
                        help="fit the ranker and the abstention model only (seconds), not the reader (minutes)")
    parser.add_argument("--refit", action="store_true",
                        help="keep the reader's weights and the out-of-fold readings of the last full run; "
                             "fit again only what is fitted on them (combination, citations, short answers, "
                             "abstention): a minute instead of fifteen")
    parser.add_argument("--devset", type=Path, default=DEVSET_DIR, help="the dev set folder")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/eval-cache"), help="indexes built for corpora")
    parser.add_argument("--out", type=Path, default=RANKER_FILE.parent,
                        help="where to write ranker.json, abstain.json and reader/ (default: the qa package, "
                             "where the app loads them)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--limit", type=int, help="about N questions per question set (a quick check of the command; "
                                                  "what it writes is not worth shipping)")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (DatasetError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
