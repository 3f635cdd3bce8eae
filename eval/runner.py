"""Run a question set through one or more retrieval variants and summarise the metrics; a
generative variant answers with a language model (`qa.Generator`) over the hybrid retrieval."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from eval.dataset import DatasetError, EvalQuestion
from eval.metrics import (Located, abstention_prf, citation_correct, contains_answer, exact_match, mean, mrr_at,
                          ndcg_at, percentile, recall_at, token_f1)
from qa import ChatBackend, GenerationConfig, Generator, Mode, Pipeline, QAConfig
from index.lang import detect_language
from index.qdrant_target import QdrantTarget
from qa.generate import split_claims

__all__ = ["Variant", "QuestionResult", "default_variants", "generative_variant", "run_variant", "summarize",
           "corpus_pipeline", "language_pair",
           "breakdown"]

_DEPTH = 10


@dataclass(frozen=True)
class Variant:
    name: str
    config: QAConfig
    generate: bool = False     # answers written by a language model, citations verified


@dataclass(frozen=True)
class QuestionResult:
    id: str
    lang: str
    type: str
    variant: str
    answerable: bool
    abstained: bool
    confidence: float
    cross_lingual: bool
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float
    ndcg_10: float
    contains: bool             # the gold answer is in what the answer shows: its text or a cited span
    citations: int
    correct_citations: int
    latency_ms: float
    answer: str = ""
    cited: list[dict] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)
    generated: bool = False
    sentences: int = 0         # claims of the answer: cited sentences, or generated sentences
    unsupported: int = 0       # generated sentences no cited span supports (or that the model withdrew)
    withdrawn: int = 0         # generated sentences the model withdrew on a second draft
    first_token_ms: float = 0.0
    pair: str = ""             # question language -> article language ("en→fr"), or the unanswerable type
    first_contains: bool = False   # the gold answer is inside the first cited sentence
    short_answer: str | None = None  # the first citation's short answer, when one is shown
    short_exact: bool = False
    short_f1: float = 0.0
    answer_lang: str = ""        # the language a generated answer is written in (French or English)
    text_contains: bool = False  # the gold answer is in the answer's text itself (for a generated one,
                                 # the model's own words; an extractive one's text is its cited spans)


def corpus_pipeline(corpus: Path, cache_dir: Path, progress: bool = True, config: QAConfig | None = None,
                    store: QdrantTarget | None = None) -> Pipeline:
    """A pipeline over any folder of articles, its index cached under `cache_dir` (one folder per
    corpus path) and brought up to date incrementally at every call; with a Qdrant `store`,
    answered from Qdrant (one index per corpus, named after the store's with the key added)."""
    if not corpus.is_dir():
        what = "is a file, not a folder" if corpus.exists() else "does not exist"
        raise DatasetError(f"Corpus folder {corpus} {what}; pass a folder of .txt articles.")
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:16]
    if store is not None:
        store = replace(store, collection=f"{store.collection}-{key}")
    return Pipeline.for_corpus(corpus, cache_dir / key, config, progress=progress, store=store)


def default_variants(base: QAConfig) -> list[Variant]:
    """Retrieval variants, and `no-reader`: hybrid with the ranker alone and pattern short answers
    (what the reader adds)."""
    return [Variant("bm25", replace(base, mode=Mode.BM25)), Variant("dense", replace(base, mode=Mode.DENSE)),
            Variant("hybrid", replace(base, mode=Mode.HYBRID)),
            Variant("no-reader", replace(base, mode=Mode.HYBRID, use_reader=False))]


def generative_variant(base: QAConfig) -> Variant:
    return Variant("generated", replace(base, mode=Mode.HYBRID), generate=True)


def never_abstain(config: QAConfig) -> QAConfig:
    return replace(config, abstain=config.abstain.never())


def language_pair(pipeline: Pipeline, q: EvalQuestion, asked: str = "") -> str:
    """"fr→en" for a French question answered by an English article; the type when unanswerable."""
    docs = [pipeline.documents[d] for d in q.gold.docs if d in pipeline.documents]
    if not q.gold.answerable or not docs:
        return q.type or "unanswerable"
    return f"{q.lang or asked}→{docs[0].lang}"


