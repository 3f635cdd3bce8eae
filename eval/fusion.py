"""`python -m eval.fusion`: the fusion sweep behind `qa.retrieval`'s settings. Recall@5 per
language pair (question→article) for dense, BM25, rank fusion and score fusion, on the seed
questions and on one half of the dev set (the tune half by default: settings are chosen there).
Retrieval only, so it runs in about a minute once the indexes exist."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.dataset import DEFAULT_QUESTIONS, DatasetError, EvalQuestion, load_questions
from eval.devset import DEVSET_DIR, SPLITS, devset_questions, split_questions
from eval.metrics import Located, recall_at
from eval.runner import corpus_pipeline, language_pair
from qa import Mode, Pipeline, RetrievalConfig
from qa.question import prepare_question
from qa.retrieval import Retriever

__all__ = ["main", "sweep", "METHODS"]

ROOT = Path(__file__).resolve().parents[1]

METHODS: dict[str, tuple[Mode, RetrievalConfig]] = {
    "dense": (Mode.DENSE, RetrievalConfig()),
    "bm25": (Mode.BM25, RetrievalConfig()),
    "rrf, BM25 1.0 same language / 0.5 across (before)": (Mode.HYBRID, RetrievalConfig(
        fusion="rrf", translations=False)),
    "rrf, BM25 0.5 whatever the language": (Mode.HYBRID, RetrievalConfig(
        fusion="rrf", bm25_weight_same_lang=0.5, bm25_weight_cross_lang=0.5, translations=False)),
    "rrf, BM25 0.7 whatever the language": (Mode.HYBRID, RetrievalConfig(
        fusion="rrf", bm25_weight_same_lang=0.7, bm25_weight_cross_lang=0.7, translations=False)),
    **{f"score, BM25 boost {b}": (Mode.HYBRID, RetrievalConfig(bm25_boost=b, translations=False))
       for b in (0.02, 0.03, 0.04, 0.05, 0.1)},
    **{f"score, BM25 boost 0.04, translations at cosine {c}": (Mode.HYBRID, RetrievalConfig(translation_cosine=c))
       for c in (0.85, 0.88, 0.9, 0.92)},
}


def sweep(pipeline: Pipeline, questions: list[EvalQuestion]) -> dict[str, dict[str, float]]:
    """Recall@5 per language pair (and "all") for every method of METHODS."""
    answerable = [q for q in questions if q.gold.answerable]
    prepared = [prepare_question(q.question) for q in answerable]
    vectors = [pipeline.embed_question(p.text) for p in prepared]
    table: dict[str, dict[str, float]] = {}
    for name, (mode, config) in METHODS.items():
        config = replace(config, depth=50)
        retriever, translating = Retriever(pipeline.data, config), pipeline.with_config(
            replace(pipeline.config, retrieval=config))
        by_pair: dict[str, list[float]] = {}
        for q, p, vector in zip(answerable, prepared, vectors):
            translations = translating.translations(p) if mode == Mode.HYBRID else ()
            hits = retriever.hits(retriever.rank(p.text, vector, p.lang, mode, translations=translations), 5)
            found = recall_at([Located(h.doc_id, h.start, h.end) for h in hits], q.gold, 5)
            by_pair.setdefault(language_pair(pipeline, q), []).append(found)
            by_pair.setdefault("all", []).append(found)
        table[name] = {pair: float(np.mean(v)) for pair, v in sorted(by_pair.items())}
    return table


def _markdown(title: str, table: dict[str, dict[str, float]]) -> str:
    pairs = sorted({p for row in table.values() for p in row}, key=lambda p: (p == "all", p))
    lines = [f"### {title}", "", "| method | " + " | ".join(pairs) + " |", "|---|" + "---|" * len(pairs)]
    lines += [f"| {name} | " + " | ".join(f"{row.get(p, 0):.3f}" for p in pairs) + " |" for name, row in table.items()]
    return "\n".join(lines + [""])


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m eval.fusion", description=__doc__)
    parser.add_argument("--devset", type=Path, default=DEVSET_DIR, help="the dev set folder")
    parser.add_argument("--split", choices=SPLITS, default="tune", help="which half of the dev set")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/eval-cache"), help="indexes built for corpora")
    args = parser.parse_args(argv)
    try:
        seeds = corpus_pipeline(ROOT / "seeds", args.cache_dir, progress=False)
        print(_markdown("Seed questions, Recall@5", sweep(seeds, load_questions(DEFAULT_QUESTIONS))))
        dev = corpus_pipeline(args.devset / "corpus", args.cache_dir, progress=False)
        questions = split_questions(devset_questions(args.devset), args.split)
        print(_markdown(f"Dev set, {args.split} half, Recall@5", sweep(dev, questions)))
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
