"""`python -m eval`: score retrieval variants side by side on a question set and write a report.

With `--corpus DIR`, any folder of `.txt` articles is indexed into a cache (reused while the
folder is unchanged) and scored with `--questions FILE`."""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

from eval.calibrate import fit_abstention, sweep_cross_weight
from eval.dataset import DEFAULT_QUESTIONS, DatasetError, EvalQuestion, load_questions
from eval.report import table, write_report
from eval.runner import (Variant, as_dicts, default_variants, generative_variant, never_abstain, run_variant,
                         summarize)
from qa import DEFAULT_INDEX_DIR, AbstainConfig, ChatBackend, GenerationConfig, Pipeline, QAConfig, make_backend
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
    llm = parser.add_argument_group("generated answers")
    llm.add_argument("--generate", action="store_true",
                     help="also score answers written by a language model over hybrid retrieval (variant 'generated')")
    llm.add_argument("--gguf", type=Path, help="a GGUF file or a model name of `python -m qa.models list` "
                                               "(default: qwen2.5-0.5b)")
    llm.add_argument("--llm-url", help="an OpenAI-compatible server instead, e.g. http://127.0.0.1:8080/v1")
    llm.add_argument("--llm-model", help="with --llm-url: the model name the server knows")
    llm.add_argument("--max-tokens", type=int, default=GenerationConfig().max_tokens, help="longest generated answer")
    return parser


def _generation_notes(summaries: dict[str, dict[str, float]], backend: ChatBackend) -> list[str]:
    """Extractive and generated answers side by side, on what generation changes."""
    notes = ["## Extractive and generated answers", "", f"Language model: {backend.name}.", "",
             "| variant | n | contains | cit.prec | ans.w/cit | unsupported | abst.P | abst.R | abst.F1 | "
             "p50 ms | p95 ms | first token p50 ms |", "|---|" + "---|" * 11]
    for name, s in summaries.items():
        if name.split("/")[0] not in ("hybrid", "generated"):
            continue
        notes.append(f"| {name} | {int(s['questions'])} | {s['containment']:.3f} | {s['citation_precision']:.3f} | "
                     f"{s['answers_with_correct_citation']:.3f} | {s['unsupported_share']:.3f} | "
                     f"{s['abstain_precision']:.3f} | {s['abstain_recall']:.3f} | {s['abstain_f1']:.3f} | "
                     f"{s['latency_p50_ms']:.0f} | {s['latency_p95_ms']:.0f} | {s['first_token_p50_ms']:.0f} |")
    return notes + [""]


def _pipeline(args: argparse.Namespace) -> Pipeline:
    if args.corpus is None:
        return Pipeline.load(args.index_dir)
    if not args.corpus.is_dir():
        raise DatasetError(f"Corpus folder {args.corpus} does not exist; pass a folder of .txt articles.")
    key = hashlib.sha256(str(args.corpus.resolve()).encode()).hexdigest()[:16]
    return Pipeline.for_corpus(args.corpus, args.cache_dir / key, progress=not args.quiet)


def _calibrate(pipeline: Pipeline, questions: list[EvalQuestion], base: QAConfig,
               args: argparse.Namespace) -> tuple[AbstainConfig, list[str]]:
    """Fit the abstention model (the variants of this run then use it) and sweep the fusion."""
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
    return fitted, notes + [""]


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    questions = load_questions(args.questions)
    if (args.gguf or args.llm_url or args.llm_model) and not args.generate:
        raise DatasetError("--gguf, --llm-url and --llm-model go with --generate.")
    backend = make_backend(args.gguf, args.llm_url, args.llm_model) if args.generate else None
    pipeline = _pipeline(args)
    args.out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    if args.calibrate:
        fitted, notes = _calibrate(pipeline, questions, pipeline.config, args)
        pipeline = pipeline.with_config(replace(pipeline.config, abstain=fitted))
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    variants = [v for v in default_variants(pipeline.config) if v.name in wanted]
    if not variants:
        raise DatasetError(f"No known variant in {args.variants!r}; choose from bm25, dense, hybrid.")
    if backend is not None:
        variants.append(generative_variant(pipeline.config))
    generation = GenerationConfig(max_tokens=max(1, args.max_tokens))
    summaries: dict[str, dict[str, float]] = {}
    results = []
    for variant in variants:
        rows = run_variant(pipeline, questions, variant, progress=not args.quiet, backend=backend,
                           generation=generation)
        results += rows
        summaries[variant.name] = summarize(rows)
        for lang in sorted({r.lang for r in rows}):
            summaries[f"{variant.name}/{lang}"] = summarize(rows, lambda r, lang=lang: r.lang == lang)
    if backend is not None:
        notes += _generation_notes(summaries, backend)
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