def _one(pipeline: Pipeline, q: EvalQuestion, variant: str, generator: Generator | None = None) -> QuestionResult:
    started = time.perf_counter()
    answer = generator.answer(q.question) if generator is not None else pipeline.ask(q.question)
    latency = (time.perf_counter() - started) * 1000
    hits = [Located(h.doc_id, h.start, h.end) for h in pipeline.search(q.question, k=_DEPTH)]
    gold = q.gold
    correct = sum(citation_correct(Located(c.doc_id, c.start, c.end), c.quote, gold) for c in answer.citations)
    first = answer.citations[0] if answer.citations and not answer.abstained else None
    short = first.short_answer if first is not None else None
    # a generated answer's sentences: those shown, and those the model withdrew (counted as unsupported)
    written = answer.generated or bool(answer.withdrawn)
    shown = len(split_claims(answer.text)) if answer.generated else 0 if written else len(answer.citations)
    sentences = 0 if answer.abstained else shown + len(answer.withdrawn)
    return QuestionResult(
        id=q.id, lang=q.lang or answer.lang, type=q.type, variant=variant, answerable=gold.answerable,
        abstained=answer.abstained, confidence=answer.confidence,
        cross_lingual=bool(answer.signals.get("cross_lingual")),
        recall_1=recall_at(hits, gold, 1), recall_5=recall_at(hits, gold, 5), recall_10=recall_at(hits, gold, 10),
        mrr_10=mrr_at(hits, gold, 10), ndcg_10=ndcg_at(hits, gold, 10),
        contains=not answer.abstained and (contains_answer(answer.text, gold.answers)
                                           or any(contains_answer(c.quote, gold.answers) for c in answer.citations)),
        text_contains=not answer.abstained and contains_answer(answer.text, gold.answers),
        citations=len(answer.citations), correct_citations=correct, latency_ms=latency, answer=answer.text,
        cited=[{"doc_id": c.doc_id, "start": c.start, "end": c.end} for c in answer.citations],
        signals=dict(answer.signals), generated=written, sentences=sentences,
        unsupported=len(answer.unsupported) + len(answer.withdrawn), withdrawn=len(answer.withdrawn),
        first_token_ms=answer.timings_ms.get("first_token", 0.0),
        pair=language_pair(pipeline, q, answer.lang), first_contains=first is not None and contains_answer(first.quote, gold.answers),
        short_answer=short, short_exact=short is not None and exact_match(short, gold.answers),
        short_f1=token_f1(short, gold.answers) if short is not None else 0.0,
        answer_lang=_written_in(answer.text) if answer.generated and not answer.abstained else "",
    )


def _written_in(text: str) -> str:
    """French or English: the language of a generated answer's sentences, markers left out."""
    return detect_language(" ".join(c.text for c in split_claims(text)), among=("en", "fr"))


def run_variant(pipeline: Pipeline, questions: list[EvalQuestion], variant: Variant, progress: bool = True,
                backend: ChatBackend | None = None, generation: GenerationConfig | None = None
                ) -> list[QuestionResult]:
    """Every question through `variant`; a generative variant needs the language model `backend`."""
    configured = pipeline.with_config(variant.config)
    generator = None
    if variant.generate:
        if backend is None:
            raise ValueError(f"Variant {variant.name!r} writes answers with a language model; pass a backend.")
        generator = Generator(configured, backend, generation)
    bar: Iterable[EvalQuestion] = tqdm(questions, desc=variant.name, disable=not progress, leave=False)
    return [_one(configured, q, variant.name, generator) for q in bar]


def summarize(results: list[QuestionResult], keep: Callable[[QuestionResult], bool] = lambda r: True) -> dict[str, float]:
    rows = [r for r in results if keep(r)]
    answerable = [r for r in rows if r.answerable]
    answered = [r for r in answerable if not r.abstained]
    cited = sum(r.citations for r in answerable)
    shown = [r for r in answerable if r.short_answer is not None]
    precision, recall, f1 = abstention_prf([r.abstained for r in rows], [not r.answerable for r in rows])
    latencies = [r.latency_ms for r in rows]
    return {
        "questions": len(rows), "answerable": len(answerable),
        "recall@1": mean([r.recall_1 for r in answerable]), "recall@5": mean([r.recall_5 for r in answerable]),
        "recall@10": mean([r.recall_10 for r in answerable]), "mrr@10": mean([r.mrr_10 for r in answerable]),
        "ndcg@10": mean([r.ndcg_10 for r in answerable]),
        "containment": mean([float(r.contains) for r in answerable]),
        "first_containment": mean([float(r.first_contains) for r in answerable]),
        "cited_per_answer": mean([float(r.citations) for r in answered]),
        "false_abstention": mean([float(r.abstained) for r in answerable]),
        "citation_precision": sum(r.correct_citations for r in answerable) / cited if cited else 0.0,
        "answers_with_correct_citation": mean([float(r.correct_citations > 0) for r in answerable]),
        "abstain_precision": precision, "abstain_recall": recall, "abstain_f1": f1,
        "short_shown": mean([float(r.short_answer is not None) for r in answerable]),
        "short_right": mean([float(r.short_f1 >= 0.5) for r in shown]),
        "short_exact": mean([float(r.short_exact) for r in shown]),
        "short_f1": mean([r.short_f1 for r in shown]),
        "latency_p50_ms": percentile(latencies, 50), "latency_p95_ms": percentile(latencies, 95),
        "sentences": float(sum(r.sentences for r in rows)),
        "unsupported_share": sum(r.unsupported for r in rows) / max(1, sum(r.sentences for r in rows)),
        "first_token_p50_ms": percentile([r.first_token_ms for r in rows if r.generated], 50),
    }


def breakdown(results: list[QuestionResult], variant: str) -> dict[str, dict[str, float]]:
    """Rows per language pair (answerable questions) and per unanswerable type (with every
    answerable question, so that abstention precision counts the false abstentions)."""
    rows: dict[str, dict[str, float]] = {}
    answerable_pairs = sorted({r.pair for r in results if r.answerable})
    for pair in answerable_pairs:
        rows[f"{variant}/{pair}"] = summarize(results, lambda r, pair=pair: r.answerable and r.pair == pair)
    for kind in sorted({r.pair for r in results if not r.answerable}):
        rows[f"{variant}/{kind}"] = summarize(results, lambda r, kind=kind: r.answerable or r.pair == kind)
    return rows


def as_dicts(results: list[QuestionResult]) -> list[dict]:
    return [asdict(r) for r in results]
