"""`python -m qa ask|search`: ask the articles a question from the terminal.

`ask -` reads one question per line from standard input and writes one JSON object per line,
loading the model once. `ask --generate` writes a fluent answer with a language model (a local
GGUF file, by default the one `python -m qa.models fetch` assembles, or an OpenAI-compatible
server) and keeps only the citations that the cited sentences support."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from index import ArticleError, IndexNotReady
from index.qdrant_target import STORE_HELP
from qa.llm import LLMError
from qa.pipeline import DEFAULT_INDEX_DIR, Pipeline
from qa.question import QuestionError
from qa.types import Answer, Filters, Hit, Mode

if TYPE_CHECKING:
    from qa.generate import Generator
    from qa.llm import ChatBackend

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("ask", "answer a question with cited sentences"),
                            ("search", "list the passages that best match a question")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("question", help="the question, or - to read one per line from stdin")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.add_argument("--k", type=int, default=5 if name == "ask" else 10, help="number of passages")
        cmd.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
        cmd.add_argument("--store", help=STORE_HELP)
        cmd.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.HYBRID.value)
        cmd.add_argument("--doc", action="append", default=[], help="restrict to this article (repeatable)")
        cmd.add_argument("--date-from", help="earliest article date, e.g. 2024 or 2024-03")
        cmd.add_argument("--date-to", help="latest article date")
    ask = sub.choices["ask"]
    ask.add_argument("--generate", action="store_true",
                     help="write a fluent answer with a language model; unsupported citations are dropped")
    ask.add_argument("--gguf", type=Path, help="with --generate: a GGUF file, or a model name of "
                                               "`python -m qa.models list` (default: qwen2.5-1.5b)")
    ask.add_argument("--llm-url", help="with --generate: an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    ask.add_argument("--llm-model", help="with --llm-url: the model name the server knows")
    ask.add_argument("--max-tokens", type=int, default=None, help="with --generate: longest answer in tokens")
    return parser


_LABELS = {  # the human output's own words, in the answer's language (English unless French)
    "en": {"note": "note", "unsupported": "unsupported", "withdrawn": "withdrawn (not shown)",
           "related": "Related passages", "sources": "Sources", "no_date": "no date", "answer": "answer"},
    "fr": {"note": "remarque", "unsupported": "non étayée", "withdrawn": "retirée (non affichée)",
           "related": "Passages proches", "sources": "Sources", "no_date": "sans date", "answer": "réponse"},
}


def _format_answer(answer: Answer) -> str:
    words = _LABELS.get(answer.lang, _LABELS["en"])
    colon = "\u00a0: " if answer.lang == "fr" else ": "
    lines = [textwrap.fill(answer.text, width=100)]
    lines += [f"{words['note']}{colon}{n}" for n in answer.notices]
    lines += [f"{words['unsupported']}{colon}{s}" for s in answer.unsupported]
    lines += [f"{words['withdrawn']}{colon}{s}" for s in answer.withdrawn]
    label, sources = (words["related"], answer.related) if answer.abstained else (words["sources"], answer.citations)
    if sources:
        lines.append(f"\n{label}{colon.rstrip()}")
    for c in sources:
        lines.append(f"[{c.n}] {c.title} ({c.date or words['no_date']}) — {c.doc_id} {c.start}-{c.end}")
        lines.append(textwrap.indent(textwrap.fill(f"« {c.quote} »", width=96), "    "))
        if c.short_answer:
            lines.append(f"    {words['answer']}{colon}{c.short_answer}")
    lines.append(f"\n({answer.timings_ms.get('total', 0):.0f} ms)")
    return "\n".join(lines)


def _hit_dict(hit: Hit) -> dict[str, object]:
    return {"rank": hit.rank, "doc_id": hit.doc_id, "start": hit.start, "end": hit.end,
            "text": hit.text, "score": round(hit.score, 6), "dense": hit.dense, "bm25": hit.bm25}


def _format_hits(hits: list[Hit]) -> str:
    return "\n".join(f"{h.rank:2}. {h.doc_id} {h.start}-{h.end} score {h.score:.4f}\n"
                     + textwrap.indent(textwrap.fill(h.text, width=96), "    ") for h in hits) or "No passage found."


def _backend(args: argparse.Namespace) -> ChatBackend | None:
    """The language model asked for with --generate (not loaded yet), or None."""
    if args.command != "ask" or not args.generate:
        if args.command == "ask" and (args.gguf or args.llm_url or args.llm_model):
            raise LLMError("--gguf, --llm-url and --llm-model go with --generate.")
        return None
    from qa.llm import make_backend

    try:
        return make_backend(args.gguf, args.llm_url, args.llm_model)
    except ValueError as err:
        raise LLMError(str(err)) from None


def _generator(pipeline: Pipeline, backend: ChatBackend | None, args: argparse.Namespace) -> Generator | None:
    if backend is None:
        return None
    from qa.generate import GenerationConfig, Generator

    config = GenerationConfig() if args.max_tokens is None else GenerationConfig(max_tokens=max(1, args.max_tokens))
    return Generator(pipeline, backend, config)


def _run_one(pipeline: Pipeline, args: argparse.Namespace, question: str, filters: Filters,
             generator: Generator | None = None) -> str:
    mode = Mode(args.mode)
    if args.command == "ask":
        if generator is not None:
            answer = generator.answer(question, k=args.k, filters=filters, mode=mode)
        else:
            answer = pipeline.ask(question, k=args.k, filters=filters, mode=mode)
        return json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else _format_answer(answer)
    hits = pipeline.search(question, k=args.k, filters=filters, mode=mode)
    return json.dumps([_hit_dict(h) for h in hits], ensure_ascii=False) if args.json else _format_hits(hits)


def _batch(pipeline: Pipeline, args: argparse.Namespace, filters: Filters, generator: Generator | None) -> int:
    args.json = True
    for line in sys.stdin:
        question = line.rstrip("\n")
        if not question.strip():
            continue
        try:
            print(_run_one(pipeline, args, question, filters, generator), flush=True)
        except (QuestionError, LLMError) as err:
            print(json.dumps({"question": question, "error": str(err)}, ensure_ascii=False), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.k < 1:
        print("error: --k must be at least 1.", file=sys.stderr)
        return 2
    try:
        filters = Filters(tuple(args.doc), args.date_from, args.date_to)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        if args.question != "-":
            from qa.question import check_question
            check_question(args.question)  # fail fast, before loading the model
        backend = _backend(args)
        pipeline = Pipeline.load(args.store or args.index_dir)
        unknown = [d for d in args.doc if d not in pipeline.documents]
        if unknown:
            where = (f" --store {args.store}" if args.store else
                     "" if args.index_dir == DEFAULT_INDEX_DIR else f" --index-dir {args.index_dir}")
            raise QuestionError(f"No article named {unknown[0]} in the index; see `python -m index info{where}`.")
        generator = _generator(pipeline, backend, args)
        if args.question == "-":
            return _batch(pipeline, args, filters, generator)
        print(_run_one(pipeline, args, args.question, filters, generator))
        return 0
    except (QuestionError, IndexNotReady, ArticleError, LLMError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
