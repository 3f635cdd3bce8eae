"""`python -m eval`: score retrieval variants side by side on a question set and write a report.

With `--corpus DIR`, any folder of `.txt` articles is indexed into a cache (reused while the
folder is unchanged) and scored with `--questions FILE`."""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from pathlib import Path

from eval.calibrate import fit_abstention, sweep_cross_weight
from eval.dataset import DEFAULT_QUESTIONS, DatasetError, EvalQuestion, load_questions
from eval.report import table, write_report
from eval.runner import Variant, as_dicts, default_variants, never_abstain, run_variant, summarize
from qa import DEFAULT_INDEX_DIR, Pipeline, QAConfig
from qa.abstain import CALIBRATION_FILE, FEATURES

__all__ = ["main"]

log = logging.getLogger("eval")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="JSONL question file")
    parser.add_argument("--corpus", type=Path, help="folder of .txt articles (default: the built index)")
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/eval-cache"), help="indexes built for --corpus")
    parser.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    parser.add_argument("--variants", default="bm25,dense,hybrid", help="comma-separated: bm25,dense,hybrid")
    parser.add_argument("--calibrate", action="store_true",
                        help="also search abstention thresholds and the cross-language BM25 weight")
    parser.add_argument("--write-calibration", action="store_true",
                        help="with --calibrate, ship the fitted abstention model (qa/abstain.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _pipeline(args: argparse.Namespace) -> Pipeline:
    if args.corpus is None:
        return Pipeline.load(args.index_dir)
    if not args.corpus.is_dir():
        raise DatasetError(f"Corpus folder {args.corpus} does not exist; pass a folder of .txt articles.")
    key = hashlib.sha256(str(args.corpus.resolve()).encode()).hexdigest()[:16]
    return Pipeline.for_corpus(args.corpus, args.cache_dir / key, progress=not args.quiet)


def _calibration_notes(pipeline: Pipeline, questions: list[EvalQuestion], base: QAConfig,
                       args: argparse.Namespace) -> list[str]:
    probe = run_variant(pipeline, questions, Variant("never-abstain", never_abstain(base)), progress=not args.quiet)
    fitted = fit_abstention(probe)
    (args.out / "abstain.json").write_text(fitted.to_json(), encoding="utf-8")
    if args.write_calibration:
        CALIBRATION_FILE.write_text(fitted.to_json(), encoding="utf-8")
    ev = fitted.evidence
    notes = ["## Calibration", "",
             f"Abstention model fitted on {ev['questions']} questions ({ev['unanswerable']} unanswerable): "
             f"leave-one-out P {ev['loo_precision']:.3f}, R {ev['loo_recall']:.3f}, F1 {ev['loo_f1']:.3f} at "
             f"threshold {fitted.threshold}, lexical veto {fitted.lexical_veto}; weights {dict(zip(FEATURES, fitted.weights))}, bias {fitted.bias} "
             f"({'written to ' + str(CALIBRATION_FILE) if args.write_calibration else 'see abstain.json in the report folder'}).",
             "", "| BM25 weight across languages | recall@5 | mrr@10 | containment |", "|---|---|---|---|"]
    for weight, s in sweep_cross_weight(pipeline, questions, base):
        notes.append(f"| {weight} | {s['recall@5']:.3f} | {s['mrr@10']:.3f} | {s['containment']:.3f} |")
    return notes


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    questions = load_questions(args.questions)
    pipeline = _pipeline(args)
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    variants = [v for v in default_variants(pipeline.config) if v.name in wanted]
    if not variants:
        raise DatasetError(f"No known variant in {args.variants!r}; choose from bm25, dense, hybrid.")
    summaries: dict[str, dict[str, float]] = {}
    results = []
    for variant in variants:
        rows = run_variant(pipeline, questions, variant, progress=not args.quiet)
        results += rows
        summaries[variant.name] = summarize(rows)
        for lang in sorted({r.lang for r in rows}):
            summaries[f"{variant.name}/{lang}"] = summarize(rows, lambda r, lang=lang: r.lang == lang)
    notes = _calibration_notes(pipeline, questions, pipeline.config, args) if args.calibrate else []
    elapsed = time.perf_counter() - started
    notes.append(f"{len(questions)} questions from {args.questions.name}, {len(variants)} variants, "
                 f"index {pipeline.data.folder}; run took {elapsed:.1f}s.")
    paths = write_report(args.out, summaries, {"results": as_dicts(results)}, notes)
    print(table(summaries))
    print("\n".join(notes))
    print(f"report: {paths['md']} {paths['json']} {paths['png']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (DatasetError, RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
