"""`python -m eval`: score retrieval variants side by side on a question set and write a report.

With `--corpus DIR`, any folder of `.txt` articles is indexed into a cache (reused while the
folder is unchanged) and scored with `--questions FILE`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from eval.dataset import DEFAULT_QUESTIONS, DatasetError, EvalQuestion, load_questions
from eval.devset import DEVSET_DIR, SPLITS, devset_questions, split_questions
from eval.report import table, write_report
from eval.generation import generation_summary, generation_table, mixed_questions, run_mixed
from eval.runner import (as_dicts, breakdown, corpus_pipeline, default_variants, generative_variant, run_variant,
                         summarize)
from index.manifest import first_names
from index.qdrant_target import parse_store
from qa import DEFAULT_INDEX_DIR, ChatBackend, GenerationConfig, Pipeline, make_backend

__all__ = ["main"]

log = logging.getLogger("eval")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, help=f"JSONL question file (default: {DEFAULT_QUESTIONS.name})")
    parser.add_argument("--corpus", type=Path, help="folder of .txt articles (default: the built index)")
    parser.add_argument("--devset", nargs="?", type=Path, const=DEVSET_DIR,
                        help=f"score a dev set folder (corpus/ and questions.jsonl), plus the translated questions in "
                             f"eval/ whose articles it holds; default folder {DEVSET_DIR}")
    parser.add_argument("--split", choices=SPLITS, help="with --devset: only the questions of one half")
    parser.add_argument("--limit", type=int, help="only the first N questions (quick looks)")
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/eval-cache"), help="indexes built for --corpus")
    parser.add_argument("--store", help="where the index is: a folder (default: --index-dir), qdrant+local:DIR or "
                        "qdrant://HOST:PORT[?collection=NAME&api_key_env=VAR]; with --corpus or --devset, a Qdrant "
                        "store gets one index per corpus, written from the cached one")
    parser.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    parser.add_argument("--variants", default="bm25,dense,hybrid", help="comma-separated: bm25,dense,hybrid,no-reader (hybrid without the reader)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    llm = parser.add_argument_group("generated answers")
    llm.add_argument("--generate", action="store_true",
                     help="score answers written by a language model: alone, on a fixed mixed list of 40 seed and "
                          "dev-set questions against the extractive answers (--limit N for fewer); with --questions, "
                          "--corpus or --devset, as variant 'generated' beside the others")
    llm.add_argument("--gguf", type=Path, help="a GGUF file or a model name of `python -m qa.models list` "
                                               "(default: qwen2.5-1.5b)")
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
        return Pipeline.load(args.store or args.index_dir)
    return corpus_pipeline(args.corpus, args.cache_dir, progress=not args.quiet, store=parse_store(args.store))


def _questions(args: argparse.Namespace) -> list[EvalQuestion]:
    if args.devset is None:
        if args.split:
            raise DatasetError("--split goes with --devset; add --devset to score one half of the dev set.")
        args.questions = args.questions or DEFAULT_QUESTIONS
        questions = load_questions(args.questions)
    else:
        questions = devset_questions(args.devset)
        args.corpus = args.corpus or args.devset / "corpus"
        args.questions = args.devset / "questions.jsonl"
        if args.split:
            questions = split_questions(questions, args.split)
    if args.limit is not None and args.limit < 1:
        raise DatasetError(f"--limit must be at least 1 (got {args.limit}); leave it out to score every question.")
    return questions[: args.limit] if args.limit else questions


def _check_gold(questions: list[EvalQuestion], pipeline: Pipeline, source: str) -> None:
    """Every article a question names is in the corpus, and its gold offsets fall inside it."""
    documents = pipeline.documents
    for q in questions:
        located = q.gold.spans + q.gold.answer_spans
        for doc in dict.fromkeys((*q.gold.docs, *(s.doc for s in located))):
            if doc not in documents:
                raise DatasetError(f"{source}: question {q.id!r} names the article {doc!r}, which the corpus does not "
                                   f"hold (it holds {first_names(sorted(documents))}); check the name or the corpus.")
        for span in located:
            if span.end > len(documents[span.doc].text):
                raise DatasetError(f"{source}: question {q.id!r} has a gold span ending at {span.end}, past the end of "
                                   f"{span.doc} ({len(documents[span.doc].text)} characters); offsets count characters "
                                   "of the article's text.")


def _run_mixed(args: argparse.Namespace) -> int:
    """`--generate` alone: the fixed mixed list, generated answers against extractive ones."""
    started = time.perf_counter()
    backend = make_backend(args.gguf, args.llm_url, args.llm_model)
    seeds = Pipeline.load(args.index_dir)
    dev = corpus_pipeline(DEVSET_DIR / "corpus", args.cache_dir, progress=not args.quiet) \
        if (DEVSET_DIR / "corpus").is_dir() else None
    if dev is None:
        log.warning("the dev set is not at %s: only the seed questions are scored", DEVSET_DIR)
    parts = mixed_questions(seeds, dev, DEVSET_DIR, args.limit)
    generation = GenerationConfig(max_tokens=max(1, args.max_tokens))
    hybrid = next(v for v in default_variants(seeds.config) if v.name == "hybrid")
    extractive, written = run_mixed(parts, hybrid, generative_variant(seeds.config), backend, generation,
                                    progress=not args.quiet)
    notes = generation_table(extractive, written, backend.name)
    notes.append(f"{len(written)} questions ({', '.join(f'{len(p.questions)} {p.name}' for p in parts)}); "
                 f"run took {time.perf_counter() - started:.0f}s.")
    summaries = {"generated": generation_summary(written), "extractive": generation_summary(extractive)}
    args.out.mkdir(parents=True, exist_ok=True)
    paths = write_report(args.out, {"generated": summarize(written), "hybrid": summarize(extractive)},
                         {"results": as_dicts(extractive + written), "generation": summaries}, notes,
                         name="generation")
    print("\n".join(notes))
    print(f"report: {paths['md']} {paths['json']}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.generate and args.questions is None and args.corpus is None and args.devset is None:
        return _run_mixed(args)
    started = time.perf_counter()
    questions = _questions(args)
    if (args.gguf or args.llm_url or args.llm_model) and not args.generate:
        raise DatasetError("--gguf, --llm-url and --llm-model go with --generate.")
    backend = make_backend(args.gguf, args.llm_url, args.llm_model) if args.generate else None
    pipeline = _pipeline(args)
    _check_gold(questions, pipeline, args.questions.name)
    args.out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    variants = [v for v in default_variants(pipeline.config) if v.name in wanted]
    if not variants:
        raise DatasetError(f"No known variant in {args.variants!r}; choose from bm25, dense, hybrid, no-reader.")
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
        summaries.update(breakdown(rows, variant.name))
    if backend is not None:
        notes += _generation_notes(summaries, backend)
    elapsed = time.perf_counter() - started
    notes.append("Rows per language pair (question→article) count answerable questions only; rows per "
                 "unanswerable type count that type plus every answerable question, so abstention precision "
                 "includes the false abstentions.")
    notes.append(f"{len(questions)} questions from {args.questions.name}"
                 f"{' (' + args.split + ' half)' if args.split else ''}, {len(variants)} variants, "
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
